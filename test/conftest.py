# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Shared fixtures and helpers of the suite.

Tiny ONNX graphs built in the test, the committed demo model, synthetic camera frames and bag
frame sources, the numpy reference of the network's pre/post-processing, the isolation of
every cache and output in the test's temporary folders, and the ROS domain of the run.
"""

import logging
import os
from pathlib import Path

from fxseg_ros import DEMO_MODEL
from fxseg_ros.data.conditions import CONDITIONS
from fxseg_ros.data.labels import NUM_CLASSES
from fxseg_ros.data.preprocess import (NET_INPUT_NAME, NET_INPUT_WH, NET_OUTPUT_NAME, postprocess,
                                       preprocess)
import numpy as np
import pytest

#: Highest ROS domain ID that is safe on Linux (ports of participants beyond it collide with
#: the ephemeral range; ROS 2 docs, "The ROS_DOMAIN_ID").
MAX_ROS_DOMAIN_ID = 101


def make_tiny_net(path: Path, input_wh=NET_INPUT_WH, num_classes: int = NUM_CLASSES,
                  seed: int = 0) -> Path:
    """
    Write a small segmentation network with the bare-graph contract of the demo model.

    Input `input` float32 (N, 3, h, w); output `scores` float32 (N, num_classes, h, w):
    Conv 3x3/4 (8 ch) -> Relu -> Conv 3x3 (16 ch) -> Relu -> Conv 1x1 (classes) -> Resize x4.
    """
    import onnx
    from onnx import helper, numpy_helper, TensorProto

    rng = np.random.default_rng(seed)
    w, h = input_wh

    def init(name, shape, scale):
        return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32),
                                       name)

    inits = [
        init('conv1.weight', (8, 3, 3, 3), 0.3), init('conv1.bias', (8,), 0.1),
        init('conv2.weight', (16, 8, 3, 3), 0.2), init('conv2.bias', (16,), 0.1),
        init('score.weight', (num_classes, 16, 1, 1), 0.3),
        init('score.bias', (num_classes,), 0.1),
        numpy_helper.from_array(np.array([], dtype=np.float32), 'roi'),
        numpy_helper.from_array(np.array([1, 1, 4, 4], dtype=np.float32), 'up_scales'),
    ]
    nodes = [
        helper.make_node('Conv', [NET_INPUT_NAME, 'conv1.weight', 'conv1.bias'], ['c1'],
                         name='conv1', kernel_shape=[3, 3], strides=[4, 4], pads=[1, 1, 1, 1]),
        helper.make_node('Relu', ['c1'], ['r1'], name='relu1'),
        helper.make_node('Conv', ['r1', 'conv2.weight', 'conv2.bias'], ['c2'], name='conv2',
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node('Relu', ['c2'], ['r2'], name='relu2'),
        helper.make_node('Conv', ['r2', 'score.weight', 'score.bias'], ['score'], name='score',
                         kernel_shape=[1, 1]),
        helper.make_node('Resize', ['score', 'roi', 'up_scales'], [NET_OUTPUT_NAME],
                         name='upscore', mode='linear',
                         coordinate_transformation_mode='half_pixel'),
    ]
    graph = helper.make_graph(
        nodes, 'tiny_net',
        [helper.make_tensor_value_info(NET_INPUT_NAME, TensorProto.FLOAT, ['N', 3, h, w])],
        [helper.make_tensor_value_info(NET_OUTPUT_NAME, TensorProto.FLOAT,
                                       ['N', num_classes, h, w])],
        inits)
    # opset 13 / IR 7, as the demo model: ONNX Runtime 1.10 (the last for Python 3.6) and the
    # TensorRT 8.x parsers read it
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope='session')
def tiny_net(tmp_path_factory) -> Path:
    """Return a small random-weight bare network at the demo model's input size (640x360)."""
    return make_tiny_net(tmp_path_factory.mktemp('tiny') / 'tiny_net.onnx')


@pytest.fixture(scope='session')
def demo_model() -> Path:
    """Return the committed demo model (bare FCN-AlexNet x0.25 graph)."""
    assert DEMO_MODEL.is_file(), 'the demo model %s is missing from the package' % DEMO_MODEL
    return DEMO_MODEL


@pytest.fixture(autouse=True, scope='session')
def _isolated_ros_domain():
    """
    Keep DDS traffic of the test run off other processes on this host (own domain ID, 1..101).

    Not ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST: with it rmw_fastrtps leaves the LARGE_DATA
    transports for UDP on the loopback, and a 1280x720 frame takes 30-50 ms instead of ~5 ms
    (`fxseg bench --node`), which starves the node benchmarks.
    """
    os.environ.setdefault('ROS_DOMAIN_ID', str(1 + os.getpid() % MAX_ROS_DOMAIN_ID))
    yield


#: The cache variables every run gets, each a folder under one temporary root per run.
CACHE_VARIABLES = {'FXSEG_CACHE_DIR': 'fxseg_ros', 'XDG_CACHE_HOME': 'xdg',
                   'XDG_CONFIG_HOME': 'xdg_config', 'MPLCONFIGDIR': 'matplotlib',
                   'ROS_HOME': 'ros', 'ROS_LOG_DIR': os.path.join('ros', 'log')}


def pytest_configure(config):
    """
    Every cache of the run under one temporary folder, never in $HOME.

    The optimised-graph cache (FXSEG_CACHE_DIR), anything under XDG_CACHE_HOME /
    XDG_CONFIG_HOME (ONNX Runtime writes ~/.cache/Microsoft/... when it is imported, which test
    modules do while they are collected), matplotlib's config and font cache, and the ROS logs of
    the nodes the tests start. Set here, before collection imports any test module; shared by the
    tests of one run (the graphs are keyed by their bytes) and removed at its end.
    """
    import shutil
    import tempfile

    root = tempfile.mkdtemp(prefix='fxseg_tests_caches_')
    saved = {name: os.environ.get(name) for name in CACHE_VARIABLES}
    for name, leaf in CACHE_VARIABLES.items():
        os.environ[name] = os.path.join(root, leaf)

    def restore():
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(root, ignore_errors=True)

    config.add_cleanup(restore)


@pytest.fixture(autouse=True)
def _outputs_in_tmp_path(tmp_path, monkeypatch):
    """Run each test in its tmp_path, so outputs on relative paths (out/train, ...) land there."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope='session')
def requires_torch():
    """Skip the test when torch (the train extra) is not installed (before module fixtures)."""
    pytest.importorskip('torch', reason='needs torch, the train extra (pip install .[train])')


@pytest.fixture(scope='session')
def requires_rclpy():
    """Skip the test when rclpy (ROS 2) is not installed."""
    pytest.importorskip('rclpy', reason='needs rclpy, ROS 2 (pip install .[ros] or source a '
                                        'ROS 2 installation)')


# Frames ----------------------------------------------------------------------------------
def camera_frames(count, size_hw=(720, 1280), seed=0):
    """
    Return `count` BGR uint8 camera frames of synthetic scenes, shape (count, H, W, 3).

    Conditions in turn (day, dusk, night), so the label statistics are those of real drives.
    """
    from fxseg_ros.data.synth import SceneGenerator

    h, w = size_hw
    gen = SceneGenerator(seed, size_wh=(w, h))
    return np.stack([gen.generate(i, CONDITIONS[i % len(CONDITIONS)])[0] for i in range(count)])


def session(model):
    """Return an ONNX Runtime CPU session built here, not through the package (a reference)."""
    import onnx
    import onnxruntime as ort

    data = model.SerializeToString() if isinstance(model, onnx.ModelProto) else str(model)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    so.log_severity_level = 3
    return ort.InferenceSession(data, so, providers=['CPUExecutionProvider'])


def reference_labels(bare_path, frames, out_wh):
    """Bare network on `preprocess()` blobs, then `postprocess()`: the numpy reference."""
    bare = session(bare_path)
    scores = np.concatenate([bare.run(None, {NET_INPUT_NAME: preprocess(f)})[0]
                             for f in frames])
    return postprocess(scores, out_wh)


#: Size of the frames of `frame_source`, (width, height).
SMOOTH_WH = (96, 64)
_CONDITION_INDEX = {name: i for i, name in enumerate(CONDITIONS)}


def smooth_frame(seed: int, size_wh=SMOOTH_WH):
    """Return a JPEG-friendly frame (gradients and flat boxes) and a label map of a few regions."""
    w, h = size_wh
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    bgr = np.stack([(xx * 255 // w), (yy * 255 // h), np.full_like(xx, 40 + seed % 150)],
                   axis=-1).astype(np.uint8)
    labels = np.zeros((h, w), np.uint8)
    labels[h // 2:] = 0
    labels[:h // 3] = 10
    for k in range(3):
        x, y = rng.integers(0, w - 20), rng.integers(0, h - 16)
        color = rng.integers(30, 220, 3)
        bgr[y:y + 16, x:x + 20] = color
        labels[y:y + 16, x:x + 20] = (11, 13, 5)[k]
    labels[-2:, :5] = 255
    return bgr, labels


def frame_seed(seed, camera, condition, i):
    """Return the `smooth_frame` seed of frame i of a camera's drive under a condition."""
    return seed * 1000 + camera * 100 + _CONDITION_INDEX[condition] * 10 + i


def frame_source(seed, camera, condition, count, size_wh, fps):
    """Yield a `write_synthetic_bag` frame source of `smooth_frame`s (fast, JPEG-friendly)."""
    for i in range(count):
        yield smooth_frame(frame_seed(seed, camera, condition, i), size_wh)


@pytest.fixture(autouse=True)
def _package_loggers_propagate():
    """
    Let the package's log records reach pytest's caplog, also with the launch tools installed.

    Importing `launch` (launch_testing's pytest plugin does) makes every logger created later a
    LaunchLogger with propagate = False (ros2/launch launch/logging/__init__.py `reset`).
    """
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if name.split('.')[0] == 'fxseg_ros' and isinstance(logger, logging.Logger):
            logger.propagate = True
    yield
