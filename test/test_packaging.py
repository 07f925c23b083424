# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The package as colcon builds it, started where OpenCV has no pip metadata (apt's python3-opencv).

`colcon build` of this repository into a temporary workspace, with the Python environment of the
suite less the pip metadata of OpenCV (the cv2 module itself stays importable, as from apt) and
with setuptools 68.1.2 (Ubuntu 24.04's python3-setuptools; its pkg_resources resolves
requirements as the executables of setuptools < 47.2 do at start-up, Foxy's 45.2 and the TX2's
39.0: `__requires__` + `pkg_resources.require`). The installed `lib/fxseg_ros/segmentation_node`
must list the parameters, and the installed distribution must resolve with OpenCV unknown to
pip: install_requires names no pip package but setuptools.
"""

import importlib.util
import os
from pathlib import Path
import subprocess
import sys
import sysconfig

import pytest

REPO = Path(__file__).resolve().parents[1]
#: The setuptools of the build environment (Ubuntu 24.04 / Jazzy's python3-setuptools).
SETUPTOOLS = 'setuptools==68.1.2'
#: Entries of the suite's site-packages left out of the build environment: OpenCV's pip
#: metadata, the suite's own setuptools, and the editable install of this repository.
HIDDEN_PREFIXES = ('opencv_python', 'setuptools', 'pkg_resources', '_distutils_hack',
                   'distutils-precedence.pth', '__editable__', 'fxseg_ros')


def _run(cmd, cwd, env=None, timeout=300):
    return subprocess.run([str(c) for c in cmd], cwd=str(cwd), env=env, timeout=timeout,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)


def _build_environment(root: Path) -> Path:
    """Return a venv whose site-packages links the suite's, OpenCV without metadata; its python."""
    proc = _run([sys.executable, '-m', 'venv', '--without-pip', root], root.parent)
    assert proc.returncode == 0, proc.stdout
    python = root / 'bin' / 'python'
    site = Path(_run([python, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
                     root.parent).stdout.strip())
    ours = Path(sysconfig.get_paths()['purelib'])
    for entry in ours.iterdir():
        if not entry.name.startswith(HIDDEN_PREFIXES):
            (site / entry.name).symlink_to(entry)
    proc = _run([sys.executable, '-m', 'pip', 'install', '-q', '--no-deps', '--target', site,
                 SETUPTOOLS], root.parent)
    if proc.returncode != 0:
        pytest.skip('%s could not be installed (no package index?): %s'
                    % (SETUPTOOLS, proc.stdout.strip().splitlines()[-1:]))
    return python


@pytest.mark.slow
def test_colcon_build_runs_without_pip_metadata_of_opencv(tmp_path):
    if importlib.util.find_spec('colcon_core') is None:
        pytest.skip('colcon is not installed (colcon-common-extensions, in the test extra)')
    if importlib.util.find_spec('cv2') is None:
        pytest.skip('OpenCV (cv2) is not installed')
    python = _build_environment(tmp_path / 'venv')
    env = dict(os.environ)
    if 'ROS_DISTRO' not in env:
        env.pop('PYTHONPATH', None)  # ROS 2 from the wheels: the source tree off the path
    # the control: cv2 imports, pip knows no OpenCV distribution
    probe = _run([python, '-c', 'import importlib.metadata as m, cv2\n'
                  'try:\n    m.distribution("opencv-python-headless")\n'
                  'except m.PackageNotFoundError:\n    print("no metadata", cv2.__version__)'],
                 tmp_path, env)
    assert probe.returncode == 0 and 'no metadata' in probe.stdout, probe.stdout

    build = _run([python, '-m', 'colcon', '--log-base', tmp_path / 'log', 'build',
                  '--paths', REPO, '--build-base', tmp_path / 'build',
                  '--install-base', tmp_path / 'install'], tmp_path, env, timeout=600)
    assert build.returncode == 0, build.stdout
    prefix = tmp_path / 'install' / 'fxseg_ros'
    for installed in ('share/fxseg_ros/package.xml', 'share/fxseg_ros/launch/cpu.launch.py',
                      'share/fxseg_ros/config/cpu.yaml',
                      'share/ament_index/resource_index/packages/fxseg_ros'):
        assert (prefix / installed).is_file(), installed
    site = next(prefix.glob('lib/python3*/site-packages'))
    env['PYTHONPATH'] = os.pathsep.join(
        [str(site)] + ([env['PYTHONPATH']] if env.get('PYTHONPATH') else []))

    wrapper = prefix / 'lib' / 'fxseg_ros' / 'segmentation_node'
    listed = _run([python, wrapper, '--list-parameters'], tmp_path, env)
    assert listed.returncode == 0, listed.stdout
    from fxseg_ros.ros.params import PARAMETERS

    for spec in PARAMETERS:
        assert spec.name in listed.stdout, spec.name

    # what the executables of setuptools < 47.2 do before anything else: resolve the
    # distribution's requirements through pkg_resources
    resolve = _run([python, '-W', 'ignore', '-c',
                    'import pkg_resources, fxseg_ros\n'
                    'print(fxseg_ros.__file__)\n'
                    'print(sorted(d.project_name for d in pkg_resources.require("fxseg-ros")))\n'
                    'try:\n    pkg_resources.require("opencv-python-headless")\n'
                    'except pkg_resources.DistributionNotFound as exc:\n'
                    '    print("control:", exc)'], tmp_path, env)
    assert resolve.returncode == 0, resolve.stdout
    lines = resolve.stdout.splitlines()
    assert lines[0].startswith(str(site)), lines  # the installed package, not the source tree
    assert lines[1] == "['fxseg-ros', 'setuptools']", lines
    assert lines[2].startswith('control:') and 'opencv-python-headless' in lines[2], lines
