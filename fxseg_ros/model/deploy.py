# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Deployment graph: camera frames in, class IDs out, with all pre/post-processing inside the graph.

The bare network (float NCHW blob in, scores out) is wrapped so that every backend runs identical
pre- and post-processing on its own device:

    frames uint8 (N, H, W, 3) BGR
      -> pre/transpose NCHW -> pre/cast float32 -> pre/resize (linear, half_pixel) to the
         network input size -> pre/sub MEAN_BGR -> pre/div STD_BGR
      -> the bare network (its tensor names unchanged)
      -> post/argmax (class axis) -> labels (N, 1, h, w) -> post/resize (nearest, asymmetric,
         floor) to the camera size (output='camera' only) -> post/squeeze
    labels uint8 (N, h, w)

A network ending in an edge-replicated, asymmetric x s upsample plus a crop (the demo model's
upscore tail) is folded: the graph upsamples the coarse scores directly, takes the ArgMax there and
shifts / extends the one-channel labels instead of cropping 19-channel full-resolution scores
(`deploy_tail.match_upscore_tail`); the tail is kept in the metadata so `bare_graph_of`
restores it.

Variants:
- ``float_io=True``: float32 frames (values 0..255) and int32 labels, for TensorRT < 8.5, which
  has no UINT8 network I/O.
- ``for_tensorrt=True``: UINT8 only at the boundary: frames are cast before anything else and
  the labels stay float until a last Cast (TensorRT converts UINT8 only from / to FLOAT, resizes
  float tensors only); channels-first upscore. Without it (ONNX Runtime) the uint8 transpose,
  the channels-last upscore and the uint8 label resize are cheaper on the CPU; the labels agree.

This module imports onnx only (no torch), so the runtime layer can wrap a bare graph on the
target machine.
"""


import json
import logging
import os
from typing import Optional, Tuple, Union

from fxseg_ros.data.preprocess import (CAMERA_WH, DEPLOY_INPUT_NAME, DEPLOY_OUTPUT_NAME, MEAN_BGR,
                                       STD_BGR)
from fxseg_ros.model.deploy_tail import match_upscore_tail, remove_tail
import numpy as np

LOG = logging.getLogger(__name__)

#: Key of the model metadata entry that records how a deployment graph was built (JSON).
METADATA_KEY = 'fxseg_ros.deployment'
#: Lowest opset the deployment graph needs (Resize with optional roi/scales inputs), and the IR
#: version released with it.
MIN_OPSET = 13
MIN_IR_VERSION = 7
#: Default camera resolution, (height, width).
CAMERA_HW: Tuple[int, int] = (CAMERA_WH[1], CAMERA_WH[0])
OUTPUT_MODES = ('camera', 'network')

ModelLike = Union[str, 'os.PathLike[str]', 'onnx.ModelProto']  # noqa: F821


class DeploymentGraphError(ValueError):
    """A graph cannot be wrapped (or unwrapped); the message says why."""


def load_model(path_or_model: ModelLike):
    """
    Return an `onnx.ModelProto` for a path or a model (passed through).

    Raises DeploymentGraphError for a missing or unreadable file, and for a file that holds no
    network: no nodes (onnx.load reads an empty file as an empty model) or no default-domain
    opset (see check_network).
    """
    import onnx

    if isinstance(path_or_model, onnx.ModelProto):
        return path_or_model
    path = os.fspath(path_or_model)
    if not os.path.isfile(path):
        raise DeploymentGraphError('ONNX model %s does not exist' % path)
    try:
        model = onnx.load(path)
    except Exception as exc:  # onnx raises DecodeError and others for corrupt files
        raise DeploymentGraphError('cannot read ONNX model %s (%s: %s); is it a complete ONNX '
                                   'file?' % (path, type(exc).__name__, exc)) from exc
    check_network(model, 'ONNX model %s' % path)
    return model


def check_network(model, label: str = 'the model') -> None:
    """
    Raise DeploymentGraphError unless `model` has nodes and imports the default (ai.onnx) opset.

    label names the model in the one-line message.
    """
    if not len(model.graph.node):
        raise DeploymentGraphError('%s has no nodes (an empty or truncated file, or no network); '
                                   'export it again (fxseg export)' % label)
    if _opset(model) == 0:
        raise DeploymentGraphError('%s imports no default-domain (ai.onnx) opset, so no standard '
                                   'operator can run in it; export it with --opset %d or newer'
                                   % (label, MIN_OPSET))


def _graph_inputs(model):
    initializers = {init.name for init in model.graph.initializer}
    return [vi for vi in model.graph.input if vi.name not in initializers]


def _dims(value_info):
    dims = []
    for d in value_info.type.tensor_type.shape.dim:
        if d.HasField('dim_value'):
            dims.append(d.dim_value)
        else:
            dims.append(d.dim_param or None)
    return dims


def _opset(model) -> int:
    for entry in model.opset_import:
        if entry.domain in ('', 'ai.onnx'):
            return entry.version
    return 0


def network_input_wh(path_or_model: ModelLike) -> Tuple[int, int]:
    """
    (width, height) a bare network takes its frames at: the fixed H, W of its input (N, 3, H, W).

    The one answer to "what size are frames resized to for this model" of every reader that
    feeds a bare network (calibration, coverage, analysis, evaluation sets, the demo), as the
    node's and `fxseg eval`'s runners resize to the network input. NET_INPUT_WH when the graph
    does not fix them.
    """
    from fxseg_ros.data.preprocess import NET_INPUT_WH

    model = load_model(path_or_model)
    inputs = _graph_inputs(model)
    dims = _dims(inputs[0]) if len(inputs) == 1 else []
    if len(dims) == 4 and all(isinstance(d, int) and d > 0 for d in dims[2:]):
        return int(dims[3]), int(dims[2])
    return NET_INPUT_WH


def deployment_info(path_or_model: ModelLike) -> Optional[dict]:
    """
    Return the build settings recorded in a deployment graph, or None for other graphs.

    Keys: camera_hw, net_input_hw, net_output_hw, output, float_io, for_tensorrt, net_input,
    net_output.
    """
    model = load_model(path_or_model)
    for prop in model.metadata_props:
        if prop.key == METADATA_KEY:
            try:
                info = json.loads(prop.value)
            except ValueError:
                return None
            for key in ('camera_hw', 'net_input_hw', 'net_output_hw'):
                info[key] = tuple(info[key])
            return info
    return None


def is_deployment_graph(path_or_model: ModelLike) -> bool:
    """
    Tell a deployment graph (frames in, labels out) from a bare network graph.

    True when the graph has one input `frames` of rank 4 with 3 channels last and an output
    `labels` of rank 3.
    """
    model = load_model(path_or_model)
    inputs = _graph_inputs(model)
    outputs = list(model.graph.output)
    if len(inputs) != 1 or len(outputs) != 1:
        return False
    if inputs[0].name != DEPLOY_INPUT_NAME or outputs[0].name != DEPLOY_OUTPUT_NAME:
        return False
    in_dims = _dims(inputs[0])
    return len(in_dims) == 4 and in_dims[3] == 3 and len(_dims(outputs[0])) == 3


def _bare_io(model):
    """Return (input value_info, output value_info, (h, w) in, (h, w) out, classes)."""
    inputs = _graph_inputs(model)
    if len(inputs) != 1 or len(model.graph.output) != 1:
        raise DeploymentGraphError(
            'a bare network graph has one input (float32 N x 3 x H x W) and one output (scores '
            'N x C x H x W); this one has %d inputs and %d outputs'
            % (len(inputs), len(model.graph.output)))
    net_in, net_out = inputs[0], model.graph.output[0]
    in_dims, out_dims = _dims(net_in), _dims(net_out)
    from onnx import TensorProto

    if net_in.type.tensor_type.elem_type != TensorProto.FLOAT:
        raise DeploymentGraphError('input %r of the bare network must be float32 (an FP16 model '
                                   'keeps float32 I/O)' % net_in.name)
    if len(in_dims) != 4 or in_dims[1] != 3 or not all(isinstance(d, int) for d in in_dims[2:]):
        raise DeploymentGraphError(
            'input %r of the bare network must have shape (N, 3, H, W) with fixed H and W, got '
            '%s' % (net_in.name, in_dims))
    if len(out_dims) != 4:
        raise DeploymentGraphError('output %r of the bare network must have shape (N, C, H, W), '
                                   'got %s' % (net_out.name, out_dims))
    in_hw = (in_dims[2], in_dims[3])
    out_hw = tuple(out_dims[2:]) if all(isinstance(d, int) for d in out_dims[2:]) else in_hw
    return net_in, net_out, in_hw, out_hw, out_dims[1]


class _Builder:
    """Collects the nodes and initializers of the deployment graph's pre/ and post/ parts."""

    def __init__(self):
        self.nodes, self.inits = [], []

    def const(self, name, values, dtype=np.int64):
        from onnx import numpy_helper

        self.inits.append(numpy_helper.from_array(np.asarray(values, dtype=dtype), name))
        return name

    def node(self, op, inputs, output, name=None, **attrs):
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, [output], name=name or output, **attrs))
        return output


def _window(b, x, axis, upsampled, wanted, offset, tag):
    """
    Labels row j of `wanted` <- row clamp(j - offset, 0, upsampled - 1) of x, along `axis`.

    Slice for the rows that exist, then Concat with copies of the border rows (Pad's edge mode
    is not in TensorRT 8.0: onnx-tensorrt 8.0-GA docs/operators.md, zero-constant Pad only).
    Shape of x: (N, 1, h, w), any dtype.
    """
    start, end = max(0, -offset), min(upsampled, wanted - offset)
    before, after = max(0, offset), wanted - max(0, offset) - (end - start)
    axes = b.const('post/%s_axis' % tag, [axis])
    if start > 0 or end < upsampled:
        x = b.node('Slice', [x, b.const('post/%s_start' % tag, [start]),
                             b.const('post/%s_end' % tag, [end]), axes], 'post/%s_body' % tag)
    if before == 0 and after == 0:
        return x
    parts = []
    if before:
        parts += [b.node('Slice', [x, 'post/zero', 'post/one', axes],
                         'post/%s_first' % tag)] * before
    parts.append(x)
    if after:
        parts += [b.node('Slice', [x, 'post/minus_one', 'post/int_max', axes],
                         'post/%s_last' % tag)] * after
    return b.node('Concat', parts, 'post/%s_extended' % tag, axis=axis)


def _pre(b, net_in, in_hw, camera_hw, float_io, for_tensorrt):
    """Add the nodes: frames -> the bare network's input (see the module docstring)."""
    from onnx import TensorProto

    if float_io:
        x = b.node('Transpose', [DEPLOY_INPUT_NAME], 'pre/nchw', name='pre/transpose',
                   perm=[0, 3, 1, 2])
    elif for_tensorrt:
        # TensorRT lets a UINT8 input feed only a Cast (NVIDIA/TensorRT#3985): cast first.
        f = b.node('Cast', [DEPLOY_INPUT_NAME], 'pre/frames_f32', name='pre/cast',
                   to=TensorProto.FLOAT)
        x = b.node('Transpose', [f], 'pre/nchw', name='pre/transpose', perm=[0, 3, 1, 2])
    else:
        # The uint8 transpose moves a quarter of the bytes of a float one (ONNX Runtime at
        # 1280x720: 3.0 ms vs 5.0 ms for the three pre ops); the values are identical.
        t = b.node('Transpose', [DEPLOY_INPUT_NAME], 'pre/nchw', name='pre/transpose',
                   perm=[0, 3, 1, 2])
        x = b.node('Cast', [t], 'pre/nchw_f32', name='pre/cast', to=TensorProto.FLOAT)
    # The batch size comes from a float tensor, never from the uint8 frames (a Shape of a UINT8
    # input is rejected by TensorRT, see above).
    shape = b.node('Shape', [x], 'pre/frames_shape', name='pre/shape')
    b.node('Slice', [shape, b.const('pre/zero', [0]), b.const('pre/one', [1])], 'pre/batch')
    if in_hw != camera_hw:
        sizes = b.node('Concat', ['pre/batch', b.const('pre/chw', [3, in_hw[0], in_hw[1]])],
                       'pre/sizes', axis=0)
        x = b.node('Resize', [x, '', '', sizes], 'pre/resized', name='pre/resize',
                   mode='linear', coordinate_transformation_mode='half_pixel')
    mean = b.const('pre/mean', MEAN_BGR.reshape(1, 3, 1, 1), np.float32)
    std = b.const('pre/std', STD_BGR.reshape(1, 3, 1, 1), np.float32)
    centred = b.node('Sub', [x, mean], 'pre/centred', name='pre/sub')
    b.node('Div', [centred, std], net_in, name='pre/div')


def _post(b, net_out, tail, out_hw, camera_hw, output, label_type, for_tensorrt,
          channels_last):
    """Add the nodes: bare network's scores (or the folded tail's source) -> labels (N, h, w)."""
    from onnx import TensorProto

    b.const('post/zero', [0])
    b.const('post/one', [1])
    b.const('post/minus_one', [-1])
    b.const('post/int_max', [2 ** 62])
    labels = None
    if tail is not None and channels_last:
        # ONNX Runtime: upsample channels-last, ArgMax over the last axis (measured at 1280x720,
        # 19 classes: Resize 2.4 vs 3.7 ms, ArgMax 1.3 vs 1.8 ms; identical values).
        x = b.node('Transpose', [tail.source], 'post/nhwc', perm=[0, 2, 3, 1])
        up = b.node('Resize', [x, b.const('post/roi', [], np.float32),
                               b.const('post/scales', [1, tail.scale[0], tail.scale[1], 1],
                                       np.float32)],
                    'post/upscore', mode='linear', coordinate_transformation_mode='asymmetric')
        idx = b.node('ArgMax', [up], 'post/argmax', axis=3, keepdims=1)
        h, w = tail.upsampled_hw
        labels = b.node('Cast', [idx], 'post/labels_nhwc', name='post/cast_u8', to=label_type)
        labels = b.node('Reshape', [labels, b.const('post/n1hw', [0, 1, h, w])], 'post/labels')
    elif tail is not None:
        up = b.node('Resize', [tail.source, b.const('post/roi', [], np.float32),
                               b.const('post/scales', [1, 1, tail.scale[0], tail.scale[1]],
                                       np.float32)],
                    'post/upscore', mode='linear', coordinate_transformation_mode='asymmetric')
        idx = b.node('ArgMax', [up], 'post/argmax', axis=1, keepdims=1)
    else:
        idx = b.node('ArgMax', [net_out], 'post/argmax', axis=1, keepdims=1)
    if labels is None:
        # TensorRT converts UINT8 only from FLOAT/FLOAT16 and resizes float tensors only
        # (release/8.5 NvInferRuntimeCommon.h kUINT8; docs/operators.md Resize): the labels stay
        # float inside the graph and are cast once at the end.
        inner = TensorProto.FLOAT if for_tensorrt else label_type
        labels = b.node('Cast', [idx], 'post/labels', name='post/cast_labels', to=inner)
    if tail is not None:
        labels = _window(b, labels, 2, tail.upsampled_hw[0], out_hw[0], tail.offset[0], 'rows')
        labels = _window(b, labels, 3, tail.upsampled_hw[1], out_hw[1], tail.offset[1], 'cols')
    if output == 'camera' and out_hw != camera_hw:
        sizes = b.node('Concat', ['pre/batch', b.const('post/hw', [1, camera_hw[0],
                                                                   camera_hw[1]])],
                       'post/sizes', axis=0)
        # 4-D nearest resize: ONNX Runtime's fast path (0.05 ms vs 1.0 ms on (N, h, w)).
        labels = b.node('Resize', [labels, '', '', sizes], 'post/upsampled', name='post/resize',
                        mode='nearest', coordinate_transformation_mode='asymmetric',
                        nearest_mode='floor')
    final = DEPLOY_OUTPUT_NAME if not for_tensorrt else 'post/labels_hw'
    b.node('Squeeze', [labels, 'post/one'], final, name='post/squeeze')
    if for_tensorrt:
        b.node('Cast', [final], DEPLOY_OUTPUT_NAME, name='post/cast', to=label_type)


def build_deployment_graph(bare: ModelLike, camera_hw: Tuple[int, int] = CAMERA_HW,
                           output: str = 'camera', float_io: bool = False,
                           for_tensorrt: bool = False, channels_last: bool = True):
    """
    Wrap a bare network graph into the deployment graph (see the module docstring).

    bare: path or ModelProto of the bare network: input float32 (N, 3, h, w), output scores
        float32 (N, C, h', w').
    camera_hw: (height, width) of the camera frames the graph takes.
    output: 'camera' (labels at camera_hw) or 'network' (labels at the scores' grid).
    float_io: float32 frames (0..255) in and int32 labels out, for TensorRT < 8.5.
    for_tensorrt: the TensorRT form (UINT8 only at the boundary and in Casts, float Resize).
    channels_last: upsample the folded tail channels-last (ONNX Runtime form only); ONNX
        Runtime before 1.11 resizes NHWC float tensors wrongly (its NHWC bilinear path arrived
        with microsoft/onnxruntime#10554): its runner turns this off there.
    Returns an onnx.ModelProto with input `frames` (N, H, W, 3) uint8 (float32 with float_io)
    and output `labels` (N, h, w) uint8 (int32 with float_io).
    """
    from onnx import helper, TensorProto

    if output not in OUTPUT_MODES:
        raise ValueError('output must be one of %s, got %r' % (OUTPUT_MODES, output))
    camera_hw = (int(camera_hw[0]), int(camera_hw[1]))
    if camera_hw[0] < 1 or camera_hw[1] < 1:
        raise ValueError('camera_hw must be positive, got %s' % (camera_hw,))
    model = _bare_copy(bare)
    net_in, net_out, in_hw, out_hw, classes = _bare_io(model)
    batch_dim = _dims(net_in)[0] or 'N'
    graph = model.graph
    _check_names_free(graph)
    tail = match_upscore_tail(model)
    label_type = TensorProto.INT32 if float_io else TensorProto.UINT8
    frame_type = TensorProto.FLOAT if float_io else TensorProto.UINT8
    pre, post = _Builder(), _Builder()
    _pre(pre, net_in.name, in_hw, camera_hw, float_io, for_tensorrt)
    channels_last = bool(channels_last and tail is not None and not for_tensorrt)
    _post(post, net_out.name, tail, out_hw, camera_hw, output, label_type, for_tensorrt,
          channels_last)
    labels_hw = camera_hw if output == 'camera' else out_hw
    folded = remove_tail(model, tail) if tail is not None else None
    nodes = pre.nodes + list(graph.node) + post.nodes
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend(pre.inits + post.inits)
    _replace_io(graph, net_in, net_out,
                helper.make_tensor_value_info(
                    DEPLOY_INPUT_NAME, frame_type, [batch_dim, camera_hw[0], camera_hw[1], 3]),
                helper.make_tensor_value_info(
                    DEPLOY_OUTPUT_NAME, label_type, [batch_dim, labels_hw[0], labels_hw[1]]))
    graph.name = (graph.name or 'network') + '_deploy'
    info = {
        'camera_hw': list(camera_hw), 'net_input_hw': list(in_hw), 'net_output_hw': list(out_hw),
        'labels_hw': list(labels_hw), 'output': output, 'float_io': bool(float_io),
        'for_tensorrt': bool(for_tensorrt), 'net_input': net_in.name,
        'net_output': net_out.name, 'classes': classes, 'folded_tail': folded,
        'channels_last': channels_last,
    }
    _set_info(model, info)
    _check_valid(model)
    return model


def _bare_copy(bare):
    """Return a checked copy of the bare network `bare`, converted to MIN_OPSET if older."""
    import onnx

    source = load_model(bare)
    if is_deployment_graph(source):
        raise DeploymentGraphError('the model is already a deployment graph; use '
                                   'ensure_deployment_graph() to pass it through')
    model = onnx.ModelProto()
    model.CopyFrom(source)
    check_network(model, 'the bare graph')
    opset = _opset(model)
    if opset < MIN_OPSET:
        LOG.debug('converting the bare graph from opset %d to %d', opset, MIN_OPSET)
        from onnx import version_converter

        try:
            model = version_converter.convert_version(model, MIN_OPSET)
        except (version_converter.ConvertError, RuntimeError, ValueError, IndexError) as exc:
            # C++ assertions arrive as RuntimeError; onnx 1.11 raises IndexError for an op
            # without a schema.
            raise DeploymentGraphError(
                'cannot convert the bare graph from opset %d to %d (onnx.version_converter: %s); '
                'export it with --opset %d' % (opset, MIN_OPSET, ' '.join(str(exc).split())[:300],
                                               MIN_OPSET)) from exc
        # Opset 13 came with IR version 7 (ONNX 1.8, onnx/onnx docs/Versioning.md); the converter
        # keeps the old IR version, under which (< 4) every initializer would have to be a graph
        # input.
        model.ir_version = max(model.ir_version, MIN_IR_VERSION)
    return model


def _check_names_free(graph):
    """Raise DeploymentGraphError where the bare graph already uses a deployment I/O name."""
    taken = {n.name for n in graph.node} | {i.name for i in graph.initializer}
    for node in graph.node:
        taken.update(node.output)
    for name in (DEPLOY_INPUT_NAME, DEPLOY_OUTPUT_NAME):
        if name in taken:
            raise DeploymentGraphError('the bare graph already uses the name %r' % name)


def _replace_io(graph, net_in, net_out, frames_vi, labels_vi):
    """Make `frames_vi` the graph's first input and `labels_vi` its only output."""
    for i, vi in enumerate(graph.input):
        if vi.name == net_in.name:
            del graph.input[i]
            break
    graph.input.insert(0, frames_vi)
    # The bare input/output become intermediate tensors; keep their shapes as value_info.
    graph.value_info.extend([net_in, net_out])
    del graph.output[:]
    graph.output.extend([labels_vi])


def _check_valid(model):
    """Raise DeploymentGraphError where onnx.checker rejects the deployment graph (< 2 GiB)."""
    import onnx

    if model.ByteSize() < 2 ** 31 - 1:
        try:
            onnx.checker.check_model(model)
        except onnx.checker.ValidationError as exc:
            raise DeploymentGraphError('the deployment graph made from this bare graph is not a '
                                       'valid ONNX model (onnx.checker: %s); check the bare graph '
                                       'with onnx.checker.check_model'
                                       % ' '.join(str(exc).split())[:300]) from exc


def _set_info(model, info):
    for i, prop in enumerate(model.metadata_props):
        if prop.key == METADATA_KEY:
            del model.metadata_props[i]
            break
    entry = model.metadata_props.add()
    entry.key = METADATA_KEY
    entry.value = json.dumps(info, sort_keys=True)


def bare_graph_of(path_or_model: ModelLike):
    """
    Recover the bare network from a deployment graph built by `build_deployment_graph`.

    Drops the `pre/` and `post/` nodes and initializers and restores the network's own input and
    output. Raises DeploymentGraphError for graphs without the recorded build settings.
    """
    import onnx

    source = load_model(path_or_model)
    info = deployment_info(source)
    if info is None:
        raise DeploymentGraphError('the graph carries no %s metadata, so its bare network '
                                   'cannot be recovered; export the bare graph instead'
                                   % METADATA_KEY)
    model = onnx.ModelProto()
    model.CopyFrom(source)
    graph = model.graph
    by_name = {vi.name: vi for vi in graph.value_info}
    net_in, net_out = by_name.get(info['net_input']), by_name.get(info['net_output'])
    if net_in is None or net_out is None:
        raise DeploymentGraphError('the deployment graph lost the value_info of %r / %r'
                                   % (info['net_input'], info['net_output']))
    net_in_copy, net_out_copy = onnx.ValueInfoProto(), onnx.ValueInfoProto()
    net_in_copy.CopyFrom(net_in)
    net_out_copy.CopyFrom(net_out)
    keep_nodes = [n for n in graph.node if not n.name.startswith(('pre/', 'post/'))]
    keep_inits = [i for i in graph.initializer if not i.name.startswith(('pre/', 'post/'))]
    keep_vi = [vi for vi in graph.value_info
               if vi.name not in (info['net_input'], info['net_output'])
               and not vi.name.startswith(('pre/', 'post/'))]
    other_inputs = [vi for vi in graph.input if vi.name != DEPLOY_INPUT_NAME]
    del graph.node[:], graph.initializer[:], graph.value_info[:], graph.input[:]
    del graph.output[:]
    if info.get('folded_tail'):
        import base64

        saved = onnx.GraphProto()
        saved.ParseFromString(base64.b64decode(info['folded_tail']))
        keep_nodes += list(saved.node)
        names = {i.name for i in keep_inits}
        keep_inits += [i for i in saved.initializer if i.name not in names]
    graph.node.extend(keep_nodes)
    graph.initializer.extend(keep_inits)
    graph.value_info.extend(keep_vi)
    graph.input.extend([net_in_copy] + other_inputs)
    graph.output.extend([net_out_copy])
    if graph.name.endswith('_deploy'):
        graph.name = graph.name[:-len('_deploy')]
    for i, prop in enumerate(model.metadata_props):
        if prop.key == METADATA_KEY:
            del model.metadata_props[i]
            break
    return model


def ensure_deployment_graph(path_or_model: ModelLike, camera_hw: Tuple[int, int] = CAMERA_HW,
                            output: str = 'camera', float_io: bool = False,
                            for_tensorrt: bool = False, channels_last: bool = True):
    """
    Return a deployment graph for a bare or deployment graph.

    A bare graph is wrapped with the given settings. A deployment graph is passed through as it
    is when its recorded settings match (or when it has none recorded, e.g. one exported
    elsewhere); when they differ, it is rebuilt from its bare network with the requested ones.
    A deployment graph without recorded settings whose frame size differs from camera_hw raises
    DeploymentGraphError.
    """
    model = load_model(path_or_model)
    settings = {'output': output, 'float_io': float_io, 'for_tensorrt': for_tensorrt,
                'channels_last': channels_last}
    if not is_deployment_graph(model):
        return build_deployment_graph(model, camera_hw=camera_hw, **settings)
    info = deployment_info(model)
    camera_hw = (int(camera_hw[0]), int(camera_hw[1]))
    if info is None:
        in_dims = _dims(_graph_inputs(model)[0])
        if tuple(in_dims[1:3]) != camera_hw:
            raise DeploymentGraphError(
                'the deployment graph takes %sx%s frames but %dx%d were asked for; export it '
                'for that camera size' % (in_dims[1], in_dims[2], camera_hw[0], camera_hw[1]))
        return model
    wanted = {'camera_hw': camera_hw, 'output': output, 'float_io': bool(float_io)}
    have = {k: info[k] for k in wanted}
    # A graph built for TensorRT also runs on ONNX Runtime, not the other way round; a
    # channels-last one only where channels_last is allowed.
    if have == wanted and (info['for_tensorrt'] or not for_tensorrt) and \
            (channels_last or not info.get('channels_last')):
        return model
    LOG.debug('re-wrapping the deployment graph: it has %s, asked for %s%s', have, wanted,
              ' for TensorRT' if for_tensorrt else '')
    return build_deployment_graph(bare_graph_of(model), camera_hw=camera_hw, **settings)


def upscore_nodes(path_or_model: ModelLike) -> Tuple[str, ...]:
    """
    Names of the nodes that upsample the scores to the network grid and crop them.

    Folded deployment graphs: the channels-last transpose, `post/upscore` and the label window;
    other graphs: the matched upscore tail (`deploy_tail.match_upscore_tail`), or the Resize
    producing the scores; else ().
    """
    model = load_model(path_or_model)
    info = deployment_info(model)
    if info is not None and info.get('folded_tail'):
        return tuple(n.name for n in model.graph.node
                     if n.name in ('post/nhwc', 'post/upscore')
                     or n.name.startswith(('post/rows_', 'post/cols_')))
    bare = bare_graph_of(model) if info is not None else model
    tail = match_upscore_tail(bare)
    if tail is not None:
        return tuple(n.name for n in tail.nodes)
    last = [n for n in bare.graph.node if bare.graph.output[0].name in n.output]
    return tuple(n.name for n in last if n.op_type == 'Resize')
