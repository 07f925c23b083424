# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
`fxseg quantize MODE`: INT8 Q/DQ and FP16 models, sensitivity, mixed precision, the report.

Modes (each with only its own options):
- `int8`: the INT8 Q/DQ graph (TensorRT rules) from calib.json or a TensorRT calibration cache;
- `fp16`: the FP16 graph with float32 I/O, or with `--emulated` the CPU emulation of FP16;
- `analyze`: per-layer sensitivity (SQNR / cosine of INT8 against FP32 outputs);
- `mixed`: the most sensitive layers back in float until the mIoU drop is within a budget;
- `report`: the accuracy-drop table (`fxseg_ros.quant.report`).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
import shutil
import tempfile

from fxseg_ros.cli.argtypes import ListAction, non_negative_float, non_negative_int, positive_int
from fxseg_ros.cli.errors import about, fail
from fxseg_ros.quant.qdq import DEFAULT_OP_TYPES

NAME = 'quantize'
HELP = ('INT8 Q/DQ (TensorRT rules) or FP16 model; per-layer sensitivity, mixed precision '
        'within an mIoU budget, the accuracy-drop report (MODE: int8, fp16, analyze, mixed, '
        'report)')

LOG = logging.getLogger(__name__)

#: Default mixed-precision budget of the report, mIoU points.
REPORT_MAX_DROP = 0.5


def _model_argument(parser) -> None:
    parser.add_argument('--model', default=None,
                        help='bare network ONNX graph (default: the packaged demo model)')
    parser.add_argument('--threads', type=non_negative_int, default=0,
                        help='ONNX Runtime intra-op threads (default: %(default)s = all cores)')


def _calib_arguments(parser, calib_required: bool = True) -> None:
    if calib_required:
        parser.add_argument('--calib', required=True,
                            help='calibration JSON from `fxseg calibrate` (or a TensorRT '
                                 'calibration cache) giving amax per tensor')
    parser.add_argument('--op-types', action=ListAction, default=None, metavar='OP',
                        help='op types to quantize, commas or spaces (default: %s, leaving the '
                             'full-resolution tail in float)' % ','.join(DEFAULT_OP_TYPES))
    parser.add_argument('--keep-fp', action=ListAction, default=None, metavar='LAYER',
                        help='node names to keep in float, commas or spaces (mixed precision)')


def _activations_argument(parser) -> None:
    parser.add_argument('--activations', choices=('s8', 'u8'), default='s8',
                        help='s8: symmetric int8 activations as TensorRT requires (default); '
                             'u8: asymmetric uint8 activations, a variant tuned for ONNX '
                             'Runtime on x86 that TensorRT does not accept')


def _frames_arguments(parser) -> None:
    parser.add_argument('--data', default=None,
                        help='frames for the sensitivity analysis / calibration (Cityscapes-'
                             'layout directory, image folder or rosbag2 with --topic); '
                             'generated synthetic frames when omitted')
    parser.add_argument('--topic', default=None, help='image topic when --data is a rosbag2')
    parser.add_argument('--analyze-frames', type=positive_int, default=4,
                        help='frames of the sensitivity analysis (default: %(default)s)')
    parser.add_argument('--seed', type=non_negative_int, default=0,
                        help='seed of the generated synthetic frames: calibration from its '
                             'training range, evaluation from its test range '
                             '(default: %(default)s)')
    parser.add_argument('--workdir', default=None,
                        help='folder for intermediate models (default: a temporary folder)')


def _eval_arguments(parser) -> None:
    parser.add_argument('--eval-data', default=None,
                        help='labelled Cityscapes-layout directory the mIoU is measured on '
                             '(default: a held-out synthetic set generated on the fly)')
    parser.add_argument('--eval-split', default='val',
                        help='split of --eval-data (default: %(default)s)')
    parser.add_argument('--eval-frames', type=positive_int, default=24,
                        help='evaluation frames per condition (default: %(default)s)')
    parser.add_argument('--int8-kernels', choices=('ort', 'exact'), default='ort',
                        help='accuracy of INT8 models as ONNX Runtime computes it on this CPU '
                             "(default: 'ort'; on x86 without VNNI its uint8 x int8 kernels "
                             'saturate pairs of products in int16) or with exact int32 '
                             "accumulation as the GPU's dp4a ('exact', slower)")
    parser.add_argument('--max-fallback', type=positive_int, default=8,
                        help='give up after this many layers in float (default: %(default)s)')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    modes = parser.add_subparsers(dest='mode', metavar='MODE')
    modes.required = True
    int8 = modes.add_parser('int8', help='INT8 Q/DQ graph from a calibration',
                            description='INT8 Q/DQ graph (TensorRT rules) from calib.json or a '
                                        'TensorRT calibration cache')
    _model_argument(int8)
    _calib_arguments(int8)
    _activations_argument(int8)
    int8.add_argument('--out', required=True, help='Q/DQ model to write')
    int8.set_defaults(quantize=_run_int8)

    fp16 = modes.add_parser('fp16', help='FP16 graph (or its CPU emulation)',
                            description='FP16 weights and compute with float32 I/O (TensorRT '
                                        'strongly typed builds), or the FP16 emulation')
    _model_argument(fp16)
    fp16.add_argument('--emulated', action='store_true',
                      help='float32 graph with every tensor rounded to FP16 (CPU accuracy)')
    fp16.add_argument('--out', required=True, help='model to write')
    fp16.set_defaults(quantize=_run_fp16)

    analyze = modes.add_parser('analyze', help='per-layer INT8 sensitivity',
                               description='rank layers by SQNR / cosine of INT8 against FP32')
    _model_argument(analyze)
    _calib_arguments(analyze)
    _activations_argument(analyze)
    _frames_arguments(analyze)
    analyze.add_argument('--json', default=None, help='also write the figures as JSON here')
    analyze.set_defaults(quantize=_run_analyze)

    mixed = modes.add_parser('mixed', help='mixed precision within an mIoU budget',
                             description='fall back the most sensitive layers to float until '
                                         'the mIoU drop is at most --max-drop points')
    _model_argument(mixed)
    _calib_arguments(mixed)
    _activations_argument(mixed)
    _frames_arguments(mixed)
    _eval_arguments(mixed)
    mixed.add_argument('--max-drop', type=non_negative_float, required=True, metavar='POINTS',
                       help='largest mIoU drop against FP32, points')
    mixed.add_argument('--out', required=True, help='mixed-precision Q/DQ model to write')
    mixed.set_defaults(quantize=_run_mixed)

    report = modes.add_parser('report', help='the accuracy-drop report',
                              description='FP32, FP16 (emulated), INT8 entropy / minmax / '
                                          'percentile / day-only, INT8 mixed: weights, latency, '
                                          'mIoU per condition and on small objects')
    _model_argument(report)
    _calib_arguments(report, calib_required=False)
    _frames_arguments(report)
    _eval_arguments(report)
    report.add_argument('--max-drop', type=non_negative_float, default=REPORT_MAX_DROP,
                        metavar='POINTS',
                        help='budget of the mixed-precision row (default: %(default)s)')
    report.add_argument('--calib-frames', type=positive_int, default=48,
                        help='calibration frames (default: %(default)s)')
    report.add_argument('--latency-runs', type=positive_int, default=10,
                        help='timed runs per model for the median latency (default: '
                             '%(default)s)')
    report.add_argument('--json', default=None, help='also write the report as JSON here')
    report.add_argument('--markdown', default=None,
                        help='also write the tables as Markdown here')
    report.set_defaults(quantize=_run_report)


def run(args: argparse.Namespace) -> int:
    return args.quantize(args)


# ------------------------------------------------------------------------------------------
# Shared steps
# ------------------------------------------------------------------------------------------
def _model_path(args) -> str:
    """--model: a bare FP32 network (every mode quantizes or converts it)."""
    from fxseg_ros import DEMO_MODEL
    from fxseg_ros.cli.checks import float32_model, onnx_model

    path = str(args.model or DEMO_MODEL)
    onnx_model('--model', path, bare=True)
    float32_model('--model', path)
    return path


def _load_calib(args, model: str):
    from fxseg_ros.cli.checks import calibration_file
    from fxseg_ros.quant.calibrators import check_calibration_model

    calib = calibration_file('--calib', args.calib)
    problem = check_calibration_model(calib, model)
    if problem:
        fail('--calib', problem)
    return calib


def _check_layer_names(args, model: str) -> None:
    """--op-types and --keep-fp must name op types and nodes of the model."""
    import onnx

    graph = onnx.load(model, load_external_data=False).graph
    op_types = sorted({node.op_type for node in graph.node})
    unknown = [op for op in (args.op_types or []) if op not in op_types]
    if unknown:
        fail('--op-types', 'no %s node in %s' % (', '.join(unknown), model),
             'its op types: %s' % ', '.join(op_types))
    names = [node.name for node in graph.node]
    unknown = [name for name in (args.keep_fp or []) if name not in names]
    if unknown:
        fail('--keep-fp', 'no node named %s in %s' % (', '.join(unknown), model),
             'its quantizable nodes: %s' % ', '.join(
                 n.name for n in graph.node if n.op_type in (args.op_types or DEFAULT_OP_TYPES)))


def _check_outputs(args, inputs) -> None:
    """Every output path of the mode, before the work starts."""
    from fxseg_ros.cli.checks import output_dir, output_file

    for flag in ('--out', '--json', '--markdown'):
        path = getattr(args, flag[2:], None)
        if path:
            output_file(flag, path, inputs=inputs)
    if getattr(args, 'workdir', None):
        output_dir('--workdir', args.workdir, inputs=inputs)


def _check_data(args) -> None:
    """Check --data / --topic and --eval-data / --eval-split of the modes that read frames."""
    from fxseg_ros.cli.checks import frame_data

    if getattr(args, 'data', None):
        frame_data('--data', args.data, '--topic', args.topic)
    elif getattr(args, 'topic', None):
        fail('--topic', 'applies to a rosbag2 --data only', 'give --data BAG')
    if getattr(args, 'eval_data', None):
        from fxseg_ros.cli.checks import labelled_cityscapes

        labelled_cityscapes('--eval-data', args.eval_data, '--eval-split', args.eval_split)


def _prepare(args, calib: bool = True):
    """Check every input and output of a mode; returns (model path, calibration or None)."""
    model = _model_path(args)
    calibration = _load_calib(args, model) if calib else None
    if hasattr(args, 'op_types'):
        _check_layer_names(args, model)
    _check_data(args)
    _check_outputs(args, [model, getattr(args, 'calib', None), getattr(args, 'data', None),
                          getattr(args, 'eval_data', None)])
    return model, calibration


class _Workdir:
    """--workdir, or a temporary folder removed on exit."""

    def __init__(self, path):
        self._tmp = None if path else tempfile.TemporaryDirectory(prefix='fxseg_quantize_')
        self.path = Path(path or self._tmp.name)

    def __enter__(self) -> Path:
        self.path.mkdir(parents=True, exist_ok=True)
        return self.path

    def __exit__(self, *exc) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()


def _eval_set(args, model: str):
    """Load the labelled frames the mIoU is measured on, resized to what `model` takes."""
    from fxseg_ros.model.deploy import network_input_wh
    from fxseg_ros.quant import evalset

    size_wh = network_input_wh(model)
    if args.eval_data:
        with about('--eval-data', evalset.EvalSetError):
            return evalset.cityscapes_eval_set(args.eval_data, args.eval_split,
                                               args.eval_frames, threads=args.threads,
                                               int8_kernels=args.int8_kernels, size_wh=size_wh)
    return evalset.synthetic_eval_set(args.seed, args.eval_frames, threads=args.threads,
                                      int8_kernels=args.int8_kernels, progress=True,
                                      size_wh=size_wh)


def _analysis_feeds(args, model: str, eval_set=None):
    """Return the feeds of the sensitivity analysis, resized to what `model` takes."""
    from fxseg_ros.data.preprocess import NET_INPUT_NAME
    from fxseg_ros.model.deploy import network_input_wh
    from fxseg_ros.quant.evalset import calibration_blobs

    if eval_set is not None and not args.data:
        return eval_set.feeds(args.analyze_frames)
    with about('--data'):
        return [{NET_INPUT_NAME: b} for b in calibration_blobs(
            args.analyze_frames, None, args.data, args.topic, args.seed,
            size_wh=network_input_wh(model))]


# ------------------------------------------------------------------------------------------
# Modes
# ------------------------------------------------------------------------------------------
def _run_int8(args) -> int:
    from fxseg_ros.data.atomic import atomic_file
    from fxseg_ros.quant import qdq

    model, calib = _prepare(args)
    print('INT8 Q/DQ of %s (%s activations) ...' % (model, args.activations), flush=True)
    with atomic_file(args.out) as staged:
        qdq.quantize_qdq(model, calib.amax, staged, op_types=args.op_types,
                         nodes_to_exclude=args.keep_fp, activations=args.activations,
                         stats=calib.stats)
        layers = qdq.quantized_nodes(staged, args.op_types or DEFAULT_OP_TYPES)
        if not layers:   # nothing would run in INT8: no "int8" model is written
            fail('--op-types' if args.op_types else '--keep-fp' if args.keep_fp else '--calib',
                 'no layer of %s would run in INT8 with these settings' % model,
                 'quantize op types the model has (default: %s) and keep fewer layers in float'
                 % ','.join(DEFAULT_OP_TYPES))
        problems = qdq.check_tensorrt_rules(staged) if args.activations == 's8' else None
    if problems is not None:
        print('TensorRT Q/DQ rules: %s' % ('OK' if not problems else '; '.join(problems)))
    else:
        print('u8 activations: a CPU variant for ONNX Runtime; TensorRT will not accept it')
    print('INT8 layers: %s' % ', '.join(layers))
    _print_written(args.out, 'int8', model)
    return 0


def _run_fp16(args) -> int:
    from fxseg_ros.quant import fp16

    model, _ = _prepare(args, calib=False)
    print('FP16%s of %s ...' % (' emulation' if args.emulated else '', model), flush=True)
    converted = fp16.emulate_fp16(model) if args.emulated else fp16.convert_to_fp16(model)
    fp16.save_model(converted, args.out)
    _print_written(args.out, 'fp16 (emulated)' if args.emulated else 'fp16', model)
    return 0


def _print_written(path: str, precision: str, model: str) -> None:
    from fxseg_ros.quant.qdq import weight_bytes

    ratio = weight_bytes(path) / max(weight_bytes(model), 1)
    print('wrote %s (%s, weights %.3fx of FP32)' % (path, precision, ratio))


def _run_analyze(args) -> int:
    from fxseg_ros.quant.report import format_sensitivity
    from fxseg_ros.quant.sensitivity import analyze_layers

    from fxseg_ros.data.atomic import write_text

    model, calib = _prepare(args)
    feeds = _analysis_feeds(args, model)
    with _Workdir(args.workdir) as workdir:
        isolated, accumulated = analyze_layers(
            model, calib, feeds, workdir, op_types=args.op_types, keep_float=args.keep_fp,
            activations=args.activations, threads=args.threads)
    print(format_sensitivity(isolated, accumulated, len(feeds)))
    if args.json:
        write_text(args.json, json.dumps({'isolated': [e.to_dict() for e in isolated],
                                          'all_int8': [e.to_dict()
                                                       for e in accumulated.values()]},
                                         indent=1))
    return 0


def _run_mixed(args) -> int:
    from fxseg_ros.quant import sensitivity
    from fxseg_ros.quant.report import ReportOptions, sensitivity_ranking

    from fxseg_ros.data.atomic import atomic_file

    model, calib = _prepare(args)
    eval_set = _eval_set(args, model)
    options = ReportOptions(op_types=args.op_types, threads=args.threads)
    with _Workdir(args.workdir) as workdir:
        ranking = sensitivity_ranking(model, calib, _analysis_feeds(args, model, eval_set),
                                      workdir, options, activations=args.activations)
        print('sensitivity ranking: %s' % ', '.join(ranking))
        result = sensitivity.mixed_precision_search(
            model, calib.amax, eval_set.miou, ranking, args.max_drop, workdir,
            max_fallback=args.max_fallback, keep_float=args.keep_fp, op_types=args.op_types,
            activations=args.activations, stats=calib.stats)
        with atomic_file(args.out) as staged:
            shutil.copyfile(str(result.model_path), str(staged))
    for step in result.steps:
        print('float layers %-40s mIoU %.4f  drop %.2f points'
              % (','.join(step['kept_float']) or '(none)', step['miou'], step['drop_points']))
    print('%s: %s (FP32 mIoU %.4f, mixed %.4f, drop %.2f points, budget %.2f)'
          % ('OK' if result.within_budget else 'WARNING: budget not reached', args.out,
             result.baseline, result.score, result.drop_points, args.max_drop))
    return 0 if result.within_budget else 1


def _run_report(args) -> int:
    import time

    from fxseg_ros.quant.report import format_report, ReportOptions, run_report

    from fxseg_ros.data.atomic import write_text

    model, _ = _prepare(args, calib=False)
    started = time.perf_counter()
    options = ReportOptions(
        calib_frames=args.calib_frames, analyze_frames=args.analyze_frames,
        latency_runs=args.latency_runs, max_drop=args.max_drop,
        max_fallback=args.max_fallback, keep_fp=args.keep_fp, op_types=args.op_types,
        threads=args.threads, seed=args.seed, data=args.data, topic=args.topic)
    print('evaluation set ...', flush=True)
    eval_set = _eval_set(args, model)
    with _Workdir(args.workdir) as workdir:
        report = run_report(model, eval_set, options, workdir,
                            progress=lambda text: print(text, flush=True))
    text = format_report(report, model, eval_set, options)
    text += '\nreport took %.0f s' % (time.perf_counter() - started)
    print(text)
    if args.markdown:
        write_text(args.markdown, text + '\n')
    if args.json:
        write_text(args.json, json.dumps(report, indent=1))
    return 0
