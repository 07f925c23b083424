# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
`fxseg synth`: write synthetic driving scenes in the Cityscapes directory layout.

The frames stand in for camera data on machines without a data set; the same reader serves them
and real Cityscapes. The default seed gives scenes the demo model was not trained on; a request
for its training scenes is written with a warning.
"""

from __future__ import annotations

import argparse
import sys
import time

from fxseg_ros.cli.argtypes import (condition_list, ListAction, non_negative_int, positive_int,
                                    size_wh)
from fxseg_ros.data.conditions import CONDITIONS
from fxseg_ros.data.sizes import CAMERA_WH, SYNTH_MIN_SIDE
from fxseg_ros.data.synth.seeds import HELDOUT_SEED, TRAINING_SEED

NAME = 'synth'
HELP = ('Write seeded synthetic driving scenes (%dx%d BGR frames with exact Cityscapes '
        'train-ID labels, %s) in the Cityscapes directory layout.'
        % (CAMERA_WH + ('/'.join(CONDITIONS),)))

SPLITS = ('train', 'val', 'test')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--out', required=True, metavar='DIR',
                        help='output root; leftImg8bit/ and gtFine/ are written below it')
    parser.add_argument('--count', type=positive_int, required=True, metavar='N',
                        help='frames per condition')
    parser.add_argument('--seed', type=non_negative_int, default=HELDOUT_SEED,
                        help='generator seed (default: %%(default)s, scenes the demo model was '
                             'not trained on; its training scenes are seed %d, split train)'
                             % TRAINING_SEED)
    parser.add_argument('--split', choices=SPLITS, default='train',
                        help='Cityscapes split directory to write (default: %(default)s)')
    parser.add_argument('--conditions', action=ListAction, type=condition_list,
                        default=list(CONDITIONS), metavar='COND',
                        help='lighting conditions (commas or spaces), one city directory each '
                             '(default %s)' % ','.join(CONDITIONS))
    parser.add_argument('--size', type=size_wh(SYNTH_MIN_SIDE), default=CAMERA_WH, metavar='WxH',
                        help='frame size (default %dx%d, the camera resolution)' % CAMERA_WH)
    parser.add_argument('--start', type=non_negative_int, default=0, metavar='I',
                        help='first scene index; lets several runs extend one data set '
                             '(default: %(default)s)')
    parser.add_argument('--workers', type=positive_int, default=1, metavar='N',
                        help='worker processes; output bytes do not depend on it '
                             '(default: %(default)s)')
    parser.add_argument('--traffic-lights', action='store_true',
                        help='also draw traffic lights (off by default: at stride 32 they are '
                             'mostly below one output cell)')


def _synth_folder(argument: str, path) -> None:
    """Check --out: new, empty, or a Cityscapes-layout tree to add frames to (not a bag)."""
    from fxseg_ros.cli.checks import is_bag
    from fxseg_ros.cli.errors import fail

    if not path.is_dir() or not any(path.iterdir()):
        return
    if is_bag(path):
        fail(argument, '%s is a rosbag2 (it has metadata.yaml)' % path,
             'give a new or empty folder, or a Cityscapes-layout tree to add frames to')
    if not (path / 'leftImg8bit').is_dir() or not (path / 'gtFine').is_dir():
        fail(argument, '%s holds files but no Cityscapes layout (leftImg8bit/ and gtFine/)'
             % path, 'give a new or empty folder, or a tree fxseg synth wrote to add frames to')


def run(args: argparse.Namespace) -> int:
    from fxseg_ros.cli.checks import output_dir
    from fxseg_ros.data.synth.seeds import training_overlap_warning
    from fxseg_ros.data.synth.writer import SPLIT_INDEX_BASE, write_cityscapes

    _synth_folder('--out', output_dir('--out', args.out, create=False))
    warning = training_overlap_warning(args.seed, SPLIT_INDEX_BASE[args.split] + args.start,
                                       args.count, args.conditions)
    if warning:
        print('WARNING: ' + warning, file=sys.stderr)
    start = time.perf_counter()
    written = write_cityscapes(args.out, args.count, args.seed, split=args.split,
                               conditions=args.conditions, size_wh=args.size,
                               start=args.start, workers=args.workers, progress=True,
                               traffic_lights=args.traffic_lights)
    seconds = time.perf_counter() - start
    print('wrote %d frames (%s) to %s in %.1f s' % (
        len(written), ','.join(args.conditions), args.out, seconds))
    return 0
