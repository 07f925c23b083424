# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
launch_testing test of cpu.launch.py, started the way users start it.

`launch_test test/test_launch_cpu.py`, or pytest with launch_testing's plugin. The node gets two
camera topics through the launch argument and Fast DDS's default transports; a probe on the
default transports too (a camera driver started normally) publishes generated frames and checks
the masks, the label table and the diagnostics; after launch stopped the node with SIGINT its
exit code must be 0 and no traceback was printed. Skipped with the reason where the launch tools
are missing.
"""


import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # launch_test loads files by path
from launch_helpers import (assert_no_traceback, include, post_shutdown_test,  # noqa: E402
                            skip_without_launch, START_TIMEOUT_S)
import numpy as np  # noqa: E402
import pytest  # noqa: E402

TOPICS = ['/fxseg_launch_test/cam_front/image_raw', '/fxseg_launch_test/cam_left/image_raw']
MASK_STATUS = '/fxseg_launch_test/cam_front/segmentation/mask'


@pytest.mark.launch_test
@skip_without_launch
def generate_test_description():
    import launch_testing.actions

    import launch

    return launch.LaunchDescription([
        include('cpu.launch.py', {'camera_topics': '[%s]' % ', '.join(TOPICS),
                                  'log_level': 'info'}),
        launch_testing.actions.ReadyToTest(),
    ])


@skip_without_launch
class TestSegmentationNode(unittest.TestCase):
    """Runs while the launched node is up (its log goes to stderr, as every ROS 2 node's)."""

    @classmethod
    def setUpClass(cls):
        from fxseg_ros.data.synth import SceneGenerator
        from fxseg_ros.ros.probe import SegmentationProbe

        cls.probe = SegmentationProbe(TOPICS)
        cls.scenes = [SceneGenerator(seed=5).generate(i, 'day') for i in range(2)]

    @classmethod
    def tearDownClass(cls):
        cls.probe.close()

    def test_node_starts(self, proc_output):
        proc_output.assertWaitFor('model loaded', timeout=START_TIMEOUT_S, stream='stderr')

    def test_masks_for_both_cameras(self, proc_output):
        from fxseg_ros.ros.probe import mask_array

        proc_output.assertWaitFor('segmenting', timeout=START_TIMEOUT_S, stream='stderr')
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
        from fxseg_ros.ros.probe import status_dict

        self.assertTrue(self.probe.wait_until(lambda: len(self.probe.labels) == 2, 60.0))
        diag = self.probe.wait_for_diagnostics(
            lambda a: status_dict(a, MASK_STATUS) is not None, 30.0)
        self.assertIsNotNone(diag)
        values = status_dict(diag, MASK_STATUS)
        for key in ('frames_received', 'frame_rate_node', 'current_delay_from_realtime_ms',
                    'total_dropped_frames'):
            self.assertIn(key, values)


@post_shutdown_test()
@skip_without_launch
class TestShutdown(unittest.TestCase):
    """Runs after launch stopped the node with SIGINT."""

    def test_exit_code(self, proc_info):
        import launch_testing.asserts

        launch_testing.asserts.assertExitCodes(proc_info)

    def test_no_traceback(self, proc_output):
        assert_no_traceback(self, proc_output)
