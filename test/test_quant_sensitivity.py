# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Per-layer sensitivity ranking and the mixed-precision fallback loop."""

from __future__ import annotations

from fxseg_ros.quant.calibrators import calibrate
from fxseg_ros.quant.collect import ArrayReader
from fxseg_ros.quant.qdq import quantize_qdq
from fxseg_ros.quant.sensitivity import (cosine_similarity, isolated_sensitivity, layer_errors,
                                         mixed_precision_search, sqnr_db, weighted_layers)
from fxseg_ros.runtime.session import EXACT_INT8_CONFIG, make_session
import numpy as np
import onnx
from onnx import numpy_helper
import pytest


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


def _only(model, amax, out, layer_nodes):
    """Quantize only `layer_nodes` of the tiny net."""
    nodes = [n.name for n in onnx.load(str(model)).graph.node]
    quantize_qdq(str(model), amax, out, nodes_to_exclude=[n for n in nodes
                                                          if n not in layer_nodes])
    return out


def _q_scales(path):
    """Tensor quantized -> scale of its QuantizeLinear."""
    proto = onnx.load(str(path))
    inits = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
    return {n.input[0]: float(inits[n.input[1]]) for n in proto.graph.node
            if n.op_type == 'QuantizeLinear'}


def test_the_range_before_a_relu_is_the_relus(setup):
    """
    Conv -> ReLU: the Q/DQ on the conv output takes the ReLU output's range, not its own.

    ONNX Runtime's quantizer replaces the range of a ReLU's (or Clip's) input with the output's
    (onnxruntime/quantization/base_quantizer.py, BaseQuantizer.adjust_tensor_ranges), so the
    calibrated pre-ReLU range `c2` never reaches the graph: both c2 and r2 are quantized with
    amax['r2'] / 127 (symmetric int8).
    """
    tmp, model, calib, _ = setup
    amax = dict(calib.amax)
    plain = _q_scales(_only(model, amax, tmp / 'plain.onnx', ('conv2', 'relu2')))
    assert plain['c2'] == pytest.approx(amax['r2'] / 127, rel=1e-6)
    assert plain['r2'] == pytest.approx(amax['r2'] / 127, rel=1e-6)
    ruined_c2 = dict(amax, c2=amax['c2'] / 30.0)
    assert _q_scales(_only(model, ruined_c2, tmp / 'c2.onnx', ('conv2', 'relu2'))) == plain
    ruined_r2 = dict(amax, r2=amax['r2'] / 30.0)
    scales = _q_scales(_only(model, ruined_r2, tmp / 'r2.onnx', ('conv2', 'relu2')))
    assert scales['c2'] == pytest.approx(amax['r2'] / 30.0 / 127, rel=1e-6)


def _ruined(calib):
    """
    Cut conv1's input range to 1/30 of the calibrated one.

    The network input is quantized only where conv1 is, so only conv1's isolated model sees the
    cut; a ReLU output's range would be shared by two layers (its producer's output and its
    consumer's input).
    """
    return dict(calib.amax, input=calib.amax['input'] / 30.0)


def test_a_badly_calibrated_layer_ranks_first(setup):
    tmp, model, calib, feeds = setup
    amax = _ruined(calib)
    # The premise, on the frames themselves: the cut range saturates most of conv1's input.
    values = np.concatenate([f['input'].ravel() for f in feeds])
    assert np.mean(np.abs(values) > amax['input']) > 0.5
    # Exact int32 accumulation on every x86 CPU: by default AVX2 without VNNI runs u8 x s8 with
    # pairs of products saturating in int16 (modelled in fxseg_ros.quant.mac), AVX-512 VNNI
    # accumulates exactly; EXACT_INT8_CONFIG keeps int8 x int8 kernels, exact on both. So the
    # ranking does not depend on the kernel ONNX Runtime picks.
    ranked = isolated_sensitivity(model, amax, feeds, tmp / 'iso',
                                  session_config=EXACT_INT8_CONFIG)
    assert [e.name for e in ranked][0] == 'conv1'
    assert ranked[0].sqnr < ranked[1].sqnr - 6.0
    # ranked worst first (conv1 is also first in graph order, so check the whole order)
    assert [e.sqnr for e in ranked] == sorted(e.sqnr for e in ranked)
    assert len(ranked) >= 3
    # The damage is the range's: with the calibrated range conv1 loses far less.
    calibrated = {e.name: e for e in isolated_sensitivity(model, calib.amax, feeds, tmp / 'ok',
                                                          session_config=EXACT_INT8_CONFIG)}
    assert calibrated['conv1'].sqnr > ranked[0].sqnr + 10.0
    errors = layer_errors(model, tmp / 'iso' / 'only_conv1.onnx', feeds,
                          session_config=EXACT_INT8_CONFIG)
    assert {e.name for e in errors} >= {'conv1', 'score'}
    assert all(-1.0 <= e.cosine <= 1.0 for e in errors)


def _agreement(reference_model, feeds):
    """Real evaluation callback: argmax agreement of a model with the float model (0..1)."""
    reference = [np.argmax(make_session(reference_model).run(None, f)[0], axis=1)
                 for f in feeds]

    def evaluate(path):
        session = make_session(path, config=EXACT_INT8_CONFIG)
        hits = [np.mean(np.argmax(session.run(None, f)[0], axis=1) == r)
                for f, r in zip(feeds, reference)]
        return float(np.mean(hits))
    return evaluate


def test_mixed_precision_falls_back_until_within_budget(setup):
    tmp, model, calib, feeds = setup
    amax = _ruined(calib)
    evaluate = _agreement(model, feeds)
    full = mixed_precision_search(model, amax, evaluate, ['conv1', 'conv2', 'score'],
                                  max_drop=100.0, workdir=tmp / 'm0')
    assert full.kept_float == [] and full.within_budget  # huge budget: nothing falls back
    drop_all_int8 = full.drop_points
    assert drop_all_int8 > 1.0
    result = mixed_precision_search(model, amax, evaluate, ['conv1', 'conv2', 'score'],
                                    max_drop=drop_all_int8 / 2, workdir=tmp / 'm1')
    assert result.within_budget
    assert result.kept_float[:2] == ['conv1', 'relu1']
    assert result.drop_points <= drop_all_int8 / 2
    assert result.steps[0]['drop_points'] == pytest.approx(drop_all_int8)
    assert result.baseline == 1.0


def test_mixed_precision_gives_up_after_max_fallback(setup):
    tmp, model, calib, feeds = setup
    amax = _ruined(calib)
    evaluate = _agreement(model, feeds)
    # The budget is impossible to meet with only `score` allowed to fall back.
    result = mixed_precision_search(model, amax, evaluate, ['score'], max_drop=0.0,
                                    workdir=tmp / 'm2', max_fallback=1)
    assert not result.within_budget
    assert len(result.steps) == 2 and result.kept_float == ['score']
