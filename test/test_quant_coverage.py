# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The coverage check flags data outside the calibration (night vs day), passes matching data."""

from __future__ import annotations

from fxseg_ros.data.preprocess import preprocess
from fxseg_ros.quant.calibrators import calibrate
from fxseg_ros.quant.collect import ArrayReader
from fxseg_ros.quant.coverage import check_coverage, format_coverage
import numpy as np
import pytest

SIZE_WH = (64, 48)


def _frames(seed, count, low, high):
    """Blobs of textured BGR frames with pixel values in [low, high]."""
    rng = np.random.default_rng(seed)
    blobs = []
    for _ in range(count):
        base = rng.uniform(low, high, (6, 8, 3))
        noise = rng.normal(0, (high - low) * 0.05, (48, 64, 3))
        frame = np.kron(base, np.ones((8, 8, 1))) + noise
        blobs.append(preprocess(np.clip(frame, 0, 255).astype(np.uint8), SIZE_WH))
    return blobs


@pytest.fixture(scope='module')
def day_calibration(tmp_path_factory):
    from conftest import make_tiny_net

    model = make_tiny_net(tmp_path_factory.mktemp('cov') / 'tiny.onnx', input_wh=SIZE_WH)
    calib = calibrate(model, ArrayReader(_frames(0, 8, 60, 255)), method='entropy')
    return model, calib


def test_matching_set_is_not_flagged(day_calibration):
    model, calib = day_calibration
    report = check_coverage(model, calib, ArrayReader(_frames(1, 6, 60, 255)))
    assert report.frames == 6
    assert not report.flagged, format_coverage(report)
    assert report.max_clip_fraction < 0.01
    assert 'within the calibrated ranges' in report.reason()


def test_night_set_is_flagged(day_calibration):
    model, calib = day_calibration
    report = check_coverage(model, calib, ArrayReader(_frames(2, 6, 0, 30)))
    assert report.flagged, format_coverage(report)
    flagged = report.flagged_tensors()
    # Dark frames pile up on input levels the day frames rarely used.
    assert 'input' in [t.name for t in flagged]
    assert any(r.startswith('shifted') for t in flagged for r in t.reasons)
    assert 'night' in report.reason()
    # Optionally also flag the small part of the range the dark frames use.
    strict = check_coverage(model, calib, ArrayReader(_frames(2, 6, 0, 30)), max_underuse=0.5)
    assert any(r.startswith('uses') for t in strict.tensors for r in t.reasons)


def test_scaled_set_clips(day_calibration):
    model, calib = day_calibration
    scaled = [b * 3.0 for b in _frames(3, 4, 60, 255)]
    report = check_coverage(model, calib, ArrayReader(scaled))
    assert report.flagged
    inputs = [t for t in report.tensors if t.name == 'input'][0]
    assert inputs.clip_fraction > 0.05
    assert any(r.startswith('clips') for r in inputs.reasons)
    table = format_coverage(report)
    assert table.splitlines()[0].split()[:2] == ['tensor', 'amax']
    assert 'input' in table


def test_coverage_of_foreign_model_fails(day_calibration, tiny_net):
    from fxseg_ros.quant.calibrators import CalibrationResult

    model, _ = day_calibration
    foreign = CalibrationResult({'not_a_tensor': 1.0}, 'minmax')
    with pytest.raises(ValueError, match='none of the calibrated tensors'):
        check_coverage(model, foreign, ArrayReader(_frames(4, 1, 0, 255)))


@pytest.mark.parametrize('levels, reference, expected', [
    ([0.5, 0.5], [0.5, 0.5], 0.0),
    ([1.0, 0.0], [0.25, 0.75], 0.25),   # 1.0 - 3 * 0.25 on level 0
    ([0.0, 1.0], [1.0, 0.0], 1.0),      # all mass where the calibration had none
    ([0.3, 0.7], [0.1, 0.9], 0.0),      # a third of the density is still covered
])
def test_uncovered_mass(levels, reference, expected):
    from fxseg_ros.quant.coverage import uncovered_mass

    assert uncovered_mass(np.array(levels), np.array(reference)) == pytest.approx(expected)


def test_night_subset_of_a_mixed_calibration_is_covered(day_calibration):
    model, _ = day_calibration
    mixed = calibrate(model, ArrayReader(_frames(0, 6, 60, 255) + _frames(5, 6, 0, 30)),
                      method='entropy')
    night = check_coverage(model, mixed, ArrayReader(_frames(2, 6, 0, 30)))
    assert not night.flagged, format_coverage(night)
    assert max(t.shift for t in night.tensors) < 0.1
