# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""ament_flake8 with ament's configuration over the package, its tests, launch files and tools."""

from lint_targets import FLAKE8_DISTRIBUTIONS, linted_paths, missing_distributions
import pytest


@pytest.mark.flake8
@pytest.mark.linter
def test_flake8():
    missing = missing_distributions(FLAKE8_DISTRIBUTIONS)
    if missing:  # linters of the test extra: pip install .[test]
        pytest.skip('not installed (pip install .[test]): %s' % missing)
    from ament_flake8.main import main_with_errors

    rc, errors = main_with_errors(argv=linted_paths())
    assert rc == 0, \
        'Found %d code style errors / warnings:\n' % len(errors) + '\n'.join(errors)
