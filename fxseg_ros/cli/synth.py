# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
`fxseg synth`: write synthetic driving scenes in the Cityscapes directory layout.

The frames stand in for camera data on machines without a data set; the same reader serves them
and real Cityscapes.
"""

from __future__ import annotations

import argparse
import time
from typing import Tuple

from fxseg_ros.cli.argtypes import non_negative_int, positive_int

NAME = 'synth'
HELP = ('Write seeded synthetic driving scenes (1280x720 BGR frames with exact Cityscapes '
        'train-ID labels, day/dusk/night) in the Cityscapes directory layout.')

SPLITS = ('train', 'val', 'test')


def parse_size(text: str) -> Tuple[int, int]:
    """
    Parse 'WIDTHxHEIGHT' into (width, height).

    Raises argparse.ArgumentTypeError for anything else.
    """
    parts = text.lower().split('x')
    try:
        if len(parts) != 2:
            raise ValueError(text)
        width, height = int(parts[0]), int(parts[1])
    except ValueError:
        raise argparse.ArgumentTypeError(
            'size must look like 1280x720 (WIDTHxHEIGHT), got %r' % text) from None
    if width < 64 or height < 64 or width > 8192 or height > 8192:
        raise argparse.ArgumentTypeError('size %dx%d out of range 64..8192' % (width, height))
    return width, height


def parse_conditions(text: str) -> Tuple[str, ...]:
    """
    Parse a comma-separated list of lighting conditions ('day,dusk,night').

    Raises argparse.ArgumentTypeError for an unknown or empty list.
    """
    from fxseg_ros.data.synth import CONDITIONS

    names = tuple(part.strip() for part in text.split(',') if part.strip())
    if not names:
        raise argparse.ArgumentTypeError('no condition given; choose from %s'
                                         % ','.join(CONDITIONS))
    unknown = [name for name in names if name not in CONDITIONS]
    if unknown:
        raise argparse.ArgumentTypeError(
            'unknown condition(s) %s; choose from %s' % (','.join(unknown), ','.join(CONDITIONS)))
    return names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--out', required=True, metavar='DIR',
                        help='output root; leftImg8bit/ and gtFine/ are written below it')
    parser.add_argument('--count', type=positive_int, required=True, metavar='N',
                        help='frames per condition')
    parser.add_argument('--seed', type=int, default=0, help='generator seed (default 0)')
    parser.add_argument('--split', choices=SPLITS, default='train',
                        help='Cityscapes split directory to write (default train)')
    parser.add_argument('--conditions', type=parse_conditions, default=('day', 'dusk', 'night'),
                        metavar='LIST',
                        help='comma-separated lighting conditions, one city directory each '
                             '(default day,dusk,night)')
    parser.add_argument('--size', type=parse_size, default=(1280, 720), metavar='WxH',
                        help='frame size (default 1280x720, the camera resolution)')
    parser.add_argument('--start', type=non_negative_int, default=0, metavar='I',
                        help='first scene index; lets several runs extend one data set '
                             '(default 0)')
    parser.add_argument('--workers', type=positive_int, default=1, metavar='N',
                        help='worker processes; output bytes do not depend on it (default 1)')
    parser.add_argument('--traffic-lights', action='store_true',
                        help='also draw traffic lights (off by default: at stride 32 they are '
                             'mostly below one output cell)')


def run(args: argparse.Namespace) -> int:
    from fxseg_ros.data.synth import write_cityscapes

    start = time.perf_counter()
    written = write_cityscapes(args.out, args.count, args.seed, split=args.split,
                               conditions=args.conditions, size_wh=args.size,
                               start=args.start, workers=args.workers, progress=True,
                               traffic_lights=args.traffic_lights)
    seconds = time.perf_counter() - start
    print('wrote %d frames (%s) to %s in %.1f s' % (
        len(written), ','.join(args.conditions), args.out, seconds))
    return 0
