# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
launch_testing test of cpu.launch.py: the installed package, started the way users start it.

Runs where the ros2 launch tools are installed (colcon test, or `launch_test` on this file, with
the package built and sourced); skipped with the reason elsewhere (the PyPI ROS 2 wheels have no
launch packages). The node gets two camera topics through the launch argument; a probe publishes
generated frames and checks the masks, the label table and the diagnostics; after shutdown the
node's exit code must be 0.
"""

from __future__ import annotations

import unittest

import pytest

# launch.actions, not launch: the tree's launch/ folder imports as a namespace package
pytest.importorskip('launch.actions', reason='the ros2 launch tools are not installed')
pytest.importorskip('launch_ros.actions', reason='launch_ros is not installed')
pytest.importorskip('launch_testing.actions', reason='launch_testing is not installed')
pytest.importorskip('rclpy', reason='rclpy (ROS 2) is not installed')

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
from fxseg_ros.ros.probe import SegmentationProbe, mask_array, status_dict  # noqa: E402

TOPICS = ['/fxseg_launch_test/cam_front/image_raw', '/fxseg_launch_test/cam_left/image_raw']
MASK_STATUS = '/fxseg_launch_test/cam_front/segmentation/mask'


@pytest.mark.launch_test
@pytest.mark.ros
@pytest.mark.launch
def generate_test_description():
    cpu_launch = PathJoinSubstitution([FindPackageShare('fxseg_ros'), 'launch', 'cpu.launch.py'])
    return launch.LaunchDescription([
        # ROS logs go to stderr; proc_output.waitFor reads stdout
        SetEnvironmentVariable('RCUTILS_LOGGING_USE_STDOUT', '1'),
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(cpu_launch),
            launch_arguments={'camera_topics': '[%s]' % ', '.join(TOPICS),
                              'log_level': 'info'}.items()),
        launch_testing.actions.ReadyToTest(),
    ])


class TestSegmentationNode(unittest.TestCase):
    """Runs while the launched node is up."""

    @classmethod
    def setUpClass(cls):
        cls.probe = SegmentationProbe(TOPICS)
        cls.scenes = [SceneGenerator(seed=5).generate(i, 'day') for i in range(2)]

    @classmethod
    def tearDownClass(cls):
        cls.probe.close()

    def test_node_starts(self, proc_output):
        proc_output.assertWaitFor('model loaded', timeout=120)

    def test_masks_for_both_cameras(self, proc_output):
        proc_output.assertWaitFor('segmenting', timeout=120)
        self.assertTrue(self.probe.wait_for_subscribers(60.0))
        grey = np.full((720, 1280, 3), 128, np.uint8)
        for camera in range(2):
            self.assertTrue(self.probe.handshake(
                camera, lambda: self.probe.frame_message(grey, 'bgr8', 'handshake'), 60.0))
        for camera, (frame, truth) in enumerate(self.scenes):
            msg = self.probe.frame_message(frame, 'bgr8', 'cam%d_optical' % camera)
            stamp = self.probe.publish(camera, msg)
            mask = self.probe.wait_for_mask(camera, stamp, 30.0)
            self.assertIsNotNone(mask)
            self.assertEqual(mask.header, msg.header)
            self.assertEqual((mask.width, mask.height, mask.encoding), (1280, 720, 'mono8'))
            labels = mask_array(mask)
            valid = truth != 255
            self.assertGreater(float(np.mean(labels[valid] == truth[valid])), 0.6)

    def test_labels_and_diagnostics(self, proc_output):
        self.assertTrue(self.probe.wait_until(lambda: len(self.probe.labels) == 2, 60.0))
        diag = self.probe.wait_for_diagnostics(
            lambda a: status_dict(a, MASK_STATUS) is not None, 30.0)
        self.assertIsNotNone(diag)
        values = status_dict(diag, MASK_STATUS)
        for key in ('frames_received', 'frame_rate_node', 'current_delay_from_realtime_ms',
                    'total_dropped_frames'):
            self.assertIn(key, values)


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):
    """Runs after launch stopped the node with SIGINT."""

    def test_exit_code(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info)

    def test_no_traceback(self, proc_output):
        for output in proc_output:
            self.assertNotIn('Traceback', output.text.decode(errors='replace'))
