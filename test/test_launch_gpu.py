# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
launch_testing test of tx2.launch.py and px2.launch.py on a machine with a GPU and TensorRT.

Each platform's launch file starts the node over its config (TensorRT FP16 or INT8); the engine
is built on the first start when missing, so the node gets up to 20 minutes to come up. Skipped
with the reason where the launch tools, TensorRT or pycuda are missing (and px2 where the GPU has
no fast INT8).
"""

from __future__ import annotations

import unittest

import pytest

pytest.importorskip('launch.actions', reason='the ros2 launch tools are not installed')
pytest.importorskip('launch_ros.actions', reason='launch_ros is not installed')
pytest.importorskip('launch_testing.actions', reason='launch_testing is not installed')
pytest.importorskip('rclpy', reason='rclpy (ROS 2) is not installed')
pytest.importorskip('tensorrt', reason='TensorRT is not installed (needs an NVIDIA GPU)')
pytest.importorskip('pycuda.driver', reason='pycuda is not installed (needs CUDA)')

import launch  # noqa: E402
import launch_testing  # noqa: E402
import launch_testing.actions  # noqa: E402
import launch_testing.asserts  # noqa: E402
import numpy as np  # noqa: E402
from launch.actions import IncludeLaunchDescription, SetEnvironmentVariable  # noqa: E402
from launch.launch_description_sources import PythonLaunchDescriptionSource  # noqa: E402
from launch.substitutions import PathJoinSubstitution  # noqa: E402
from launch_ros.substitutions import FindPackageShare  # noqa: E402

from fxseg_ros.data.synth import SceneGenerator  # noqa: E402
from fxseg_ros.ros.probe import SegmentationProbe, mask_array  # noqa: E402

TOPIC = '/fxseg_launch_test/cam_front/image_raw'
#: First start builds the engine (minutes on a Jetson)
START_TIMEOUT_S = 1200


@pytest.mark.launch_test
@pytest.mark.gpu
@pytest.mark.launch
@launch_testing.parametrize('platform', ['tx2', 'px2'])
def generate_test_description(platform):
    platform_launch = PathJoinSubstitution(
        [FindPackageShare('fxseg_ros'), 'launch', platform + '.launch.py'])
    return launch.LaunchDescription([
        SetEnvironmentVariable('RCUTILS_LOGGING_USE_STDOUT', '1'),
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(platform_launch),
            launch_arguments={'camera_topics': '[%s]' % TOPIC}.items()),
        launch_testing.actions.ReadyToTest(),
    ])


class TestEngineNode(unittest.TestCase):
    """Runs while the node is up: one generated frame, its mask."""

    def test_mask_from_the_engine(self, proc_output, platform):
        if platform == 'px2':
            from fxseg_ros.runtime.builder import current_platform

            if not current_platform(0).fast_int8:
                self.skipTest('this GPU has no fast INT8')
        proc_output.assertWaitFor('model loaded', timeout=START_TIMEOUT_S)
        frame, truth = SceneGenerator(seed=5).generate(0, 'day')
        with SegmentationProbe([TOPIC]) as probe:
            self.assertTrue(probe.wait_for_subscribers(60.0))
            grey = np.full((720, 1280, 3), 128, np.uint8)
            self.assertTrue(probe.handshake(
                0, lambda: probe.frame_message(grey, 'bgr8', 'handshake'), 60.0))
            stamp = probe.publish(0, probe.frame_message(frame, 'bgr8', 'cam_optical'))
            mask = probe.wait_for_mask(0, stamp, 30.0)
            self.assertIsNotNone(mask)
            self.assertEqual((mask.width, mask.height, mask.encoding), (1280, 720, 'mono8'))
            valid = truth != 255
            accuracy = float(np.mean(mask_array(mask)[valid] == truth[valid]))
            self.assertGreater(accuracy, 0.6)


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):

    def test_exit_code(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info)
