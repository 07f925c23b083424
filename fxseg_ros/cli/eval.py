# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
`fxseg eval`: a recorded drive or a Cityscapes-layout folder through the node's pipeline.

Replays a rosbag2 (or the folder) and reports accuracy (mIoU, per class, small objects, per
condition) and latency per stage for one or more models / precisions; `--live` plays the bag
into a running node over ROS 2.
"""

from __future__ import annotations

import argparse

from fxseg_ros.cli.argtypes import (file_list, ListAction, non_negative_int, playback_rate,
                                    positive_float, positive_int)
from fxseg_ros.data.bag import CONDITION_TOPIC
from fxseg_ros.data.labels import CLASS_NAMES
from fxseg_ros.data.sizes import CAMERA_WH
from fxseg_ros.metrics.defaults import DEFAULT_MAX_PIXELS, DEFAULT_SMALL_CLASSES

NAME = 'eval'
HELP = ('evaluate models on a rosbag2 or Cityscapes-layout data set: mIoU, small objects, '
        'latency per stage; offline replay or live through the node')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument('--bag', help='rosbag2 directory (or .mcap / .db3 file) to replay')
    src.add_argument('--data', help='Cityscapes-layout root (leftImg8bit/, gtFine/) to evaluate')
    parser.add_argument('--split', default='val',
                        help='split of --data (default: %(default)s)')
    parser.add_argument('--image-topic', default=None,
                        help='camera topic in the bag (sensor_msgs/Image or CompressedImage); '
                             'default: the only camera topic')
    parser.add_argument('--label-topic', default=None,
                        help='ground-truth mono8 label topic (default: <camera ns>/labels)')
    parser.add_argument('--condition-topic', default=CONDITION_TOPIC,
                        help='std_msgs/String topic with the lighting condition per stamp '
                             '(default: %(default)s; optional)')
    parser.add_argument('--model', action=ListAction, type=file_list, required=True,
                        metavar='M',
                        help='models to evaluate: .onnx (bare or deployment graph), '
                             '.engine/.plan')
    parser.add_argument('--precision', action=ListAction, default=None, metavar='P',
                        help='the precision of each --model in order, commas or spaces (e.g. '
                             'fp32,fp16,int8), checked against the model; with one model on '
                             'TensorRT, the precisions to build it at. Default: read from the '
                             'model')
    parser.add_argument('--name', action=ListAction, default=None, metavar='NAME',
                        help='display names for the models, commas or spaces (default: file '
                             'names)')
    parser.add_argument('--backend', choices=('auto', 'onnxruntime', 'tensorrt'), default='auto',
                        help='runtime backend (default: %(default)s)')
    parser.add_argument('--threads', type=non_negative_int, default=0,
                        help='ONNX Runtime intra-op threads (0: runtime default)')
    parser.add_argument('--batch', type=positive_int, default=1,
                        help='frames per inference call offline (default: %(default)s)')
    parser.add_argument('--max-frames', type=positive_int, default=None,
                        help='stop after this many frames')
    parser.add_argument('--small-max-pixels', type=positive_int, default=None,
                        help='ground-truth components smaller than this many pixels (at the '
                             'label resolution) count as small objects (default: %d, %.2f%%%% of '
                             'a %dx%d frame)' % ((DEFAULT_MAX_PIXELS, 100.0 * DEFAULT_MAX_PIXELS
                                                 / (CAMERA_WH[0] * CAMERA_WH[1])) + CAMERA_WH))
    parser.add_argument('--small-classes', action=ListAction, default=None, metavar='CLASS',
                        help='classes considered for small objects, commas or spaces (default: '
                             'thing classes: %s)'
                             % ','.join(CLASS_NAMES[c] for c in DEFAULT_SMALL_CLASSES))
    parser.add_argument('--reference', default=None,
                        help='name of the run the drop is measured against (default: the '
                             'first fp32 run, else the first run)')
    parser.add_argument('--report', default=None,
                        help='write report.md, metrics.json and plots to this folder')
    parser.add_argument('--overlays', type=non_negative_int, default=4,
                        help='frame / ground truth / prediction overlays where the runs '
                             'disagree most (default: %(default)s; 0: none)')
    parser.add_argument('--measure-overhead', action='store_true',
                        help='first replay the data without metrics, then with them, and report '
                             'what the metrics add to the replay time')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    live = parser.add_argument_group('live evaluation through the ROS 2 node')
    live.add_argument('--live', action='store_true',
                      help='play the bag into segmentation_node over ROS 2 and evaluate the masks '
                           'it publishes (matched by header stamp); needs --bag and one --model')
    live.add_argument('--connect', action='store_true',
                      help='use a node that is already running instead of starting one')
    live.add_argument('--rate', type=playback_rate, default='recorded',
                      help="'recorded', 'max' or a rate in Hz (default: %(default)s)")
    live.add_argument('--params-file', default=None,
                      help='ROS parameter file for the started node (default: config/cpu.yaml)')
    live.add_argument('--mask-topic', default=None,
                      help='mask topic the node publishes '
                           '(default: <camera ns>/segmentation/mask)')
    live.add_argument('--node-timeout', type=positive_float, default=60.0,
                      help='seconds to wait for the node to come up (default: %(default)s)')


#: Options of the live evaluation: they need --live.
LIVE_OPTIONS = ('--connect', '--rate', '--params-file', '--mask-topic', '--node-timeout')


def run(args: argparse.Namespace) -> int:
    from fxseg_ros.cli.command_line import reproduce_command
    from fxseg_ros.cli.eval_checks import check_eval_arguments, run_errors_named
    from fxseg_ros.eval.cli_runner import run_eval_command

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    check_eval_arguments(args, parser, LIVE_OPTIONS)
    with run_errors_named(args):
        return run_eval_command(args, command=reproduce_command(['fxseg', NAME], parser, args))
