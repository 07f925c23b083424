# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The deployment graph's upscore fold on networks built here with other tail geometries.

Each network ends like the demo model (edge-replicated border cells, asymmetric x s upsample,
crop), with its own numbers of border copies and crop offsets, including a crop past the border
(a negative shift). The reference is the bare network run as it is plus numpy post-processing.
"""


from fxseg_ros.data.preprocess import postprocess, preprocess
from fxseg_ros.model import deploy
from fxseg_ros.runtime.onnxrt import channels_last_resize_ok
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto
import onnxruntime as ort
import pytest

COARSE_HW = (8, 12)
CLASSES = 5


def make_tail_net(path, head, tail, crop, scale=8, coords='asymmetric', seed=0):
    """
    Return a bare network: Conv stride `scale` -> border copies -> Resize x scale -> crop.

    Input `input` float32 (N, 3, 64, 96); output `scores` float32 (N, 5, 64, 96).
    """
    rng = np.random.default_rng(seed)
    h, w = COARSE_HW[0] * scale, COARSE_HW[1] * scale

    def const(name, values, dtype=np.int64):
        return numpy_helper.from_array(np.asarray(values, dtype=dtype), name)

    inits = [numpy_helper.from_array(rng.standard_normal((CLASSES, 3, scale, scale))
                                     .astype(np.float32) * 0.05, 'w'),
             numpy_helper.from_array(rng.standard_normal(CLASSES).astype(np.float32), 'b'),
             const('zero', [0]), const('one', [1]), const('last', [-1]),
             const('end', [2 ** 63 - 1]), const('ax2', [2]), const('ax3', [3]),
             const('axes', [2, 3]), const('starts', [crop, crop]),
             const('ends', [crop + h, crop + w]),
             const('roi', [], np.float32), const('scales', [1, 1, scale, scale], np.float32)]
    nodes = [helper.make_node('Conv', ['input', 'w', 'b'], ['coarse'], name='conv',
                              kernel_shape=[scale, scale], strides=[scale, scale])]
    x = 'coarse'
    for axis, tag in ((2, 'rows'), (3, 'cols')):
        ax = 'ax%d' % axis
        if head:
            nodes.append(helper.make_node('Slice', [x, 'zero', 'one', ax], [tag + '_head']))
        if tail:
            nodes.append(helper.make_node('Slice', [x, 'last', 'end', ax], [tag + '_tail']))
        nodes.append(helper.make_node('Concat', [tag + '_head'] * head + [x] +
                                      [tag + '_tail'] * tail, [tag + '_ext'], axis=axis))
        x = tag + '_ext'
    nodes += [helper.make_node('Resize', [x, 'roi', 'scales'], ['up'], name='upscore',
                               mode='linear', coordinate_transformation_mode=coords),
              helper.make_node('Slice', ['up', 'starts', 'ends', 'axes'], ['scores'],
                               name='crop')]
    graph = helper.make_graph(
        nodes, 'tail_net', [helper.make_tensor_value_info('input', TensorProto.FLOAT,
                                                          ['N', 3, h, w])],
        [helper.make_tensor_value_info('scores', TensorProto.FLOAT, ['N', CLASSES, h, w])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def run(model, feed):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.log_severity_level = 3
    data = model.SerializeToString() if isinstance(model, onnx.ModelProto) else str(model)
    return ort.InferenceSession(data, so, providers=['CPUExecutionProvider']).run(None, feed)[0]


@pytest.fixture(scope='module')
def frames():
    rng = np.random.default_rng(5)
    small = rng.integers(0, 256, (3, 16, 24, 3), dtype=np.uint8)
    return np.stack([np.kron(f, np.ones((8, 8, 1), np.uint8)) for f in small])


@pytest.mark.parametrize('head, tail, crop, offset', [
    (5, 1, 3, 37),    # the demo model's geometry at scale 8: shift 5 * 8 - 3
    (0, 1, 0, 0),     # no border copies before, no crop
    (2, 2, 20, -4),   # crop past the copies: the labels are cropped, not extended
    (1, 0, 8, 0),     # the crop removes exactly the copied cells
])
@pytest.mark.parametrize('for_tensorrt, channels_last', [(False, True), (False, False),
                                                         (True, False)])
def test_folded_tail_gives_the_reference_labels(tmp_path, frames, head, tail, crop, offset,
                                                for_tensorrt, channels_last):
    if channels_last and not channels_last_resize_ok():
        pytest.skip('this ONNX Runtime resizes channels-last float tensors wrongly')
    bare = make_tail_net(tmp_path / 'net.onnx', head, tail, crop)
    camera_hw = (128, 192)
    model = deploy.build_deployment_graph(bare, camera_hw=camera_hw, for_tensorrt=for_tensorrt,
                                          channels_last=channels_last)
    assert deploy.deployment_info(model)['channels_last'] is channels_last
    info = deploy.deployment_info(model)
    assert info['folded_tail'] and not any(n.name == 'crop' for n in model.graph.node)
    blob = np.concatenate([preprocess(f, (96, 64)) for f in frames])
    ref = postprocess(run(bare, {'input': blob}), (camera_hw[1], camera_hw[0]))
    labels = run(model, {'frames': frames})
    assert labels.shape == (3,) + camera_hw
    np.testing.assert_array_equal(labels, ref)
    assert len(np.unique(ref)) >= 3
    # The shift the fold uses, derived by hand: d = scale * head - crop.
    rows = [n for n in model.graph.node if n.name.startswith('post/rows_')]
    assert len([n for n in rows if n.name == 'post/rows_first']) == (offset > 0)
    # The bare network comes back unchanged.
    restored = deploy.bare_graph_of(model)
    np.testing.assert_array_equal(run(restored, {'input': blob}), run(bare, {'input': blob}))


def test_other_tails_are_not_folded(tmp_path, frames):
    """A half_pixel upsample is not a shift of the coarse grid: left as it is."""
    bare = make_tail_net(tmp_path / 'net.onnx', 5, 1, 3, coords='half_pixel')
    model = deploy.build_deployment_graph(bare, camera_hw=(128, 192))
    assert deploy.deployment_info(model)['folded_tail'] is None
    assert any(n.name == 'crop' for n in model.graph.node)
    blob = np.concatenate([preprocess(f, (96, 64)) for f in frames])
    ref = postprocess(run(bare, {'input': blob}), (192, 128))
    np.testing.assert_array_equal(run(model, {'frames': frames}), ref)


def test_channels_last_gate():
    """ONNX Runtime 1.10 (the last for Python 3.6) gets the channels-first upscore."""
    assert not channels_last_resize_ok('1.10.0') and not channels_last_resize_ok('1.11.1')
    assert channels_last_resize_ok('1.12.0') and channels_last_resize_ok('1.32.0')


def test_channels_last_graph_is_rewrapped_where_not_allowed(tmp_path):
    bare = make_tail_net(tmp_path / 'net.onnx', 5, 1, 3)
    nhwc = deploy.build_deployment_graph(bare, camera_hw=(128, 192))
    assert deploy.ensure_deployment_graph(nhwc, camera_hw=(128, 192)) is nhwc
    nchw = deploy.ensure_deployment_graph(nhwc, camera_hw=(128, 192), channels_last=False)
    assert deploy.deployment_info(nchw)['channels_last'] is False
    assert 'post/nhwc' not in [n.name for n in nchw.graph.node]
