# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
launch_testing test of the transport launch argument against camera drivers set up either way.

The launched node (cpu.launch.py transport:=...) and a probe in this process that plays the
camera driver (its Fast DDS setup from the environment when its participant is created):
- default node, default driver: frames and masks flow (what every ROS 2 process gets);
- shm node, shm driver, and shm node, default driver: they flow too (the profile keeps UDP);
- large_data node, large_data driver: they flow;
- default node, large_data driver: nothing can flow (Fast DDS 3.2 and 2.14 exchange nothing
  between the two), and the node says within camera_match_timeout_s what to check.
Skipped with the reason where the launch tools are missing.
"""


import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # launch_test loads files by path
from launch_helpers import (assert_no_traceback, environment, include, parametrize,  # noqa: E402
                            post_shutdown_test, skip_without_launch, START_TIMEOUT_S,
                            transport_env)
import pytest  # noqa: E402

TOPIC = '/fxseg_launch_transport/image_raw'
#: (the node's transport argument, the driver's setup, whether frames can flow)
RUNS = [
    ('default', 'default', True),
    ('shm', 'shm', True),
    ('shm', 'default', True),
    ('large_data', 'large_data', True),
    ('default', 'large_data', False),
]


@pytest.mark.launch_test
@parametrize('node_transport, driver_transport, flows', RUNS)
@skip_without_launch
def generate_test_description(node_transport, driver_transport, flows):
    import launch_testing.actions

    import launch

    return launch.LaunchDescription([
        include('cpu.launch.py', {'camera_topics': '[%s]' % TOPIC,
                                  'transport': node_transport}),
        launch_testing.actions.ReadyToTest(),
    ])


@skip_without_launch
class TestTransport(unittest.TestCase):

    def test_frames_flow_or_the_node_says_what_to_check(self, proc_output, node_transport,
                                                        driver_transport, flows):
        from fxseg_ros.ros.probe import SegmentationProbe
        import ros_helpers as H

        proc_output.assertWaitFor('segmenting', timeout=START_TIMEOUT_S, stream='stderr')
        with environment(transport_env(driver_transport)):
            probe = SegmentationProbe([TOPIC])
        try:
            if flows:
                self.assertTrue(H.handshake_all(probe, [0]))
                return
            # no frame can arrive: the node names the transports within its timeout (5 s)
            proc_output.assertWaitFor('no frame received', timeout=30, stream='stderr')
            proc_output.assertWaitFor('LARGE_DATA reaches only nodes that use it too',
                                      timeout=5, stream='stderr')
            self.assertFalse(probe.handshake(0, lambda: probe.frame_message(
                H.grey_frame(), 'bgr8', 'handshake'), timeout=3.0))
        finally:
            probe.close()


@post_shutdown_test()
@skip_without_launch
class TestShutdown(unittest.TestCase):

    def test_exit_code(self, proc_info, proc_output):
        import launch_testing.asserts

        launch_testing.asserts.assertExitCodes(proc_info)
        assert_no_traceback(self, proc_output)
