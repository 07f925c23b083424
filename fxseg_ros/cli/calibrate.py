# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
`fxseg calibrate`: INT8 calibration of a bare network graph, and the calibration coverage check.

Calibrate: run the float graph over N frames, keep streaming histograms of every activation and
write the dynamic range (amax) per tensor as JSON, optionally as a TensorRT calibration cache.
Check: run a calibrated graph over a new data set and report, per layer, the fraction of values
that would clip at the calibrated ranges; a set outside the calibration is flagged (exit code 3).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
import time

from fxseg_ros.cli.argtypes import ListAction, number_in, positive_int
from fxseg_ros.cli.errors import about, fail

NAME = 'calibrate'
HELP = ('INT8 calibration (entropy / minmax / percentile) to calib.json and a TensorRT '
        'calibration cache; --check: clip coverage of a new data set')

LOG = logging.getLogger(__name__)

#: Exit code of `--check` when the data set falls outside the calibration.
EXIT_OUT_OF_CALIBRATION = 3


_percentile = number_in(50.0, 100.0, low_open=True, what='percentile')
_fraction = number_in(0.0, 1.0, high_open=True, what='fraction')
#: Defaults of the cache-only options (an option away from it needs --cache).
_DEFAULTS = {'--cache-algorithm': None, '--trt-version': '8.2.1'}


def trt_version(text: str) -> str:
    """
    Parse a TensorRT version for the cache header (8.2.1, 10.14.1).

    The versions `fxseg check --tensorrt` and `fxseg build` support (`runtime.trt_rules`), and
    one the cache header can hold.
    """
    from fxseg_ros.quant.cache import encode_trt_version
    from fxseg_ros.runtime.trt_rules import check_version

    try:
        check_version(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    try:
        if any(int(part) < 0 for part in text.split('.')):
            raise ValueError(text)
        encode_trt_version(text)
    except ValueError:
        raise argparse.ArgumentTypeError('expected a TensorRT version like 8.2.1 or 10.14.1, '
                                         'got %r' % text) from None
    return text


def _check_num_bins(args) -> None:
    """--num-bins: at least one bin per INT8 level, and thresholds for the entropy search."""
    from fxseg_ros.quant.calibrators import (DEFAULT_NUM_BINS, DEFAULT_QUANTIZED_BINS,
                                             DEFAULT_START_BIN)

    if args.num_bins < DEFAULT_QUANTIZED_BINS:
        fail('--num-bins', '%d bins are fewer than the %d INT8 levels of |x|'
             % (args.num_bins, DEFAULT_QUANTIZED_BINS),
             'give at least %d (default %d, as TensorRT)'
             % (DEFAULT_QUANTIZED_BINS, DEFAULT_NUM_BINS))
    if args.method == 'entropy' and args.num_bins <= DEFAULT_START_BIN:
        fail('--num-bins', 'the entropy search tries the thresholds from bin %d to bin '
             '--num-bins, so %d bins leave it %s'
             % (DEFAULT_START_BIN, args.num_bins,
                'one candidate' if args.num_bins == DEFAULT_START_BIN else 'none'),
             'give more than %d (default %d, as TensorRT)'
             % (DEFAULT_START_BIN, DEFAULT_NUM_BINS))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from fxseg_ros.quant.cache import CACHE_ALGORITHMS
    from fxseg_ros.quant.calibrators import DEFAULT_NUM_BINS

    parser.add_argument('--model', default=None,
                        help='bare network ONNX graph (default: the packaged demo model)')
    parser.add_argument('--data', default=None,
                        help='calibration frames: a Cityscapes-layout directory, an image folder '
                             'or a rosbag2 directory (with --topic)')
    parser.add_argument('--topic', default=None,
                        help='image topic when --data is a rosbag2 directory')
    parser.add_argument('--split', default='train',
                        help='split of a Cityscapes-layout directory (default: %(default)s)')
    parser.add_argument('--conditions', action=ListAction, default=None, metavar='CITY',
                        help='only these cities / lighting conditions (commas or spaces) of a '
                             'Cityscapes-layout directory or a bag, e.g. `day` for a day-only '
                             'calibration')
    parser.add_argument('--method', choices=('entropy', 'minmax', 'percentile'),
                        default='entropy',
                        help='how amax is chosen from the histograms: entropy = TensorRT '
                             'EntropyCalibration2 (default), minmax = absolute maximum, '
                             'percentile = --percentile of |x|')
    parser.add_argument('--percentile', type=_percentile, default=99.99,
                        help='percentile of |x| for --method percentile (default: %(default)s)')
    parser.add_argument('--frames', type=positive_int, default=500,
                        help='number of calibration frames (default: %(default)s)')
    parser.add_argument('--num-bins', type=positive_int, default=DEFAULT_NUM_BINS,
                        help='histogram bins per tensor (default: %(default)s, as TensorRT)')
    parser.add_argument('--out', default=None,
                        help='calibration JSON to write (amax per tensor, method, histogram '
                             'summary)')
    parser.add_argument('--cache', default=None,
                        help='also write a TensorRT calibration cache to this path')
    parser.add_argument('--trt-version', type=trt_version, default=_DEFAULTS['--trt-version'],
                        help='TensorRT version named in the cache header, e.g. 8.2.1 or 10.14.1 '
                             '(default: %(default)s)')
    parser.add_argument('--cache-algorithm', choices=CACHE_ALGORITHMS, default=None,
                        help='algorithm named in the cache header (default: EntropyCalibration2 '
                             'for entropy, MinMaxCalibration otherwise)')
    parser.add_argument('--check', default=None, metavar='CALIB_JSON',
                        help='coverage check: clip fraction per layer of --data against this '
                             'calibration instead of calibrating')
    parser.add_argument('--max-clip', type=_fraction, default=5e-3,
                        help='--check flags a layer that clips more than this fraction of its '
                             'values beyond what the calibration data clipped '
                             '(default: %(default)s)')
    parser.add_argument('--max-underuse', type=_fraction, default=0.0,
                        help='--check also flags a layer whose 99.99th percentile of |x| is '
                             "below this fraction of the calibration data's, i.e. the data "
                             'uses few INT8 levels (e.g. 0.5; default: 0, off)')
    parser.add_argument('--max-shift', type=_fraction, default=0.1,
                        help='--check flags a layer with more than this share of values on '
                             'INT8 levels the calibration data rarely used (default: %(default)s; '
                             '0 disables)')
    parser.add_argument('--json', default=None,
                        help='--check: write the per-layer coverage as JSON here')


def _open_reader(args, frames: int, model: str):
    """Open the frames of --data, resized to what `model` takes."""
    from fxseg_ros.model.deploy import network_input_wh
    from fxseg_ros.quant.collect import open_calibration_reader

    with about('--data'):
        return open_calibration_reader(args.data, frames=frames, topic=args.topic,
                                       split=args.split, conditions=args.conditions,
                                       size_wh=network_input_wh(model))


def _check_inputs(args) -> str:
    """Check the model and the data before any work; returns the model path."""
    from fxseg_ros import DEMO_MODEL
    from fxseg_ros.cli.checks import frame_data, onnx_model

    model = str(args.model or DEMO_MODEL)
    onnx_model('--model', model, bare=True)
    frame_data('--data', args.data, '--topic', args.topic, '--split', args.split,
               '--conditions', args.conditions)
    return model


def _run_check(args) -> int:
    from fxseg_ros.cli.checks import calibration_file, output_file
    from fxseg_ros.quant.calibrators import check_calibration_model
    from fxseg_ros.quant.coverage import check_coverage, format_coverage

    model = _check_inputs(args)
    calib = calibration_file('--check', args.check)
    if args.json:
        output_file('--json', args.json, inputs=[model, args.check, args.data])
    problem = check_calibration_model(calib, model)
    if problem:
        fail('--check', problem)
    reader = _open_reader(args, args.frames, model)
    start = time.perf_counter()
    with about('--data'):
        report = check_coverage(model, calib, reader, max_clip=args.max_clip,
                                max_underuse=args.max_underuse, max_shift=args.max_shift,
                                progress=True)
    print(format_coverage(report))
    print('checked %d frames in %.1f s' % (report.frames, time.perf_counter() - start))
    if args.json:
        report.save(args.json)
    if report.flagged:
        print('WARNING: data set %s falls outside the calibration %s: %s'
              % (args.data, args.check, report.reason()))
        return EXIT_OUT_OF_CALIBRATION
    print('OK: data set %s is covered by the calibration %s' % (args.data, args.check))
    return 0


def run(args) -> int:
    from fxseg_ros.cli.checks import output_file

    if args.data is None:
        fail('--data', 'is required', 'give a Cityscapes-layout folder, an image folder or a '
             'rosbag2 to calibrate on')
    if args.check:
        return _run_check(args)
    if not args.out and not args.cache:
        fail('--out', 'no output given', 'give --out calib.json and/or --cache '
             'calibration.cache')
    for flag in ('--cache-algorithm', '--trt-version'):
        if getattr(args, flag[2:].replace('-', '_')) != _DEFAULTS[flag] and not args.cache:
            fail(flag, 'applies to the TensorRT cache only', 'add --cache FILE')
    _check_num_bins(args)
    model = _check_inputs(args)
    inputs = [model, args.data]
    for flag, path in (('--out', args.out), ('--cache', args.cache)):
        if path:
            output_file(flag, path, inputs=inputs)
    if args.out and args.cache and Path(args.out).resolve() == Path(args.cache).resolve():
        fail('--cache', 'is the same file as --out', 'give two different files')

    from fxseg_ros.quant.cache import write_calibration_cache
    from fxseg_ros.quant.calibrators import calibrate

    reader = _open_reader(args, args.frames, model)
    start = time.perf_counter()
    with about('--data'):
        result = calibrate(model, reader, method=args.method, percentile=args.percentile,
                           num_bins=args.num_bins, progress=True)
    seconds = time.perf_counter() - start
    result.meta.update({'data': str(args.data), 'conditions': args.conditions,
                        'seconds': round(seconds, 2)})
    if args.out:
        result.save(args.out)
        print('wrote %s (%d tensors, method %s, %d frames, %.1f s)'
              % (args.out, len(result.amax), result.method, result.frames, seconds))
    if args.cache:
        algorithm = args.cache_algorithm or (
            'EntropyCalibration2' if args.method == 'entropy' else 'MinMaxCalibration')
        write_calibration_cache(args.cache, result.amax, trt_version=args.trt_version,
                                algorithm=algorithm)
        print('wrote TensorRT calibration cache %s (%s)' % (args.cache, algorithm))
    return 0
