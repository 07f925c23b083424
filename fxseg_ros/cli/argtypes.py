# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Argument types shared by the `fxseg` subcommands: a bad value is an argparse error naming it.
"""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    """An integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError('expected an integer >= 1, got %s' % text)
    return value


def non_negative_int(text: str) -> int:
    """An integer >= 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError('expected an integer >= 0, got %s' % text)
    return value


def positive_float(text: str) -> float:
    """A number > 0."""
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError('expected a number > 0, got %s' % text)
    return value


def non_negative_float(text: str) -> float:
    """A number >= 0."""
    value = float(text)
    if not value >= 0.0:
        raise argparse.ArgumentTypeError('expected a number >= 0, got %s' % text)
    return value
