# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The command line that reproduces parsed arguments, written back from the parser itself.

Reports print it under "Produced by": every option of the subcommand's parser whose value
differs from its default (required options always), so an option added to a parser appears
there without anyone listing it again.
"""

from __future__ import annotations

import argparse
import shlex
from typing import List, Sequence

#: Destinations never written back: help, and the log verbosity (-v before or after the
#: subcommand), which does not change a result.
NOT_REPRODUCED = (argparse.SUPPRESS, 'help', 'verbose', 'verbose_after_command')


def _words(action: argparse.Action, value) -> List[str]:
    """Return the words of one parsed value as typed (types may define `unparse`)."""
    unparse = getattr(action.type, 'unparse', None)
    if action.nargs not in (None, '?') and isinstance(value, (list, tuple)):
        return [unparse(v) if unparse else str(v) for v in value]
    return [unparse(value) if unparse else str(value)]


def argument_words(parser: argparse.ArgumentParser, args: argparse.Namespace) -> List[str]:
    """Return the options and positionals of `parser` set in `args`, as command-line words."""
    words: List[str] = []
    positionals: List[str] = []
    # argparse has no public list of a parser's actions; `_actions` is how its own help
    # formatter reads them.
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            name = getattr(args, action.dest)
            positionals += [name] + argument_words(action.choices[name], args)
            continue
        if action.dest in NOT_REPRODUCED or not hasattr(args, action.dest):
            continue
        value = getattr(args, action.dest)
        if not action.option_strings:
            positionals += _words(action, value)
            continue
        if value is None or (value == action.default and not action.required):
            continue
        flag = action.option_strings[-1] if action.option_strings[-1].startswith('--') \
            else action.option_strings[0]
        if action.nargs == 0:   # store_true / store_false / store_const
            words.append(flag)
        elif isinstance(action, argparse._AppendAction):
            for item in value:
                words += [flag] + _words(action, item)
        else:
            words += [flag] + _words(action, value)
    return words + positionals


def reproduce_command(prog: Sequence[str], parser: argparse.ArgumentParser,
                      args: argparse.Namespace) -> str:
    """Return the shell command `prog` + the arguments of `parser` set in `args`, quoted."""
    return ' '.join(shlex.quote(word) for word in list(prog) + argument_words(parser, args))
