# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The offline TensorRT check: which nodes of an ONNX graph a TensorRT version's ONNX parser or
builder rejects, and what to change, without TensorRT.

`check_model(model, versions, dla)` shape-infers the graph and runs every rule below for each
version. A rule is a fact with its source next to it: onnx/onnx-tensorrt `docs/operators.md`,
`builtin_op_importers.cpp`, `ModelImporter.cpp` on the parser's release branch (X.Y-GA), and
NVIDIA/TensorRT `include/` on `release/X.Y`. 'error' findings stop a build; 'warning' findings
(DLA fallbacks) are things TensorRT works around at a cost.

Pure onnx + numpy, Python 3.6: `fxseg build` and the node run it before every engine build.
"""


from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Set

import numpy as np

from fxseg_ros.runtime.trt_ops import SUPPORTED_OPS
from fxseg_ros.runtime.trt_support import (
    at_least, CHECK_VERSIONS, dla_unavailable, has_uint8_io, INT8_WEIGHTS, normalized,
)


class Finding(NamedTuple):
    """One rejected (error) or degraded (warning) node for one TensorRT version."""

    version: str
    severity: str
    node: str
    op: str
    rule: str
    message: str

    def text(self) -> str:
        return 'TensorRT %s: %s %s [%s] %s: %s' % (self.version, self.severity, self.node,
                                                   self.op, self.rule, self.message)


def check_versions(names: Optional[Sequence[str]] = None) -> List[str]:
    """Validate version names ('8.0' ... '11'); None: all. Raises ValueError naming the choices."""
    known = [name for name, _ in CHECK_VERSIONS]
    if not names:
        return known
    bad = [n for n in names if n not in known]
    if bad:
        raise ValueError('unknown TensorRT version(s) %s; choose from %s'
                         % (', '.join(bad), ', '.join(known)))
    return [n for n in known if n in names]


def _family(version) -> str:
    """The CHECK_VERSIONS name whose rules apply to a concrete version (8.4.1 -> '8.2')."""
    best = CHECK_VERSIONS[0][0]
    for name, gate in CHECK_VERSIONS:
        if at_least(version, gate):
            best = name
    return best


# -------------------------------------------------------------------------------------------
# The graph, shape-inferred, with types, producers, consumers and constants.

class _Graph:
    """A shape-inferred model with its tensor types, producers, consumers and constants."""

    def __init__(self, model):
        import onnx
        from onnx import numpy_helper

        try:
            model = onnx.shape_inference.infer_shapes(model)
        except Exception:  # onnx raises InferenceError and others; check what we can
            pass
        self.model = model
        graph = model.graph
        self.opset = 0
        for entry in model.opset_import:
            if entry.domain in ('', 'ai.onnx'):
                self.opset = entry.version
        self.consts = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
        self.init_types = {i.name: i.data_type for i in graph.initializer}
        self.types: Dict[str, int] = dict(self.init_types)
        for vi in list(graph.input) + list(graph.value_info) + list(graph.output):
            if vi.type.HasField('tensor_type'):
                self.types[vi.name] = vi.type.tensor_type.elem_type
        self.producer = {}
        self.consumers: Dict[str, List] = {}
        for node in graph.node:
            if node.op_type == 'Constant':
                for attr in node.attribute:
                    if attr.name == 'value':
                        self.consts[node.output[0]] = numpy_helper.to_array(attr.t)
                        self.types.setdefault(node.output[0], attr.t.data_type)
            for out in node.output:
                self.producer[out] = node
            for i, name in enumerate(node.input):
                if name:
                    self.consumers.setdefault(name, []).append((node, i))
        self.inputs = [vi.name for vi in graph.input if vi.name not in self.init_types]
        self.outputs = [vi.name for vi in graph.output]
        self.dims = {}
        for vi in list(graph.input) + list(graph.value_info) + list(graph.output):
            shape = vi.type.tensor_type.shape
            self.dims[vi.name] = [d.dim_value if d.HasField('dim_value') else None
                                  for d in shape.dim]

    def type_name(self, tensor: str) -> Optional[str]:
        from onnx import TensorProto

        t = self.types.get(tensor)
        return TensorProto.DataType.Name(t) if t else None

    @staticmethod
    def attrs(node) -> dict:
        from onnx import helper

        out = {}
        for attr in node.attribute:
            value = helper.get_attribute_value(attr)
            out[attr.name] = value.decode() if isinstance(value, bytes) else value
        return out


def _label(node) -> str:
    return node.name or (node.output[0] if node.output else node.op_type)


# -------------------------------------------------------------------------------------------
# Rules. Each yields (severity, node name, op, rule id, message).

#: Highest default-domain opset per parser. onnx-tensorrt docs/operators.md: 8.0-GA and 8.2-GA
#: "up to Opset 13", 8.5-GA and 8.6-GA "up to Opset 17", 10.1-GA "opset 9 to opset 20";
#: TensorRT 11.x: opset 9 to 24 up to 11.4, 25 from 11.5 (ONNX Opset Guide; 11.5 GA notes).
OPSET_RANGE = {'8.0': (1, 13), '8.2': (1, 13), '8.5': (1, 17), '8.6': (1, 17),
               '10': (9, 20), '11': (9, 24)}


def rule_opset(g, version, family):
    low, high = OPSET_RANGE[family]
    if not low <= g.opset <= high:
        yield ('error', '(model)', 'opset', 'opset',
               'opset %d is outside the opsets %s..%d this parser imports; export with '
               '--opset %d (onnx.version_converter can convert)' % (g.opset, low, high,
                                                                    min(max(g.opset, low), 13)))


def rule_supported_op(g, version, family):
    # docs/operators.md per branch (fxseg_ros.runtime.trt_ops).
    for node in g.model.graph.node:
        if node.domain in ('', 'ai.onnx') and node.op_type not in SUPPORTED_OPS[family]:
            yield ('error', _label(node), node.op_type, 'operator',
                   '%s is not an operator the TensorRT %s ONNX parser imports; replace it with '
                   'supported ops or a plugin' % (node.op_type, family))


#: Types no TensorRT has as tensors: onnx-tensorrt convertDtype (8.2-GA onnx2trt_utils.cpp,
#: 10.1-GA importerUtils.cpp) maps none of them; BFLOAT16 and the FP8 types from 10.x only.
_NEVER = {'UINT16', 'UINT32', 'UINT64', 'INT16', 'STRING', 'COMPLEX64', 'COMPLEX128'}
_FROM_10 = {'BFLOAT16', 'FLOAT8E4M3FN', 'INT4', 'UINT4'}
_FLOATS = ('FLOAT', 'FLOAT16')


def rule_tensor_types(g, version, family):
    for node in g.model.graph.node:
        for name in node.output:
            t = g.type_name(name)
            if t in _NEVER or (t in _FROM_10 and family.startswith('8')):
                yield ('error', _label(node), node.op_type, 'dtype',
                       'produces %s tensor %r, a type TensorRT %s lacks; cast to FLOAT, INT32 or '
                       'BOOL' % (t, name, family))


def rule_uint8(g, version, family):
    """
    UINT8 tensors.

    < 8.5: no UINT8 tensors at all (no kUINT8 in release/8.4 include/NvInferRuntimeCommon.h;
    onnx-tensorrt 8.2-GA convertDtype has no UINT8); UINT8 initializers are widened to INT32
    by convertOnnxWeights, so only graph inputs, outputs and node outputs count.
    >= 8.5: a UINT8 network input may only feed Casts to FLOAT/FLOAT16 ("All UINT8 inputs must
    directly feed into a cast layer", NVIDIA/TensorRT#3985; release/8.5 NvInferRuntimeCommon.h
    kUINT8), a UINT8 network output must come from a Cast, and no intermediate tensor may be
    UINT8 (8.6-GA ModelImporter.cpp "TensorRT does not support UINT8 types for intermediate
    tensors!"; 10.x docs/operators.md "UINT8 is only supported as network input or output").
    """
    is_u8 = [n for n in set(g.inputs) | set(g.outputs) | set(g.producer)
             if g.type_name(n) == 'UINT8' and n not in g.init_types]
    if not has_uint8_io(version):
        for name in sorted(is_u8):
            where = 'network input' if name in g.inputs else (
                'network output' if name in g.outputs else 'tensor')
            node = g.producer.get(name)
            yield ('error', _label(node) if node is not None else name,
                   node.op_type if node is not None else 'input', 'uint8',
                   'UINT8 %s %r: TensorRT %s has no UINT8 tensors (UINT8 I/O needs 8.5); build '
                   'with float I/O (fxseg build --float-io yes; the runner converts on the GPU)'
                   % (where, name, family))
        return
    for name in sorted(is_u8):
        if name in g.inputs:
            for node, _ in g.consumers.get(name, []):
                if node.op_type != 'Cast' or g.attrs(node).get('to') not in (1, 10):
                    yield ('error', _label(node), node.op_type, 'uint8-input',
                           'reads the UINT8 network input %r directly; TensorRT lets a UINT8 '
                           'input feed only a Cast to FLOAT/FLOAT16: cast first and give %s the '
                           'cast tensor' % (name, node.op_type))
        elif name in g.outputs:
            node = g.producer[name]
            if node.op_type != 'Cast':
                yield ('error', _label(node), node.op_type, 'uint8-output',
                       'writes the UINT8 network output %r; only a Cast from FLOAT/FLOAT16 may '
                       'produce it: compute in float and cast last' % name)
        else:
            node = g.producer[name]
            yield ('error', _label(node), node.op_type, 'uint8-intermediate',
                   'produces the intermediate UINT8 tensor %r; TensorRT allows UINT8 only at the '
                   'network boundary: keep it in FLOAT (or INT32) inside the graph' % name)


def rule_cast(g, version, family):
    """
    Casts touching UINT8 go to or from FLOAT/FLOAT16 only: 8.5-GA builtin_op_importers.cpp Cast
    asserts it ("UINT8 type casting is only supported from FP types"), and release/8.5 to 11.0
    include/NvInferRuntime(Common|Base).h: "kUINT8 conversions are only supported for {kFLOAT,
    kHALF}" (so ArgMax's INT64/INT32 indices must become FLOAT before UINT8).
    """
    if not has_uint8_io(version):
        return
    for node in g.model.graph.node:
        if node.op_type != 'Cast':
            continue
        src = g.type_name(node.input[0])
        dst = g.type_name(node.output[0])
        if (dst == 'UINT8' and src not in _FLOATS) or (src == 'UINT8' and dst not in _FLOATS):
            yield ('error', _label(node), 'Cast', 'uint8-cast',
                   'casts %s to %s; TensorRT converts UINT8 only to or from FLOAT/FLOAT16: cast '
                   'to FLOAT first, then to UINT8' % (src, dst))


def rule_argmax(g, version, family):
    # docs/operators.md ArgMax types: FP32, FP16 (8.0-GA..8.5-GA), INT32 added in 8.6-GA;
    # select_last_index needs opset >= 12 (8.2-GA onnx2trt_utils.cpp argMinMaxHelper).
    allowed = ('FLOAT', 'FLOAT16') + (() if family in ('8.0', '8.2', '8.5') else ('INT32',))
    for node in g.model.graph.node:
        if node.op_type not in ('ArgMax', 'ArgMin'):
            continue
        t = g.type_name(node.input[0])
        if t is not None and t not in allowed:
            yield ('error', _label(node), node.op_type, 'argmax-type',
                   'takes %s; TensorRT %s %s takes %s: cast the scores to FLOAT'
                   % (t, family, node.op_type, '/'.join(allowed)))
        if g.attrs(node).get('select_last_index') and g.opset < 12:
            yield ('error', _label(node), node.op_type, 'argmax-last',
                   'select_last_index needs opset >= 12 in the TensorRT parser')


#: docs/operators.md Resize restrictions (8.0-GA .. 10.1-GA): these transformation and nearest
#: modes; FP32/FP16 inputs; no antialias, aspect ratio policy 'stretch' (10.1-GA).
_RESIZE_COORDS = ('half_pixel', 'pytorch_half_pixel', 'tf_half_pixel_for_nn', 'asymmetric',
                  'align_corners')
_NEAREST_MODES = ('floor', 'ceil', 'round_prefer_floor', 'round_prefer_ceil')


def rule_resize(g, version, family):
    old = family in ('8.0', '8.2')
    for node in g.model.graph.node:
        if node.op_type not in ('Resize', 'Upsample'):
            continue
        a = g.attrs(node)
        label = _label(node)
        mode = a.get('mode', 'nearest')
        coord = a.get('coordinate_transformation_mode', 'half_pixel')
        t = g.type_name(node.input[0])

        def err(rule, text):
            return ('error', label, node.op_type, rule, text)

        if t is not None and t not in _FLOATS:
            yield err('resize-type', 'resizes a %s tensor; TensorRT Resize takes FLOAT/FLOAT16 '
                                     'only: cast to FLOAT around it' % t)
        if mode == 'cubic' and old:
            # 8.0-GA / 8.2-GA Resize importer: "does not support cubic interpolation!"
            yield err('resize-mode', "mode 'cubic' needs TensorRT 8.5; use 'linear'")
        elif mode not in ('nearest', 'linear', 'cubic'):
            yield err('resize-mode', 'mode %r is not a TensorRT resize mode' % mode)
        if coord not in _RESIZE_COORDS:
            yield err('resize-coords', 'coordinate_transformation_mode %r is not supported; use '
                                       'one of %s' % (coord, ', '.join(_RESIZE_COORDS)))
        if mode == 'nearest' and a.get('nearest_mode', 'round_prefer_floor') not in \
                _NEAREST_MODES:
            yield err('resize-nearest', 'nearest_mode %r is not supported' % a['nearest_mode'])
        if a.get('antialias'):
            yield err('resize-antialias', 'antialias is not supported; resize without it')
        if a.get('keep_aspect_ratio_policy', 'stretch') != 'stretch':
            yield err('resize-policy', "only keep_aspect_ratio_policy 'stretch' is supported")
        scales = node.input[2] if len(node.input) > 2 else ''
        sizes = node.input[3] if len(node.input) > 3 else ''
        if scales and not sizes:
            values = g.consts.get(scales)
            if values is None and old:
                # 8.0-GA / 8.2-GA: "Resize scales must be an initializer!"
                yield err('resize-scales', 'scales %r must be an initializer' % scales)
            elif values is not None and mode == 'linear' and values.size > 3 and \
                    np.any(values[:-3] != 1):
                # canUseLinearResize (8.2-GA onnx2trt_utils.cpp), canUseNDResize(.., 3) (10.1-GA)
                yield err('resize-axes', 'linear resize scales %s change a dimension before the '
                                         'innermost three' % values.tolist())


def rule_qdq(g, version, family):
    """
    Q/DQ as TensorRT's explicit quantization takes it.

    docs/operators.md (8.0-GA .. 10.1-GA): zero point must be 0. 8.0-GA .. 8.5-GA
    QuantDequantLinearHelper: "requires 3 inputs" (8.6-GA: 3 for INT8); scales positive; per-axis
    scales only on weights ("Activations-quantization does not support per-axis quantization"),
    one per output channel. INT8 weight initializers: see trt_support.INT8_WEIGHTS.
    UINT8 zero points: notInvalidType(.., {"UINT8"}) in 8.6-GA / 10.1-GA.
    """
    before_10 = not at_least(version, INT8_WEIGHTS)
    for node in g.model.graph.node:
        if node.op_type not in ('QuantizeLinear', 'DequantizeLinear'):
            continue
        label = _label(node)

        def err(rule, text):
            return ('error', label, node.op_type, rule, text)

        data, scale = node.input[0], node.input[1]
        zp = node.input[2] if len(node.input) > 2 else ''
        if node.op_type == 'DequantizeLinear' and before_10 and \
                g.init_types.get(data) == 3:  # TensorProto.INT8
            yield err('int8-weights', 'dequantizes the INT8 initializer %r; TensorRT %s rejects '
                                      'INT8 weights ("invalid weights type of Int8"): store float '
                                      'weights with a QuantizeLinear -> DequantizeLinear pair '
                                      '(fxseg build converts them for TensorRT 8.x)'
                      % (data, family))
        if not zp:
            if family.startswith('8'):
                yield err('qdq-zero-point', 'has no zero point; TensorRT %s needs an explicit '
                                            'INT8 zero point of 0' % family)
        else:
            zp_value = g.consts.get(zp)
            if g.type_name(zp) == 'UINT8':
                yield err('qdq-uint8', 'uses a UINT8 zero point (asymmetric uint8); TensorRT '
                                       'quantizes to INT8 only: quantize with --activations s8')
            if zp_value is not None and np.any(zp_value != 0):
                yield err('qdq-zero-point', 'zero point is not 0; TensorRT quantizes '
                                            'symmetrically')
        s = g.consts.get(scale)
        if s is None:
            continue
        if np.any(s <= 0):
            yield err('qdq-scale', 'has a non-positive scale')
        if s.size > 1:
            source = g.producer.get(data)
            is_weight = data in g.consts or (source is not None and source.op_type ==
                                             'QuantizeLinear' and source.input[0] in g.consts)
            if not is_weight:
                yield err('qdq-per-channel', 'has %d scales on an activation; TensorRT takes '
                                             'per-channel scales on weights only' % s.size)
            axis = g.attrs(node).get('axis', 1)
            shape = g.consts[data].shape if data in g.consts else g.dims.get(data)
            if shape and axis < len(shape) and shape[axis] not in (None, s.size):
                yield err('qdq-axis', 'has %d scales for axis %d of size %d'
                          % (s.size, axis, shape[axis]))


def rule_constant_inputs(g, version, family):
    # docs/operators.md restrictions: Slice / Squeeze `axes` must be an initializer, Unsqueeze
    # `axes` a constant tensor (8.0-GA .. 10.1-GA).
    for node in g.model.graph.node:
        index = {'Slice': 3, 'Squeeze': 1, 'Unsqueeze': 1}.get(node.op_type)
        if index is None or len(node.input) <= index or not node.input[index]:
            continue
        if g.opset >= 13 and node.input[index] not in g.consts:
            yield ('error', _label(node), node.op_type, 'constant-axes',
                   '`axes` input %r must be an initializer or Constant' % node.input[index])


def rule_pad(g, version, family):
    # 8.0-GA docs/operators.md Pad: "Zero-constant padding on two dimensions only"; 8.2-GA
    # builtin_op_importers.cpp Pad: modes constant, reflect, edge ("Unsupported pad mode").
    for node in g.model.graph.node:
        if node.op_type != 'Pad':
            continue
        mode = g.attrs(node).get('mode', 'constant')
        allowed = ('constant',) if family == '8.0' else ('constant', 'reflect', 'edge')
        if mode not in allowed:
            yield ('error', _label(node), 'Pad', 'pad-mode',
                   'pad mode %r; TensorRT %s pads with %s only (edge padding: Slice + Concat of '
                   'the border rows)' % (mode, family, '/'.join(allowed)))


def rule_maxpool_indices(g, version, family):
    # docs/operators.md MaxPool (8.2-GA ..): "`Indices` output tensor unsupported".
    for node in g.model.graph.node:
        if node.op_type == 'MaxPool' and len(node.output) > 1 and node.output[1]:
            yield ('error', _label(node), 'MaxPool', 'maxpool-indices',
                   'uses the Indices output, which TensorRT does not produce')


RULES = (rule_opset, rule_supported_op, rule_tensor_types, rule_uint8, rule_cast, rule_argmax,
         rule_resize, rule_qdq, rule_constant_inputs, rule_pad, rule_maxpool_indices)


def check_model(model, versions: Optional[Iterable] = None, dla: bool = False) -> List[Finding]:
    """
    Check an ONNX model (path or ModelProto) against TensorRT versions.

    versions: names from CHECK_VERSIONS ('8.0' ... '11') or concrete versions ('8.4.1.5'); None:
    all of CHECK_VERSIONS. dla: also the DLA rules (fxseg_ros.runtime.trt_dla).
    Returns the findings, errors and warnings, in version order.
    """
    from fxseg_ros.model.deploy import load_model

    g = _Graph(load_model(model))
    names = list(versions) if versions else [n for n, _ in CHECK_VERSIONS]
    findings = []
    for name in names:
        family = _family(name)
        rules = list(RULES)
        if dla:
            from fxseg_ros.runtime.trt_dla import DLA_RULES

            rules += list(DLA_RULES)
        seen: Set[tuple] = set()
        version = dict(CHECK_VERSIONS).get(name) or normalized(name)
        for rule in rules:
            for item in rule(g, version, family):
                if item not in seen:
                    seen.add(item)
                    findings.append(Finding(str(name), *item))
    return findings


def errors(findings: Sequence[Finding]) -> List[Finding]:
    return [f for f in findings if f.severity == 'error']


__all__ = ['check_model', 'check_versions', 'dla_unavailable', 'errors', 'Finding', 'RULES']
