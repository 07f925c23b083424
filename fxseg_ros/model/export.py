# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Export FCN-AlexNet to the bare ONNX network graph (and the deployment graph built from it).

Bare graph: input `input` float32 [N, 3, H, W] (N dynamic), output `scores` float32
[N, classes, H, W]. The network up to its score maps (`score_fr`, and the skip score layers)
goes through torch's TorchScript ONNX exporter (opset 13 by default, the newest TensorRT 8.2
parses); the upscore is appended here with `onnx.helper`, because what torch would emit for it
is measurably wrong for us:

- FCN's fixed per-class bilinear ConvTranspose k/32 + crop is a bilinear x32 upsampling. As a
  ConvTranspose it took 80-90 % of a x0.25 model's CPU time; as a `Resize` it is cheap. Exactly,
  with x zero-padded by one cell on each side (the zero cells reproduce the ConvTranspose's
  fade-out at the borders):
  kernel 63 (tent centred on tap 31): ConvTranspose output o is cell (o - 31) / 32; Resize
  linear `asymmetric` x32 output o' is padded cell o' / 32 = cell (o' - 32) / 32, so
  ConvTranspose(x)[o] = Resize(Pad(x))[o + 1];
  kernel 64 (centred on 31.5): output o is cell (o - 31.5) / 32; Resize linear `half_pixel`
  output o' is padded cell (o' + 0.5) / 32 - 0.5 = cell (o' - 47.5) / 32, so the shift is 16.
  With Caffe's crop offset c the graph is Pad -> Resize -> Slice(start c + shift);
  `test_model_export.py` checks both against torch's ConvTranspose, borders included.
- the `resize` upscore becomes one `Resize` with constant scales when the input size is a whole
  multiple of the score map (as at 640x360), else with sizes from the score map's shape.
- FCN-16s / 8s style skips (output_stride 16 / 8 / 4) fuse on exactly aligned grids with
  Resize (linear, asymmetric) x2 -> Slice -> Add, then edge cells (Slice, Concat) -> Resize ->
  Slice to pixels.
- each LRN is one ONNX `LRN` op (see `fcn_alexnet.LocalResponseNorm`).
"""

from __future__ import annotations

import copy
import io
import json
import logging
from pathlib import Path
import time
from typing import Dict, Optional, Sequence, Tuple, Union
import warnings

from fxseg_ros.data.preprocess import NET_INPUT_NAME, NET_OUTPUT_NAME
from fxseg_ros.model.config import bilinear_kernel, FCNConfig, UPSCORE_STRIDE
from fxseg_ros.model.fcn_alexnet import count_macs, count_parameters, FCNAlexNet, load_checkpoint
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto
import torch

LOG = logging.getLogger(__name__)

#: Name of the coarse score tensor the upscore starts from.
SCORE_MAP_NAME = 'score_fr'
#: Metadata key holding the FCNConfig of an exported graph (JSON).
CONFIG_METADATA_KEY = 'fxseg.fcn_alexnet.config'
#: Upscore export choices for the fixed bilinear upscore.
UPSCORE_OPS = ('resize', 'convtranspose')
DEFAULT_OPSET = 13
#: Prefix the export wrapper puts on initializer names (removed again).
_WRAPPER_PREFIX = 'model.'
#: Names of the score maps the upscore starts from (FCN's names for the skips' score layers).
SCORE_MAP_NAMES = ('score_fr', 'score_pool2', 'score_pool1', 'score_conv1')


class _ScoreMap(torch.nn.Module):

    def __init__(self, model: FCNAlexNet):
        super().__init__()
        self.model = model

    def forward(self, x):
        return tuple(self.model.score_maps(x))


def _export_score_map(model: FCNAlexNet, input_hw: Tuple[int, int], opset: int) -> onnx.ModelProto:
    dummy = torch.zeros((1, 3) + tuple(input_hw), dtype=torch.float32)
    buffer = io.BytesIO()
    outputs = list(SCORE_MAP_NAMES[:{32: 1, 16: 2, 8: 3, 4: 4}[model.config.output_stride]])
    dynamic_axes = {name: {0: 'N'} for name in [NET_INPUT_NAME] + outputs}
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated in favour of the dynamo one, which has no
        # opset 13 (TensorRT 8.2) and no forward-symbolic hook for LRN; it still works.
        warnings.simplefilter('ignore')
        kwargs = {'input_names': [NET_INPUT_NAME], 'output_names': outputs,
                  'dynamic_axes': dynamic_axes, 'opset_version': opset,
                  'do_constant_folding': True}
        try:
            torch.onnx.export(_ScoreMap(model), (dummy,), buffer, dynamo=False, **kwargs)
        except TypeError:  # torch < 2.5: no `dynamo` argument, the TorchScript exporter only
            torch.onnx.export(_ScoreMap(model), (dummy,), buffer, **kwargs)
    return onnx.load_from_string(buffer.getvalue())


def _inline_identity_initializers(graph: onnx.GraphProto) -> None:
    """
    Replace `Identity(initializer)` nodes by initializers of their own.

    The TorchScript exporter shares equal initializers (e.g. the zero biases of an untrained
    model) through Identity nodes; quantization tools expect each Conv to own its weights.
    """
    inits = {t.name: t for t in graph.initializer}
    keep = []
    for node in graph.node:
        if node.op_type == 'Identity' and node.input[0] in inits:
            copy_ = TensorProto()
            copy_.CopyFrom(inits[node.input[0]])
            copy_.name = node.output[0]
            graph.initializer.append(copy_)
        else:
            keep.append(node)
    del graph.node[:]
    graph.node.extend(keep)
    used = {name for node in graph.node for name in node.input}
    unused = [t for t in graph.initializer if t.name not in used]
    for tensor in unused:
        graph.initializer.remove(tensor)
    # Initializers carry the state-dict names ('conv1.weight'), without the export wrapper's.
    renamed = {}
    for tensor in graph.initializer:
        if tensor.name.startswith(_WRAPPER_PREFIX):
            renamed[tensor.name] = tensor.name[len(_WRAPPER_PREFIX):]
            tensor.name = renamed[tensor.name]
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in renamed:
                node.input[i] = renamed[name]


def _const(name: str, array: np.ndarray) -> TensorProto:
    return numpy_helper.from_array(np.asarray(array), name)


def resize_equivalent(kernel_size: int) -> Tuple[str, int]:
    """
    Resize mode and output shift that reproduce the fixed bilinear ConvTranspose k/32.

    ConvTranspose(x)[o] == Resize(Pad1(x), x32 linear, mode)[o + shift]: kernel 63 gives
    ('asymmetric', 1), kernel 64 gives ('half_pixel', 16) (see the module docstring).
    """
    center = (kernel_size - 1) / 2.0
    if kernel_size % 2:
        mode, sample0 = 'asymmetric', float(UPSCORE_STRIDE)
    else:
        mode, sample0 = 'half_pixel', UPSCORE_STRIDE + (UPSCORE_STRIDE - 1) / 2.0
    return mode, int(sample0 - center)


def _append_skip_upscore(graph: onnx.GraphProto, model: FCNAlexNet,
                         score_hws: Sequence[Tuple[int, int]], input_hw: Tuple[int, int]) -> None:
    """
    Add FCN-16s / 8s fusion and upsampling (see `fcn_alexnet.SkipUpscore`) to `scores`.

    Each x2 step: Resize (linear, asymmetric) -> Slice, Slice of the skip scores, Add; then
    the edge cells repeated (Slice + Concat: TensorRT 8.2 pads with zeros only) -> Resize
    x stride (linear, asymmetric) -> Slice to the input size.
    """
    plan = model.upscore.plan(score_hws[0], score_hws[1:], input_hw)
    p = 'upscore/'
    axes = _const(p + 'axes', np.array([2, 3], dtype=np.int64))
    roi = _const(p + 'roi', np.array([], dtype=np.float32))
    inits = [axes, roi, _const(p + 'zeros', np.array([0, 0], dtype=np.int64)),
             _const(p + 'scales2', np.array([1, 1, 2, 2], dtype=np.float32))]
    nodes = []
    current = SCORE_MAP_NAME
    for i, step in enumerate(plan['steps']):
        (h, w), (dy, dx) = step['size'], step['shift']
        skip = SCORE_MAP_NAMES[i + 1]
        q = '%sfuse%d/' % (p, i + 1)
        inits += [_const(q + 'size', np.array([h, w], dtype=np.int64)),
                  _const(q + 'skip_start', np.array([dy, dx], dtype=np.int64)),
                  _const(q + 'skip_end', np.array([dy + h, dx + w], dtype=np.int64))]
        nodes += [
            helper.make_node('Resize', [current, p + 'roi', p + 'scales2'], [q + 'up'],
                             name='/upscore/fuse%d/Resize' % (i + 1), mode='linear',
                             coordinate_transformation_mode='asymmetric'),
            helper.make_node('Slice', [q + 'up', p + 'zeros', q + 'size', p + 'axes'],
                             [q + 'up_crop'], name='/upscore/fuse%d/Crop' % (i + 1)),
            helper.make_node('Slice', [skip, q + 'skip_start', q + 'skip_end', p + 'axes'],
                             [q + 'skip_crop'], name='/upscore/fuse%d/CropSkip' % (i + 1)),
            helper.make_node('Add', [q + 'up_crop', q + 'skip_crop'], [q + 'sum'],
                             name='/upscore/fuse%d/Add' % (i + 1)),
        ]
        current = q + 'sum'
    (sy, sx), stride = plan['start'], plan['stride']
    inits += [_const(p + 'scales', np.array([1, 1, stride, stride], dtype=np.float32)),
              _const(p + 'starts', np.array([sy, sx], dtype=np.int64)),
              _const(p + 'ends', np.array([sy + input_hw[0], sx + input_hw[1]],
                                          dtype=np.int64)),
              _const(p + 'first', np.array([0], dtype=np.int64)),
              _const(p + 'second', np.array([1], dtype=np.int64)),
              _const(p + 'last', np.array([-1], dtype=np.int64)),
              _const(p + 'end', np.array([np.iinfo(np.int64).max], dtype=np.int64))]
    for axis, name in ((2, 'rows'), (3, 'cols')):
        front, back = plan['pad_front'][axis - 2], plan['pad_back'][axis - 2]
        if not front and not back:
            continue
        q = '%sextend_%s/' % (p, name)
        inits.append(_const(q + 'axis', np.array([axis], dtype=np.int64)))
        nodes += [
            helper.make_node('Slice', [current, p + 'first', p + 'second', q + 'axis'],
                             [q + 'head'], name='/upscore/extend_%s/Head' % name),
            helper.make_node('Slice', [current, p + 'last', p + 'end', q + 'axis'],
                             [q + 'tail'], name='/upscore/extend_%s/Tail' % name),
            helper.make_node('Concat', [q + 'head'] * front + [current] + [q + 'tail'] * back,
                             [q + 'out'], axis=axis, name='/upscore/extend_%s/Concat' % name),
        ]
        current = q + 'out'
    nodes += [
        helper.make_node('Resize', [current, p + 'roi', p + 'scales'], [p + 'resized'],
                         name='/upscore/Resize', mode='linear',
                         coordinate_transformation_mode='asymmetric'),
        helper.make_node('Slice', [p + 'resized', p + 'starts', p + 'ends', p + 'axes'],
                         [NET_OUTPUT_NAME], name='/upscore/Crop'),
    ]
    graph.node.extend(nodes)
    graph.initializer.extend(inits)


def _append_upscore(graph: onnx.GraphProto, config: FCNConfig, model: FCNAlexNet,
                    score_hws: Sequence[Tuple[int, int]], input_hw: Tuple[int, int],
                    upscore_op: str) -> None:
    """Add the upscore nodes from `score_fr` (and skips) to `scores` (module docstring)."""
    h, w = input_hw
    classes = config.num_classes
    if config.output_stride != 32:
        _append_skip_upscore(graph, model, score_hws, input_hw)
        _set_output(graph, classes, input_hw)
        return
    score_hw = score_hws[0]
    sh, sw = score_hw
    classes = config.num_classes
    nodes = []
    inits = []
    p = 'upscore/'
    if config.upscore == 'resize':
        inits.append(_const(p + 'roi', np.array([], dtype=np.float32)))
        if h % sh == 0 and w % sw == 0:
            inits.append(_const(p + 'scales', np.array([1, 1, h // sh, w // sw],
                                                       dtype=np.float32)))
            resize_inputs = [SCORE_MAP_NAME, p + 'roi', p + 'scales']
        else:
            inits += [_const(p + 'nc_start', np.array([0], dtype=np.int64)),
                      _const(p + 'nc_end', np.array([2], dtype=np.int64)),
                      _const(p + 'hw', np.array([h, w], dtype=np.int64))]
            nodes += [
                helper.make_node('Shape', [SCORE_MAP_NAME], [p + 'shape'], name='/upscore/Shape'),
                helper.make_node('Slice', [p + 'shape', p + 'nc_start', p + 'nc_end'],
                                 [p + 'nc'], name='/upscore/SliceShape'),
                helper.make_node('Concat', [p + 'nc', p + 'hw'], [p + 'sizes'], axis=0,
                                 name='/upscore/Concat'),
            ]
            resize_inputs = [SCORE_MAP_NAME, p + 'roi', '', p + 'sizes']
        nodes.append(helper.make_node('Resize', resize_inputs, [NET_OUTPUT_NAME],
                                      name='/upscore/Resize', mode='linear',
                                      coordinate_transformation_mode='half_pixel'))
    else:
        crop = config.crop_offset()
        kernel_size = config.upscore_kernel
        if config.upscore == 'deconv' and upscore_op == 'resize':
            mode, shift = resize_equivalent(kernel_size)
            start = crop + shift
            inits += [_const(p + 'pads', np.array([0, 0, 1, 1, 0, 0, 1, 1], dtype=np.int64)),
                      _const(p + 'roi', np.array([], dtype=np.float32)),
                      _const(p + 'scales', np.array([1, 1, UPSCORE_STRIDE, UPSCORE_STRIDE],
                                                    dtype=np.float32))]
            nodes += [
                helper.make_node('Pad', [SCORE_MAP_NAME, p + 'pads'], [p + 'padded'],
                                 name='/upscore/Pad', mode='constant'),
                helper.make_node('Resize', [p + 'padded', p + 'roi', p + 'scales'],
                                 [p + 'resized'], name='/upscore/Resize', mode='linear',
                                 coordinate_transformation_mode=mode),
            ]
            upscored = p + 'resized'
        else:
            if config.upscore == 'deconv':
                kernel = bilinear_kernel(kernel_size)
                weight = np.ascontiguousarray(
                    np.broadcast_to(kernel, (classes, 1) + kernel.shape), dtype=np.float32)
                group = classes
            else:
                weight = model.upscore.deconv.weight.detach().cpu().numpy().astype(np.float32)
                group = 1
            start = crop
            inits.append(_const('upscore.weight', weight))
            nodes.append(helper.make_node(
                'ConvTranspose', [SCORE_MAP_NAME, 'upscore.weight'], [p + 'deconv'],
                name='/upscore/ConvTranspose', group=group,
                kernel_shape=[kernel_size, kernel_size],
                strides=[UPSCORE_STRIDE, UPSCORE_STRIDE]))
            upscored = p + 'deconv'
        inits += [_const(p + 'starts', np.array([start, start], dtype=np.int64)),
                  _const(p + 'ends', np.array([start + h, start + w], dtype=np.int64)),
                  _const(p + 'axes', np.array([2, 3], dtype=np.int64))]
        nodes.append(helper.make_node('Slice', [upscored, p + 'starts', p + 'ends', p + 'axes'],
                                      [NET_OUTPUT_NAME], name='/upscore/Crop'))
    graph.node.extend(nodes)
    graph.initializer.extend(inits)
    _set_output(graph, classes, input_hw)


def _set_output(graph: onnx.GraphProto, classes: int, input_hw: Tuple[int, int]) -> None:
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info(NET_OUTPUT_NAME, TensorProto.FLOAT,
                                                      ['N', classes] + list(input_hw)))


def build_bare_graph(model: FCNAlexNet, input_hw: Tuple[int, int] = (360, 640),
                     opset: int = DEFAULT_OPSET, upscore_op: str = 'resize') -> onnx.ModelProto:
    """
    Return the bare network graph of `model` as an in-memory ONNX model (checked, shapes inferred).

    input_hw: the network input (H, W). upscore_op: 'resize' (default) or 'convtranspose' for
    the fixed bilinear upscore.
    """
    if upscore_op not in UPSCORE_OPS:
        raise ValueError('upscore_op must be one of %s, got %r' % (UPSCORE_OPS, upscore_op))
    model = copy.deepcopy(model).float().eval()
    config = model.config
    with torch.no_grad():
        scores = model.score_maps(torch.zeros((1, 3) + tuple(input_hw)))
        model(torch.zeros((1, 3) + tuple(input_hw)))  # raises if the upscore cannot cover
    score_hws = [(int(s.shape[2]), int(s.shape[3])) for s in scores]
    proto = _export_score_map(model, input_hw, opset)
    _inline_identity_initializers(proto.graph)
    _append_upscore(proto.graph, config, model, score_hws, input_hw, upscore_op)
    proto.graph.name = 'fcn_alexnet'
    proto.producer_name = 'fxseg_ros'
    proto.doc_string = ('FCN-AlexNet (%s), bare network graph: input float32 [N,3,%d,%d] '
                        'normalised as fxseg_ros.data.preprocess, output class scores.'
                        % (config.describe(), input_hw[0], input_hw[1]))
    del proto.metadata_props[:]
    helper.set_model_props(proto, {CONFIG_METADATA_KEY: json.dumps(config.to_dict()),
                                   'fxseg.input_hw': json.dumps(list(input_hw))})
    del proto.graph.value_info[:]
    proto = onnx.shape_inference.infer_shapes(proto, check_type=True, strict_mode=True)
    onnx.checker.check_model(proto, full_check=True)
    out_dims = [d.dim_param or d.dim_value
                for d in proto.graph.output[0].type.tensor_type.shape.dim]
    if out_dims != ['N', config.num_classes, input_hw[0], input_hw[1]]:
        raise RuntimeError('exported graph output shape %s is not [N, %d, %d, %d]'
                           % (out_dims, config.num_classes, input_hw[0], input_hw[1]))
    return proto


def export_bare(model: FCNAlexNet, path: Union[str, Path], input_hw: Tuple[int, int] = (360, 640),
                opset: int = DEFAULT_OPSET, upscore_op: str = 'resize') -> Dict[str, object]:
    """
    Write the bare network graph of `model` to `path`.

    Returns a summary: params, macs (one frame), bytes, config_text, score_hw.
    """
    started = time.perf_counter()
    proto = build_bare_graph(model, input_hw, opset, upscore_op)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(proto, str(path))
    LOG.info('exported %s in %.1f s', path, time.perf_counter() - started)
    return {'params': count_parameters(model), 'macs': count_macs(model.config, input_hw),
            'bytes': path.stat().st_size, 'config_text': model.config.describe()}


def export_checkpoint(checkpoint: Union[str, Path], path: Union[str, Path],
                      input_hw: Tuple[int, int] = (360, 640), opset: int = DEFAULT_OPSET,
                      upscore_op: str = 'resize') -> Dict[str, object]:
    """Load a checkpoint written by `fxseg train` and export its bare network graph."""
    return export_bare(load_checkpoint(checkpoint), path, input_hw, opset, upscore_op)


def read_config(onnx_model: Union[str, Path, onnx.ModelProto]) -> Optional[FCNConfig]:
    """Return the FCNConfig stored in an exported graph's metadata, or None for other graphs."""
    proto = onnx_model if isinstance(onnx_model, onnx.ModelProto) else onnx.load(
        str(onnx_model), load_external_data=False)
    for prop in proto.metadata_props:
        if prop.key == CONFIG_METADATA_KEY:
            return FCNConfig.from_dict(json.loads(prop.value))
    return None


def compare_with_torch(model: FCNAlexNet, onnx_path: Union[str, Path], batch: int = 2,
                       seed: int = 0, inputs: Optional[np.ndarray] = None) -> Dict[str, float]:
    """
    Run the exported graph in ONNX Runtime and the model in torch on the same inputs.

    inputs: float32 (N, 3, H, W); random normal (the scale of normalised frames) when None.
    Returns max_abs_diff, max_abs_score and argmax_agreement (fraction of pixels).
    """
    from fxseg_ros.runtime.session import make_session

    session = make_session(onnx_path)
    if inputs is None:
        shape = session.get_inputs()[0].shape
        rng = np.random.default_rng(seed)
        inputs = rng.standard_normal((batch, 3, shape[2], shape[3])).astype(np.float32)
    got = session.run([NET_OUTPUT_NAME], {NET_INPUT_NAME: inputs})[0]
    model = copy.deepcopy(model).float().eval()
    with torch.no_grad():
        want = model(torch.from_numpy(inputs)).numpy()
    return {'max_abs_diff': float(np.abs(got - want).max()),
            'max_abs_score': float(np.abs(want).max()),
            'argmax_agreement': float((got.argmax(1) == want.argmax(1)).mean())}


def export_deployment(bare_path: Union[str, Path], deploy_path: Union[str, Path],
                      camera_hw: Tuple[int, int] = (720, 1280), output: str = 'camera',
                      float_io: bool = False) -> Path:
    """
    Compose the deployment graph (uint8 frames in, labels out) from a bare graph and save it.

    Uses `fxseg_ros.model.deploy.build_deployment_graph`.
    """
    try:
        from fxseg_ros.model.deploy import build_deployment_graph
    except ImportError as exc:
        raise RuntimeError('the deployment graph composer (fxseg_ros.model.deploy) is not '
                           'available: %s; export the bare graph only' % exc) from exc
    proto = build_deployment_graph(onnx.load(str(bare_path)), camera_hw=camera_hw,
                                   output=output, float_io=float_io)
    deploy_path = Path(deploy_path)
    deploy_path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(proto, str(deploy_path))
    return deploy_path
