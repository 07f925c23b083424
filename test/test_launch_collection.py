# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
With launch_testing's pytest plugin active (as on every ROS 2 machine) pytest collects the suite.

The plugin imports every test module while collecting and aborts the whole collection on a
module-level `pytest.skip` / `importorskip` ("collected 0 items", `colcon test` green). The suite
is collected twice in a child pytest, with and without the launch plugins, and must give the
same tests outside the launch test files; each launch test file (one with
`generate_test_description`) must be collected by the plugin. Skipped with the reason where
launch_testing is not installed.
"""

import os
from pathlib import Path
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.launch_tools

TEST_DIR = Path(__file__).resolve().parent
#: One collected test per line in `pytest --collect-only -q` output: path::name[...]
NODE_ID = re.compile(r'^(test/[^:\s]+\.py)::\S')
#: What makes a file a launch test for launch_testing.
LAUNCH_DESCRIPTION = re.compile(r'^def generate_test_description\(', re.MULTILINE)


def launch_plugin_names():
    """Names under which the launch packages register pytest plugins (entry points pytest11)."""
    from importlib.metadata import entry_points

    return sorted(e.name for e in entry_points(group='pytest11')
                  if e.dist is not None and e.dist.name.replace('_', '-').startswith('launch'))


def launch_test_files():
    """Test files that launch_testing runs as launch tests (they describe a launch)."""
    return sorted('test/' + p.name for p in TEST_DIR.glob('test_launch_*.py')
                  if LAUNCH_DESCRIPTION.search(p.read_text()))


def collect(extra_args):
    """(exit code, collected node ids, output) of `pytest --collect-only -q` over test/."""
    proc = subprocess.run(
        [sys.executable, '-m', 'pytest', '--collect-only', '-q', '-p', 'no:cacheprovider',
         'test'] + list(extra_args),
        cwd=str(TEST_DIR.parent), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        universal_newlines=True, timeout=600, env=dict(os.environ, PYTHONDONTWRITEBYTECODE='1'))
    ids = [line.strip() for line in proc.stdout.splitlines() if NODE_ID.match(line.strip())]
    return proc.returncode, ids, proc.stdout


def test_launch_plugin_collects_every_test():
    try:
        import launch_testing  # noqa: F401
    except ImportError as exc:
        pytest.skip('launch_testing is not installed (the ros2 launch tools): %s' % exc)
    plugins = launch_plugin_names()
    assert 'launch_testing' in plugins, plugins
    code, with_plugin, output = collect([])
    assert code == 0, 'collection with the launch plugins failed:\n%s' % output[-3000:]
    disable = [arg for name in plugins for arg in ('-p', 'no:' + name)]
    plain_code, plain, plain_output = collect(disable)
    assert plain_code == 0, plain_output[-3000:]
    launch_files = launch_test_files()
    assert launch_files, 'no launch test file found in %s' % TEST_DIR

    def outside_launch_files(ids):
        return [i for i in ids if NODE_ID.match(i).group(1) not in launch_files]

    ours, theirs = outside_launch_files(with_plugin), outside_launch_files(plain)
    assert len(theirs) > 100, plain_output[-3000:]
    missing = sorted(set(theirs) - set(ours))
    assert len(ours) == len(theirs) and not missing, (
        '%d tests collected with the launch plugins, %d without; missing with them: %s'
        % (len(ours), len(theirs), missing[:20]))
    collected_files = {NODE_ID.match(i).group(1) for i in with_plugin}
    assert set(launch_files) <= collected_files, (launch_files, output[-3000:])
