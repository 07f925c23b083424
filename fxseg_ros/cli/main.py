# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The `fxseg` console script: one entry point, one module per subcommand.

Each subcommand module in this package defines `NAME`, `HELP`, `add_arguments(parser)` and
`run(args) -> int`, and imports its heavy dependencies inside `run`, so `fxseg --help` stays fast
and a parser can be tested on its own. Every subcommand runs under one error contract
(`fxseg_ros.cli.errors`): one line and exit code 2 for bad input, `interrupted` and 130 for
Ctrl-C, a bug report line (the traceback with -v) for anything else.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import List, Optional

from fxseg_ros import __version__
from fxseg_ros.cli.errors import EXIT_INTERRUPTED, Parser, run_guarded

#: Subcommand modules, in the order `fxseg --help` lists them.
COMMAND_MODULES = (
    'synth', 'train', 'export', 'calibrate', 'quantize', 'build', 'bench', 'make_bag', 'eval',
    'demo',
    'check',
)
#: -v given after the subcommand is counted here (and added to the -v before it).
SUB_VERBOSE = 'verbose_after_command'


def _load_commands():
    modules = []
    for name in COMMAND_MODULES:
        modules.append(importlib.import_module('fxseg_ros.cli.' + name))
    return modules


def _verbose_argument(parser: argparse.ArgumentParser, dest: str) -> None:
    parser.add_argument('-v', '--verbose', dest=dest, action='count', default=0,
                        help='more log output (-vv for debug; tracebacks of internal errors)')


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog='fxseg',
        description='fxseg_ros tools: synthetic data, training, export, INT8 calibration and '
                    'quantization, engine building, benchmarks and rosbag evaluation.')
    _verbose_argument(parser, 'verbose')
    parser.add_argument('--version', action='version', version='fxseg %s' % __version__)
    sub = parser.add_subparsers(dest='command', metavar='COMMAND')
    sub.required = True
    for module in _load_commands():
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        _verbose_argument(p, SUB_VERBOSE)
        p.set_defaults(_run=module.run)
    return parser


def _command_parser(parser: argparse.ArgumentParser,
                    args: argparse.Namespace) -> argparse.ArgumentParser:
    """Return the parser of the command and mode `args` chose ('fxseg quantize int8')."""
    while True:
        chosen = [action.choices.get(getattr(args, action.dest, None))
                  for action in parser._actions
                  if isinstance(action, argparse._SubParsersAction)]
        if not chosen or chosen[0] is None:
            return parser
        parser = chosen[0]


def main(argv: Optional[List[str]] = None) -> int:
    try:
        parser = build_parser()
        try:
            args, unknown = parser.parse_known_args(argv)
            if unknown:   # said by the (sub)command's parser, as its other errors are
                _command_parser(parser, args).error('unrecognized arguments: %s'
                                                    % ' '.join(unknown))
        except SystemExit as done:   # --help, --version, or a bad argument (one line printed)
            return int(done.code or 0)
        verbose = args.verbose + getattr(args, SUB_VERBOSE, 0)
        level = logging.WARNING - 10 * min(verbose + 1, 2)
        logging.basicConfig(level=level, format='[%(levelname)s] %(name)s: %(message)s')
        # The name argparse gives its own errors, so every error line of a run starts alike
        # ('fxseg quantize int8: error: ...'): the mode of a command with modes included.
        prog = ' '.join(['fxseg', args.command] + ([args.mode] if getattr(args, 'mode', None)
                                                   else []))
        return run_guarded(prog, args._run, args, verbose)
    except KeyboardInterrupt:   # before the subcommand started (imports, parsing)
        print('interrupted', file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == '__main__':
    sys.exit(main())
