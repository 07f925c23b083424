# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The Apache-2.0 header on every Python file, as ament_copyright checks it in ament packages.

ament_copyright has no wheel on PyPI; this check asks for the one header the package uses:
`# Copyright <year> The fxseg_ros Authors` then `# SPDX-License-Identifier: Apache-2.0`, a
shebang line allowed before them. The repository's LICENSE holds the license text.
"""

from pathlib import Path
import re

from lint_targets import linted_paths, ROOT
import pytest

COPYRIGHT = re.compile(r'# Copyright (\d{4}) The fxseg_ros Authors$')
SPDX = '# SPDX-License-Identifier: Apache-2.0'


def header_problem(path: Path) -> str:
    """Return what is wrong with the header of a Python file ('' when it is right)."""
    lines = path.read_text(encoding='utf-8').splitlines()[:3]
    if lines and lines[0].startswith('#!'):
        lines = lines[1:]
    if not lines or not COPYRIGHT.match(lines[0]):
        return 'no "# Copyright <year> The fxseg_ros Authors" line first (after a shebang)'
    if len(lines) < 2 or lines[1] != SPDX:
        return 'no "%s" line after the copyright line' % SPDX
    return ''


def header_problems(paths):
    """Return 'file: problem' for every Python file below `paths` with a wrong header."""
    files = []
    for path in map(Path, paths):
        files.extend(sorted(path.rglob('*.py')) if path.is_dir() else [path])
    return ['%s: %s' % (f, header_problem(f)) for f in files if header_problem(f)]


@pytest.mark.copyright
@pytest.mark.linter
def test_copyright():
    problems = header_problems(linted_paths())
    assert not problems, 'Found %d files without the Apache-2.0 header:\n%s' % (
        len(problems), '\n'.join(problems))


@pytest.mark.parametrize('text, problem', [
    ('"""No header."""\n', 'no "# Copyright'),
    ('# Copyright 2026 The fxseg_ros Authors\n"""No SPDX line."""\n', 'no "# SPDX'),
    ('# Copyright 2026 Someone Else\n# SPDX-License-Identifier: Apache-2.0\n', 'no "# Copyright'),
    ('# Copyright 2026 The fxseg_ros Authors\n# SPDX-License-Identifier: MIT\n', 'no "# SPDX'),
    ('\n# Copyright 2026 The fxseg_ros Authors\n# SPDX-License-Identifier: Apache-2.0\n',
     'no "# Copyright'),
    ('#!/usr/bin/env python3\n# Copyright 2026 The fxseg_ros Authors\n'
     '# SPDX-License-Identifier: Apache-2.0\n', ''),
    ('# Copyright 2026 The fxseg_ros Authors\n# SPDX-License-Identifier: Apache-2.0\n', ''),
])
def test_header_check_finds_a_bad_file(tmp_path, text, problem):
    (tmp_path / 'pkg').mkdir()
    bad = tmp_path / 'pkg' / 'module.py'
    bad.write_text(text, encoding='utf-8')
    found = header_problems([str(tmp_path / 'pkg')])
    if problem:
        assert len(found) == 1 and found[0].startswith(str(bad) + ': ' + problem), found
    else:
        assert found == []


def test_license_file_is_the_apache_2_0_text():
    text = (ROOT / 'LICENSE').read_text(encoding='utf-8')
    assert 'Apache License' in text and 'Version 2.0, January 2004' in text
    assert 'TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION' in text
