# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The node's runtime path on Python 3.6 (Jetson TX2: JetPack 4.6, Foxy, TensorRT for Python 3.6).

The runtime path is the node and everything it imports, eagerly or lazily: `ros/node.py`,
`ros/params.py`, `ros/diagnostics.py`, `ros/label_table.py`, `ros/compat.py`, `pipeline/`,
`runtime/` and every fxseg_ros module those import, computed from their import statements.
Checked three ways: vermin finds nothing that needs more than Python 3.6; in a Python 3.6 venv
(`make test` creates `.venv-py36` where a 3.6 interpreter exists) every module imports, except
for ROS 2 / TensorRT modules missing there, and the runtime-path unit tests pass.
"""

import ast
import json
import os
from pathlib import Path
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / 'fxseg_ros'
#: Where the runtime path starts.
ROOTS = ['ros/node.py', 'ros/params.py', 'ros/diagnostics.py', 'ros/label_table.py',
         'ros/compat.py', 'pipeline/*.py', 'runtime/*.py']
#: Modules of the closure not held to Python 3.6, with the reason.
EXCLUDED = {
    'fxseg_ros/data/bag.py': 'rosbags needs Python >= 3.8; bags are read by the workstation '
                             'tools (fxseg eval, calibrate --bag), not by the node',
    'fxseg_ros/data/bag_reader.py': 'rosbags needs Python >= 3.8 (the bag reader of the '
                                    'workstation tools, as data/bag.py)',
}
#: Imports that may be missing in the Python 3.6 venv (no ROS 2 wheels, no GPU there).
MAY_BE_MISSING = ('rclpy', 'rcl_interfaces', 'sensor_msgs', 'std_msgs', 'diagnostic_msgs',
                  'builtin_interfaces', 'lifecycle_msgs', 'ament_index_python', 'tensorrt',
                  'pycuda', 'cuda')
#: Unit tests of the runtime path that run without rclpy (file -> what they cover).
PY36_TEST_FILES = {
    'test_convert_image.py': 'message conversions',
    'test_pipeline_segmentation.py': 'the pipeline with the ONNX Runtime runner',
    'test_runtime_onnxrt.py': 'the ONNX Runtime runner',
    'test_runtime_metadata.py': 'engine metadata',
    'test_runtime_tensorrt.py': 'the TensorRT runner (needs a GPU: skips without one)',
    'test_deploy_graph.py': 'the deployment graph',
    'test_ros_params.py': 'parameter validation',
    'test_ros_diagnostics.py': 'diagnostics statistics',
    'test_core_conventions.py': 'labels and preprocessing conventions',
    'test_quant_cache.py': 'the TensorRT calibration cache',
    'test_data_synth.py': 'synthetic frames',
    'test_trt_rules.py': 'the offline TensorRT check run before every engine build',
    'test_trt_support.py': 'the TensorRT version gates and dtype map',
    'test_runtime_calibrator.py': 'the calibrator callbacks and batch sizing',
}
#: Files whose tests all skip without TensorRT / CUDA (imported and collected all the same).
GPU_ONLY = {'test_runtime_tensorrt.py'}


def _module_file(module: str):
    path = REPO.joinpath(*module.split('.'))
    for candidate in (path / '__init__.py', path.with_suffix('.py')):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(path: Path):
    """fxseg_ros modules a file imports anywhere (module level or inside functions)."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split('.')[0] == 'fxseg_ros':
            yield node.module
            for alias in node.names:
                yield node.module + '.' + alias.name  # `from fxseg_ros.x import module`
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split('.')[0] == 'fxseg_ros':
                    yield alias.name


def runtime_closure():
    """Sorted repository-relative paths of the runtime path's modules (EXCLUDED left out)."""
    todo = []
    for pattern in ROOTS:
        for path in sorted(PACKAGE.glob(pattern)):
            todo.append('.'.join(path.relative_to(REPO).with_suffix('').parts))
    seen = set()
    while todo:
        module = todo.pop()
        path = _module_file(module)
        if path is None:
            continue  # an attribute imported with `from`, not a module
        rel = path.relative_to(REPO).as_posix()
        if rel in seen or rel in EXCLUDED:
            continue
        seen.add(rel)
        parts = module.split('.')
        todo.extend('.'.join(parts[:i]) for i in range(1, len(parts)))  # parent packages
        todo.extend(_imported_modules(path))
    return sorted(seen)


def _py36_python():
    venv = Path(os.environ.get('FXSEG_PY36_VENV', str(REPO / '.venv-py36')))
    python = venv / 'bin' / 'python'
    if not python.exists():
        pytest.skip('no Python 3.6 venv at %s: `make test` creates it where a Python 3.6 '
                    'interpreter exists (python3.6 on PATH or pyenv 3.6.x); none was found'
                    % venv)
    version = subprocess.run([str(python), '-c', 'import sys; print(sys.version_info[:2])'],
                             stdout=subprocess.PIPE, universal_newlines=True).stdout.strip()
    assert version == '(3, 6)', 'the venv at %s runs Python %s, not 3.6' % (venv, version)
    return python


def _py36_env():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(('PYTHON', 'LD_LIBRARY_PATH', '_ROS_WHEELS', 'VIRTUAL_ENV'))}
    env['PYTHONPATH'] = str(REPO)
    env['PYTHONDONTWRITEBYTECODE'] = '1'
    return env


def test_closure_covers_the_runtime_path():
    closure = runtime_closure()
    for expected in ('fxseg_ros/ros/node.py', 'fxseg_ros/pipeline/pipeline.py',
                     'fxseg_ros/runtime/tensorrt.py', 'fxseg_ros/data/preprocess.py',
                     'fxseg_ros/data/labels.py', 'fxseg_ros/model/deploy.py'):
        assert expected in closure, (expected, closure)
    assert not any(p.startswith('fxseg_ros/eval/') or p.startswith('fxseg_ros/cli/')
                   for p in closure), closure


def test_runtime_path_needs_nothing_beyond_python36():
    try:
        import vermin  # noqa: F401
    except ImportError as exc:
        pytest.skip('vermin is not installed (in the test extra): %s' % exc)
    files = runtime_closure()
    code = 'import sys, vermin; sys.argv = ["vermin"] + sys.argv[1:]; sys.exit(vermin.main())'
    proc = subprocess.run([sys.executable, '-c', code, '-t=3.6-', '--eval-annotations',
                           '--violations', '--no-tips', '--no-parse-comments'] + files,
                          cwd=str(REPO), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=300)
    assert proc.returncode == 0, proc.stdout
    assert 'Analyzing %d files' % len(files) in proc.stdout, proc.stdout


def test_runtime_path_imports_on_python36():
    python = _py36_python()
    modules = ['.'.join(Path(p).with_suffix('').parts).replace('.__init__', '')
               for p in runtime_closure()]
    script = '\n'.join([
        'import importlib, json, sys',
        'results = {}',
        'for name in sys.argv[1:]:',
        '    try:',
        '        importlib.import_module(name)',
        '        results[name] = None',
        '    except ImportError as exc:',
        '        results[name] = ["missing", (getattr(exc, "name", None) or "").split(".")[0],',
        '                         str(exc)]',
        '    except Exception as exc:',
        '        results[name] = ["error", type(exc).__name__, str(exc)]',
        'print(json.dumps(results))'])
    proc = subprocess.run([str(python), '-c', script] + modules, cwd=str(REPO), env=_py36_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    failed = {m: r for m, r in results.items()
              if r is not None and not (r[0] == 'missing' and r[1] in MAY_BE_MISSING)}
    assert not failed, failed
    imported = [m for m, r in results.items() if r is None]
    for expected in ('fxseg_ros.runtime.tensorrt', 'fxseg_ros.runtime.onnxrt',
                     'fxseg_ros.pipeline.pipeline', 'fxseg_ros.ros.params',
                     'fxseg_ros.ros.diagnostics'):
        assert expected in imported, results.get(expected)


@pytest.mark.slow
def test_runtime_path_unit_tests_pass_on_python36(tmp_path):
    python = _py36_python()
    report = tmp_path / 'junit.xml'
    proc = subprocess.run(
        [str(python), '-m', 'pytest', '-q', '-p', 'no:cacheprovider', '--basetemp',
         str(tmp_path / 'basetemp'), '--junitxml', str(report)]
        + ['test/' + f for f in PY36_TEST_FILES],
        cwd=str(REPO), env=_py36_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        universal_newlines=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-5000:]
    passed = dict.fromkeys(PY36_TEST_FILES, 0)
    for case in ElementTree.parse(str(report)).iter('testcase'):
        module = case.get('classname', '').split('.')[1] + '.py'
        outcome = [child.tag for child in case]
        if not any(tag in ('skipped', 'failure', 'error') for tag in outcome):
            passed[module] += 1
    not_run = [f for f, n in passed.items() if n == 0 and f not in GPU_ONLY]
    assert not not_run, (not_run, proc.stdout[-3000:])
