# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The offline TensorRT check: per rule a tiny graph that breaks it and one that does not.

Each case names the versions that must report the rule; all other versions must not. The
expected versions come from the sources cited next to each rule in fxseg_ros.runtime.trt_rules.
"""


from fxseg_ros.runtime import trt_rules
from fxseg_ros.runtime.trt_support import CHECK_VERSIONS
import numpy as np
from onnx import helper, numpy_helper, TensorProto
import pytest

ALL = tuple(name for name, _ in CHECK_VERSIONS)
EIGHT_OLD = ('8.0', '8.2')
FROM_85 = ('8.5', '8.6', '10', '11')
BEFORE_10 = ('8.0', '8.2', '8.5', '8.6')
F, U8, I64, I8 = TensorProto.FLOAT, TensorProto.UINT8, TensorProto.INT64, TensorProto.INT8
BF16 = TensorProto.BFLOAT16


def vi(name, dtype, shape):
    return helper.make_tensor_value_info(name, dtype, shape)


def const(name, values, dtype=np.int64):
    return numpy_helper.from_array(np.asarray(values, dtype=dtype), name)


def graph(nodes, inputs, outputs, inits=(), opset=13):
    g = helper.make_graph(nodes, 'g', inputs, outputs, list(inits))
    model = helper.make_model(g, opset_imports=[helper.make_opsetid('', opset)])
    model.ir_version = 7
    return model


X = [vi('x', F, [1, 3, 8, 8])]
Y = [vi('y', F, None)]


def relu(opset=13):
    return graph([helper.make_node('Relu', ['x'], ['y'], name='n')], X, Y, opset=opset)


def cast_chain(src, mid, dst):
    """Return the graph x (src) -> Cast(mid) -> Cast(dst) -> y."""
    return graph([helper.make_node('Cast', ['x'], ['m'], name='first', to=mid),
                  helper.make_node('Cast', ['m'], ['y'], name='n', to=dst)],
                 [vi('x', src, [1, 4])], [vi('y', dst, None)])


def cast(src, dst):
    """Return the graph x (src) -> Cast(dst) -> y: one Cast straight from the network input."""
    return graph([helper.make_node('Cast', ['x'], ['y'], name='n', to=dst)],
                 [vi('x', src, [1, 4])], [vi('y', dst, None)])


def uint8_input_into(op):
    if op == 'Cast':
        nodes = [helper.make_node('Cast', ['x'], ['y'], name='n', to=F)]
    else:
        nodes = [helper.make_node('Shape', ['x'], ['s'], name='n'),
                 helper.make_node('Cast', ['x'], ['y'], name='c', to=F)]
    outputs = [vi('y', F, None)] + ([vi('s', I64, None)] if op != 'Cast' else [])
    return graph(nodes, [vi('x', U8, [1, 8, 8, 3])], outputs)


def argmax(dtype, opset=13, last=0):
    attrs = {'select_last_index': 1} if last else {}
    return graph([helper.make_node('ArgMax', ['x'], ['y'], name='n', axis=1, **attrs)],
                 [vi('x', dtype, [1, 5, 4, 4])], [vi('y', I64, None)], opset=opset)


def resize(dtype=F, mode='linear', coords='half_pixel', scales=(1, 1, 2, 2), nearest=None,
           scales_input=False, **extra):
    attrs = dict(mode=mode, coordinate_transformation_mode=coords, **extra)
    if nearest:
        attrs['nearest_mode'] = nearest
    inits = [const('roi', [], np.float32)]
    inputs = [vi('x', dtype, [1, 3, 4, 4])]
    if scales_input:
        inputs.append(vi('scales', F, [4]))
    else:
        inits.append(const('scales', scales, np.float32))
    return graph([helper.make_node('Resize', ['x', 'roi', 'scales'], ['y'], name='n', **attrs)],
                 inputs, [vi('y', dtype, None)], inits)


def dequant(weights_int8=True, zero_point=0, zp_dtype=np.int8, scale=0.1, with_zp=True,
            per_channel_on_activation=False, axis=0, channels=4):
    scales = np.full(channels, scale, np.float32) if channels > 1 else np.float32(scale)
    inits = [numpy_helper.from_array(scales, 's')]
    inputs = [] if (weights_int8 and not per_channel_on_activation) else [vi('w', I8, [4, 3])]
    if weights_int8 and not per_channel_on_activation:
        inits.append(numpy_helper.from_array(np.ones((4, 3), np.int8), 'w'))
    names = ['w', 's']
    if with_zp:
        inits.append(numpy_helper.from_array(np.full(scales.shape, zero_point, zp_dtype), 'z'))
        names.append('z')
    node = helper.make_node('DequantizeLinear', names, ['y'], name='n', axis=axis)
    return graph([node], inputs, [vi('y', F, None)], inits)


def float_weights_qdq(channels=4, axis=0):
    inits = [numpy_helper.from_array(np.ones((4, 3), np.float32), 'wf'),
             numpy_helper.from_array(np.full(channels, 0.1, np.float32), 's'),
             numpy_helper.from_array(np.zeros(channels, np.int8), 'z')]
    nodes = [helper.make_node('QuantizeLinear', ['wf', 's', 'z'], ['q'], name='q', axis=axis),
             helper.make_node('DequantizeLinear', ['q', 's', 'z'], ['y'], name='n', axis=axis)]
    return graph(nodes, [], [vi('y', F, None)], inits)


def slice_axes(constant):
    inits = [const('b', [0]), const('e', [2])]
    inputs = X[:]
    if constant:
        inits.append(const('a', [2]))
    else:
        inputs.append(vi('a', I64, [1]))
    return graph([helper.make_node('Slice', ['x', 'b', 'e', 'a'], ['y'], name='n')], inputs, Y,
                 inits)


def pad(mode, pads=(0, 0, 1, 1, 0, 0, 1, 1), value=None, pads_input=False):
    """Pad of x (1, 3, 8, 8); value: a constant_value initializer; pads_input: pads as an input."""
    inputs, inits = X[:], []
    if pads_input:
        inputs.append(vi('p', I64, [8]))
    else:
        inits.append(const('p', list(pads)))
    names = ['x', 'p']
    if value is not None:
        inits.append(const('v', value, np.float32))
        names.append('v')
    return graph([helper.make_node('Pad', names, ['y'], name='n', mode=mode)], inputs, Y, inits)


def maxpool(outputs):
    """Return a MaxPool with these outputs (['y', 'i']: Indices; ['y', '']: empty 2nd output)."""
    out_vi = Y + [vi(name, I64, None) for name in outputs[1:] if name]
    return graph([helper.make_node('MaxPool', ['x'], outputs, name='n', kernel_shape=[2, 2])],
                 X, out_vi)


def op(name, **attrs):
    return graph([helper.make_node(name, ['x'], ['y'], name='n', **attrs)], X, Y)


CASES = [
    # rule, bad graph, versions reporting it, good graph
    ('opset', relu(opset=14), EIGHT_OLD, relu(opset=13)),
    ('opset', relu(opset=21), BEFORE_10 + ('10',), relu(opset=13)),
    ('operator', graph([helper.make_node('Det', ['x'], ['y'], name='n')], X, Y), ALL,
     op('Relu')),
    ('operator', op('Einsum', equation='ij->ji'), ('8.0',), op('Relu')),
    ('dtype', cast_chain(F, F, TensorProto.UINT16), ALL, cast_chain(F, F, TensorProto.INT32)),
    ('uint8', uint8_input_into('Cast'), EIGHT_OLD, cast_chain(F, F, F)),
    ('uint8-input', uint8_input_into('Shape'), FROM_85, uint8_input_into('Cast')),
    ('uint8-cast', cast_chain(F, TensorProto.INT32, U8), FROM_85, cast_chain(F, F, U8)),
    ('uint8-cast', cast(U8, TensorProto.INT32), FROM_85, cast(U8, F)),
    ('uint8-intermediate', cast_chain(F, U8, F), FROM_85, cast_chain(F, F, F)),
    ('uint8-output', graph([helper.make_node('Identity', ['x'], ['y'], name='n')],
                           [vi('x', U8, [2])], [vi('y', U8, [2])]), FROM_85,
     cast_chain(F, F, U8)),
    ('argmax-type', argmax(TensorProto.INT32), ('8.0', '8.2', '8.5'), argmax(F)),
    ('argmax-type', argmax(TensorProto.INT64), BEFORE_10, argmax(TensorProto.FLOAT16)),
    ('argmax-type', argmax(BF16), BEFORE_10, argmax(TensorProto.FLOAT16)),
    ('argmax-type', argmax(U8), ALL, argmax(F)),
    ('argmax-last', argmax(F, opset=11, last=1), ALL, argmax(F, opset=12, last=1)),
    ('resize-type', resize(dtype=TensorProto.INT32, mode='nearest'), ALL, resize()),
    ('resize-type', resize(dtype=BF16), BEFORE_10, resize(dtype=TensorProto.FLOAT16)),
    ('resize-mode', resize(mode='cubic'), EIGHT_OLD, resize(mode='linear')),
    ('resize-coords', resize(coords='tf_crop_and_resize'), ALL, resize(coords='asymmetric')),
    ('resize-nearest', resize(mode='nearest', nearest='banana'), ALL,
     resize(mode='nearest', nearest='floor')),
    ('resize-nearest', resize(mode='nearest', coords='tf_half_pixel_for_nn', nearest='floor'),
     BEFORE_10, resize(mode='nearest', coords='tf_half_pixel_for_nn',
                       nearest='round_prefer_floor')),
    ('resize-policy', resize(keep_aspect_ratio_policy='not_larger'), ALL, resize()),
    ('resize-scales', resize(scales_input=True), EIGHT_OLD, resize()),
    ('resize-axes', resize(scales=(2, 1, 1, 1)), ALL, resize(scales=(1, 2, 2, 1))),
    ('int8-weights', dequant(), BEFORE_10, float_weights_qdq()),
    ('qdq-zero-point', dequant(with_zp=False), BEFORE_10, dequant()),
    ('qdq-zero-point', dequant(zero_point=3), ALL, dequant(zero_point=0)),
    ('qdq-uint8', dequant(zp_dtype=np.uint8, weights_int8=False, channels=1), ALL,
     dequant(weights_int8=False, channels=1)),
    ('qdq-scale', dequant(scale=-0.1), ALL, dequant(scale=0.1)),
    ('qdq-per-channel', dequant(per_channel_on_activation=True), ALL,
     dequant(per_channel_on_activation=True, channels=1)),
    ('qdq-axis', float_weights_qdq(channels=4, axis=1), ALL, float_weights_qdq(axis=0)),
    ('constant-axes', slice_axes(constant=False), ALL, slice_axes(constant=True)),
    ('pad-mode', pad('edge'), ('8.0',), pad('constant')),
    ('pad-mode', pad('wrap'), BEFORE_10, pad('constant')),
    ('pad-mode', pad('constant', value=1.0), ('8.0',), pad('constant', value=0.0)),
    ('pad-dims', pad('constant', pads=[0, 1, 1, 1, 0, 1, 1, 1]), ('8.0',),
     pad('constant', pads=[0, 0, 1, 1, 0, 0, 1, 1])),
    ('pad-constant', pad('constant', pads_input=True), ('8.0',), pad('constant')),
    ('maxpool-indices', maxpool(['y', 'i']), ALL, maxpool(['y'])),
    ('maxpool-indices', maxpool(['y', '']), ALL, maxpool(['y'])),
]


def _reported(findings, rule):
    return tuple(v for v in ALL if any(f.rule == rule and f.version == v for f in findings))


@pytest.mark.parametrize('rule, bad, versions, good', CASES,
                         ids=['%s-%d' % (c[0], i) for i, c in enumerate(CASES)])
def test_rule_reports_exactly_the_versions_it_applies_to(rule, bad, versions, good):
    findings = trt_rules.check_model(bad)
    assert _reported(findings, rule) == versions, [f.text() for f in findings]
    names = {n.name for n in bad.graph.node} | {i.name for i in bad.graph.input} | {'(model)'}
    for finding in findings:
        if finding.rule == rule:
            assert finding.node in names and finding.severity == 'error'
            assert len(finding.message) > 20
    assert _reported(trt_rules.check_model(good), rule) == ()


def test_all_zero_pads_pass_on_8_0_in_any_mode():
    """8.0-GA's Pad importer returns all-zero pads as Identity before it checks the mode."""
    assert _reported(trt_rules.check_model(pad('edge')), 'pad-mode') == ('8.0',)
    assert _reported(trt_rules.check_model(pad('edge', pads=[0] * 8)), 'pad-mode') == ()


def incompatible_add():
    """Add of (1, 3) and (1, 4): ONNX shape inference fails on it."""
    return graph([helper.make_node('Add', ['a', 'b'], ['s'], name='add'),
                  helper.make_node('ArgMax', ['s'], ['y'], name='n', axis=1)],
                 [vi('a', F, [1, 3]), vi('b', F, [1, 4])], [vi('y', I64, None)])


def test_failed_shape_inference_is_a_warning_per_version():
    findings = trt_rules.check_model(incompatible_add())
    hits = [f for f in findings if f.rule == 'shape-inference']
    assert [f.version for f in hits] == list(ALL)
    assert all(f.severity == 'warning' for f in hits)
    assert 'Incompatible dimensions' in hits[0].message and 'add' in hits[0].message
    assert 'may miss nodes' in hits[0].message and '\n' not in hits[0].message
    assert not [f for f in trt_rules.check_model(relu()) if f.rule == 'shape-inference']


def test_newer_release_gets_opset_and_operator_limits_as_warnings():
    """
    Opset and operator limits are warnings for 10.13, newer than the 10.1-GA list of '10'.

    10.13 may import opset 21 and operators the 10.1 list lacks, so those are warnings for it;
    '10' and 10.1 stay strict.
    """
    det = graph([helper.make_node('Det', ['x'], ['y'], name='n')], X, Y, opset=21)
    findings = trt_rules.check_model(det, ['10', '10.1', '10.13', '8.4.1'])
    got = {(f.version, f.rule): f.severity for f in findings if f.rule in ('opset', 'operator')}
    assert got == {('10', 'opset'): 'error', ('10', 'operator'): 'error',
                   ('10.1', 'opset'): 'error', ('10.1', 'operator'): 'error',
                   ('10.13', 'opset'): 'warning', ('10.13', 'operator'): 'warning',
                   ('8.4.1', 'opset'): 'warning', ('8.4.1', 'operator'): 'warning'}
    warning = next(f for f in findings if f.version == '10.13' and f.rule == 'opset')
    assert 'TensorRT 10.13.0 is newer' in warning.message and '10.1' in warning.message
    # The type rules stay errors for every release: INT64 ArgMax input on 8.6.2.
    assert [f.severity for f in trt_rules.check_model(argmax(I64), ['8.6.2'])
            if f.rule == 'argmax-type'] == ['error']


def test_build_check_stops_on_errors_only():
    from fxseg_ros.runtime.trt_graph import check_before_build

    opset21 = relu(opset=21)
    assert len(check_before_build(opset21, '10')) == 1
    assert check_before_build(opset21, '10.13.0.35') == []
    assert len(check_before_build(opset21, '10.1.0')) == 1


def test_uint8_cast_from_float_and_to_float_are_accepted():
    """The allowed UINT8 conversions: UINT8 input -> FLOAT, FLOAT -> UINT8 output."""
    model = graph([helper.make_node('Cast', ['x'], ['f'], name='in', to=F),
                   helper.make_node('Relu', ['f'], ['r'], name='relu'),
                   helper.make_node('Cast', ['r'], ['y'], name='out', to=U8)],
                  [vi('x', U8, [1, 8])], [vi('y', U8, None)])
    assert trt_rules.errors(trt_rules.check_model(model, FROM_85)) == []
    assert _reported(trt_rules.check_model(model), 'uint8') == EIGHT_OLD


def test_concrete_versions_use_their_line_s_rules():
    """8.4.1 (JetPack 5.0.2) has no UINT8 I/O yet, 8.5.2 (JetPack 5.1) has; 10.3 takes INT8."""
    u8 = uint8_input_into('Cast')
    assert _reported_v(trt_rules.check_model(u8, ['8.4.1.5', '8.5.2.2']), 'uint8') == \
        ['8.4.1.5']
    assert _reported_v(trt_rules.check_model(dequant(), ['8.6.2.3', '10.3.0.30']),
                       'int8-weights') == ['8.6.2.3']


def _reported_v(findings, rule):
    return sorted({f.version for f in findings if f.rule == rule})


def test_check_versions_validates_names():
    assert trt_rules.check_versions(None) == list(ALL)
    assert trt_rules.check_versions(['10', '8.2']) == ['8.2', '10']
    # Releases (JetPack 5.0.2: 8.4.1, JetPack 6.1: 10.3) in version order, with the names.
    assert trt_rules.check_versions(['10.3', '8.4', '8.2', '8.4']) == ['8.2', '8.4', '10.3']
    assert trt_rules.check_version('8.2.1.8') == '8.2.1.8'
    with pytest.raises(ValueError, match=r'unknown TensorRT version\(s\) 9.1; choose from 8.0'):
        trt_rules.check_versions(['9.1'])
    for bad in ('7.2', '12.0', '9', 'ten', '10.x', '8.2.1.8.1'):
        with pytest.raises(ValueError, match='8.0 or newer, of the lines 8.x, 10.x, 11.x'):
            trt_rules.check_version(bad)


# DLA -----------------------------------------------------------------------------------------
def conv(kernel=3, stride=1):
    w = numpy_helper.from_array(np.ones((4, 3, kernel, kernel), np.float32), 'w')
    return graph([helper.make_node('Conv', ['x', 'w'], ['y'], name='n',
                                   kernel_shape=[kernel, kernel], strides=[stride, stride])],
                 [vi('x', F, [1, 3, 40, 40])], Y, [w])


def deconv(stride=(2, 2), kernel=(2, 2)):
    w = numpy_helper.from_array(np.ones((3, 4) + tuple(kernel), np.float32), 'w')
    return graph([helper.make_node('ConvTranspose', ['x', 'w'], ['y'], name='n',
                                   kernel_shape=list(kernel), strides=list(stride))],
                 [vi('x', F, [1, 3, 8, 8])], Y, [w])


def conv_pads(pad):
    w = numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), 'w')
    return graph([helper.make_node('Conv', ['x', 'w'], ['y'], name='n', kernel_shape=[3, 3],
                                   pads=[pad] * 4)], [vi('x', F, [1, 3, 40, 40])], Y, [w])


def pool(op_type='MaxPool', window=2, stride=1):
    return graph([helper.make_node(op_type, ['x'], ['y'], name='n', kernel_shape=[window] * 2,
                                   strides=[stride] * 2)], [vi('x', F, [1, 3, 40, 40])], Y)


def lrn(size):
    return graph([helper.make_node('LRN', ['x'], ['y'], name='n', size=size)], X, Y)


DLA_CASES = [
    ('dla-layer', op('Cos'), conv()),
    ('dla-layer', conv(kernel=33), conv(kernel=32)),
    ('dla-layer', conv(stride=9), conv(stride=8)),
    ('dla-layer', lrn(4), lrn(5)),
    ('dla-layer', conv_pads(3), conv_pads(1)),
    ('dla-layer', deconv(stride=(33, 33)), deconv(stride=(32, 32))),
    ('dla-layer', deconv(stride=(64, 64)), deconv(stride=(64, 1))),
    ('dla-layer', deconv(kernel=(33, 1)), deconv(kernel=(96, 1))),
    ('dla-layer', pool(window=9), pool(window=8)),
    ('dla-layer', pool('AveragePool', stride=17), pool('AveragePool', stride=16)),
    ('dla-layer', resize(mode='nearest', coords='half_pixel', nearest='floor'),
     resize(mode='nearest', coords='half_pixel', nearest='round_prefer_ceil')),
    ('dla-layer', resize(mode='nearest', coords='asymmetric', nearest='round_prefer_floor'),
     resize(mode='nearest', coords='asymmetric', nearest='floor')),
    ('dla-layer', resize(mode='linear', coords='align_corners'),
     resize(mode='linear', coords='pytorch_half_pixel')),
    ('dla-layer', resize(mode='linear', coords='asymmetric'),
     resize(mode='linear', coords='half_pixel')),
    ('dla-layer', resize(mode='nearest', scales=(1, 1, 33, 33)),
     resize(mode='nearest', scales=(1, 1, 32, 32))),
    ('dla-dims', graph([helper.make_node('Tile', ['x', 'r'], ['y'], name='n')],
                       [vi('x', F, [1, 1, 1, 4096])], Y, [const('r', [1, 1, 1, 3])]),
     graph([helper.make_node('Tile', ['x', 'r'], ['y'], name='n')],
           [vi('x', F, [1, 1, 1, 4096])], Y, [const('r', [1, 1, 1, 2])])),
]


@pytest.mark.parametrize('rule, bad, good', DLA_CASES,
                         ids=['%s-%d' % (c[0], i) for i, c in enumerate(DLA_CASES)])
def test_dla_rules(rule, bad, good):
    findings = trt_rules.check_model(bad, ['10'], dla=True)
    hits = [f for f in findings if f.rule == rule and f.node == 'n']
    assert hits and all(f.severity == 'warning' and 'GPU' in f.message for f in hits)
    assert not [f for f in trt_rules.check_model(good, ['10'], dla=True)
                if f.rule == rule and f.node == 'n']
    assert not [f for f in trt_rules.check_model(bad, ['10']) if f.rule.startswith('dla')]


def test_dla_skips_nodes_that_only_compute_shapes():
    """Shape -> Slice -> Concat make a Resize's sizes: shape tensors, not DLA layers."""
    nodes = [helper.make_node('Shape', ['x'], ['s'], name='shape'),
             helper.make_node('Slice', ['s', 'b', 'e'], ['nc'], name='slice'),
             helper.make_node('Concat', ['nc', 'hw'], ['sizes'], name='sizes', axis=0),
             helper.make_node('Resize', ['x', '', '', 'sizes'], ['y'], name='n', mode='nearest')]
    model = graph(nodes, [vi('x', F, [1, 3, 4, 4])], Y,
                  [const('b', [0]), const('e', [2]), const('hw', [8, 8])])
    warned = {f.node for f in trt_rules.check_model(model, ['10'], dla=True)}
    assert warned == {'n'}
    # The same Concat on data (the x tensor itself) is a layer: reported.
    data = graph([helper.make_node('Concat', ['x', 'x'], ['y'], name='n', axis=0)],
                 [vi('x', F, [1, 3, 4, 4])], Y)
    assert {f.node for f in trt_rules.check_model(data, ['10'], dla=True)} == {'n'}


def test_dla_versions():
    """Releases 11.0 - 11.4.0 of TensorRT have no DLA; 10.x and 11.4.1 have."""
    findings = trt_rules.check_model(conv(), ['10', '11', '11.3.0.1', '11.4.1.2'], dla=True)
    assert _reported_v(findings, 'dla-version') == ['11', '11.3.0.1']
    message = next(f.message for f in findings if f.rule == 'dla-version')
    assert '10.7 was the last' in message and '11.4.1' in message
