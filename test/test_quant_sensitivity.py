# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Per-layer sensitivity ranking and the mixed-precision fallback loop."""

from __future__ import annotations

import numpy as np
import pytest

from fxseg_ros.quant.calibrators import calibrate
from fxseg_ros.quant.collect import ArrayReader
from fxseg_ros.runtime.session import make_session
from fxseg_ros.quant.sensitivity import (cosine_similarity, isolated_sensitivity, layer_errors,
                                         mixed_precision_search, sqnr_db, weighted_layers)


@pytest.mark.parametrize('ref, test, expected', [
    ([1.0, 0.0], [1.0, 0.0], float('inf')),
    ([3.0, 4.0], [3.0, 3.0], 10 * np.log10(25.0)),
    ([1.0, 1.0], [0.0, 0.0], 0.0),
])
def test_sqnr(ref, test, expected):
    assert sqnr_db(np.array(ref), np.array(test)) == pytest.approx(expected)


@pytest.mark.parametrize('a, b, expected', [
    ([1.0, 0.0], [2.0, 0.0], 1.0),
    ([1.0, 0.0], [0.0, 1.0], 0.0),
    ([1.0, 1.0], [-1.0, -1.0], -1.0),
])
def test_cosine(a, b, expected):
    assert cosine_similarity(np.array(a), np.array(b)) == pytest.approx(expected)


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    from conftest import make_tiny_net

    tmp = tmp_path_factory.mktemp('sens')
    model = make_tiny_net(tmp / 'tiny.onnx', input_wh=(64, 48))
    rng = np.random.default_rng(0)
    blobs = [rng.standard_normal((1, 3, 48, 64)).astype(np.float32) for _ in range(3)]
    calib = calibrate(model, ArrayReader(blobs), method='minmax')
    return tmp, model, calib, [{'input': b} for b in blobs]


def test_weighted_layers_group_trailing_relu(setup):
    _, model, _, _ = setup
    layers = weighted_layers(model)
    assert [(g['name'], g['nodes'], g['output']) for g in layers] == [
        ('conv1', ['conv1', 'relu1'], 'r1'), ('conv2', ['conv2', 'relu2'], 'r2'),
        ('score', ['score'], 'score')]


def test_a_badly_calibrated_layer_ranks_first(setup):
    tmp, model, calib, feeds = setup
    amax = dict(calib.amax)
    # Ruin the range of conv2's output (before its ReLU): INT8 saturates most of it. Only the
    # conv2 layer quantizes that tensor.
    amax['c2'] = amax['c2'] / 30.0
    ranked = isolated_sensitivity(model, amax, feeds, tmp / 'iso')
    assert [e.name for e in ranked][0] == 'conv2'
    assert ranked[0].sqnr < ranked[-1].sqnr - 6.0
    errors = layer_errors(model, tmp / 'iso' / 'only_conv2.onnx', feeds)
    assert {e.name for e in errors} >= {'conv2', 'score'}
    assert all(-1.0 <= e.cosine <= 1.0 for e in errors)


def _agreement(reference_model, feeds):
    """Real evaluation callback: argmax agreement of a model with the float model (0..1)."""
    reference = [np.argmax(make_session(reference_model).run(None, f)[0], axis=1)
                 for f in feeds]

    def evaluate(path):
        session = make_session(path)
        hits = [np.mean(np.argmax(session.run(None, f)[0], axis=1) == r)
                for f, r in zip(feeds, reference)]
        return float(np.mean(hits))
    return evaluate


def test_mixed_precision_falls_back_until_within_budget(setup):
    tmp, model, calib, feeds = setup
    amax = dict(calib.amax)
    amax['c2'] = amax['c2'] / 30.0
    evaluate = _agreement(model, feeds)
    full = mixed_precision_search(model, amax, evaluate, ['conv2', 'conv1', 'score'],
                                  max_drop=100.0, workdir=tmp / 'm0')
    assert full.kept_float == [] and full.within_budget  # huge budget: nothing falls back
    drop_all_int8 = full.drop_points
    assert drop_all_int8 > 1.0
    result = mixed_precision_search(model, amax, evaluate, ['conv2', 'conv1', 'score'],
                                    max_drop=drop_all_int8 / 2, workdir=tmp / 'm1')
    assert result.within_budget
    assert result.kept_float[:2] == ['conv2', 'relu2']
    assert result.drop_points <= drop_all_int8 / 2
    assert result.steps[0]['drop_points'] == pytest.approx(drop_all_int8)
    assert result.baseline == 1.0


def test_mixed_precision_gives_up_after_max_fallback(setup):
    tmp, model, calib, feeds = setup
    amax = dict(calib.amax)
    amax['c2'] = amax['c2'] / 30.0
    evaluate = _agreement(model, feeds)
    # The budget is impossible to meet with only `score` allowed to fall back.
    result = mixed_precision_search(model, amax, evaluate, ['score'], max_drop=0.0,
                                    workdir=tmp / 'm2', max_fallback=1)
    assert not result.within_budget
    assert len(result.steps) == 2 and result.kept_float == ['score']
