# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Argument types shared by the `fxseg` subcommands: a bad value is an argparse error naming it.

A type that turns its text into something other than a number or a string carries an
`unparse(value) -> str` attribute, so a command line can be written back from parsed arguments
(`fxseg_ros.cli.command_line`).

Every list option takes its items the same way (`ListAction`): separated by spaces, or by
repeating the option, and for lists of names also by commas (`--conditions day,night` =
`--conditions day night` = `--conditions day --conditions night`); file names are not split at
commas (`file_list`), since a file name may hold one.
"""

from __future__ import annotations

import argparse
from typing import Callable, List, Sequence, Tuple, Union

from fxseg_ros.data.conditions import CONDITIONS

#: Largest frame side a size argument accepts, pixels.
MAX_SIDE = 8192
#: Playback rates that are not a number of Hz.
RATE_NAMES = ('recorded', 'max')


def _int(text: str, expected: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError('expected %s, got %r' % (expected, text)) from None


def _float(text: str, expected: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError('expected %s, got %r' % (expected, text)) from None
    if value != value or value in (float('inf'), float('-inf')):
        raise argparse.ArgumentTypeError('expected %s, got %r' % (expected, text))
    return value


def positive_int(text: str) -> int:
    """Parse an integer >= 1."""
    value = _int(text, 'an integer >= 1')
    if value < 1:
        raise argparse.ArgumentTypeError('expected an integer >= 1, got %s' % text)
    return value


def non_negative_int(text: str) -> int:
    """Parse an integer >= 0."""
    value = _int(text, 'an integer >= 0')
    if value < 0:
        raise argparse.ArgumentTypeError('expected an integer >= 0, got %s' % text)
    return value


def positive_float(text: str) -> float:
    """Parse a number > 0."""
    value = _float(text, 'a number > 0')
    if not value > 0:
        raise argparse.ArgumentTypeError('expected a number > 0, got %s' % text)
    return value


def non_negative_float(text: str) -> float:
    """Parse a number >= 0."""
    value = _float(text, 'a number >= 0')
    if not value >= 0.0:
        raise argparse.ArgumentTypeError('expected a number >= 0, got %s' % text)
    return value


def int_in(low: int, high: int, what: str = 'an integer') -> Callable[[str], int]:
    """Build the parser of an integer in [low, high]."""
    def number(text: str) -> int:
        value = _int(text, '%s in [%d, %d]' % (what, low, high))
        if not low <= value <= high:
            raise argparse.ArgumentTypeError('%s must be in [%d, %d], got %s'
                                             % (what, low, high, text))
        return value

    return number


def number_in(low: float, high: float, low_open: bool = False, high_open: bool = False,
              what: str = 'a number') -> Callable[[str], float]:
    """
    Build the parser of a number in an interval ([0, 1) for low 0, high 1, high_open).

    The error names the interval in the usual notation, so a bad value says what is allowed.
    """
    interval = '%s%g, %g%s' % ('(' if low_open else '[', low, high, ')' if high_open else ']')

    def number(text: str) -> float:
        value = _float(text, '%s in %s' % (what, interval))
        above = value > low if low_open else value >= low
        below = value < high if high_open else value <= high
        if not (above and below):
            raise argparse.ArgumentTypeError('%s must be in %s, got %s' % (what, interval, text))
        return value

    return number


def _unparse_size(size_wh: Tuple[int, int]) -> str:
    return '%dx%d' % tuple(size_wh)


def size_wh(min_side: int = 1, max_side: int = MAX_SIDE) -> Callable[[str], Tuple[int, int]]:
    """
    Build the parser of 'WIDTHxHEIGHT' sizes (e.g. 1280x720) with sides in [min_side, max_side].

    Every size argument of the `fxseg` commands is width first; the parser returns
    (width, height).
    """
    def size(text: str) -> Tuple[int, int]:
        parts = text.lower().split('x')
        try:
            if len(parts) != 2:
                raise ValueError(text)
            width, height = int(parts[0]), int(parts[1])
        except ValueError:
            raise argparse.ArgumentTypeError(
                'expected WIDTHxHEIGHT, e.g. 1280x720, got %r' % text) from None
        if min(width, height) < min_side:
            raise argparse.ArgumentTypeError('size %dx%d is too small (min %dx%d)'
                                             % (width, height, min_side, min_side))
        if max(width, height) > max_side:
            raise argparse.ArgumentTypeError('size %dx%d is too large (max %dx%d)'
                                             % (width, height, max_side, max_side))
        return width, height

    size.unparse = _unparse_size
    return size


def comma_list(text: str) -> List[str]:
    """Parse one word of a list option ('a,b,c'); empty items are dropped."""
    return [item.strip() for item in text.split(',') if item.strip()]


def file_list(text: str) -> List[str]:
    """Parse one word of a list of files: the word itself (no split at commas)."""
    return [text]


class ListAction(argparse.Action):
    """
    A list option (nargs='+'): the items of every word of every occurrence, in order.

    The option's `type` parses one word into a list of items (default `comma_list`, which
    splits at commas); the first occurrence replaces the default, later ones add to it.
    """

    def __init__(self, option_strings, dest, nargs='+', **kwargs):
        if nargs != '+':
            raise ValueError('a list option takes nargs="+"')
        kwargs.setdefault('type', comma_list)
        super().__init__(option_strings, dest, nargs=nargs, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        items = [item for word in values for item in word]
        if not items:
            raise argparse.ArgumentError(self, 'no item given')
        current = getattr(namespace, self.dest, None)
        earlier = [] if current is None or current is self.default else list(current)
        setattr(namespace, self.dest, earlier + items)


def names_in(choices: Sequence[str], what: str) -> Callable[[str], List[str]]:
    """Build the word parser of a list option whose items must be among `choices`."""
    def names(text: str) -> List[str]:
        items = comma_list(text)
        unknown = [item for item in items if item not in choices]
        if unknown:
            raise argparse.ArgumentTypeError('unknown %s %s; choose from %s'
                                             % (what, ','.join(unknown), ','.join(choices)))
        return items

    return names


def condition_list(text: str) -> List[str]:
    """Parse one word of a list of lighting conditions, e.g. 'day,night'."""
    names = comma_list(text)
    if not names:
        raise argparse.ArgumentTypeError('no condition given; choose from %s'
                                         % ','.join(CONDITIONS))
    return names_in(CONDITIONS, 'condition(s)')(text)


def playback_rate(text: str) -> Union[str, float]:
    """Parse a playback rate: 'recorded' (the bag's timing), 'max' or a rate in Hz > 0."""
    if text in RATE_NAMES:
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError('expected %s or a rate in Hz, got %r'
                                         % (', '.join(repr(n) for n in RATE_NAMES), text)) \
            from None
    if not value > 0 or value == float('inf'):
        raise argparse.ArgumentTypeError('rate must be > 0 Hz, got %s' % text)
    return value
