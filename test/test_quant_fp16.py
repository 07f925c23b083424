# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""FP16 model keeps float32 I/O; the FP16 emulation rounds every tensor."""

from __future__ import annotations

from fxseg_ros.quant.fp16 import convert_to_fp16, emulate_fp16
from fxseg_ros.runtime.session import make_session
import numpy as np
import onnx
from onnx import numpy_helper, TensorProto
import pytest


@pytest.fixture(scope='module')
def small_net(tmp_path_factory):
    from conftest import make_tiny_net

    return make_tiny_net(tmp_path_factory.mktemp('fp16') / 'tiny.onnx', input_wh=(64, 48))


@pytest.fixture(scope='module')
def blob():
    return np.random.default_rng(0).standard_normal((2, 3, 48, 64)).astype(np.float32) * 3


def test_fp16_model_keeps_float32_io(small_net, blob):
    model = convert_to_fp16(onnx.load(str(small_net)))
    assert [i.type.tensor_type.elem_type for i in model.graph.input] == [TensorProto.FLOAT]
    assert [o.type.tensor_type.elem_type for o in model.graph.output] == [TensorProto.FLOAT]
    assert [i.name for i in model.graph.input] == ['input']
    assert [o.name for o in model.graph.output] == ['scores']
    inits = {i.name: i.data_type for i in model.graph.initializer}
    assert inits['conv1.weight'] == TensorProto.FLOAT16
    # Resize runs in FP16 too, but its scales input must stay float32 (ONNX spec).
    resize = [n for n in model.graph.node if n.op_type == 'Resize'][0]
    assert inits[resize.input[2]] == TensorProto.FLOAT
    assert 'Cast' in [n.op_type for n in model.graph.node]
    ref = make_session(small_net).run(None, {'input': blob})[0]
    got = make_session(model).run(None, {'input': blob})[0]
    assert got.dtype == np.float32 and got.shape == ref.shape
    assert np.abs(got - ref).max() < 1e-2 * np.abs(ref).max()
    assert not np.array_equal(got, ref)


def test_fp16_emulation_rounds_every_tensor(small_net, blob):
    model = emulate_fp16(onnx.load(str(small_net)))
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    w = inits['conv1.weight']
    assert w.dtype == np.float32
    assert np.array_equal(w, w.astype(np.float16).astype(np.float32))
    casts = [n for n in model.graph.node if n.op_type == 'Cast']
    # Input + 6 node outputs, each Cast to FP16 and back.
    assert len(casts) == 2 * 7
    session = make_session(model)
    out = session.run(None, {'input': blob})[0]
    assert np.array_equal(out, out.astype(np.float16).astype(np.float32))
    ref = make_session(small_net).run(None, {'input': blob})[0]
    assert not np.array_equal(out, ref)
    assert np.abs(out - ref).max() < 1e-2 * np.abs(ref).max()
    # Intermediate tensors are rounded too, with their names unchanged.
    from fxseg_ros.quant.collect import ActivationCollector

    acts = ActivationCollector(model, tensors=['r1', 'c2']).run({'input': blob})
    for value in acts.values():
        assert np.array_equal(value, value.astype(np.float16).astype(np.float32))


def test_fp16_emulation_overflows_like_fp16(tmp_path):
    from onnx import helper

    graph = helper.make_graph(
        [helper.make_node('Mul', ['x', 'k'], ['y'], name='mul')], 'g',
        [helper.make_tensor_value_info('x', TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info('y', TensorProto.FLOAT, [3])],
        [numpy_helper.from_array(np.array([1000.0, 1000.0, 1000.0], np.float32), 'k')])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])
    x = np.array([1.0, 100.0, 1e-3], np.float32)
    out = make_session(emulate_fp16(model)).run(None, {'x': x})[0]
    assert out[0] == 1000.0 and np.isinf(out[1])
    assert out[2] == np.float32(np.float16(1.0))
