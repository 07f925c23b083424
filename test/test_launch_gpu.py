# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
launch_testing test of tx2.launch.py and px2.launch.py on a machine with a GPU and TensorRT.

Each platform's launch file starts the node over its config (TensorRT FP16 or INT8) with its
engine in a fresh engine_dir, so the first start builds it: the node gets up to 20 minutes to
come up. Skipped with the reason where the launch tools, TensorRT or pycuda are missing (and
px2 where the GPU has no fast INT8, or no calibration cache is given in FXSEG_CALIBRATION_CACHE).
"""


import importlib.util
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # launch_test loads files by path
from launch_helpers import include, LAUNCH_MISSING, parametrize, post_shutdown_test  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

TOPIC = '/fxseg_launch_test/cam_front/image_raw'
#: First start builds the engine (minutes on a Jetson)
START_TIMEOUT_S = 1200


def _missing():
    if LAUNCH_MISSING:
        return LAUNCH_MISSING
    for module, why in (('tensorrt', 'TensorRT is not installed (needs an NVIDIA GPU)'),
                        ('pycuda', 'pycuda is not installed (needs CUDA)')):
        if importlib.util.find_spec(module) is None:
            return why
    return None


MISSING = _missing()
skip_without_gpu = unittest.skipIf(MISSING is not None, MISSING or '')


@pytest.mark.launch_test
@pytest.mark.gpu
@parametrize('platform', ['tx2', 'px2'])
@skip_without_gpu
def generate_test_description(platform):
    import launch_testing.actions

    import launch

    engine_dir = tempfile.mkdtemp(prefix='fxseg_engines_')
    if platform == 'px2':
        from fxseg_ros.runtime.builder import current_platform

        cache = os.environ.get('FXSEG_CALIBRATION_CACHE', '')
        if not current_platform(0).fast_int8:
            raise unittest.SkipTest('this GPU has no fast INT8')
        if not cache:
            raise unittest.SkipTest('no INT8 calibration cache: set FXSEG_CALIBRATION_CACHE to '
                                    'one made by fxseg calibrate')
        shutil.copy(cache, os.path.join(engine_dir, 'calibration.cache'))
    return launch.LaunchDescription([
        include(platform + '.launch.py', {'camera_topics': '[%s]' % TOPIC,
                                          'engine_dir': engine_dir}),
        launch_testing.actions.ReadyToTest(),
    ])


@skip_without_gpu
class TestEngineNode(unittest.TestCase):
    """Runs while the node is up: one generated frame, its mask."""

    def test_mask_from_the_engine(self, proc_output, platform):
        from fxseg_ros.data.synth import SceneGenerator
        from fxseg_ros.ros.probe import mask_array, SegmentationProbe

        proc_output.assertWaitFor('model loaded', timeout=START_TIMEOUT_S, stream='stderr')
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


@post_shutdown_test()
@skip_without_gpu
class TestShutdown(unittest.TestCase):

    def test_exit_code(self, proc_info):
        import launch_testing.asserts

        launch_testing.asserts.assertExitCodes(proc_info)
