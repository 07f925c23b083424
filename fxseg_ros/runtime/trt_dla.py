# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
DLA rules for `fxseg check --dla`: which nodes DLA cannot run, so that TensorRT's GPU fallback
runs them on the GPU (warnings), and what stops a DLA build (errors).

Sources: NVIDIA/TensorRT release/10.3 `include/NvInfer.h` (the per-layer "If executing this layer
on DLA" notes) and the TensorRT developer guide "DLA Supported Layers and Restrictions": at most
8192 per non-batch dimension, no dynamic dimensions (an optimization profile with min = opt = max,
NvInfer.h INetworkDefinition::addInput), FP16 / INT8 only.
"""


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
    from fxseg_ros.runtime.trt_rules import _label

    return ('warning', _label(node), node.op_type, rule, text + '; TensorRT runs it on the GPU '
            '(GPU fallback)')


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


def _conv_limits(g, node):
    # NvInfer.h release/10.3 IConvolutionLayer: kernel [1,32], stride [1,8], output maps
    # [1,8192], 2D only; IDeconvolutionLayer: groups 1, padding 0.
    a = g.attrs(node)
    kernel = list(a.get('kernel_shape', []))
    if len(kernel) != 2 or max(kernel) > 32:
        return 'kernel %s: DLA takes 2D kernels of 1..32' % kernel
    if max(list(a.get('strides', [1, 1]))) > 8:
        return 'stride %s: DLA takes 1..8' % list(a['strides'])
    if node.op_type == 'ConvTranspose' and (a.get('group', 1) != 1 or any(a.get('pads', []))):
        return 'deconvolution with groups or padding: DLA takes groups 1, padding 0'
    return None


def _resize_limits(g, node):
    # NvInfer.h release/10.3 IResizeLayer: nearest (asymmetric + floor, or half_pixel), linear
    # (half_pixel) only; 4 scales, the first two 1, the last two integers in [1, 32] (nearest)
    # or [1, 4] (linear); no output dimensions (the ONNX `sizes` input).
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
    if mode == 'linear' and coord != 'half_pixel':
        return 'linear resize with %s coordinates: DLA takes half_pixel' % coord
    return None


def rule_dla_layers(g, version, family):
    for node in g.model.graph.node:
        if node.op_type not in _DLA_OPS:
            yield _warn(node, 'dla-layer', '%s has no DLA implementation' % node.op_type)
            continue
        reason = None
        if node.op_type in ('Conv', 'ConvTranspose'):
            reason = _conv_limits(g, node)
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
