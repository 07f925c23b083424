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
      -> post/argmax (axis 1) -> post/cast uint8 -> post/resize (nearest, asymmetric, floor) to
         the camera size (output='camera' only)
    labels uint8 (N, h, w)

Variants:
- ``float_io=True``: float32 frames (values 0..255) and int32 labels, for TensorRT < 8.6, which
  has no UINT8 network I/O.
- ``for_tensorrt=True``: frames are cast before the transpose, and the label upsample runs on
  float32 labels (Cast -> Resize -> Cast), because TensorRT takes UINT8 only at the network
  boundary and in Cast, and its Resize takes float types only. For ONNX Runtime the uint8
  transpose and the uint8 label resize are cheaper on the CPU; the results are identical.

This module imports onnx only (no torch), so the runtime layer can wrap a bare graph on the
target machine.
"""


import json
import logging
import os
from typing import Optional, Tuple, Union

import numpy as np

from fxseg_ros.data.preprocess import (
    CAMERA_WH, DEPLOY_INPUT_NAME, DEPLOY_OUTPUT_NAME, MEAN_BGR, STD_BGR,
)

LOG = logging.getLogger(__name__)

#: Key of the model metadata entry that records how a deployment graph was built (JSON).
METADATA_KEY = 'fxseg_ros.deployment'
#: Lowest opset the deployment graph needs (Resize with optional roi/scales inputs).
MIN_OPSET = 13
#: Default camera resolution, (height, width).
CAMERA_HW: Tuple[int, int] = (CAMERA_WH[1], CAMERA_WH[0])
OUTPUT_MODES = ('camera', 'network')

ModelLike = Union[str, 'os.PathLike[str]', 'onnx.ModelProto']  # noqa: F821


class DeploymentGraphError(ValueError):
    """A graph cannot be wrapped (or unwrapped); the message says why."""


def load_model(path_or_model: ModelLike):
    """
    Return an `onnx.ModelProto` for a path or a model (passed through).

    Raises DeploymentGraphError for a missing or unreadable file.
    """
    import onnx

    if isinstance(path_or_model, onnx.ModelProto):
        return path_or_model
    path = os.fspath(path_or_model)
    if not os.path.isfile(path):
        raise DeploymentGraphError('ONNX model %s does not exist' % path)
    try:
        return onnx.load(path)
    except Exception as exc:  # onnx raises DecodeError and others for corrupt files
        raise DeploymentGraphError('cannot read ONNX model %s (%s: %s); is it a complete ONNX '
                                   'file?' % (path, type(exc).__name__, exc)) from exc


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


def build_deployment_graph(bare: ModelLike, camera_hw: Tuple[int, int] = CAMERA_HW,
                           output: str = 'camera', float_io: bool = False,
                           for_tensorrt: bool = False):
    """
    Wrap a bare network graph into the deployment graph (see the module docstring).

    bare: path or ModelProto of the bare network: input float32 (N, 3, h, w), output scores
        float32 (N, C, h', w').
    camera_hw: (height, width) of the camera frames the graph takes.
    output: 'camera' (labels at camera_hw) or 'network' (labels at the scores' grid).
    float_io: float32 frames (0..255) in and int32 labels out, for TensorRT < 8.6.
    for_tensorrt: upsample labels in float32 (TensorRT's Resize takes float types only).
    Returns an onnx.ModelProto with input `frames` (N, H, W, 3) uint8 (float32 with float_io)
    and output `labels` (N, h, w) uint8 (int32 with float_io).
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    if output not in OUTPUT_MODES:
        raise ValueError('output must be one of %s, got %r' % (OUTPUT_MODES, output))
    camera_hw = (int(camera_hw[0]), int(camera_hw[1]))
    if camera_hw[0] < 1 or camera_hw[1] < 1:
        raise ValueError('camera_hw must be positive, got %s' % (camera_hw,))
    source = load_model(bare)
    if is_deployment_graph(source):
        raise DeploymentGraphError('the model is already a deployment graph; use '
                                   'ensure_deployment_graph() to pass it through')
    model = onnx.ModelProto()
    model.CopyFrom(source)
    opset = _opset(model)
    if opset < MIN_OPSET:
        LOG.info('converting the bare graph from opset %d to %d', opset, MIN_OPSET)
        from onnx import version_converter

        model = version_converter.convert_version(model, MIN_OPSET)
    net_in, net_out, in_hw, out_hw, classes = _bare_io(model)
    batch_dim = _dims(net_in)[0]
    if batch_dim is None:
        batch_dim = 'N'
    graph = model.graph
    taken = {n.name for n in graph.node} | {i.name for i in graph.initializer}
    for node in graph.node:
        taken.update(node.output)
    for name in (DEPLOY_INPUT_NAME, DEPLOY_OUTPUT_NAME):
        if name in taken:
            raise DeploymentGraphError('the bare graph already uses the name %r' % name)

    label_type = TensorProto.INT32 if float_io else TensorProto.UINT8
    frame_type = TensorProto.FLOAT if float_io else TensorProto.UINT8
    inits = [
        numpy_helper.from_array(MEAN_BGR.reshape(1, 3, 1, 1).astype(np.float32), 'pre/mean'),
        numpy_helper.from_array(STD_BGR.reshape(1, 3, 1, 1).astype(np.float32), 'pre/std'),
        numpy_helper.from_array(np.array([0], dtype=np.int64), 'pre/zero'),
        numpy_helper.from_array(np.array([1], dtype=np.int64), 'pre/one'),
    ]
    transpose = helper.make_node('Transpose', [DEPLOY_INPUT_NAME], ['pre/nchw'],
                                 name='pre/transpose', perm=[0, 3, 1, 2])
    if float_io:
        pre = [transpose]
        x = 'pre/nchw'
    elif for_tensorrt:
        # TensorRT takes UINT8 only at the network boundary and in Cast: cast first.
        pre = [helper.make_node('Cast', [DEPLOY_INPUT_NAME], ['pre/frames_f32'], name='pre/cast',
                                to=TensorProto.FLOAT)]
        transpose.input[0] = 'pre/frames_f32'
        pre.append(transpose)
        x = 'pre/nchw'
    else:
        # Transposing the uint8 frames moves a quarter of the bytes of a float transpose
        # (measured with ONNX Runtime at 1280x720: 3.0 ms vs 5.0 ms for the three pre ops);
        # the result is identical.
        pre = [transpose, helper.make_node('Cast', ['pre/nchw'], ['pre/nchw_f32'],
                                           name='pre/cast', to=TensorProto.FLOAT)]
        x = 'pre/nchw_f32'
    need_batch = in_hw != camera_hw or (output == 'camera' and out_hw != camera_hw)
    if need_batch:
        pre += [
            helper.make_node('Shape', [DEPLOY_INPUT_NAME], ['pre/frames_shape'],
                             name='pre/shape'),
            helper.make_node('Slice', ['pre/frames_shape', 'pre/zero', 'pre/one'], ['pre/batch'],
                             name='pre/batch'),
        ]
    if in_hw != camera_hw:
        inits.append(numpy_helper.from_array(np.array([3, in_hw[0], in_hw[1]], dtype=np.int64),
                                             'pre/chw'))
        pre += [
            helper.make_node('Concat', ['pre/batch', 'pre/chw'], ['pre/sizes'],
                             name='pre/sizes', axis=0),
            helper.make_node('Resize', [x, '', '', 'pre/sizes'], ['pre/resized'],
                             name='pre/resize', mode='linear',
                             coordinate_transformation_mode='half_pixel'),
        ]
        x = 'pre/resized'
    pre += [
        helper.make_node('Sub', [x, 'pre/mean'], ['pre/centred'], name='pre/sub'),
        helper.make_node('Div', ['pre/centred', 'pre/std'], [net_in.name], name='pre/div'),
    ]

    post = [helper.make_node('ArgMax', [net_out.name], ['post/argmax'], name='post/argmax',
                             axis=1, keepdims=0)]
    if output == 'camera' and out_hw != camera_hw:
        labels_hw = camera_hw
        inits.append(numpy_helper.from_array(np.array(camera_hw, dtype=np.int64), 'post/hw'))
        post.append(helper.make_node('Concat', ['pre/batch', 'post/hw'], ['post/sizes'],
                                     name='post/sizes', axis=0))
        resize_attrs = dict(mode='nearest', coordinate_transformation_mode='asymmetric',
                            nearest_mode='floor')
        if for_tensorrt:
            post += [
                helper.make_node('Cast', ['post/argmax'], ['post/labels_f32'],
                                 name='post/cast_f32', to=TensorProto.FLOAT),
                helper.make_node('Resize', ['post/labels_f32', '', '', 'post/sizes'],
                                 ['post/upsampled'], name='post/resize', **resize_attrs),
                helper.make_node('Cast', ['post/upsampled'], [DEPLOY_OUTPUT_NAME],
                                 name='post/cast', to=label_type),
            ]
        else:
            post += [
                helper.make_node('Cast', ['post/argmax'], ['post/labels_net'], name='post/cast',
                                 to=label_type),
                helper.make_node('Resize', ['post/labels_net', '', '', 'post/sizes'],
                                 [DEPLOY_OUTPUT_NAME], name='post/resize', **resize_attrs),
            ]
    else:
        labels_hw = out_hw
        post.append(helper.make_node('Cast', ['post/argmax'], [DEPLOY_OUTPUT_NAME],
                                     name='post/cast', to=label_type))

    nodes = pre + list(graph.node) + post
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend(inits)
    for i, vi in enumerate(graph.input):
        if vi.name == net_in.name:
            del graph.input[i]
            break
    graph.input.insert(0, helper.make_tensor_value_info(
        DEPLOY_INPUT_NAME, frame_type, [batch_dim, camera_hw[0], camera_hw[1], 3]))
    # The bare input/output become intermediate tensors; keep their shapes as value_info.
    graph.value_info.extend([net_in, net_out])
    del graph.output[:]
    graph.output.extend([helper.make_tensor_value_info(
        DEPLOY_OUTPUT_NAME, label_type, [batch_dim, labels_hw[0], labels_hw[1]])])
    graph.name = (graph.name or 'network') + '_deploy'
    info = {
        'camera_hw': list(camera_hw), 'net_input_hw': list(in_hw), 'net_output_hw': list(out_hw),
        'labels_hw': list(labels_hw), 'output': output, 'float_io': bool(float_io),
        'for_tensorrt': bool(for_tensorrt), 'net_input': net_in.name,
        'net_output': net_out.name, 'classes': classes,
    }
    for i, prop in enumerate(model.metadata_props):
        if prop.key == METADATA_KEY:
            del model.metadata_props[i]
            break
    entry = model.metadata_props.add()
    entry.key = METADATA_KEY
    entry.value = json.dumps(info, sort_keys=True)
    if model.ByteSize() < 2 ** 31 - 1:
        onnx.checker.check_model(model)
    return model


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
                            for_tensorrt: bool = False):
    """
    Return a deployment graph for a bare or deployment graph.

    A bare graph is wrapped with the given settings. A deployment graph is passed through as it
    is when its recorded settings match (or when it has none recorded, e.g. one exported
    elsewhere); when they differ, it is rebuilt from its bare network with the requested ones.
    A deployment graph without recorded settings whose frame size differs from camera_hw raises
    DeploymentGraphError.
    """
    model = load_model(path_or_model)
    if not is_deployment_graph(model):
        return build_deployment_graph(model, camera_hw=camera_hw, output=output,
                                      float_io=float_io, for_tensorrt=for_tensorrt)
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
    # A graph built for TensorRT also runs on ONNX Runtime, not the other way round.
    if have == wanted and (info['for_tensorrt'] or not for_tensorrt):
        return model
    LOG.info('re-wrapping the deployment graph: it has %s, asked for %s%s', have, wanted,
             ' for TensorRT' if for_tensorrt else '')
    return build_deployment_graph(bare_graph_of(model), camera_hw=camera_hw, output=output,
                                  float_io=float_io, for_tensorrt=for_tensorrt)
