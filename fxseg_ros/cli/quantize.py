# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
`fxseg quantize`: INT8 Q/DQ and FP16 models from a bare network graph, sensitivity analysis,
mixed-precision fallback within an mIoU budget, and the accuracy-drop report.
"""

from __future__ import annotations

import argparse
import logging

from fxseg_ros.cli.argtypes import non_negative_float, positive_int

NAME = 'quantize'
HELP = ('INT8 Q/DQ (TensorRT rules) or FP16 model from calib.json; --analyze per-layer '
        'sensitivity, --max-drop mixed precision, --report the accuracy-drop table')

LOG = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--model', default=None,
                        help='bare network ONNX graph (default: the packaged demo model)')
    parser.add_argument('--calib', default=None,
                        help='calibration JSON from `fxseg calibrate` (or a TensorRT '
                             'calibration cache) giving amax per tensor')
    parser.add_argument('--out', default=None,
                        help='model to write: the INT8 Q/DQ graph, or the FP16 graph with '
                             '--precision fp16')
    parser.add_argument('--precision', choices=('int8', 'fp16', 'fp16-emulated'),
                        default='int8',
                        help='int8: Q/DQ graph (default); fp16: FP16 weights and compute with '
                             'float32 I/O (TensorRT strongly typed builds); fp16-emulated: '
                             'float32 graph with every tensor rounded to FP16 (CPU accuracy)')
    parser.add_argument('--activations', choices=('s8', 'u8'), default='s8',
                        help='s8: symmetric int8 activations as TensorRT requires (default); '
                             'u8: asymmetric uint8 activations, a variant tuned for ONNX '
                             'Runtime on x86 that TensorRT does not accept')
    parser.add_argument('--op-types', nargs='+', default=None, metavar='OP',
                        help='op types to quantize (default: Conv ConvTranspose MaxPool Relu, '
                             'leaving the full-resolution tail in float)')
    parser.add_argument('--keep-fp', nargs='+', default=None, metavar='LAYER',
                        help='node names to keep in float (mixed precision)')
    parser.add_argument('--analyze', action='store_true',
                        help='rank layers by SQNR / cosine of INT8 against FP32 outputs')
    parser.add_argument('--analyze-frames', type=positive_int, default=4,
                        help='frames for --analyze (default: 4)')
    parser.add_argument('--max-drop', type=non_negative_float, default=None, metavar='POINTS',
                        help='fall back the most sensitive layers to float until the mIoU drop '
                             'on --eval-data is at most this many points')
    parser.add_argument('--max-fallback', type=positive_int, default=8,
                        help='--max-drop gives up after this many layers in float (default: 8)')
    parser.add_argument('--data', default=None,
                        help='frames for --analyze / --report calibration (Cityscapes-layout '
                             'directory, image folder or rosbag2 with --topic); the report '
                             'generates a synthetic set when omitted')
    parser.add_argument('--eval-data', default=None,
                        help='labelled Cityscapes-layout directory for --max-drop / --report '
                             '(default: a held-out synthetic set generated on the fly)')
    parser.add_argument('--eval-split', default='val',
                        help='split of --eval-data (default: val)')
    parser.add_argument('--topic', default=None, help='image topic when --data is a rosbag2')
    parser.add_argument('--eval-frames', type=positive_int, default=24,
                        help='evaluation frames per condition (default: 24)')
    parser.add_argument('--calib-frames', type=positive_int, default=48,
                        help='--report: calibration frames (default: 48)')
    parser.add_argument('--report', action='store_true',
                        help='print the accuracy-drop table: FP32, FP16 (emulated), INT8 '
                             'entropy / minmax / percentile, INT8 mixed; per condition and '
                             'small objects')
    parser.add_argument('--report-json', default=None, help='--report: also write JSON here')
    parser.add_argument('--report-md', default=None,
                        help='--report: also write the tables as Markdown here')
    parser.add_argument('--latency-runs', type=positive_int, default=10,
                        help='--report: timed runs per model for the median latency '
                             '(default: 10)')
    parser.add_argument('--int8-kernels', choices=('ort', 'exact'), default='ort',
                        help='accuracy of INT8 models as ONNX Runtime computes it on this CPU '
                             "(default: 'ort'; on x86 without VNNI its uint8 x int8 kernels "
                             "saturate pairs of products in int16) or with exact int32 "
                             "accumulation as the GPU's dp4a ('exact', slower)")
    parser.add_argument('--threads', type=int, default=0,
                        help='ONNX Runtime intra-op threads (default: 0 = all cores)')
    parser.add_argument('--workdir', default=None,
                        help='--report / --max-drop: folder for intermediate models (default: '
                             'a temporary folder)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the generated synthetic frames: calibration from its '
                             'training range, evaluation from its test range (default: 0)')


# ------------------------------------------------------------------------------------------
# Data: a labelled evaluation set and calibration frames, both held in memory as input blobs
# ------------------------------------------------------------------------------------------
class EvalSet:
    """
    Labelled frames preprocessed once and evaluated for any number of bare graphs.

    blobs: float32 (1, 3, h, w) each; labels: uint8 (H, W) each; conditions: str each.
    """

    def __init__(self, blobs, labels, conditions, threads: int = 0, session_config=None):
        from fxseg_ros.eval.small_objects import SmallObjectMetric

        self.blobs = list(blobs)
        self.labels = list(labels)
        self.conditions = list(conditions)
        self.threads = threads
        self.session_config = session_config
        extractor = SmallObjectMetric()
        self.small_objects = [extractor.extract(gt) for gt in self.labels]

    def __len__(self) -> int:
        return len(self.blobs)

    def evaluate(self, model_path) -> dict:
        """The mIoU overall, per condition and on small objects of a bare graph (ORT CPU)."""
        from fxseg_ros.data.preprocess import postprocess
        from fxseg_ros.eval.accumulate import AccuracyAccumulator
        from fxseg_ros.quant.collect import make_session

        session = make_session(str(model_path), threads=self.threads,
                               config=self.session_config)
        name = session.get_inputs()[0].name
        output = session.get_outputs()[0].name
        acc = AccuracyAccumulator()
        for blob, gt, condition, objects in zip(self.blobs, self.labels, self.conditions,
                                                self.small_objects):
            scores = session.run([output], {name: blob})[0]
            pred = postprocess(scores, (gt.shape[1], gt.shape[0]))[0]
            acc.update(gt, pred, condition=condition, small_objects=objects)
        return acc.compute()

    def miou(self, model_path) -> float:
        return float(self.evaluate(model_path)['miou'])

    def feeds(self, count: int, condition=None):
        picked = [b for b, c in zip(self.blobs, self.conditions)
                  if condition is None or c == condition]
        return [{'input': b} for b in picked[:count]]


#: Index bases of the synthetic splits (as `fxseg_ros.data.cityscapes.write_cityscapes` numbers
#: them): calibration frames come from the training range, the evaluation from the test range.
_TRAIN_BASE, _TEST_BASE = 0, 2000000


def _synthetic_frames(seed: int, count: int, conditions, offset: int = 0):
    """(bgr, labels, condition) of `count` generated frames, conditions taken in turn."""
    from fxseg_ros.data.synth import SceneGenerator

    generator = SceneGenerator(seed)
    for i in range(count):
        condition = conditions[i % len(conditions)]
        bgr, labels = generator.generate(offset + i, condition)
        yield bgr, labels, condition


def _load_eval_set(args) -> EvalSet:
    from fxseg_ros.data.preprocess import preprocess

    blobs, labels, conditions = [], [], []
    if args.eval_data:
        from fxseg_ros.data.cityscapes import CityscapesDataset

        dataset = CityscapesDataset(args.eval_data, args.eval_split)
        per_condition = {}
        for i in range(len(dataset)):
            bgr, gt, meta = dataset[i]
            condition = meta.get('condition') or meta.get('city') or 'all'
            if per_condition.get(condition, 0) >= args.eval_frames:
                continue
            per_condition[condition] = per_condition.get(condition, 0) + 1
            blobs.append(preprocess(bgr))
            labels.append(gt)
            conditions.append(condition)
        if not blobs:
            raise SystemExit('error: no labelled frames in %s split %s'
                             % (args.eval_data, args.eval_split))
    else:
        from fxseg_ros.data.conditions import CONDITIONS

        # The held-out set: the synthetic test range, never used for training or calibration.
        for bgr, gt, condition in _synthetic_frames(args.seed, args.eval_frames
                                                    * len(CONDITIONS), CONDITIONS, _TEST_BASE):
            blobs.append(preprocess(bgr))
            labels.append(gt)
            conditions.append(condition)
    from fxseg_ros.quant.collect import EXACT_INT8_CONFIG

    return EvalSet(blobs, labels, conditions, threads=args.threads,
                   session_config=EXACT_INT8_CONFIG if args.int8_kernels == 'exact' else None)


def _calibration_blobs(args, count: int, conditions):
    """Input blobs for calibration / analysis: from --data, else generated."""
    from fxseg_ros.data.preprocess import preprocess

    if args.data:
        from fxseg_ros.quant.collect import iterate_feeds, open_calibration_reader

        reader = open_calibration_reader(args.data, frames=count, topic=args.topic,
                                         conditions=None if conditions is None
                                         else list(conditions))
        return [feed['input'] for feed in iterate_feeds(reader)]
    from fxseg_ros.data.conditions import CONDITIONS

    return [preprocess(bgr) for bgr, _, _ in
            _synthetic_frames(args.seed, count, conditions or CONDITIONS, _TRAIN_BASE)]


def _model_path(args) -> str:
    from fxseg_ros import DEMO_MODEL

    path = str(args.model or DEMO_MODEL)
    import os

    if not os.path.isfile(path):
        raise SystemExit('error: model %s not found' % path)
    return path


def _load_calib(args):
    from fxseg_ros.quant.calibrators import CalibrationResult, check_calibration_model

    if not args.calib:
        raise SystemExit('error: --calib calib.json (from `fxseg calibrate`) is required')
    calib = CalibrationResult.load(args.calib)
    problem = check_calibration_model(calib, _model_path(args))
    if problem:
        print('WARNING: ' + problem)
    return calib


def _workdir(args):
    import tempfile
    from pathlib import Path

    if args.workdir:
        path = Path(args.workdir)
        path.mkdir(parents=True, exist_ok=True)
        return path, None
    tmp = tempfile.TemporaryDirectory(prefix='fxseg_quantize_')
    return Path(tmp.name), tmp


# ------------------------------------------------------------------------------------------
# Commands
# ------------------------------------------------------------------------------------------
def _run_convert(args) -> int:
    from fxseg_ros.quant import fp16, qdq

    model = _model_path(args)
    if not args.out:
        print('error: --out is required')
        return 2
    if args.precision == 'fp16':
        fp16.save_model(fp16.convert_to_fp16(model), args.out)
    elif args.precision == 'fp16-emulated':
        fp16.save_model(fp16.emulate_fp16(model), args.out)
    else:
        calib = _load_calib(args)
        qdq.quantize_qdq(model, calib.amax, args.out, op_types=args.op_types,
                         nodes_to_exclude=args.keep_fp, activations=args.activations,
                         stats=calib.stats)
        problems = qdq.check_tensorrt_rules(args.out)
        if args.activations == 's8':
            print('TensorRT Q/DQ rules: %s' % ('OK' if not problems else '; '.join(problems)))
        else:
            print('u8 activations: a CPU variant for ONNX Runtime; TensorRT will not accept it')
        print('INT8 layers: %s' % ', '.join(qdq.quantized_nodes(
            args.out, args.op_types or qdq.DEFAULT_OP_TYPES)))
    ratio = qdq.weight_bytes(args.out) / max(qdq.weight_bytes(model), 1)
    print('wrote %s (%s, weights %.3fx of FP32)' % (args.out, args.precision, ratio))
    return 0


def _run_analyze(args) -> int:
    import json

    from fxseg_ros.quant import qdq, sensitivity

    model = _model_path(args)
    calib = _load_calib(args)
    workdir, tmp = _workdir(args)
    try:
        feeds = [{'input': b} for b in _calibration_blobs(args, args.analyze_frames, None)]
        full = workdir / 'int8_all_layers.onnx'
        qdq.quantize_qdq(model, calib.amax, full, op_types=args.op_types,
                         nodes_to_exclude=args.keep_fp, activations=args.activations,
                         stats=calib.stats)
        accumulated = {e.name: e for e in sensitivity.layer_errors(model, full, feeds,
                                                                   threads=args.threads)}
        isolated = sensitivity.isolated_sensitivity(model, calib.amax, feeds, workdir,
                                                    op_types=args.op_types,
                                                    activations=args.activations,
                                                    stats=calib.stats, threads=args.threads)
    finally:
        if tmp is not None:
            tmp.cleanup()
    print('Per-layer INT8 sensitivity on %d frames (most sensitive first)' % len(feeds))
    print('%-4s %-24s %-14s %18s %14s %18s %14s' % (
        'rank', 'layer', 'op', 'only-this SQNR dB', 'only cosine', 'all-INT8 SQNR dB',
        'all cosine'))
    for rank, err in enumerate(isolated, start=1):
        acc = accumulated.get(err.name)
        print('%-4d %-24s %-14s %18.2f %14.6f %18s %14s' % (
            rank, err.name, err.op_type, err.sqnr, err.cosine,
            '%.2f' % acc.sqnr if acc else '-', '%.6f' % acc.cosine if acc else '-'))
    out = accumulated.get('scores') or next((e for e in accumulated.values()
                                             if e.op_type == 'output'), None)
    if out is not None:
        print('network output with every layer in INT8: SQNR %.2f dB, cosine %.6f'
              % (out.sqnr, out.cosine))
    if args.report_json:
        with open(args.report_json, 'w') as handle:
            json.dump({'isolated': [e.to_dict() for e in isolated],
                       'all_int8': [e.to_dict() for e in accumulated.values()]}, handle,
                      indent=1)
    return 0


def _ranking(args, model, calib, eval_set, workdir):
    from fxseg_ros.quant import sensitivity

    feeds = eval_set.feeds(args.analyze_frames) if eval_set is not None else [
        {'input': b} for b in _calibration_blobs(args, args.analyze_frames, None)]
    ranked = sensitivity.isolated_sensitivity(model, calib.amax, feeds, workdir,
                                              op_types=args.op_types,
                                              activations=args.activations,
                                              stats=calib.stats, threads=args.threads)
    return [e.name for e in ranked]


def _run_mixed(args) -> int:
    import shutil

    from fxseg_ros.quant import sensitivity

    model = _model_path(args)
    calib = _load_calib(args)
    if not args.out:
        print('error: --out is required with --max-drop')
        return 2
    eval_set = _load_eval_set(args)
    workdir, tmp = _workdir(args)
    try:
        ranking = _ranking(args, model, calib, eval_set, workdir)
        print('sensitivity ranking: %s' % ', '.join(ranking))
        result = sensitivity.mixed_precision_search(
            model, calib.amax, eval_set.miou, ranking, args.max_drop, workdir,
            max_fallback=args.max_fallback, keep_float=args.keep_fp, op_types=args.op_types,
            activations=args.activations, stats=calib.stats)
        shutil.copyfile(str(result.model_path), args.out)
    finally:
        if tmp is not None:
            tmp.cleanup()
    for step in result.steps:
        print('float layers %-40s mIoU %.4f  drop %.2f points'
              % (','.join(step['kept_float']) or '(none)', step['miou'], step['drop_points']))
    print('%s: %s (FP32 mIoU %.4f, mixed %.4f, drop %.2f points, budget %.2f)'
          % ('OK' if result.within_budget else 'WARNING: budget not reached', args.out,
             result.baseline, result.score, result.drop_points, args.max_drop))
    return 0 if result.within_budget else 1


# ------------------------------------------------------------------------------------------
# The accuracy-drop report
# ------------------------------------------------------------------------------------------
def _collect_report_calibrations(args, model):
    """Histograms over all conditions and over day frames only, in one pass of the frames."""
    from fxseg_ros.data.preprocess import preprocess
    from fxseg_ros.data.conditions import CONDITIONS
    from fxseg_ros.quant.calibrators import HistogramCalibrator
    from fxseg_ros.quant.collect import ActivationCollector

    collector = ActivationCollector(model, threads=args.threads)
    every = HistogramCalibrator()
    day = HistogramCalibrator()
    n = args.calib_frames
    # All conditions: n frames in turn (day, dusk, night); day only: n day frames, of which
    # the first third are the all-conditions set's day frames.
    plan = [(i, CONDITIONS[i % len(CONDITIONS)]) for i in range(n)]
    day_in_all = sum(1 for _, c in plan if c == 'day')
    plan += [(n + k, 'day') for k in range(max(n - day_in_all, 0))]
    if args.data:
        blobs = _calibration_blobs(args, n, None)
        for blob in blobs:
            every.update(collector.run({'input': blob}))
        blobs = _calibration_blobs(args, n, ['day'])
        for blob in blobs:
            day.update(collector.run({'input': blob}))
        return every, day
    from fxseg_ros.data.synth import SceneGenerator

    generator = SceneGenerator(args.seed)
    for index, condition in plan:
        bgr, _ = generator.generate(_TRAIN_BASE + index, condition)
        acts = collector.run({'input': preprocess(bgr)})
        if index < n:
            every.update(acts)
        if condition == 'day':
            day.update(acts)
    return every, day


def _row(name, precision, calibration, path, float_path, metrics, base, latency, base_latency):
    from fxseg_ros.quant.qdq import weight_bytes

    wb = weight_bytes(path)
    row = {'model': name, 'precision': precision, 'calibration': calibration,
           'weights_mb': wb / 1e6, 'weights_ratio': wb / max(weight_bytes(float_path), 1),
           'latency_ms': latency['median_ms'] if latency else None,
           'speedup': (base_latency / latency['median_ms']) if latency else None,
           'miou': 100.0 * metrics['miou'],
           'drop': 100.0 * (base['miou'] - metrics['miou']),
           'small_miou': None, 'small_recall': None}
    small = metrics.get('small_objects') or {}
    if small.get('miou') is not None:
        row['small_miou'] = 100.0 * small['miou']
        row['small_recall'] = 100.0 * small['instance_recall']
    for condition, values in (metrics.get('conditions') or {}).items():
        row['miou_' + condition] = 100.0 * values['miou']
        base_c = base['conditions'].get(condition)
        if base_c:
            row['drop_' + condition] = 100.0 * (base_c['miou'] - values['miou'])
    return row


def _run_report(args) -> int:
    import json
    import time

    from fxseg_ros.quant import fp16, qdq, sensitivity
    from fxseg_ros.quant.collect import ArrayReader
    from fxseg_ros.quant.coverage import check_coverage
    from fxseg_ros.quant.report import format_table, ort_latencies_ms

    model = _model_path(args)
    started = time.perf_counter()
    workdir, tmp = _workdir(args)
    try:
        print('evaluation set ...', flush=True)
        eval_set = _load_eval_set(args)
        print('calibration (%d frames, all conditions and day only) ...' % args.calib_frames,
              flush=True)
        every, day = _collect_report_calibrations(args, model)
        calibs = {
            'entropy': every.result('entropy', model=model),
            'minmax': every.result('minmax', model=model),
            'percentile': every.result('percentile', 99.99, model=model),
            'entropy_day': day.result('entropy', model=model),
        }
        variants = []  # (name, precision, calibration, accuracy model, latency model)
        emulated = fp16.save_model(fp16.emulate_fp16(model), workdir / 'fp16_emulated.onnx')
        real_fp16 = fp16.save_model(fp16.convert_to_fp16(model), workdir / 'fp16.onnx')
        variants.append(('fp32', 'FP32', '-', model, model))
        variants.append(('fp16', 'FP16 (emulated)', '-', str(emulated), str(real_fp16)))
        labels = {'entropy': 'entropy, all conditions', 'minmax': 'min-max, all conditions',
                  'percentile': 'percentile 99.99, all conditions',
                  'entropy_day': 'entropy, day only'}
        for key, calib in calibs.items():
            path = workdir / ('int8_%s.onnx' % key)
            qdq.quantize_qdq(model, calib.amax, path, op_types=args.op_types,
                             activations='s8', stats=calib.stats)
            variants.append(('int8_' + key, 'INT8', labels[key], str(path), str(path)))
        cpu = workdir / 'int8_entropy_u8.onnx'
        qdq.quantize_qdq(model, calibs['entropy'].amax, cpu, op_types=args.op_types,
                         activations='u8', stats=calibs['entropy'].stats)
        variants.append(('int8_entropy_u8', 'INT8 (u8 act., CPU only)',
                         'entropy, all conditions', str(cpu), str(cpu)))
        print('evaluating %d variants on %d frames ...' % (len(variants) + 1, len(eval_set)),
              flush=True)
        results = {}
        for name, _, _, acc_path, _ in variants:
            results[name] = eval_set.evaluate(acc_path)
        base = results['fp32']
        # Mixed precision: fall back the most sensitive layers until within the budget.
        budget = 0.5 if args.max_drop is None else args.max_drop
        ranking = _ranking(args, model, calibs['entropy'], eval_set, workdir)
        mixed = sensitivity.mixed_precision_search(
            model, calibs['entropy'].amax, eval_set.miou, ranking, budget, workdir,
            baseline=base['miou'], max_fallback=args.max_fallback, keep_float=args.keep_fp,
            op_types=args.op_types, activations='s8', stats=calibs['entropy'].stats)
        results['int8_mixed'] = eval_set.evaluate(mixed.model_path)
        variants.append(('int8_mixed', 'INT8 mixed (%d layer(s) FP32)'
                         % len([s for s in mixed.kept_float]),
                         'entropy, all conditions', str(mixed.model_path),
                         str(mixed.model_path)))
        print('latency (%d runs each) ...' % args.latency_runs, flush=True)
        timed = ort_latencies_ms([v[4] for v in variants], runs=args.latency_runs,
                                 threads=args.threads)
        latencies = {v[0]: t for v, t in zip(variants, timed)}
        rows = [_row(name, precision, calibration, lat_path, model, results[name], base,
                     latencies[name], latencies['fp32']['median_ms'])
                for name, precision, calibration, _, lat_path in variants]
        night = [b for b, c in zip(eval_set.blobs, eval_set.conditions) if c == 'night']
        coverage = {}
        for key in ('entropy_day', 'entropy'):
            if night:
                rep = check_coverage(model, calibs[key], ArrayReader(night),
                                     threads=args.threads)
                coverage[key] = {'flagged': rep.flagged, 'reason': rep.reason(),
                                 'max_clip_fraction': rep.max_clip_fraction}
    finally:
        if tmp is not None:
            tmp.cleanup()
    conditions = sorted({c for c in eval_set.conditions},
                        key=lambda c: ('day', 'dusk', 'night').index(c)
                        if c in ('day', 'dusk', 'night') else 9)
    main_cols = ['precision', 'calibration', 'weights_mb', 'weights_ratio', 'latency_ms',
                 'speedup', 'miou', 'drop']
    main_heads = ['Precision', 'Calibration', 'Weights (MB)', 'x FP32', 'ORT CPU ms (median)',
                  'Speed-up', 'mIoU', 'Drop (pts)']
    cond_cols = ['precision', 'calibration'] + ['miou_' + c for c in conditions] + [
        'drop_' + c for c in conditions]
    cond_heads = ['Precision', 'Calibration'] + ['mIoU %s' % c for c in conditions] + [
        'drop %s' % c for c in conditions]
    small_cols = ['precision', 'calibration', 'small_miou', 'small_recall', 'miou']
    small_heads = ['Precision', 'Calibration', 'small-object IoU', 'small-object recall',
                   'mIoU (all pixels)']
    text = []
    text.append('Accuracy-drop report: %s, %d held-out frames (%s), ONNX Runtime CPU with %s'
                % (model, len(eval_set), ', '.join(conditions),
                   '%d thread(s)' % args.threads if args.threads else 'all cores'))
    text.append('')
    text.append(format_table(rows, main_cols, main_heads))
    text.append('')
    text.append('Per lighting condition (mIoU and drop against FP32, points):')
    text.append(format_table(rows, cond_cols, cond_heads))
    text.append('')
    text.append('Small objects (components < 1024 px of poles, signs, lights, people, '
                'vehicles):')
    text.append(format_table(rows, small_cols, small_heads))
    text.append('')
    for key, cov in coverage.items():
        text.append('coverage of the night frames by the %s calibration: %s (%s)'
                    % (labels[key], 'FLAGGED' if cov['flagged'] else 'ok', cov['reason']))
    text.append('mixed precision: %s in FP32, drop %.2f points (budget %.2f)'
                % (', '.join(mixed.kept_float) or 'no layer', mixed.drop_points, budget))
    text.append('FP16 latency is the FP16 graph on the CPU (run through FP32 kernels); its '
                'accuracy is the FP16 emulation. u8 activations are a CPU variant that '
                'TensorRT does not accept.')
    text.append('INT8 accuracy computed with %s.' % (
        "ONNX Runtime's default CPU kernels" if args.int8_kernels == 'ort' else
        'exact int32 accumulation (int8 x int8 kernels, as dp4a)'))
    text.append('report took %.0f s' % (time.perf_counter() - started))
    print('\n'.join(text))
    if args.report_md:
        with open(args.report_md, 'w') as handle:
            handle.write('\n'.join(text) + '\n')
    if args.report_json:
        with open(args.report_json, 'w') as handle:
            json.dump({'rows': rows, 'coverage': coverage, 'mixed': mixed.to_dict(),
                       'frames': len(eval_set), 'conditions': conditions}, handle, indent=1)
    return 0


def run(args) -> int:
    if args.report:
        return _run_report(args)
    if args.analyze:
        return _run_analyze(args)
    if args.max_drop is not None:
        return _run_mixed(args)
    return _run_convert(args)
