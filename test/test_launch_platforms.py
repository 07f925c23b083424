# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
launch_testing test of every platform's launch file on a machine without TensorRT.

tx2.launch.py, px2.launch.py and segmentation.launch.py platform:=tx2 / px2 must stop the node
with one FATAL line saying that TensorRT is missing (exit code 2), and
segmentation.launch.py platform:=cpu must segment. Each run gets its own engine_dir, so nothing
is written into the install tree or the user's ROS_HOME. Skipped with the reason where the
launch tools are missing, and the TensorRT runs where TensorRT is installed (test_launch_gpu.py
runs those).
"""


import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # launch_test loads files by path
from launch_helpers import (assert_no_traceback, include, parametrize,  # noqa: E402
                            post_shutdown_test, skip_without_launch, START_TIMEOUT_S,
                            TENSORRT_PRESENT)
import pytest  # noqa: E402

TOPIC = '/fxseg_launch_platform/image_raw'
#: (launch file, platform argument or '', exit code the node must end with)
RUNS = [
    ('tx2.launch.py', '', 2),
    ('px2.launch.py', '', 2),
    ('segmentation.launch.py', 'tx2', 2),
    ('segmentation.launch.py', 'px2', 2),
    ('segmentation.launch.py', 'cpu', 0),
]
NO_TENSORRT = 'the TensorRT Python bindings are not installed'


@pytest.mark.launch_test
@parametrize('launch_file, platform, code', RUNS)
@skip_without_launch
def generate_test_description(launch_file, platform, code):
    import launch_testing.actions

    import launch

    if code == 2 and TENSORRT_PRESENT:
        raise unittest.SkipTest('TensorRT is installed here: test_launch_gpu.py runs %s'
                                % launch_file)
    arguments = {'camera_topics': '[%s]' % TOPIC,
                 'engine_dir': tempfile.mkdtemp(prefix='fxseg_engines_')}
    if platform:
        arguments['platform'] = platform
    from launch_testing.util import KeepAliveProc

    return launch.LaunchDescription([
        include(launch_file, arguments),
        # the node may end before the tests looked at it: launch must not stop with it
        KeepAliveProc(),
        launch_testing.actions.ReadyToTest(),
    ])


@skip_without_launch
class TestPlatform(unittest.TestCase):

    def test_node_segments_or_says_tensorrt_is_missing(self, proc_output, proc_info, code):
        if code == 2:
            proc_output.assertWaitFor('cannot start: cannot load the model: ' + NO_TENSORRT,
                                      timeout=START_TIMEOUT_S, stream='stderr')
            proc_info.assertWaitForShutdown(process='segmentation_node',
                                            timeout=START_TIMEOUT_S)
            return
        from fxseg_ros.ros.probe import SegmentationProbe
        import numpy as np

        proc_output.assertWaitFor('segmenting', timeout=START_TIMEOUT_S, stream='stderr')
        with SegmentationProbe([TOPIC]) as probe:
            grey = np.full((720, 1280, 3), 128, np.uint8)
            self.assertTrue(probe.wait_for_subscribers(60.0))
            self.assertTrue(probe.handshake(
                0, lambda: probe.frame_message(grey, 'bgr8', 'handshake'), 60.0))


@post_shutdown_test()
@skip_without_launch
class TestExit(unittest.TestCase):

    def test_exit_code_and_one_fatal_line(self, proc_info, proc_output, code):
        import launch_testing.asserts

        launch_testing.asserts.assertExitCodes(proc_info, [code], process='segmentation_node')
        assert_no_traceback(self, proc_output)
        text = ''.join(o.text.decode(errors='replace') for o in proc_output)
        fatal = [line for line in text.splitlines() if '[FATAL]' in line]
        self.assertEqual(len(fatal), 1 if code == 2 else 0, text)
        errors = [line for line in text.splitlines() if '[ERROR]' in line]
        self.assertEqual(errors, [], text)
