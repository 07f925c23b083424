# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
`fxseg build`: build a TensorRT engine from an ONNX model on the target.

The engine comes with its metadata file.
"""

from __future__ import annotations

import argparse
import logging

from fxseg_ros.cli.argtypes import non_negative_int, positive_int, size_wh
from fxseg_ros.data.sizes import CAMERA_WH
from fxseg_ros.runtime.trt_support import UINT8_IO

NAME = 'build'
HELP = ('build a TensorRT engine (FP32, FP16 or INT8) from a bare or deployment ONNX graph, with '
        'a metadata file next to it; run this on the machine that will use the engine')

LOG = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--model', required=True,
                        help='ONNX model: a bare network graph (wrapped into the deployment graph '
                             'here) or a deployment graph; for INT8 on TensorRT 11 a Q/DQ model '
                             'from `fxseg quantize`, for FP16 there an FP16 model')
    parser.add_argument('--out', required=True, help='engine file to write (E.engine); the '
                        'metadata goes to E.engine.json')
    parser.add_argument('--precision', choices=('fp32', 'fp16', 'int8'), default='fp16',
                        help='fp16 for Jetson TX2 class GPUs, int8 for GPUs with fast INT8 '
                             '(e.g. Drive PX2, Xavier, Orin); default %(default)s')
    parser.add_argument('--calibration-cache', metavar='C',
                        help='INT8 calibration cache (from `fxseg calibrate`); read when it '
                             'exists, written after calibration otherwise')
    parser.add_argument('--calib-data', metavar='D',
                        help='calibration frames for implicit INT8 calibration (TensorRT 8.x / '
                             '10.x): a Cityscapes-layout directory, a folder of images or a '
                             'rosbag2 (with --calib-topic); the cache is written to '
                             '--calibration-cache')
    parser.add_argument('--calib-topic', metavar='TOPIC',
                        help='image topic when --calib-data is a rosbag2')
    parser.add_argument('--calib-count', type=positive_int, default=200,
                        help='calibration images to use from --calib-data (default %(default)s)')
    parser.add_argument('--dla-core', type=non_negative_int, metavar='K',
                        help='run on DLA core K with GPU fallback (Xavier / Orin only)')
    parser.add_argument('--workspace', type=positive_int, default=1024, metavar='MiB',
                        help='builder workspace limit in MiB (default %(default)s)')
    parser.add_argument('--timing-cache', metavar='F',
                        help='TensorRT timing cache file: loaded when present, saved after the '
                             'build (speeds up later builds on the same GPU)')
    parser.add_argument('--camera-wh', type=size_wh(), default=CAMERA_WH, metavar='WxH',
                        help='camera resolution the deployment graph takes (default %dx%d)'
                             % CAMERA_WH)
    parser.add_argument('--output', choices=('camera', 'network'), default='camera',
                        help='label resolution: camera (nearest upsample in the graph) or the '
                             "network's grid (default %(default)s)")
    parser.add_argument('--max-batch', type=positive_int, default=1,
                        help='largest batch (cameras per call) the engine accepts '
                             '(default %(default)s)')
    parser.add_argument('--float-io', choices=('auto', 'yes', 'no'), default='auto',
                        help='float32 frames in / int32 labels out instead of uint8 (needed on '
                             'TensorRT < %s); auto picks by the installed TensorRT version'
                             % '.'.join(str(p) for p in UINT8_IO))


def _check(args) -> None:
    """Model, calibration inputs and every output, before TensorRT is loaded."""
    from fxseg_ros.cli.checks import existing_file, frame_data, onnx_model, output_file
    from fxseg_ros.cli.errors import fail
    from fxseg_ros.eval.models import graph_precision, onnx_weight_summary
    from fxseg_ros.runtime.metadata import metadata_path

    onnx_model('--model', args.model)
    inputs = [args.model, args.calibration_cache, args.calib_data]
    output_file('--out', args.out, inputs=inputs)
    output_file('--out', metadata_path(args.out), inputs=inputs, what='engine metadata file')
    if args.timing_cache:
        output_file('--timing-cache', args.timing_cache, inputs=[args.model])
    actual, evidence = graph_precision(onnx_weight_summary(args.model))
    if actual != 'fp32' and actual != args.precision:
        fail('--precision', '%s is %s (%s), it cannot be built at %s'
             % (args.model, actual.upper(), evidence, args.precision),
             'give --precision %s, or the FP32 model' % actual)
    calibrating = args.precision == 'int8' and actual != 'int8'
    if not calibrating:
        for flag in ('--calibration-cache', '--calib-data', '--calib-topic'):
            if getattr(args, flag[2:].replace('-', '_')) is not None:
                fail(flag, 'applies to INT8 builds of a float model only',
                     'leave it out, or give --precision int8 and the FP32 model')
        return
    if args.calib_data is not None:
        frame_data('--calib-data', args.calib_data, '--calib-topic', args.calib_topic)
        if args.calibration_cache is None:
            fail('--calibration-cache', 'no file given to write the calibration to',
                 'give --calibration-cache FILE')
        output_file('--calibration-cache', args.calibration_cache, inputs=[args.model])
    elif args.calibration_cache is None:
        fail('--calibration-cache', 'an INT8 build of a float model needs the calibration',
             'give --calibration-cache (from fxseg calibrate) or --calib-data FRAMES')
    else:
        existing_file('--calibration-cache', args.calibration_cache, 'calibration cache',
                      'write one with fxseg calibrate --cache, or give --calib-data')


def run(args: argparse.Namespace) -> int:
    from fxseg_ros.cli.errors import about
    from fxseg_ros.runtime import builder

    _check(args)
    options = builder.BuildOptions(
        precision=args.precision, calibration_cache=args.calibration_cache,
        calib_data=args.calib_data, calib_topic=args.calib_topic, calib_count=args.calib_count,
        dla_core=args.dla_core,
        workspace_mib=args.workspace, timing_cache=args.timing_cache,
        camera_hw=(args.camera_wh[1], args.camera_wh[0]), output=args.output,
        max_batch=args.max_batch,
        float_io={'auto': None, 'yes': True, 'no': False}[args.float_io])
    with about(None, builder.BuildError):
        meta = builder.build_engine(args.model, args.out, options)
    print('wrote %s (%s, TensorRT %s, %s) and %s'
          % (args.out, meta['precision'], meta['tensorrt_version'], meta['gpu']['name'],
             builder.metadata_path(args.out)))
    return 0
