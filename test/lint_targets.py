# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""What the linters check, and the linter packages they need (test_flake8/pep257/copyright)."""

from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Every Python file of the repository that ships or tests the package lies below these.
LINTED = ('fxseg_ros', 'test', 'launch', 'tools', 'setup.py')
#: ament_flake8 and the flake8 plugins its package.xml names (ament/ament_lint,
#: ament_flake8/package.xml); the ros-ament-flake8 wheel does not declare them.
FLAKE8_DISTRIBUTIONS = (
    'ros-ament-flake8', 'flake8', 'flake8-blind-except', 'flake8-builtins',
    'flake8-class-newline', 'flake8-comprehensions', 'flake8-deprecated', 'flake8-docstrings',
    'flake8-import-order', 'flake8-quotes', 'pydocstyle')
PEP257_DISTRIBUTIONS = ('ros-ament-pep257', 'pydocstyle')


def linted_paths():
    """Return the linted folders and files as absolute path strings."""
    return [str(ROOT / p) for p in LINTED]


def missing_distributions(names):
    """Return the distributions of `names` that are not installed, as one string ('' if none)."""
    missing = []
    for name in names:
        try:
            metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
    return ', '.join(missing)
