# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Q/DQ models follow TensorRT's rules and run as int8 kernels in ONNX Runtime."""

from __future__ import annotations

from fxseg_ros.quant.calibrators import calibrate
from fxseg_ros.quant.collect import ArrayReader
from fxseg_ros.quant.qdq import (check_tensorrt_rules, optimized_op_types, quantize_qdq,
                                 quantized_nodes, weight_bytes)
from fxseg_ros.runtime.session import make_session
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto
import pytest


def _deconv_net(path):
    """
    Return a small network with a deconvolution.

    input (N,3,16,24) -> Conv 3x3 (8) -> Relu -> ConvTranspose 4x4/2 (5) -> out (N,5,32,48).
    """
    rng = np.random.default_rng(1)
    inits = [
        numpy_helper.from_array((rng.standard_normal((8, 3, 3, 3)) * 0.4).astype(np.float32),
                                'conv.weight'),
        numpy_helper.from_array((rng.standard_normal(8) * 0.1).astype(np.float32), 'conv.bias'),
        # ConvTranspose weights are (C_in, C_out, kh, kw): output channels on axis 1.
        numpy_helper.from_array((rng.standard_normal((8, 5, 4, 4)) * 0.3).astype(np.float32),
                                'up.weight'),
    ]
    nodes = [
        helper.make_node('Conv', ['input', 'conv.weight', 'conv.bias'], ['c'], name='conv',
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node('Relu', ['c'], ['r'], name='relu'),
        helper.make_node('ConvTranspose', ['r', 'up.weight'], ['scores'], name='up',
                         kernel_shape=[4, 4], strides=[2, 2], pads=[1, 1, 1, 1]),
    ]
    graph = helper.make_graph(
        nodes, 'deconv', [helper.make_tensor_value_info('input', TensorProto.FLOAT,
                                                        ['N', 3, 16, 24])],
        [helper.make_tensor_value_info('scores', TensorProto.FLOAT, ['N', 5, 32, 48])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def _blobs(shape, count=3, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(np.float32) for _ in range(count)]


@pytest.fixture(scope='module')
def small_tiny(tmp_path_factory):
    from conftest import make_tiny_net

    path = make_tiny_net(tmp_path_factory.mktemp('qdq') / 'tiny.onnx', input_wh=(64, 48))
    calib = calibrate(path, ArrayReader(_blobs((1, 3, 48, 64))), method='minmax')
    return path, calib


def _dq_by_weight(model):
    return {n.input[0]: n for n in model.graph.node if n.op_type == 'DequantizeLinear'}


def test_tensorrt_rules_on_conv_net(small_tiny, tmp_path):
    path, calib = small_tiny
    out = quantize_qdq(path, calib.amax, tmp_path / 'int8.onnx')
    model = onnx.load(str(out))
    assert check_tensorrt_rules(model) == []
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    q_nodes = [n for n in model.graph.node if n.op_type in ('QuantizeLinear', 'DequantizeLinear')]
    assert q_nodes
    for node in q_nodes:
        zp = inits[node.input[2]]
        assert zp.dtype == np.int8 and not zp.any()
    for name in ('conv1.weight', 'conv2.weight', 'score.weight'):
        weights = inits[name + '_quantized']
        assert weights.dtype == np.int8
        assert weights.min() >= -127 and weights.max() <= 127
        # Symmetric per channel: each output channel's largest |w| maps to exactly 127.
        assert np.all(np.abs(weights).reshape(weights.shape[0], -1).max(axis=1) == 127)
        dq = _dq_by_weight(model)[name + '_quantized']
        assert {a.name: a.i for a in dq.attribute}.get('axis', 1) == 0
        assert inits[dq.input[1]].shape == (weights.shape[0],)
    # Activation scales: amax / 127, per tensor.
    scale = inits['r1_scale']
    assert scale.shape == () and scale == pytest.approx(calib.amax['r1'] / 127, rel=1e-6)
    assert set(quantized_nodes(model)) == {'conv1', 'relu1', 'conv2', 'relu2', 'score'}
    # The full-resolution Resize stays in float: no Q/DQ on its output.
    assert not any(n.op_type == 'QuantizeLinear' and n.input[0] == 'scores'
                   for n in model.graph.node)
    assert weight_bytes(model) < 0.4 * weight_bytes(onnx.load(str(path)))


def test_conv_transpose_is_per_channel_on_axis_1(tmp_path):
    path = _deconv_net(tmp_path / 'deconv.onnx')
    calib = calibrate(path, ArrayReader(_blobs((1, 3, 16, 24))), method='entropy')
    out = quantize_qdq(path, calib.amax, tmp_path / 'int8.onnx')
    model = onnx.load(str(out))
    assert check_tensorrt_rules(model) == []
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    dq = _dq_by_weight(model)['up.weight_quantized']
    assert {a.name: a.i for a in dq.attribute}['axis'] == 1
    assert inits[dq.input[1]].shape == (5,)
    weights = inits['up.weight_quantized']
    assert np.all(np.abs(weights).max(axis=(0, 2, 3)) == 127)
    # Same graph runs in ORT and stays close to the float model.
    x = _blobs((2, 3, 16, 24), 1, seed=9)[0]
    ref = make_session(path).run(None, {'input': x})[0]
    got = make_session(out).run(None, {'input': x})[0]
    from fxseg_ros.quant.sensitivity import sqnr_db

    assert sqnr_db(ref, got) > 20.0


def test_float_weight_qdq_pairs_also_follow_the_rules(small_tiny, tmp_path):
    path, calib = small_tiny
    out = quantize_qdq(path, calib.amax, tmp_path / 'pairs.onnx', weights_as_float=True)
    model = onnx.load(str(out))
    assert check_tensorrt_rules(model) == []
    assert any(n.op_type == 'QuantizeLinear' and n.input[0] == 'conv1.weight'
               for n in model.graph.node)


def test_rule_check_catches_uint8_activations(small_tiny, tmp_path):
    path, calib = small_tiny
    out = quantize_qdq(path, calib.amax, tmp_path / 'u8.onnx', activations='u8',
                       stats=calib.stats)
    problems = check_tensorrt_rules(out)
    assert any('not int8' in p for p in problems)
    assert any('not 0' in p for p in problems)


def test_rule_check_catches_per_tensor_weights(tmp_path):
    w = np.arange(-8, 8, dtype=np.int8).reshape(4, 1, 2, 2)
    inits = [numpy_helper.from_array(w, 'w_q'), numpy_helper.from_array(np.float32(0.1), 'ws'),
             numpy_helper.from_array(np.int8(0), 'wz')]
    nodes = [helper.make_node('DequantizeLinear', ['w_q', 'ws', 'wz'], ['w'], name='dq'),
             helper.make_node('Conv', ['x', 'w'], ['y'], name='conv')]
    graph = helper.make_graph(nodes, 'g', [helper.make_tensor_value_info(
        'x', TensorProto.FLOAT, [1, 1, 4, 4])], [helper.make_tensor_value_info(
            'y', TensorProto.FLOAT, None)], inits)
    problems = check_tensorrt_rules(helper.make_model(graph))
    assert any('per tensor' in p for p in problems)


def test_onnxruntime_runs_qlinearconv(small_tiny, tmp_path):
    path, calib = small_tiny
    out = quantize_qdq(path, calib.amax, tmp_path / 'int8.onnx')
    ops = optimized_op_types(out, tmp_path / 'optimized.onnx')
    assert ops.count('QLinearConv') == 3
    assert 'Conv' not in ops and 'FusedConv' not in ops


def test_nodes_to_exclude_stay_float(small_tiny, tmp_path):
    path, calib = small_tiny
    out = quantize_qdq(path, calib.amax, tmp_path / 'mixed.onnx',
                       nodes_to_exclude=['conv2', 'relu2'])
    nodes = quantized_nodes(out)
    assert 'conv2' not in nodes and 'conv1' in nodes
    ops = optimized_op_types(out, tmp_path / 'optimized.onnx')
    assert ops.count('QLinearConv') == 2


def test_bad_activation_kind(small_tiny, tmp_path):
    path, calib = small_tiny
    with pytest.raises(ValueError):
        quantize_qdq(path, calib.amax, tmp_path / 'x.onnx', activations='fp8')
    with pytest.raises(ValueError, match='statistics'):
        quantize_qdq(path, calib.amax, tmp_path / 'x.onnx', activations='u8')


def test_maxpool_output_shares_its_input_scale(tmp_path):
    rng = np.random.default_rng(2)
    inits = [numpy_helper.from_array((rng.standard_normal((4, 3, 3, 3)) * 0.5).astype(
        np.float32), 'w1'), numpy_helper.from_array((rng.standard_normal((6, 4, 1, 1)) * 0.5)
                                                    .astype(np.float32), 'w2')]
    nodes = [helper.make_node('Conv', ['input', 'w1'], ['c'], name='conv1', kernel_shape=[3, 3]),
             helper.make_node('Relu', ['c'], ['r'], name='relu'),
             helper.make_node('MaxPool', ['r'], ['p'], name='pool', kernel_shape=[2, 2],
                              strides=[2, 2]),
             helper.make_node('Conv', ['p', 'w2'], ['scores'], name='conv2', kernel_shape=[1, 1])]
    graph = helper.make_graph(nodes, 'pool', [helper.make_tensor_value_info(
        'input', TensorProto.FLOAT, ['N', 3, 18, 18])], [helper.make_tensor_value_info(
            'scores', TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])
    model.ir_version = 8
    path = tmp_path / 'pool.onnx'
    onnx.save(model, str(path))
    amax = {'input': 3.0, 'c': 4.0, 'r': 4.0, 'p': 2.5, 'scores': 5.0}
    out = onnx.load(str(quantize_qdq(path, amax, tmp_path / 'int8.onnx')))
    inits = {i.name: numpy_helper.to_array(i) for i in out.graph.initializer}
    q_of = {n.input[0]: n for n in out.graph.node if n.op_type == 'QuantizeLinear'}
    assert inits[q_of['p'].input[1]] == inits[q_of['r'].input[1]] == pytest.approx(4.0 / 127)
    assert check_tensorrt_rules(out) == []
    # The float MaxPool between a DQ and a Q disappears: ORT pools int8 data.
    ops = optimized_op_types(tmp_path / 'int8.onnx', tmp_path / 'optimized.onnx')
    assert 'DequantizeLinear' not in ops[:ops.index('QLinearConv') + 1]
