# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Every graph the product emits, checked against every TensorRT version.

The graphs built the old way (before the fixes) reported; `fxseg build`'s pre-build check and
`fxseg check`.
"""


from fxseg_ros.cli.main import main
from fxseg_ros.model import deploy
from fxseg_ros.quant.fp16 import convert_to_fp16
from fxseg_ros.quant.qdq import quantize_qdq
from fxseg_ros.runtime import trt_rules
from fxseg_ros.runtime.builder import BuildError, BuildOptions, prepare_build
from fxseg_ros.runtime.metadata import Platform
from fxseg_ros.runtime.trt_graph import graph_for_tensorrt, int8_weights_as_float
from fxseg_ros.runtime.trt_support import CHECK_VERSIONS
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto
import onnxruntime as ort
import pytest

ALL = tuple(name for name, _ in CHECK_VERSIONS)
NO_UINT8_IO = ('8.0', '8.2')
NO_INT8_WEIGHTS = ('8.0', '8.2', '8.5', '8.6')


def run(model, feed):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.log_severity_level = 3
    data = model.SerializeToString() if isinstance(model, onnx.ModelProto) else str(model)
    return ort.InferenceSession(data, so, providers=['CPUExecutionProvider']).run(None, feed)[0]


def _amax(bare):
    """Return a range for every float tensor of the network (values do not matter to the rules)."""
    inferred = onnx.shape_inference.infer_shapes(onnx.load(str(bare)))
    names = [vi.name for vi in list(inferred.graph.value_info) + list(inferred.graph.input)
             + list(inferred.graph.output)]
    return dict.fromkeys(names, 4.0)


@pytest.fixture(scope='module')
def product_graphs(tiny_net, demo_model, tmp_path_factory):
    """Return the graphs the product writes or builds, by name."""
    out = tmp_path_factory.mktemp('graphs')
    qdq = quantize_qdq(str(tiny_net), _amax(tiny_net), out / 'qdq.onnx')
    mixed = quantize_qdq(str(tiny_net), _amax(tiny_net), out / 'mixed.onnx',
                         nodes_to_exclude=['conv2'])
    return {
        'uint8 deploy': deploy.build_deployment_graph(demo_model, for_tensorrt=True),
        'float-I/O deploy': deploy.build_deployment_graph(demo_model, for_tensorrt=True,
                                                          float_io=True),
        'network-resolution deploy': deploy.build_deployment_graph(demo_model, output='network',
                                                                   for_tensorrt=True),
        'bare network': onnx.load(str(demo_model)),
        'Q/DQ': onnx.load(str(qdq)),
        'FP16': convert_to_fp16(str(tiny_net)),
        'mixed precision': onnx.load(str(mixed)),
    }


#: What the check reports on each graph as it is: (rule, versions). The uint8 graphs need float
#: I/O below 8.5; stored INT8 weights need float + QuantizeLinear below 10.
AS_IS = {
    'uint8 deploy': ('uint8', NO_UINT8_IO),
    'float-I/O deploy': (None, ()),
    'network-resolution deploy': ('uint8', NO_UINT8_IO),
    'bare network': (None, ()),
    'Q/DQ': ('int8-weights', NO_INT8_WEIGHTS),
    'FP16': (None, ()),
    'mixed precision': ('int8-weights', NO_INT8_WEIGHTS),
}


@pytest.mark.parametrize('name', sorted(AS_IS))
def test_product_graph_as_is(product_graphs, name):
    rule, versions = AS_IS[name]
    findings = trt_rules.errors(trt_rules.check_model(product_graphs[name]))
    assert sorted({f.rule for f in findings}) == ([rule] if rule else []), \
        [f.text() for f in findings]
    assert tuple(v for v in ALL if any(f.version == v for f in findings)) == versions


@pytest.mark.parametrize('version', ALL)
@pytest.mark.parametrize('name', sorted(AS_IS))
def test_product_graph_as_built_passes(product_graphs, name, version):
    """What fxseg build hands to each TensorRT version passes that version's rules."""
    model, note = graph_for_tensorrt(product_graphs[name], version)
    findings = trt_rules.check_model(model, [version])
    errors = trt_rules.errors(findings)
    assert errors == [], [e.text() for e in errors]
    # Strict ONNX shape inference passes on every product graph: the type rules see all types.
    assert not [f for f in findings if f.rule == 'shape-inference'], [f.text() for f in findings]
    assert ('float I/O' in note) == (version in NO_UINT8_IO)


# The graphs as the product built them before the fixes ------------------------------------------
def _old_deploy_head(frames_type):
    """Return the old head: frames -> Shape(frames) for the batch size, as it was taken (B3)."""
    return [helper.make_node('Cast', ['frames'], ['f32'], name='pre/cast', to=TensorProto.FLOAT),
            helper.make_node('Transpose', ['f32'], ['input'], name='pre/transpose',
                             perm=[0, 3, 1, 2]),
            helper.make_node('Shape', ['frames'], ['shape'], name='pre/shape'),
            helper.make_node('Slice', ['shape', 'zero', 'one'], ['batch'], name='pre/batch')]


def _old_graph(float_io=False):
    """Return the old for_tensorrt graph with output='network': ArgMax -> Cast(UINT8) (B4)."""
    label = TensorProto.INT32 if float_io else TensorProto.UINT8
    frame = TensorProto.FLOAT if float_io else TensorProto.UINT8
    nodes = _old_deploy_head(frame) + [
        helper.make_node('ArgMax', ['input'], ['idx'], name='post/argmax', axis=1, keepdims=0),
        helper.make_node('Cast', ['idx'], ['labels'], name='post/cast', to=label)]
    inits = [numpy_helper.from_array(np.array([0], np.int64), 'zero'),
             numpy_helper.from_array(np.array([1], np.int64), 'one')]
    g = helper.make_graph(nodes, 'old', [helper.make_tensor_value_info('frames', frame,
                                                                       ['N', 8, 8, 3])],
                          [helper.make_tensor_value_info('labels', label, ['N', 8, 8]),
                           helper.make_tensor_value_info('batch', TensorProto.INT64, [1])],
                          inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)])


def test_graphs_built_the_old_way_are_reported():
    findings = trt_rules.errors(trt_rules.check_model(_old_graph(), ['8.5', '8.6', '10', '11']))
    by_node = {(f.node, f.rule) for f in findings}
    # B3: Shape reads the UINT8 frames; B4: ArgMax's INT64 cast straight to UINT8.
    assert {('pre/shape', 'uint8-input'), ('post/cast', 'uint8-cast')} <= by_node
    assert {f.version for f in findings if f.node == 'pre/shape'} == {'8.5', '8.6', '10', '11'}
    # The float-I/O form of the same graph has neither problem.
    assert trt_rules.errors(trt_rules.check_model(_old_graph(float_io=True))) == []


def test_qdq_graph_before_the_conversion_is_reported(product_graphs):
    """B8: stored INT8 weights on 8.x; after int8_weights_as_float the same model passes."""
    qdq = product_graphs['Q/DQ']
    before = trt_rules.errors(trt_rules.check_model(qdq, ['8.2']))
    assert before and {f.rule for f in before} == {'int8-weights'}
    converted, count = int8_weights_as_float(qdq)
    assert count == len(before) == 3
    assert trt_rules.errors(trt_rules.check_model(converted, ['8.2'])) == []


def test_int8_weight_conversion_keeps_the_model_s_output(product_graphs, tiny_net):
    """The QuantizeLinear of (w - z) * s gives w back: the converted model computes the same."""
    qdq = product_graphs['Q/DQ']
    converted, _ = int8_weights_as_float(qdq)
    inits = {i.name: i for i in converted.graph.initializer}
    assert not any(inits[n.input[0]].data_type == TensorProto.INT8
                   for n in converted.graph.node
                   if n.op_type == 'DequantizeLinear' and n.input[0] in inits)
    blob = np.random.default_rng(0).standard_normal((1, 3, 360, 640)).astype(np.float32)
    np.testing.assert_array_equal(run(converted, {'input': blob}), run(qdq, {'input': blob}))


# fxseg build's check before a build ---------------------------------------------------------
TX2 = Platform('8.2.1.8', 'NVIDIA Tegra X2', (6, 2), fast_int8=False)
ORIN = Platform('10.3.0.30', 'Orin', (8, 7), dla_cores=2)


def test_prepare_build_stops_on_a_rejected_graph(tiny_net):
    bad = onnx.load(str(tiny_net))
    for node in bad.graph.node:
        for attr in node.attribute:
            if node.name == 'upscore' and attr.name == 'coordinate_transformation_mode':
                attr.s = b'tf_crop_and_resize'
    with pytest.raises(BuildError, match=r'(?s)TensorRT 8\.2\.1\.8 would reject.*fxseg check '
                                         r'bad\.onnx.*upscore \[Resize\] resize-coords'):
        prepare_build(bad, BuildOptions('fp16'), TX2, label='bad.onnx')


def test_prepare_build_hands_over_the_checked_graph(tiny_net, product_graphs):
    model, plan, kind = prepare_build(onnx.load(str(tiny_net)), BuildOptions('fp16'), TX2)
    assert kind == 'fp32' and plan.float_io
    assert model.graph.input[0].type.tensor_type.elem_type == TensorProto.FLOAT
    model, plan, kind = prepare_build(product_graphs['Q/DQ'], BuildOptions('int8'), ORIN)
    assert kind == 'qdq' and not plan.float_io
    assert model.graph.input[0].type.tensor_type.elem_type == TensorProto.UINT8
    model, _, _ = prepare_build(product_graphs['Q/DQ'],
                                BuildOptions('int8'), ORIN._replace(tensorrt_version='8.6.2.3'))
    assert any(i.name.endswith('/float') for i in model.graph.initializer)


# fxseg check ----------------------------------------------------------------------------------
def test_check_cli(demo_model, tmp_path, capsys):
    assert main(['check', str(demo_model)]) == 0
    out = capsys.readouterr().out
    assert all('TensorRT %-4s ok' % v in out for v in ALL)
    assert main(['check', str(demo_model), '--as-is', '--tensorrt', '8.2', '10']) == 0
    deployed = tmp_path / 'deploy_uint8.onnx'
    onnx.save(deploy.build_deployment_graph(demo_model, for_tensorrt=True), str(deployed))
    capsys.readouterr()
    assert main(['check', str(deployed), '--as-is', '--tensorrt', '8.2', '8.5']) == 1
    out = capsys.readouterr().out
    assert 'TensorRT 8.2  FAIL' in out and 'TensorRT 8.5  ok' in out and '--float-io' in out
    assert main(['check', str(tmp_path / 'missing.onnx')]) == 2
    assert 'fxseg check: error: MODEL: ' in capsys.readouterr().err
    empty = tmp_path / 'empty.onnx'
    empty.write_bytes(b'')
    assert main(['check', str(empty)]) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and 'is not an ONNX model' in err and str(empty) in err
    # Releases are versions too: JetPack 5.0.2's 8.4.1 and JetPack 6.1's 10.3.
    assert main(['check', str(demo_model), '--tensorrt', '10.3', '8.4.1']) == 0
    out = capsys.readouterr().out
    assert out.index('TensorRT 8.4.1 ok (TensorRT deployment graph, float I/O)') < \
        out.index('TensorRT 10.3 ok (TensorRT deployment graph, uint8 I/O)')
    assert main(['check', str(demo_model), '--tensorrt', '9']) == 2
    assert 'argument --tensorrt: unknown TensorRT version(s) 9' in capsys.readouterr().err
    assert main(['check', str(demo_model), '--dla', '--tensorrt', '11']) == 1
    assert 'has no DLA' in capsys.readouterr().out
