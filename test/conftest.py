# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures: tiny ONNX graphs built in the test, and the committed demo model."""

import logging
import os
from pathlib import Path

import numpy as np
import pytest

from fxseg_ros import DEMO_MODEL
from fxseg_ros.data.labels import NUM_CLASSES
from fxseg_ros.data.preprocess import NET_INPUT_NAME, NET_INPUT_WH, NET_OUTPUT_NAME


def make_tiny_net(path: Path, input_wh=NET_INPUT_WH, num_classes: int = NUM_CLASSES,
                  seed: int = 0) -> Path:
    """
    Write a small segmentation network with the bare-graph contract of the demo model.

    Input `input` float32 (N, 3, h, w); output `scores` float32 (N, num_classes, h, w):
    Conv 3x3/4 (8 ch) -> Relu -> Conv 3x3 (16 ch) -> Relu -> Conv 1x1 (classes) -> Resize x4.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    w, h = input_wh

    def init(name, shape, scale):
        return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32),
                                       name)

    inits = [
        init('conv1.weight', (8, 3, 3, 3), 0.3), init('conv1.bias', (8,), 0.1),
        init('conv2.weight', (16, 8, 3, 3), 0.2), init('conv2.bias', (16,), 0.1),
        init('score.weight', (num_classes, 16, 1, 1), 0.3), init('score.bias', (num_classes,), 0.1),
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
    """A small random-weight bare network at the demo model's input size (640x360)."""
    return make_tiny_net(tmp_path_factory.mktemp('tiny') / 'tiny_net.onnx')


@pytest.fixture(scope='session')
def demo_model() -> Path:
    """The committed demo model (bare FCN-AlexNet x0.25 graph)."""
    assert DEMO_MODEL.is_file(), 'the demo model %s is missing from the package' % DEMO_MODEL
    return DEMO_MODEL


@pytest.fixture(autouse=True, scope='session')
def _isolated_ros_domain():
    """
    Keep DDS traffic of the test run off other processes on this host (own domain ID).

    Not ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST: with it rmw_fastrtps leaves the LARGE_DATA
    transports for UDP on the loopback, and a 1280x720 frame takes 30-50 ms instead of ~5 ms
    (`fxseg bench --node`), which starves the node benchmarks.
    """
    os.environ.setdefault('ROS_DOMAIN_ID', str(40 + os.getpid() % 100))
    yield


@pytest.fixture(autouse=True)
def _package_logs_propagate():
    """
    Let the package's log records reach pytest's caplog also where the launch tools are installed.

    Importing `launch` (launch_testing's pytest plugin does at start-up) sets its LaunchLogger as
    the logger class, and every logger created after that stops propagating to the root logger.
    """
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if name.startswith('fxseg_ros') and isinstance(logger, logging.Logger):
            logger.propagate = True
    yield
