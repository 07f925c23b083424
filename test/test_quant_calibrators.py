# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Entropy / min-max / percentile calibration and the streaming histogram."""

from __future__ import annotations

import json

from fxseg_ros.quant.calibrators import (AbsHistogram, calibrate, CalibrationResult, clip_fraction,
                                         entropy_divergences, entropy_threshold,
                                         HistogramCalibrator, level_histogram,
                                         percentile_threshold)
from fxseg_ros.quant.collect import ArrayReader
import numpy as np
import pytest

EDGES = np.linspace(0.0, 2048.0, 2049)  # bin j = [j, j + 1): edges equal bin indices


def _hist(**bins):
    h = np.zeros(2048)
    for index, count in bins.items():
        h[int(index[1:])] = count
    return h


def test_entropy_flat_histogram_keeps_the_whole_range():
    # A flat histogram over bins 0..127: every candidate's Q equals its P (each level averages
    # equal counts), KL = 0 for all i, and the last minimum is i = 2048.
    hist = np.zeros(2048)
    hist[:128] = 4.0
    candidates, div = entropy_divergences(hist)
    assert candidates[0] == 128 and candidates[-1] == 2048
    assert np.allclose(div, 0.0)
    assert entropy_threshold(hist, EDGES) == 2048.0


def test_entropy_i128_divergence_by_hand():
    # bins 0..127 = 4, one outlier count in bin 1000. At i = 128 every level is one bin, so
    # Q = bins[:128]; P folds the outlier into bin 127: P = (4, ..., 4, 5) / 513,
    # Q = 1/128 each. KL = 127 * 4/513 * ln(512/513) + 5/513 * ln(640/513).
    hist = np.zeros(2048)
    hist[:128] = 4.0
    hist[1000] = 1.0
    candidates, div = entropy_divergences(hist, ignore_zero_bin=False)
    expected = 127 * 4 / 513 * np.log(512 / 513) + 5 / 513 * np.log(640 / 513)
    assert div[0] == pytest.approx(expected, rel=1e-9)
    # 129..1000: the outlier lands in an empty bin i-1 that Q cannot represent: infinite.
    assert np.all(np.isinf(div[1:1000 - 128 + 1]))
    # i = 1001: P[1000] = 1 = Q[1000] (alone in its level): KL 0, as for every longer i.
    assert np.allclose(div[1001 - 128:], 0.0)


def test_entropy_picks_last_minimum_from_level_merging():
    # bins 0..127 = 4 plus bins 1000 = 1 and 1001 = 3. Where one level holds both tail bins,
    # Q spreads 2 + 2 against P's 1 + 3 (KL > 0); where they fall into different levels
    # (floor(1000 * 128 / i) != floor(1001 * 128 / i)), KL = 0. The largest such i <= 2048
    # is 2033 (1000 * 128 / 2033 = 62.96 -> 62, 1001 * 128 / 2033 = 63.02 -> 63; for
    # i = 2034..2048 both map to 62), so amax = edge 2033.
    hist = _hist(b1000=1, b1001=3)
    hist[:128] = 4.0
    candidates, div = entropy_divergences(hist)
    zero = candidates[np.isclose(div, 0.0)]
    assert zero.max() == 2033
    assert entropy_threshold(hist, EDGES) == 2033.0
    # The first minimum would be much smaller: the choice of the last one matters here.
    assert zero.min() < 1500


def test_entropy_ignores_the_zero_spike_like_nvidia():
    # ReLU output: a huge count at exactly 0. NVIDIA's implementations replace bin 0 by bin 1
    # before the search; without it the spike pushes the threshold elsewhere.
    rng = np.random.default_rng(3)
    x = np.concatenate([np.zeros(300000), np.abs(rng.standard_normal(200000))])
    hist, edges = np.histogram(x, 2048, range=(0, x.max()))
    with_spike = hist.copy()
    no_spike = hist.copy()
    no_spike[0] = no_spike[1]
    assert entropy_threshold(with_spike, edges) == entropy_threshold(no_spike, edges)
    assert entropy_threshold(with_spike, edges, ignore_zero_bin=False) != \
        entropy_threshold(no_spike, edges)


def test_entropy_matches_nvidia_modelopt():
    """Cross-check against NVIDIA ModelOpt's `_compute_amax_entropy` on the same histograms."""
    histogram = pytest.importorskip(
        'modelopt.torch.quantization.calib.histogram',
        reason='nvidia-modelopt (and its scipy/pydantic deps) is not installed; install it '
               "to cross-check the entropy calibration against NVIDIA's implementation")
    rng = np.random.default_rng(1)
    cases = [np.abs(rng.standard_normal(100000)),
             np.maximum(rng.standard_normal(100000) * 3 - 2, 0),
             np.concatenate([np.abs(rng.laplace(size=100000)), [40.0, 55.0]]),
             rng.exponential(2.0, 100000)]
    for x in cases:
        hist, edges = np.histogram(x, 2048, range=(0, x.max()))
        theirs = float(histogram._compute_amax_entropy(hist.copy(), edges, 8, False))
        assert np.float32(entropy_threshold(hist, edges)) == np.float32(theirs)


def test_onnxruntime_entropy_defaults_degenerate_to_max():
    """
    ONNX Runtime's HistogramCollector with its defaults has one candidate only, the whole range.

    With 128 bins and 128 quantized bins, its "entropy" threshold is the absolute maximum.

    ORT's own algorithm is no reference for TensorRT's even with 2048 bins: it histograms the
    signed values, grows a window symmetrically around zero, truncates Q to integers and
    smooths P and Q, so its thresholds differ from EntropyCalibration2 by design.
    """
    from onnxruntime.quantization.calibrate import HistogramCollector

    rng = np.random.default_rng(2)
    x = np.concatenate([rng.standard_normal(200000), [60.0, -45.0]]).astype(np.float32)
    collector = HistogramCollector('entropy', True, 128, 128, 99.99, 'same')
    collector.collect({'t': x})
    low, high = collector.get_entropy_threshold(collector.histogram_dict['t'], 128)
    assert float(high) == pytest.approx(60.0)
    hist, edges = np.histogram(np.abs(x), 2048, range=(0, 60.0))
    assert entropy_threshold(hist, edges) < 10.0


@pytest.mark.parametrize('percentile, expected', [
    (50.0, 50.0), (90.0, 90.0), (99.0, 99.0), (100.0, 100.0)])
def test_percentile_on_uniform_histogram(percentile, expected):
    hist = np.ones(100)
    edges = np.linspace(0, 100, 101)
    assert percentile_threshold(hist, edges, percentile) == pytest.approx(expected)


def test_percentile_rejects_bad_value():
    with pytest.raises(ValueError):
        percentile_threshold(np.ones(4), np.linspace(0, 4, 5), 101.0)


def test_clip_fraction_and_levels():
    hist = np.ones(100)
    edges = np.linspace(0, 100, 101)
    assert clip_fraction(hist, edges, 75.0) == pytest.approx(0.25)
    levels = level_histogram(hist, edges, 127.0)
    # Scale 1: level k holds |x| in [k - 0.5, k + 0.5); nothing saturates below 127.5.
    assert levels.sum() == pytest.approx(1.0)
    assert levels[0] == pytest.approx(0.005)
    assert levels[10] == pytest.approx(0.01)
    assert levels[-1] == 0.0


def test_streaming_histogram_equals_one_shot_within_rebinning():
    rng = np.random.default_rng(0)
    chunks = [np.abs(rng.standard_normal(50000)) * s for s in (0.5, 1.0, 3.0, 1.5)]
    streamed = AbsHistogram()
    for chunk in chunks:
        streamed.update(chunk.astype(np.float32))
    x = np.concatenate(chunks).astype(np.float32)
    counts, edges = streamed.histogram()
    ref_counts, ref_edges = np.histogram(np.abs(x), 2048, range=(0, np.abs(x).max()))
    assert streamed.absmax == pytest.approx(float(np.abs(x).max()))
    assert counts.sum() == pytest.approx(x.size)
    assert np.allclose(edges, ref_edges)
    # The range grew 6x over the stream; re-binning moves only a small fraction of the mass.
    assert np.abs(counts - ref_counts).sum() / x.size < 0.02
    ours = entropy_threshold(counts, edges)
    ref = entropy_threshold(ref_counts, ref_edges)
    assert abs(ours - ref) <= 4 * (edges[1] - edges[0])
    # Memory stays bounded: the working histogram never exceeds max_bins.
    assert streamed.counts.size <= streamed.max_bins


def test_streaming_histogram_bounded_after_huge_growth():
    hist = AbsHistogram(num_bins=64)
    hist.update(np.array([0.0, 1e-3], np.float32))
    hist.update(np.array([5.0, 1e4], np.float32))
    assert hist.counts.size <= hist.max_bins
    counts, _ = hist.histogram()
    assert counts.sum() == pytest.approx(4)
    assert hist.summary()['zero_fraction'] == pytest.approx(0.25)


def test_all_zero_tensor_gets_zero_range():
    hist = AbsHistogram()
    hist.update(np.zeros(100, np.float32))
    assert hist.absmax == 0.0
    cal = HistogramCalibrator()
    cal.update({'z': np.zeros(10, np.float32), 'x': np.arange(10, dtype=np.float32)})
    result = cal.result('minmax')
    assert result.amax == {'z': 0.0, 'x': 9.0}


def test_nan_is_rejected():
    with pytest.raises(ValueError, match='NaN'):
        AbsHistogram().update(np.array([1.0, np.nan], np.float32))


def test_calibrate_tiny_net_all_methods(tmp_path):
    from conftest import make_tiny_net

    model = make_tiny_net(tmp_path / 'tiny.onnx', input_wh=(64, 48))
    rng = np.random.default_rng(5)
    blobs = [rng.standard_normal((1, 3, 48, 64)).astype(np.float32) for _ in range(3)]
    result = calibrate(model, ArrayReader(blobs), method='minmax')
    assert list(result.amax) == ['input', 'c1', 'r1', 'c2', 'r2', 'score', 'scores']
    assert result.amax['input'] == pytest.approx(float(np.abs(np.stack(blobs)).max()))
    assert result.frames == 3
    path = result.save(tmp_path / 'calib.json')
    loaded = CalibrationResult.load(path)
    assert loaded.amax == result.amax and loaded.method == 'minmax'
    assert json.loads(path.read_text())['stats']['r1']['min'] == 0.0
    entropy = calibrate(model, ArrayReader(blobs), method='entropy')
    percentile = calibrate(model, ArrayReader(blobs), method='percentile', percentile=99.0)
    for name in result.amax:
        assert 0 < entropy.amax[name] <= result.amax[name] + 1e-6
        assert 0 < percentile.amax[name] <= result.amax[name] + 1e-6


def test_calibrate_empty_reader_says_why(tiny_net):
    with pytest.raises(ValueError, match='provided no data'):
        calibrate(tiny_net, ArrayReader([]))


def test_unknown_method():
    cal = HistogramCalibrator()
    cal.update({'x': np.ones(4, np.float32)})
    with pytest.raises(ValueError, match='unknown calibration method'):
        cal.result('kl')


def test_calibration_remembers_its_model(tmp_path):
    from conftest import make_tiny_net
    from fxseg_ros.quant.calibrators import check_calibration_model

    model = make_tiny_net(tmp_path / 'a.onnx', input_wh=(64, 48), seed=0)
    other = make_tiny_net(tmp_path / 'b.onnx', input_wh=(64, 48), seed=1)
    blobs = [np.random.default_rng(0).standard_normal((1, 3, 48, 64)).astype(np.float32)]
    result = calibrate(model, ArrayReader(blobs), method='minmax')
    loaded = CalibrationResult.load(result.save(tmp_path / 'calib.json'))
    assert check_calibration_model(loaded, model) is None
    # Same architecture and tensor names, other weights: the ranges do not apply.
    assert 'another model' in check_calibration_model(loaded, other)
    renamed = CalibrationResult({'x_not_here': 1.0}, 'minmax')
    assert 'not in' in check_calibration_model(renamed, model)
