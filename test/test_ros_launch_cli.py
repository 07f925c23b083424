# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
`ros2 launch` on the package's launch files, as a user types it.

Bad arguments, --show-args, Ctrl-C to the whole process group.
Runs the real `ros2` command (the ros2launch package) on the launch files of this tree; skipped
with the reason where it is missing.
"""


import os
from pathlib import Path
import shutil
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.launch_tools

ROOT = Path(__file__).resolve().parents[1]
LAUNCH_DIR = ROOT / 'launch'


def _ros2():
    here = Path(sys.executable).parent / 'ros2'
    return str(here) if here.is_file() else shutil.which('ros2')


@pytest.fixture
def ros2():
    path = _ros2()
    if path is None:
        pytest.skip('the ros2 command line (ros2cli, ros2launch) is not installed')
    try:
        import launch.actions  # noqa: F401
    except ImportError as exc:
        pytest.skip('the ROS 2 launch tools are not installed: %s' % exc)
    return path


def _launch(ros2, args, timeout=60):
    return subprocess.run([ros2, 'launch'] + args, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=timeout)


@pytest.mark.parametrize('launch_file, argument, words', [
    ('cpu.launch.py', 'params_file:=/nonexistent.yaml',
     ['launch argument params_file: /nonexistent.yaml does not exist']),
    ('px2.launch.py', 'params_file:=/nonexistent.yaml', ['config/px2.yaml']),
    ('cpu.launch.py', 'camera_topics:=[/a/image_raw',
     ['launch argument camera_topics: ', 'is not a YAML list', "camera_topics:='["]),
    ('px2.launch.py', 'platform:=cpu', ['launch argument platform:=cpu',
                                        'px2.launch.py always runs the px2 platform',
                                        'cpu.launch.py']),
    ('tx2.launch.py', 'platform:=px2', ['tx2.launch.py always runs the tx2 platform']),
])
def test_bad_launch_argument_stops_with_one_line(ros2, tmp_path, launch_file, argument, words):
    env_home = {'ROS_HOME': str(tmp_path)}
    result = subprocess.run([ros2, 'launch', str(LAUNCH_DIR / launch_file), argument],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, timeout=60,
                            env=dict(os.environ, **env_home))
    assert result.returncode != 0, result.stdout
    errors = [line for line in result.stdout.splitlines() if '[ERROR]' in line]
    assert len(errors) == 1, result.stdout
    for word in words:
        assert word in errors[0], (word, errors[0])
    assert 'Traceback' not in result.stdout
    assert 'process started' not in result.stdout  # no node was started on defaults


@pytest.mark.parametrize('launch_file, has_platform', [
    ('segmentation.launch.py', True), ('cpu.launch.py', False), ('tx2.launch.py', False),
    ('px2.launch.py', False)])
def test_show_args_tells_the_truth(ros2, launch_file, has_platform):
    result = _launch(ros2, [str(LAUNCH_DIR / launch_file), '--show-args'])
    assert result.returncode == 0, result.stdout
    names = {line.strip().strip("':") for line in result.stdout.splitlines()
             if line.startswith("    '")}
    assert ('platform' in names) == has_platform
    assert {'camera_topics', 'engine_dir', 'autostart', 'transport', 'params_file'} <= names


def test_ctrl_c_to_the_process_group_stops_everything_cleanly(ros2, tmp_path):
    """The terminal's SIGINT reaches launch and the node; launch then sends the node another."""
    proc = subprocess.Popen(
        [ros2, 'launch', str(LAUNCH_DIR / 'cpu.launch.py'),
         'camera_topics:=[/fxseg_cli/image_raw]'],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
        start_new_session=True, env=dict(os.environ, FXSEG_CACHE_DIR=str(tmp_path / 'cache')))
    lines = []
    deadline = time.monotonic() + 120
    try:
        for line in proc.stdout:
            lines.append(line)
            if 'segmenting' in line or time.monotonic() > deadline:
                break
        assert any('segmenting' in line for line in lines), ''.join(lines)
        os.killpg(proc.pid, signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    output = ''.join(lines) + rest
    assert proc.returncode == 0, output
    assert 'process has finished cleanly' in output
    assert 'Traceback' not in output and 'KeyboardInterrupt' not in output
    assert '[ERROR]' not in output, output
