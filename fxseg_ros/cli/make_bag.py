# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
`fxseg make-bag`: write a rosbag2 recording of synthetic drives with ground-truth labels.

One sequence per lighting condition with camera motion, on one or more camera topics
(`/camera/image_raw`, or `/cam0/...`, `/cam1/...` with several cameras), mono8 labels on
`<camera>/labels` with the same header stamps, and the condition on `/fxseg/condition`.
"""

from __future__ import annotations

import argparse

from fxseg_ros.cli.argtypes import (condition_list, int_in, ListAction, non_negative_int,
                                    positive_float, positive_int, size_wh)
from fxseg_ros.data.bag import BAG_VERSIONS, BagSpec, DEFAULT_BAG_VERSION, STORAGES
from fxseg_ros.data.conditions import CONDITIONS
from fxseg_ros.data.sizes import SYNTH_MIN_SIDE

NAME = 'make-bag'
HELP = 'write a rosbag2 (MCAP or sqlite3) of synthetic camera frames with ground-truth labels'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--out', required=True,
                        help='bag directory to create (must not exist)')
    parser.add_argument('--storage', choices=STORAGES, default=BagSpec.storage,
                        help='rosbag2 storage plugin (default: %(default)s)')
    parser.add_argument('--compressed', action='store_true',
                        help='write sensor_msgs/CompressedImage JPEG frames on '
                             '<camera>/image_raw/compressed instead of raw bgr8 Images')
    parser.add_argument('--jpeg-quality', type=int_in(0, 100, 'JPEG quality'), default=90,
                        help='JPEG quality with --compressed (default: %(default)s)')
    parser.add_argument('--cameras', type=positive_int, default=1,
                        help='number of camera topics (default: %(default)s)')
    parser.add_argument('--frames-per-condition', type=positive_int, default=20,
                        help='frames per lighting condition and camera (default: %(default)s)')
    parser.add_argument('--conditions', action=ListAction, type=condition_list,
                        default=list(BagSpec.conditions), metavar='COND',
                        help='lighting conditions (commas or spaces) of %s (default: %s)'
                             % (','.join(CONDITIONS), ','.join(BagSpec.conditions)))
    parser.add_argument('--seed', type=non_negative_int, default=0,
                        help='generator seed (default: %(default)s)')
    parser.add_argument('--size', type=size_wh(SYNTH_MIN_SIDE), default=BagSpec.size_wh,
                        metavar='WxH', help='frame size (default: %dx%d)' % BagSpec.size_wh)
    parser.add_argument('--rate', type=positive_float, default=10.0,
                        help='frame rate of the recording in Hz (default: %(default)s)')
    parser.add_argument('--bag-version', type=int, choices=BAG_VERSIONS,
                        default=DEFAULT_BAG_VERSION,
                        help='rosbag2 metadata version: 8 is read by ros2 bag of Humble, Jazzy '
                             'and Kilted, 9 by Jazzy and later only (default: %(default)s; '
                             "Humble's ros2 bag reads mcap only with "
                             'ros-humble-rosbag2-storage-mcap, sqlite3 always)')


def run(args: argparse.Namespace) -> int:
    from fxseg_ros.cli.checks import output_dir
    from fxseg_ros.data.bag import write_synthetic_bag

    output_dir('--out', args.out, new=True, what='bag folder')
    spec = BagSpec(storage=args.storage, compressed=args.compressed, cameras=args.cameras,
                   frames_per_condition=args.frames_per_condition,
                   conditions=tuple(args.conditions), seed=args.seed, size_wh=tuple(args.size),
                   rate_hz=args.rate, jpeg_quality=args.jpeg_quality,
                   version=args.bag_version)
    summary = write_synthetic_bag(args.out, spec, progress=True)
    print('wrote %s (%s, rosbag2 version %d, %d frames per camera, %.1f MB)'
          % (summary.path, summary.storage, args.bag_version, summary.frames_per_camera,
             summary.size_bytes / 1e6))
    for topic, (msgtype, count) in sorted(summary.topics.items()):
        print('  %-40s %-32s %d' % (topic, msgtype, count))
    return 0
