# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The package's import contracts (.importlinter), checked by the real `lint-imports`."""

import os
from pathlib import Path
import shutil
import subprocess
import sys

import pytest

REPO = Path(__file__).resolve().parents[1]
CONTRACTS = REPO / '.importlinter'

#: Contract names as `lint-imports` prints them (the `name =` lines of .importlinter).
LAYERS = 'Layers: imports point down'
SESSION_LEAF = 'runtime.session, imported from below its layer'
ACYCLIC = 'No import cycles between the modules of a package'
RCLPY = 'Only ros imports rclpy'
TORCH = 'Only model imports torch'
ACCELERATORS = 'TensorRT, pycuda and ONNX Runtime only in runtime'


def _lint_imports(package_root: Path) -> subprocess.CompletedProcess:
    """Run `lint-imports` on the fxseg_ros package found in `package_root`."""
    script = Path(sys.executable).with_name('lint-imports')
    if not script.is_file():
        found = shutil.which('lint-imports')
        if found is None:
            pytest.skip('import-linter is not installed (pip install .[test])')
        script = Path(found)
    env = dict(os.environ, PYTHONPATH=str(package_root))
    return subprocess.run([str(script), '--no-cache', str(CONTRACTS)], cwd=str(package_root),
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=300)


def _verdicts(output: str):
    """Contract name prefix -> 'KEPT' / 'BROKEN', from the summary lines of the output."""
    text = ' '.join(output.split())
    verdicts = {}
    for name in (LAYERS, SESSION_LEAF, ACYCLIC, RCLPY, TORCH, ACCELERATORS):
        start = text.find(name)
        assert start >= 0, 'contract %r missing from the output:\n%s' % (name, output)
        rest = text[start:]
        kept, broken = rest.find(' KEPT'), rest.find(' BROKEN')
        ends = [i for i in (kept, broken) if i >= 0]
        assert ends, output
        verdicts[name] = 'KEPT' if kept == min(ends) else 'BROKEN'
    return verdicts


def test_the_package_keeps_every_import_contract():
    result = _lint_imports(REPO)
    assert result.returncode == 0, result.stdout
    assert set(_verdicts(result.stdout).values()) == {'KEPT'}


#: One injected import per contract: (file under fxseg_ros/, line appended, contract it breaks).
VIOLATIONS = (
    ('ros/live.py', 'import fxseg_ros.eval.report', LAYERS),
    ('runtime/session.py', 'import fxseg_ros.data.labels', SESSION_LEAF),
    ('data/cityscapes.py', 'import fxseg_ros.data.synth', ACYCLIC),
    ('data/labels.py', 'import rclpy', RCLPY),
    ('quant/cache.py', 'import torch', TORCH),
    ('pipeline/stats.py', 'import onnxruntime', ACCELERATORS),
)


def test_each_contract_catches_an_import_that_breaks_it(tmp_path):
    """A copy of the package with one forbidden import per contract: every contract breaks."""
    copy = tmp_path / 'fxseg_ros'
    shutil.copytree(str(REPO / 'fxseg_ros'), str(copy),
                    ignore=shutil.ignore_patterns('__pycache__', 'assets'))
    for relative, line, _ in VIOLATIONS:
        with open(str(copy / relative), 'a') as handle:
            handle.write('\n%s  # noqa\n' % line)
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    verdicts = _verdicts(result.stdout)
    assert verdicts == {contract: 'BROKEN' for _, _, contract in VIOLATIONS}, result.stdout
    for relative, line, contract in VIOLATIONS:
        module = 'fxseg_ros.' + relative[:-len('.py')].replace('/', '.')
        if contract == ACYCLIC:   # reported per package, with relative module names
            assert 'No cycles are allowed in fxseg_ros.data' in result.stdout
        else:
            assert '%s -> %s' % (module, line.split()[1]) in result.stdout


def test_cycles_are_not_waived_inside_a_layer():
    """
    The acyclic contract ignores only the session-factory imports the layers contract ignores.

    Those are the imports from below runtime; no import between two modules of one package.
    """
    import configparser

    config = configparser.ConfigParser()
    config.read(str(CONTRACTS))

    def ignored(section):
        lines = [line.strip() for line in
                 config.get(section, 'ignore_imports', fallback='').splitlines()]
        return {line for line in lines if line and not line.startswith('#')}

    acyclic = ignored('importlinter:contract:acyclic')
    assert acyclic == ignored('importlinter:contract:layers')
    for line in acyclic:
        source, target = (part.strip().split('.')[1] for part in line.split('->'))
        assert source != target, line
