# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
launch_testing test of cpu.launch.py autostart:=false: the node waits for a lifecycle manager.

The launched node must stay unconfigured, without subscribing, until this test (in the role of
Nav2's or Autoware's lifecycle manager) configures and activates it through
lifecycle_msgs/srv/ChangeState; then it segments. After launch's SIGINT: exit code 0.
Skipped with the reason where the launch tools or lifecycle_msgs are missing.
"""


import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # launch_test loads files by path
from launch_helpers import (assert_no_traceback, include, LAUNCH_MISSING,  # noqa: E402
                            LIFECYCLE_MISSING, post_shutdown_test, START_TIMEOUT_S)
import pytest  # noqa: E402

TOPIC = '/fxseg_launch_lifecycle/image_raw'
MISSING = LAUNCH_MISSING or LIFECYCLE_MISSING
skip_if_missing = unittest.skipIf(MISSING is not None, MISSING or '')


@pytest.mark.launch_test
@skip_if_missing
def generate_test_description():
    import launch_testing.actions

    import launch

    return launch.LaunchDescription([
        include('cpu.launch.py', {'camera_topics': '[%s]' % TOPIC, 'autostart': 'false'}),
        launch_testing.actions.ReadyToTest(),
    ])


@skip_if_missing
class TestManagedStart(unittest.TestCase):

    def test_unconfigured_until_a_manager_activates_it(self, proc_output):
        from fxseg_ros.ros.probe import SegmentationProbe
        import ros_helpers as H

        proc_output.assertWaitFor('waiting for a lifecycle manager', timeout=START_TIMEOUT_S,
                                  stream='stderr')
        with SegmentationProbe([TOPIC]) as probe:
            name = '/segmentation_node'
            self.assertEqual(H.lifecycle_state(probe, name), 'unconfigured')
            self.assertEqual(probe.publishers[0].get_subscription_count(), 0)
            self.assertTrue(H.change_state(probe, name, 'configure'))
            self.assertEqual(probe.publishers[0].get_subscription_count(), 0)
            self.assertTrue(H.change_state(probe, name, 'activate'))
            self.assertEqual(H.lifecycle_state(probe, name), 'active')
            self.assertTrue(H.handshake_all(probe, [0]))


@post_shutdown_test()
@skip_if_missing
class TestShutdown(unittest.TestCase):

    def test_exit_code(self, proc_info, proc_output):
        import launch_testing.asserts

        launch_testing.asserts.assertExitCodes(proc_info)
        assert_no_traceback(self, proc_output)
