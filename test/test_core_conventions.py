# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Preprocessing conventions, label table and latency statistics."""


from fxseg_ros.data.labels import (CITYSCAPES_CLASSES, colorize, IGNORE_LABEL, NUM_CLASSES,
                                   palette_rgb)
from fxseg_ros.data.preprocess import MEAN_BGR, postprocess, preprocess, STD_BGR
from fxseg_ros.pipeline.stats import LatencyWindow, RateMeter
import numpy as np
import pytest


def test_label_table_is_cityscapes_train_ids():
    assert NUM_CLASSES == 19
    assert [c.train_id for c in CITYSCAPES_CLASSES] == list(range(19))
    assert CITYSCAPES_CLASSES[0].name == 'road' and CITYSCAPES_CLASSES[13].name == 'car'
    table = palette_rgb()
    assert table.shape == (256, 3)
    assert tuple(table[13]) == (0, 0, 142)
    assert tuple(table[IGNORE_LABEL]) == (0, 0, 0)
    labels = np.array([[0, 13], [255, 10]], dtype=np.uint8)
    assert colorize(labels)[1, 1].tolist() == [70, 130, 180]


def test_preprocess_downscale_is_2x2_mean_and_normalised():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (8, 12, 3), dtype=np.uint8)
    blob = preprocess(frame, size_wh=(6, 4))
    assert blob.shape == (1, 3, 4, 6) and blob.dtype == np.float32
    # An exact 2x downscale with half-pixel bilinear is the mean of each 2x2 block.
    block_mean = frame.astype(np.float64).reshape(4, 2, 6, 2, 3).mean(axis=(1, 3))
    expected = ((block_mean - MEAN_BGR) / STD_BGR).transpose(2, 0, 1)
    np.testing.assert_allclose(blob[0], expected, atol=1e-4)


@pytest.mark.parametrize('shape', [(4, 4), (2, 8, 8, 1), (8, 8, 4)])
def test_preprocess_rejects_non_bgr(shape):
    with pytest.raises(ValueError, match='expected frames'):
        preprocess(np.zeros(shape, dtype=np.uint8))


def test_postprocess_argmax_and_nearest_upsample():
    scores = np.zeros((1, 3, 2, 3), dtype=np.float32)
    scores[0, 2, 0, 0] = 1.0
    scores[0, 1, 1, 2] = 1.0
    labels = postprocess(scores)
    assert labels.dtype == np.uint8
    assert labels[0].tolist() == [[2, 0, 0], [0, 0, 1]]
    up = postprocess(scores, out_wh=(6, 4))
    assert up.shape == (1, 4, 6)
    assert up[0].tolist() == [[2, 2, 0, 0, 0, 0], [2, 2, 0, 0, 0, 0],
                              [0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 1, 1]]


def test_latency_window_percentiles_slide():
    window = LatencyWindow(size=100)
    assert np.isnan(window.summary()['p50'])
    for v in range(1, 201):
        window.add(v)
    s = window.summary()
    assert len(window) == 100 and window.count == 200
    assert s['max'] == 200 and s['p50'] == pytest.approx(150.5)
    assert s['p99'] == pytest.approx(199.01)
    with pytest.raises(ValueError):
        LatencyWindow(size=0)


def test_rate_meter_counts_events_in_window():
    meter = RateMeter(window_s=1.0)
    for i in range(31):
        meter.tick(10.0 + i / 30.0)
    assert meter.rate() == pytest.approx(30.0)
    assert meter.rate(now_s=100.0) == 0.0
