# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The `fxseg` console script: one entry point, one module per subcommand.

Each subcommand module in this package defines `NAME`, `HELP`, `add_arguments(parser)` and
`run(args) -> int`, and imports its heavy dependencies inside `run`, so `fxseg --help` stays fast
and a parser can be tested on its own.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import List, Optional

#: Subcommand modules, in the order `fxseg --help` lists them.
COMMAND_MODULES = (
    'synth', 'train', 'export', 'calibrate', 'quantize', 'build', 'bench', 'make_bag', 'eval',
    'demo',
    'check',
)


def _load_commands():
    modules = []
    for name in COMMAND_MODULES:
        modules.append(importlib.import_module('fxseg_ros.cli.' + name))
    return modules


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='fxseg',
        description='fxseg_ros tools: synthetic data, training, export, INT8 calibration and '
                    'quantization, engine building, benchmarks and rosbag evaluation.')
    parser.add_argument('-v', '--verbose', action='count', default=0,
                        help='more log output (-vv for debug)')
    sub = parser.add_subparsers(dest='command', metavar='COMMAND')
    sub.required = True
    for module in _load_commands():
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose + 1, 2)
    logging.basicConfig(level=level, format='[%(levelname)s] %(name)s: %(message)s')
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print('interrupted', file=sys.stderr)
        return 130


if __name__ == '__main__':
    sys.exit(main())
