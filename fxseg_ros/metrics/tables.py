# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The one table formatter of the reports: GitHub Markdown or aligned plain text.

The evaluation report, the quantization report and the sensitivity table of `fxseg quantize`
print their tables through `format_table`, so every table of the package looks the same.
"""

import math
from typing import Optional, Sequence

#: What a missing value (None, NaN) shows in a cell.
MISSING = '-'


def format_cell(value, float_format: str = '%.2f', missing: str = MISSING) -> str:
    """Format one cell: floats with `float_format`, None / NaN as `missing`, others by str()."""
    if value is None:
        return missing
    if isinstance(value, float):
        return missing if math.isnan(value) else float_format % value
    return str(value)


def format_table(header: Sequence[str], rows: Sequence[Sequence[object]],
                 align: Optional[str] = None, markdown: bool = True,
                 float_format: str = '%.2f') -> str:
    """
    Format a table of `rows` (one sequence of cells per row) under `header`.

    align: one of 'l' / 'r' per column; None: Markdown's default alignment, text left-aligned.
    markdown=False gives columns padded to their widest cell, two spaces apart.
    """
    if align is not None and len(align) != len(header):
        raise ValueError('align %r has %d columns, the header %d' % (align, len(align),
                                                                     len(header)))
    cells = [[format_cell(v, float_format) for v in row] for row in rows]
    if markdown:
        seps = ['---:' if a == 'r' else '---' for a in align] if align else \
            ['---'] * len(header)
        lines = ['| ' + ' | '.join(str(h) for h in header) + ' |', '|' + '|'.join(seps) + '|']
        lines += ['| ' + ' | '.join(row) + ' |' for row in cells]
        return '\n'.join(lines)
    widths = [max([len(str(h))] + [len(row[i]) for row in cells])
              for i, h in enumerate(header)]
    sides = align or 'l' * len(header)

    def line(values):
        return '  '.join(v.rjust(w) if a == 'r' else v.ljust(w)
                         for v, w, a in zip(values, widths, sides)).rstrip()

    return '\n'.join([line([str(h) for h in header])] + [line(row) for row in cells])
