# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""tools/gpu_check.py on a machine without CUDA: it says so and exits 2."""


import os
from pathlib import Path
import subprocess
import sys

from fxseg_ros.runtime.cuda_device import CudaError, open_device
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / 'tools' / 'gpu_check.py'


def test_gpu_check_without_cuda_exits_2(tmp_path):
    try:
        device = open_device(0, binding='cuda-python')
    except CudaError:
        pass
    else:
        pytest.skip('CUDA is usable here (%s): the script runs its checks instead' % device.name)
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    done = subprocess.run([sys.executable, str(SCRIPT), '--frames', '1'], cwd=str(tmp_path),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=120)
    out = done.stdout.decode()
    assert done.returncode == 2, (out, done.stderr.decode())
    assert out.startswith('no CUDA here: ') and 'needs a CUDA machine' in out
    assert 'Traceback' not in done.stderr.decode()
