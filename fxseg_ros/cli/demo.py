# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
`fxseg demo`: the main job end to end on the CPU.

Generates a demo bag (day and night), calibrates on day frames (entropy), quantizes (Q/DQ INT8
and mixed precision), builds the FP16-emulated model, evaluates FP32 / FP16 / INT8 / INT8 mixed
offline, runs the node live on the same bag, prints the article's table and the coverage check's
night-time warning, and writes the report.
"""

from __future__ import annotations

import argparse

from fxseg_ros.cli.argtypes import (non_negative_float, non_negative_int, playback_rate,
                                    positive_int)

NAME = 'demo'
HELP = ('end-to-end demo: demo bag, INT8 calibration and quantization, offline and live '
        "evaluation, the article's table and a report")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--out', required=True, help='output folder (bag, models, report)')
    parser.add_argument('--model', default=None,
                        help='FP32 bare network graph (default: the packaged demo model)')
    parser.add_argument('--frames-per-condition', type=positive_int, default=24,
                        help='bag frames per lighting condition (default: %(default)s)')
    parser.add_argument('--calib-frames', type=positive_int, default=16,
                        help='day frames used for calibration (default: %(default)s)')
    parser.add_argument('--seed', type=non_negative_int, default=7,
                        help='generator seed (default: %(default)s)')
    parser.add_argument('--heldout-frames', type=positive_int, default=6,
                        help='held-out synthetic frames per condition that the mixed-precision '
                             'search measures its drop on (default: %(default)s)')
    parser.add_argument('--max-drop', type=non_negative_float, default=0.5,
                        help='mIoU budget of the mixed-precision model in points '
                             '(default: %(default)s)')
    parser.add_argument('--max-fallback', type=positive_int, default=4,
                        help='most layers the mixed-precision search keeps in float '
                             '(default: %(default)s)')
    parser.add_argument('--live-rate', type=playback_rate, default='max',
                        help='rate of the live run: max (each frame once the node has answered '
                             'the previous one: nothing dropped, so live and offline accuracy '
                             "compare frame for frame), recorded (the bag's 10 Hz) or Hz "
                             '(default: %(default)s)')
    parser.add_argument('--threads', type=non_negative_int, default=0,
                        help='ONNX Runtime threads (0: runtime default)')
    parser.add_argument('--skip-live', action='store_true',
                        help='skip the live run through the ROS 2 node')
    parser.add_argument('--force', action='store_true',
                        help='redo every step, even one that completed with the same inputs')


def _demo_folder(argument: str, path) -> None:
    """
    --out: new, empty, or the folder of an earlier demo (with its demo_state.json).

    A demo deletes and rewrites its own outputs; any other folder (a bag, a data set, someone's
    files) is refused before anything is written.
    """
    from pathlib import Path

    from fxseg_ros.cli.errors import fail
    from fxseg_ros.eval.demo_state import STATE_FILE

    path = Path(path)
    if path.is_dir() and any(path.iterdir()) and not (path / STATE_FILE).is_file():
        fail(argument, '%s holds files but no %s, so it is no output folder of fxseg demo'
             % (path, STATE_FILE), 'give a new or empty folder, or the --out of an earlier '
             'fxseg demo to resume it')


def run(args: argparse.Namespace) -> int:
    from fxseg_ros import DEMO_MODEL
    from fxseg_ros.cli.checks import label_table_classes, onnx_model, output_dir
    from fxseg_ros.cli.command_line import reproduce_command
    from fxseg_ros.cli.errors import fail
    from fxseg_ros.eval.demo import run_demo
    from fxseg_ros.eval.demo_state import ForeignOutputError

    model = args.model or str(DEMO_MODEL)
    label_table_classes('--model', onnx_model('--model', model, bare=True), model)
    _demo_folder('--out', args.out)
    output_dir('--out', args.out, inputs=[model])
    if args.calib_frames > args.frames_per_condition:
        fail('--calib-frames', '%d calibration frames, but the bag has %d day frames'
             % (args.calib_frames, args.frames_per_condition),
             'give at most --frames-per-condition')

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    try:
        return run_demo(args, command=reproduce_command(['fxseg', NAME], parser, args))
    except ForeignOutputError as err:
        fail('--out', str(err), 'move what fxseg demo did not write out of %s, or give '
             'another --out' % args.out)
