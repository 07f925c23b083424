# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The offline TensorRT check, without TensorRT.

Which nodes of an ONNX graph a TensorRT version's ONNX parser or builder rejects, and what to
change.

`check_model(model, versions, dla)` shape-infers the graph (`trt_check_graph`) and runs every rule
below for each version. A rule is a fact with its source next to it: onnx/onnx-tensorrt
`docs/operators.md`, `builtin_op_importers.cpp` (`onnxOpImporters.cpp` from 10.0),
`ModelImporter.cpp` on the parser's release branch (X.Y-GA), and NVIDIA/TensorRT `include/` on
`release/X.Y`. 'error' findings stop a build; 'warning' findings are things TensorRT works around
at a cost (DLA fallbacks), or that the rules cannot decide: a failed shape inference, and the
opset and operator limits of a concrete version newer than the parser release they are read
from (trt_ops.RULES_SOURCE), which may import more.

Pure onnx + numpy, Python 3.6: `fxseg build` and the node run it before every engine build.
"""


from typing import Iterable, List, NamedTuple, Optional, Sequence, Set

from fxseg_ros.runtime.metadata import version_tuple
from fxseg_ros.runtime.trt_check_graph import CheckGraph, node_label
from fxseg_ros.runtime.trt_dla import DLA_RULES
from fxseg_ros.runtime.trt_ops import RULES_SOURCE, SUPPORTED_OPS
from fxseg_ros.runtime.trt_support import (at_least, CHECK_VERSIONS, dla_unavailable, has_uint8_io,
                                           INT8_WEIGHTS, MIN_TENSORRT, normalized)
import numpy as np


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


def _dotted(version) -> str:
    return '.'.join(str(p) for p in version)


def _lines() -> List[int]:
    return sorted({gate[0] for _, gate in CHECK_VERSIONS})


def _is_release(text: str) -> bool:
    """'8.4', '10.3.0', '8.2.1.8': TensorRT 8.0 or newer, of a line the rules cover."""
    parts = text.split('.')
    if not (2 <= len(parts) <= 4 and all(p.isdigit() for p in parts)):
        return False
    version = version_tuple(text)
    return version[0] in _lines() and at_least(version, MIN_TENSORRT)


def _unknown(bad: Sequence[str]) -> ValueError:
    return ValueError('unknown TensorRT version(s) %s; choose from %s, or a release such as '
                      '8.4.1 or 10.3 (%s or newer, of the lines %s)'
                      % (', '.join(bad), ', '.join(n for n, _ in CHECK_VERSIONS),
                         _dotted(MIN_TENSORRT), ', '.join('%d.x' % m for m in _lines())))


def check_version(name) -> str:
    """
    Validate one version: a CHECK_VERSIONS name ('8.0' ... '11') or a release ('8.4', '10.3.0').

    Returns it as text; raises ValueError naming the choices.
    """
    text = str(name).strip()
    if text in dict(CHECK_VERSIONS) or _is_release(text):
        return text
    raise _unknown([text])


def check_versions(names: Optional[Sequence[str]] = None) -> List[str]:
    """Validate version names (see check_version); None: all of CHECK_VERSIONS. Version order."""
    if not names:
        return [name for name, _ in CHECK_VERSIONS]
    texts = [str(n).strip() for n in names]
    bad = [t for t in texts if t not in dict(CHECK_VERSIONS) and not _is_release(t)]
    if bad:
        raise _unknown(bad)
    gates = dict(CHECK_VERSIONS)
    return sorted(set(texts), key=lambda t: normalized(gates.get(t) or t))


def _family(version) -> str:
    """Return the CHECK_VERSIONS name whose rules apply to a concrete version (8.4.1 -> '8.2')."""
    best = CHECK_VERSIONS[0][0]
    for name, gate in CHECK_VERSIONS:
        if at_least(version, gate):
            best = name
    return best


def newer_than_source(version, family: str) -> bool:
    """
    Return whether `version` is past the parser release its family's rules come from.

    The family's opset range and operator list come from trt_ops.RULES_SOURCE: e.g. 10.13
    against 10.1. The family names stand for their oldest release ('10' = 10.0), so
    `fxseg check --tensorrt 10` stays the strict check.
    """
    return normalized(version)[:2] > normalized(RULES_SOURCE[family])[:2]


# -------------------------------------------------------------------------------------------
# Rules. Each yields (severity, node name, op, rule id, message).

#: Highest default-domain opset per parser. onnx-tensorrt docs/operators.md: 8.0-GA and 8.2-GA
#: "up to Opset 13", 8.5-GA and 8.6-GA "up to Opset 17", 10.1-GA "opset 9 to opset 20";
#: TensorRT 11.x: opset 9 to 24 up to 11.4, 25 from 11.5 (ONNX Opset Guide; 11.5 GA notes).
OPSET_RANGE = {'8.0': (1, 13), '8.2': (1, 13), '8.5': (1, 17), '8.6': (1, 17),
               '10': (9, 20), '11': (9, 24)}


def rule_opset(g, version, family):
    low, high = OPSET_RANGE[family]
    if g.opset < low:
        yield ('error', '(model)', 'opset', 'opset',
               'opset %d is below %d, the lowest this parser imports; convert the model '
               '(onnx.version_converter) or export with --opset %d' % (g.opset, low, low))
    elif g.opset > high:
        source = _dotted(RULES_SOURCE[family])
        if newer_than_source(version, family):
            yield ('warning', '(model)', 'opset', 'opset',
                   'opset %d is above %d, the highest the TensorRT %s parser imports; TensorRT %s '
                   'is newer and may import it (its docs/operators.md says): if the build fails '
                   'to parse the model, export with --opset %d'
                   % (g.opset, high, source, _dotted(version_tuple(version)), high))
        else:
            yield ('error', '(model)', 'opset', 'opset',
                   'opset %d is above %d, the highest the TensorRT %s parser imports; export with '
                   '--opset %d (onnx.version_converter can convert)'
                   % (g.opset, high, source, high))


def rule_supported_op(g, version, family):
    # docs/operators.md per branch (fxseg_ros.runtime.trt_ops).
    newer = newer_than_source(version, family)
    source = _dotted(RULES_SOURCE[family])
    for node in g.model.graph.node:
        if node.domain in ('', 'ai.onnx') and node.op_type not in SUPPORTED_OPS[family]:
            if newer:
                yield ('warning', node_label(node), node.op_type, 'operator',
                       '%s is not an operator the TensorRT %s ONNX parser imports; TensorRT %s '
                       'is newer and may import it (its docs/operators.md says); otherwise the '
                       'build stops while parsing: replace it with supported ops or a plugin'
                       % (node.op_type, source, _dotted(version_tuple(version))))
            else:
                yield ('error', node_label(node), node.op_type, 'operator',
                       '%s is not an operator the TensorRT %s ONNX parser imports; replace it '
                       'with supported ops or a plugin' % (node.op_type, source))


def rule_shape_inference(g, version, family):
    if g.inference_error:
        yield ('warning', '(model)', 'shape inference', 'shape-inference',
               'ONNX shape inference failed (%s), so the type rules saw only the types the file '
               'declares and may miss nodes: fix the graph until onnx.shape_inference.'
               'infer_shapes(model, strict_mode=True) passes' % g.inference_error)


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
                yield ('error', node_label(node), node.op_type, 'dtype',
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
            yield ('error', node_label(node) if node is not None else name,
                   node.op_type if node is not None else 'input', 'uint8',
                   'UINT8 %s %r: TensorRT %s has no UINT8 tensors (UINT8 I/O needs 8.5); build '
                   'with float I/O (fxseg build --float-io yes; the runner converts on the GPU)'
                   % (where, name, family))
        return
    for name in sorted(is_u8):
        if name in g.inputs:
            for node, _ in g.consumers.get(name, []):
                if node.op_type != 'Cast' or g.attrs(node).get('to') not in (1, 10):
                    yield ('error', node_label(node), node.op_type, 'uint8-input',
                           'reads the UINT8 network input %r directly; TensorRT lets a UINT8 '
                           'input feed only a Cast to FLOAT/FLOAT16: cast first and give %s the '
                           'cast tensor' % (name, node.op_type))
        elif name in g.outputs:
            node = g.producer[name]
            if node.op_type != 'Cast':
                yield ('error', node_label(node), node.op_type, 'uint8-output',
                       'writes the UINT8 network output %r; only a Cast from FLOAT/FLOAT16 may '
                       'produce it: compute in float and cast last' % name)
        else:
            node = g.producer[name]
            yield ('error', node_label(node), node.op_type, 'uint8-intermediate',
                   'produces the intermediate UINT8 tensor %r; TensorRT allows UINT8 only at the '
                   'network boundary: keep it in FLOAT (or INT32) inside the graph' % name)


def rule_cast(g, version, family):
    """
    Check that casts touching UINT8 go to or from FLOAT/FLOAT16 only.

    8.5-GA builtin_op_importers.cpp Cast asserts it ("UINT8 type casting is only supported from
    FP types"), and release/8.5 to 11.0 include/NvInferRuntime(Common|Base).h: "kUINT8
    conversions are only supported for {kFLOAT, kHALF}" (so ArgMax's INT64/INT32 indices must
    become FLOAT before UINT8).
    """
    if not has_uint8_io(version):
        return
    for node in g.model.graph.node:
        if node.op_type != 'Cast':
            continue
        src = g.type_name(node.input[0])
        dst = g.type_name(node.output[0])
        if (dst == 'UINT8' and src not in _FLOATS) or (src == 'UINT8' and dst not in _FLOATS):
            yield ('error', node_label(node), 'Cast', 'uint8-cast',
                   'casts %s to %s; TensorRT converts UINT8 only to or from FLOAT/FLOAT16: cast '
                   'to FLOAT first, then to UINT8' % (src, dst))


#: ArgMax / ArgMin input types, docs/operators.md "Supported Types": FP32, FP16 on 8.0-GA, 8.2-GA
#: and 8.5-GA; INT32 added on 8.6-GA; FP32, FP16, BF16, INT32, INT64 on 10.1-GA (its
#: importerUtils.cpp argMinMaxHelper rejects UINT8 only; the 10.15 table lists the same), which
#: TensorRT 11.0's parser extends.
ARGMAX_TYPES = {
    '8.0': ('FLOAT', 'FLOAT16'),
    '8.2': ('FLOAT', 'FLOAT16'),
    '8.5': ('FLOAT', 'FLOAT16'),
    '8.6': ('FLOAT', 'FLOAT16', 'INT32'),
    '10': ('FLOAT', 'FLOAT16', 'BFLOAT16', 'INT32', 'INT64'),
    '11': ('FLOAT', 'FLOAT16', 'BFLOAT16', 'INT32', 'INT64'),
}


def rule_argmax(g, version, family):
    # select_last_index needs opset >= 12 (8.2-GA onnx2trt_utils.cpp argMinMaxHelper).
    allowed = ARGMAX_TYPES[family]
    for node in g.model.graph.node:
        if node.op_type not in ('ArgMax', 'ArgMin'):
            continue
        t = g.type_name(node.input[0])
        if t is not None and t not in allowed:
            yield ('error', node_label(node), node.op_type, 'argmax-type',
                   'takes %s; TensorRT %s %s takes %s: cast the scores to FLOAT'
                   % (t, family, node.op_type, '/'.join(allowed)))
        if g.attrs(node).get('select_last_index') and g.opset < 12:
            yield ('error', node_label(node), node.op_type, 'argmax-last',
                   'select_last_index needs opset >= 12 in the TensorRT parser')


#: Resize input types, docs/operators.md: FP32, FP16 on 8.0-GA .. 8.6-GA; FP32, FP16, BF16 on
#: 10.1-GA (and the 10.15 table).
RESIZE_TYPES = {
    '8.0': _FLOATS, '8.2': _FLOATS, '8.5': _FLOATS, '8.6': _FLOATS,
    '10': _FLOATS + ('BFLOAT16',), '11': _FLOATS + ('BFLOAT16',),
}
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
        label = node_label(node)
        mode = a.get('mode', 'nearest')
        coord = a.get('coordinate_transformation_mode', 'half_pixel')
        t = g.type_name(node.input[0])

        def err(rule, text):
            return ('error', label, node.op_type, rule, text)

        if t is not None and t not in RESIZE_TYPES[family]:
            yield err('resize-type', 'resizes a %s tensor; TensorRT %s Resize takes %s only: '
                                     'cast to FLOAT around it'
                      % (t, family, '/'.join(RESIZE_TYPES[family])))
        if mode == 'cubic' and old:
            # 8.0-GA / 8.2-GA Resize importer: "does not support cubic interpolation!"
            yield err('resize-mode', "mode 'cubic' needs TensorRT 8.5; use 'linear'")
        elif mode not in ('nearest', 'linear', 'cubic'):
            yield err('resize-mode', 'mode %r is not a TensorRT resize mode' % mode)
        if coord not in _RESIZE_COORDS:
            yield err('resize-coords', 'coordinate_transformation_mode %r is not supported; use '
                                       'one of %s' % (coord, ', '.join(_RESIZE_COORDS)))
        nearest = a.get('nearest_mode', 'round_prefer_floor')
        if mode == 'nearest' and nearest not in _NEAREST_MODES:
            yield err('resize-nearest', 'nearest_mode %r is not supported' % nearest)
        elif coord == 'tf_half_pixel_for_nn' and nearest != 'round_prefer_floor' and \
                family.startswith('8') and g.opset >= 11:
            # 8.0-GA .. 8.6-GA Resize importer asserts it for any mode: "This version of
            # TensorRT only support round_prefer_floor nearest mode in tf_half_pixel_for_nn!"
            yield err('resize-nearest', 'tf_half_pixel_for_nn with nearest_mode %r: TensorRT %s '
                                        'rounds with round_prefer_floor only there'
                      % (nearest, family))
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
        label = node_label(node)

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
            yield ('error', node_label(node), node.op_type, 'constant-axes',
                   '`axes` input %r must be an initializer or Constant' % node.input[index])


_PAD_CRE = ('constant', 'reflect', 'edge')
#: Pad modes per parser: 8.0-GA builtin_op_importers.cpp Pad asserts "This version of TensorRT
#: only supports constant 0 padding!" (after passing all-zero pads through as Identity); 8.2-GA ..
#: 8.6-GA take constant, reflect, edge ("Unsupported pad mode"); 10.1-GA onnxOpImporters.cpp adds
#: wrap.
PAD_MODES = {'8.0': ('constant',), '8.2': _PAD_CRE, '8.5': _PAD_CRE, '8.6': _PAD_CRE,
             '10': _PAD_CRE + ('wrap',), '11': _PAD_CRE + ('wrap',)}


def _pad_settings(g, node):
    """Return (pads, constant value) of a Pad node; either is None where it is not a constant."""
    a = g.attrs(node)
    if g.opset < 11:
        return np.asarray(a.get('pads', []), np.int64), float(a.get('value', 0.0))
    pads = g.consts.get(node.input[1]) if len(node.input) > 1 and node.input[1] else None
    value_name = node.input[2] if len(node.input) > 2 else ''
    if not value_name:
        return pads, 0.0
    value = g.consts.get(value_name)
    return pads, (None if value is None else float(value.reshape(-1)[0]) if value.size else 0.0)


def rule_pad(g, version, family):
    for node in g.model.graph.node:
        if node.op_type != 'Pad':
            continue
        mode = g.attrs(node).get('mode', 'constant')
        label = node_label(node)

        def err(rule, text):
            return ('error', label, 'Pad', rule, text)

        if family != '8.0':
            if mode not in PAD_MODES[family]:
                yield err('pad-mode', 'pad mode %r; TensorRT %s pads with %s only (edge padding: '
                                      'Slice + Concat of the border rows)'
                          % (mode, family, '/'.join(PAD_MODES[family])))
            continue
        # 8.0-GA builtin_op_importers.cpp Pad: "The input pads is required to be an
        # initializer.", "The input constant_value is required to be an initializer.";
        # onnx2trt_utils.cpp convertOnnxPadding: "TensorRT only supports 2D padding!".
        pads, value = _pad_settings(g, node)
        if pads is None or value is None:
            yield err('pad-constant', 'pads and constant_value must be initializers on TensorRT '
                                      '8.0')
            continue
        pads = pads.reshape(-1)
        if not np.any(pads != 0):
            continue
        if mode != 'constant' or value != 0:
            yield err('pad-mode', 'pads with mode %r, value %g; TensorRT 8.0 pads with constant '
                                  '0 only (edge padding: Slice + Concat of the border rows)'
                      % (mode, value))
        rank = pads.size // 2
        padded = [i for i in range(rank) if pads[i] or pads[i + rank]]
        if len(padded) > 2:
            yield err('pad-dims', 'pads %d dimensions (%s); TensorRT 8.0 pads two at most'
                      % (len(padded), padded))


def rule_maxpool_indices(g, version, family):
    # Any second output, even one named '' (the Indices output left out): 8.0-GA .. 8.6-GA
    # builtin_op_importers.cpp MaxPool asserts node.output().size() == 1 ("TensorRT does not
    # support the indices output in MaxPool!"); 10.1-GA ModelImporter.cpp: "Node has more output
    # tensors than TRT expected" (the pooling importer returns one).
    for node in g.model.graph.node:
        if node.op_type == 'MaxPool' and len(node.output) > 1:
            yield ('error', node_label(node), 'MaxPool', 'maxpool-indices',
                   'has %d outputs (the second is Indices, %r); TensorRT MaxPool has one: drop '
                   'the second output from the node' % (len(node.output), node.output[1]))


RULES = (rule_opset, rule_supported_op, rule_shape_inference, rule_tensor_types, rule_uint8,
         rule_cast, rule_argmax, rule_resize, rule_qdq, rule_constant_inputs, rule_pad,
         rule_maxpool_indices)


def check_model(model, versions: Optional[Iterable] = None, dla: bool = False) -> List[Finding]:
    """
    Check an ONNX model (path or ModelProto) against TensorRT versions.

    versions: names from CHECK_VERSIONS ('8.0' ... '11') or concrete versions ('8.4.1.5'); None:
    all of CHECK_VERSIONS. dla: also the DLA rules (fxseg_ros.runtime.trt_dla).
    Returns the findings, errors and warnings, in version order.
    """
    from fxseg_ros.model.deploy import load_model

    g = CheckGraph(load_model(model))
    names = list(versions) if versions else [n for n, _ in CHECK_VERSIONS]
    findings = []
    for name in names:
        family = _family(name)
        rules = list(RULES) + (list(DLA_RULES) if dla else [])
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


__all__ = ['check_model', 'check_version', 'check_versions', 'dla_unavailable', 'errors',
           'Finding', 'newer_than_source', 'RULES']
