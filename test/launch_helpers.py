# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
What the launch tests share: whether the launch tools are here, the launch files, the probe env.

The launch tools (launch, launch_ros, launch_testing) are test tools: where they are missing
the launch tests skip with the reason, inside the tests, never at import (launch_testing's
pytest plugin aborts the whole collection on a module-level skip).
"""


import contextlib
import importlib.util
import os
from pathlib import Path
import unittest

ROOT = Path(__file__).resolve().parents[1]
LAUNCH_DIR = ROOT / 'launch'
PROFILE = ROOT / 'config' / 'fastdds_large_images.xml'
#: Seconds the launched node gets to start (imports, model, DDS) on 2 busy cores
START_TIMEOUT_S = 120.0


def _missing(modules):
    for name in modules:
        try:
            if importlib.util.find_spec(name) is None:
                return '%s is not installed' % name
        except (ImportError, ValueError) as exc:
            return '%s cannot be imported (%s)' % (name, exc)
    return None


#: Why the launch tests cannot run here (None: they can). launch.actions, not launch: the
#: tree's launch/ folder imports as a namespace package.
LAUNCH_MISSING = _missing(('launch.actions', 'launch_ros.actions', 'launch_testing.actions',
                           'rclpy'))
if LAUNCH_MISSING:
    LAUNCH_MISSING = 'the ROS 2 launch tools are missing: %s (install them with ' \
        '../shared/ros2-launch-tools/install.sh, or colcon test in a ROS 2 workspace)' \
        % LAUNCH_MISSING
LIFECYCLE_MISSING = _missing(('lifecycle_msgs.srv',))
TENSORRT_PRESENT = _missing(('tensorrt',)) is None

skip_without_launch = unittest.skipIf(LAUNCH_MISSING is not None, LAUNCH_MISSING or '')


def post_shutdown_test():
    """Return launch_testing.post_shutdown_test's decorator, or a no-op without launch_testing."""
    if LAUNCH_MISSING:
        return lambda cls: cls
    import launch_testing

    return launch_testing.post_shutdown_test()


def parametrize(name: str, values):
    """launch_testing.parametrize, or nothing where launch_testing is missing."""
    if LAUNCH_MISSING:
        return lambda function: function
    import launch_testing

    return launch_testing.parametrize(name, values)


def include(launch_file: str, arguments):
    """Include one of the package's launch files with these arguments."""
    from launch.actions import IncludeLaunchDescription
    from launch.launch_description_sources import PythonLaunchDescriptionSource

    return IncludeLaunchDescription(PythonLaunchDescriptionSource(str(LAUNCH_DIR / launch_file)),
                                    launch_arguments=dict(arguments).items())


#: The environment of a process per transport setup (the camera driver's side).
def transport_env(mode: str):
    from fxseg_ros.ros.transport import transport_environment

    return transport_environment(mode, str(PROFILE))


@contextlib.contextmanager
def environment(values):
    """os.environ with `values` set while a participant is created (Fast DDS reads it then)."""
    names = ('FASTDDS_BUILTIN_TRANSPORTS', 'FASTDDS_DEFAULT_PROFILES_FILE',
             'FASTRTPS_DEFAULT_PROFILES_FILE')
    saved = {name: os.environ.get(name) for name in names}
    for name in names:
        os.environ.pop(name, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def assert_no_traceback(test, proc_output):
    for output in proc_output:
        test.assertNotIn('Traceback', output.text.decode(errors='replace'))
