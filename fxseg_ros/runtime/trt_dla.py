# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
DLA rules for `fxseg check --dla`.

Which nodes DLA cannot run, so that TensorRT's GPU fallback runs them on the GPU (warnings), and
what stops a DLA build (errors).

Sources: NVIDIA/TensorRT release/10.3 `include/NvInfer.h` (the per-layer "If executing this layer
on DLA" notes) and the TensorRT developer guide "DLA Supported Layers and Restrictions": at most
8192 per non-batch dimension, no dynamic dimensions (an optimization profile with min = opt = max,
NvInfer.h INetworkDefinition::addInput), FP16 / INT8 only.

Nodes that only compute shapes (Shape and what is computed from it and constants, e.g. the
`sizes` of a Resize) are not reported: TensorRT evaluates shape tensors, they are no DLA layers.
"""


from fxseg_ros.runtime.trt_check_graph import node_label
from fxseg_ros.runtime.trt_support import dla_unavailable

#: NvInfer.h release/10.3: activation types on DLA are kRELU, kSIGMOID, kTANH, kCLIP;
#: elementwise kSUM, kPROD, kMAX, kMIN, kSUB; unary kABS only; no Gather.
_DLA_OPS = {
    'Conv', 'ConvTranspose', 'Relu', 'Sigmoid', 'Tanh', 'Clip', 'Add', 'Mul', 'Max', 'Min',
    'Sub', 'Abs', 'LRN', 'MaxPool', 'AveragePool', 'Concat', 'Softmax', 'Resize', 'Slice',
    'BatchNormalization', 'PRelu', 'LeakyRelu', 'QuantizeLinear', 'DequantizeLinear',
    'Identity', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Constant',
}
#: The largest non-batch dimension DLA takes (developer guide, general restrictions).
DLA_MAX_DIM = 8192


def _warn(node, rule, text):
    return ('warning', node_label(node), node.op_type, rule,
            text + '; TensorRT runs it on the GPU (GPU fallback)')


def rule_dla_version(g, version, family):
    reason = dla_unavailable(version)
    if reason:
        yield ('error', '(model)', 'DLA', 'dla-version', reason)


def rule_dla_dims(g, version, family):
    for name, dims in sorted(g.dims.items()):
        big = [d for d in dims[1:] if d is not None and d > DLA_MAX_DIM]
        if big:
            node = g.producer.get(name)
            if node is not None:
                yield _warn(node, 'dla-dims', 'output %r has a dimension of %d > %d'
                            % (name, big[0], DLA_MAX_DIM))


#: Deconvolution kernels / strides DLA takes beyond [1, 32]: 64, 96 or 128 in one dimension with 1
#: in the other (NvInfer.h release/10.3 IDeconvolutionLayer::setKernelSizeNd, setStrideNd).
_DECONV_LONG = (64, 96, 128)


def _pair(values, default):
    values = list(values) if values is not None and len(values) else [default, default]
    return values


def _deconv_ok(pair) -> bool:
    if len(pair) != 2:
        return False
    if all(1 <= v <= 32 for v in pair):
        return True
    return sorted(pair) in ([1, v] for v in _DECONV_LONG)


def _conv_limits(g, node):
    # NvInfer.h release/10.3 IConvolutionLayer: kernel [1,32], stride [1,8], padding [0,31] and
    # less than the kernel, output maps [1,8192], 2D only. IDeconvolutionLayer: kernel and
    # stride [1,32] (or the _DECONV_LONG combinations), groups 1, padding 0.
    a = g.attrs(node)
    kernel = list(a.get('kernel_shape', []))
    strides = _pair(a.get('strides'), 1)
    pads = list(a.get('pads', [])) or [0] * (2 * max(len(kernel), 1))
    if len(kernel) != 2:
        return 'kernel %s: DLA takes 2D kernels only' % kernel
    if node.op_type == 'ConvTranspose':
        if not _deconv_ok(kernel):
            return 'kernel %s: DLA deconvolutions take 1..32 (or %s x 1)' % (
                kernel, '/'.join(str(v) for v in _DECONV_LONG))
        if not _deconv_ok(strides):
            return 'stride %s: DLA deconvolutions take 1..32 (or %s x 1)' % (
                strides, '/'.join(str(v) for v in _DECONV_LONG))
        if a.get('group', 1) != 1 or any(pads):
            return 'deconvolution with groups or padding: DLA takes groups 1, padding 0'
        return None
    if max(kernel) > 32:
        return 'kernel %s: DLA takes 1..32' % kernel
    if max(strides) > 8:
        return 'stride %s: DLA takes 1..8' % strides
    if max(pads) > 31 or any(p >= k for p, k in zip(pads, kernel + kernel)):
        return 'padding %s: DLA takes 0..31, less than the kernel %s' % (pads, kernel)
    return None


def _pool_limits(g, node):
    # NvInfer.h release/10.3 IPoolingLayer: window [1,8], stride [1,16], padding [0,7], 2D only.
    a = g.attrs(node)
    kernel = list(a.get('kernel_shape', []))
    strides = _pair(a.get('strides'), 1)
    pads = list(a.get('pads', [])) or [0]
    if len(kernel) != 2 or max(kernel) > 8:
        return 'window %s: DLA pools 2D windows of 1..8' % kernel
    if max(strides) > 16:
        return 'stride %s: DLA pools with strides 1..16' % strides
    if max(pads) > 7:
        return 'padding %s: DLA pools with padding 0..7' % pads
    return None


#: (coordinate_transformation_mode, nearest_mode) pairs of nearest resizes DLA runs: NvInfer.h
#: release/10.3 IResizeLayer "(kASYMMETRIC, kFORMULA, kFLOOR)", "(kHALF_PIXEL, kFORMULA,
#: kHALF_DOWN)", "(kHALF_PIXEL, kFORMULA, kHALF_UP)", as onnx-tensorrt 10.1-GA
#: onnxOpImporters.cpp Resize maps the ONNX attributes (round_prefer_floor -> kHALF_DOWN,
#: round_prefer_ceil -> kHALF_UP; pytorch_half_pixel selects kUPPER, tf_half_pixel_for_nn rounds
#: kCEIL). Linear: kHALF_PIXEL with kFORMULA (half_pixel) or kUPPER (pytorch_half_pixel).
_DLA_NEAREST = (('asymmetric', 'floor'), ('half_pixel', 'round_prefer_floor'),
                ('half_pixel', 'round_prefer_ceil'))
_DLA_LINEAR_COORDS = ('half_pixel', 'pytorch_half_pixel')


def _resize_limits(g, node):
    # NvInfer.h release/10.3 IResizeLayer: the combinations above; 4 scales, the first two 1, the
    # last two integers in [1, 32] (nearest) or [1, 4] (linear); no output dimensions (the ONNX
    # `sizes` input).
    a = g.attrs(node)
    mode = a.get('mode', 'nearest')
    coord = a.get('coordinate_transformation_mode', 'half_pixel')
    if len(node.input) > 3 and node.input[3]:
        return 'sizes given instead of scales'
    scales = g.consts.get(node.input[2]) if len(node.input) > 2 else None
    if scales is None or scales.size != 4 or list(scales[:2]) != [1, 1]:
        return 'scales must be [1, 1, sh, sw]'
    top = 32 if mode == 'nearest' else 4
    if any(s != int(s) or not 1 <= s <= top for s in scales[2:]):
        return 'scales %s: DLA takes integers 1..%d here' % (scales.tolist(), top)
    if mode == 'linear' and coord not in _DLA_LINEAR_COORDS:
        return 'linear resize with %s coordinates: DLA takes %s' % (
            coord, ' or '.join(_DLA_LINEAR_COORDS))
    nearest = (coord, a.get('nearest_mode', 'round_prefer_floor'))
    if mode == 'nearest' and nearest not in _DLA_NEAREST:
        return 'nearest resize with %s coordinates and %s rounding: DLA takes %s' % (
            nearest + ('; '.join('%s + %s' % pair for pair in _DLA_NEAREST),))
    return None


def rule_dla_layers(g, version, family):
    for node in g.model.graph.node:
        if g.computes_shape(node):
            continue
        if node.op_type not in _DLA_OPS:
            yield _warn(node, 'dla-layer', '%s has no DLA implementation' % node.op_type)
            continue
        reason = None
        if node.op_type in ('Conv', 'ConvTranspose'):
            reason = _conv_limits(g, node)
        elif node.op_type in ('MaxPool', 'AveragePool'):
            reason = _pool_limits(g, node)
        elif node.op_type == 'Resize':
            reason = _resize_limits(g, node)
        elif node.op_type == 'LRN' and g.attrs(node).get('size') not in (3, 5, 7, 9):
            # NvInfer.h release/10.3 ILRNLayer: window sizes 3, 5, 7, 9 on DLA.
            reason = 'window %s: DLA takes 3, 5, 7 or 9' % g.attrs(node).get('size')
        elif node.op_type == 'Concat' and g.attrs(node).get('axis') not in (1, -3):
            # NvInfer.h release/10.3 IConcatenationLayer: the third-to-last (channel) axis.
            reason = 'axis %s: DLA concatenates channels only' % g.attrs(node).get('axis')
        if reason:
            yield _warn(node, 'dla-layer', reason)


DLA_RULES = (rule_dla_version, rule_dla_dims, rule_dla_layers)
