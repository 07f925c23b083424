# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""ament_pep257 (ament's docstring convention) over the package, its tests, launch and tools."""

from lint_targets import linted_paths, missing_distributions, PEP257_DISTRIBUTIONS
import pytest


@pytest.mark.linter
@pytest.mark.pep257
def test_pep257():
    missing = missing_distributions(PEP257_DISTRIBUTIONS)
    if missing:  # linters of the test extra: pip install .[test]
        pytest.skip('not installed (pip install .[test]): %s' % missing)
    from ament_pep257.main import main

    rc = main(argv=linted_paths())
    assert rc == 0, 'Found code style errors / warnings'
