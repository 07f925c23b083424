# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The accuracy-drop report of `fxseg quantize report`: the article's INT8 / FP16 table.

FP32, FP16 (emulated), INT8 with entropy / min-max / percentile calibration over all lighting
conditions and with entropy over day frames only, INT8 with u8 activations (a CPU variant) and
INT8 mixed precision, each with its weight bytes, ONNX Runtime CPU latency (measured side by
side, interleaved), mIoU overall, per condition and on small objects, and the coverage check of
the night frames against both entropy calibrations.
"""

from __future__ import annotations

from dataclasses import dataclass
import logging
from pathlib import Path
import statistics
import time
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from fxseg_ros.data.conditions import CONDITIONS, sorted_conditions
from fxseg_ros.data.preprocess import NET_INPUT_NAME, NET_INPUT_WH, preprocess
from fxseg_ros.metrics.tables import format_table
from fxseg_ros.model.deploy import network_input_wh
from fxseg_ros.quant.evalset import calibration_blobs, EvalSet
from fxseg_ros.runtime.session import make_session
import numpy as np

LOG = logging.getLogger(__name__)

#: The calibrations the report compares: key -> (method, percentile, conditions, label).
CALIBRATIONS = {
    'entropy': ('entropy', None, None, 'entropy, all conditions'),
    'minmax': ('minmax', None, None, 'min-max, all conditions'),
    'percentile': ('percentile', 99.99, None, 'percentile 99.99, all conditions'),
    'entropy_day': ('entropy', None, ('day',), 'entropy, day only'),
}
#: Mixed-precision budget (mIoU points) when none is given.
DEFAULT_MAX_DROP = 0.5
#: The condition whose frames the coverage check runs on.
COVERAGE_CONDITION = 'night'


@dataclass
class ReportOptions:
    """What the report measures and how (the `fxseg quantize report` options)."""

    calib_frames: int = 48
    analyze_frames: int = 4
    latency_runs: int = 10
    max_drop: float = DEFAULT_MAX_DROP
    max_fallback: int = 8
    keep_fp: Optional[Sequence[str]] = None
    op_types: Optional[Sequence[str]] = None
    threads: int = 0
    seed: int = 0
    data: Optional[str] = None
    topic: Optional[str] = None


def ort_latencies_ms(model_paths: Sequence[Union[str, Path]],
                     input_shape: Sequence[int] = (1, 3, NET_INPUT_WH[1], NET_INPUT_WH[0]),
                     runs: int = 10, warmup: int = 2, threads: int = 0,
                     seed: int = 0) -> List[Dict[str, float]]:
    """
    Measure median and p90 wall-clock milliseconds of one ONNX Runtime CPU run of each graph.

    The models run in turn (A, B, C, A, B, C, ...) so that load from other processes on the
    machine affects all of them alike and their ratios stay meaningful.
    input_shape: the float32 input blob, (N, 3, H, W).
    """
    blob = np.random.default_rng(seed).standard_normal(tuple(input_shape)).astype(np.float32)
    sessions = []
    for path in model_paths:
        session = make_session(path, threads=threads)
        sessions.append((session, session.get_inputs()[0].name,
                         [session.get_outputs()[0].name]))
    for session, name, outputs in sessions:
        for _ in range(max(warmup, 0)):
            session.run(outputs, {name: blob})
    samples: List[List[float]] = [[] for _ in sessions]
    for _ in range(max(runs, 1)):
        for k, (session, name, outputs) in enumerate(sessions):
            start = time.perf_counter()
            session.run(outputs, {name: blob})
            samples[k].append((time.perf_counter() - start) * 1e3)
    result = []
    for values in samples:
        values.sort()
        result.append({'median_ms': float(statistics.median(values)),
                       'p90_ms': float(values[int(round(0.9 * (len(values) - 1)))]),
                       'runs': len(values)})
    return result


def collect_calibrations(model: str, options: ReportOptions) -> Dict[str, object]:
    """
    Compute every calibration of CALIBRATIONS from one pass over the frames where possible.

    Generated frames: `calib_frames` frames with the conditions in turn for the all-conditions
    calibrations, and `calib_frames` day frames (sharing the day frames of the first set) for
    the day-only one. With `options.data`, its frames (all, then day only).
    """
    from fxseg_ros.quant.calibrators import HistogramCalibrator
    from fxseg_ros.quant.collect import ActivationCollector

    collector = ActivationCollector(model, threads=options.threads)
    every, day = HistogramCalibrator(), HistogramCalibrator()
    n = options.calib_frames
    size_wh = network_input_wh(model)
    if options.data:
        for target, conditions in ((every, None), (day, ['day'])):
            for blob in calibration_blobs(n, conditions, options.data, options.topic,
                                          size_wh=size_wh):
                target.update(collector.run({NET_INPUT_NAME: blob}))
    else:
        for index, condition, bgr in _calibration_frames(options.seed, n):
            acts = collector.run({NET_INPUT_NAME: preprocess(bgr, size_wh)})
            if index < n:
                every.update(acts)
            if condition == 'day':
                day.update(acts)
    result = {}
    for key, (method, percentile, conditions, _) in CALIBRATIONS.items():
        source = day if conditions == ('day',) else every
        result[key] = source.result(method, percentile or 99.99, model=model)
    return result


def _calibration_frames(seed: int, n: int) -> Iterator[Tuple[int, str, np.ndarray]]:
    """
    Yield (index, condition, bgr) of the generated calibration frames, one at a time.

    Indices 0..n-1 take the conditions in turn (the all-conditions set); day frames from index n
    on complete the day-only set to n frames (the first set's day frames are shared).
    """
    from fxseg_ros.data.synth import SceneGenerator, SPLIT_INDEX_BASE

    plan = [(i, CONDITIONS[i % len(CONDITIONS)]) for i in range(n)]
    day_in_all = sum(1 for _, c in plan if c == 'day')
    plan += [(n + k, 'day') for k in range(max(n - day_in_all, 0))]
    generator = SceneGenerator(seed)
    for index, condition in plan:
        bgr, _ = generator.generate(SPLIT_INDEX_BASE['train'] + index, condition)
        yield index, condition, bgr


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


def _variants(model: str, calibs: Dict[str, object], options: ReportOptions,
              workdir: Path) -> list:
    """(name, precision, calibration, accuracy model, latency model) of every fixed variant."""
    from fxseg_ros.quant import fp16, qdq

    emulated = fp16.save_model(fp16.emulate_fp16(model), workdir / 'fp16_emulated.onnx')
    real_fp16 = fp16.save_model(fp16.convert_to_fp16(model), workdir / 'fp16.onnx')
    variants = [('fp32', 'FP32', '-', model, model),
                ('fp16', 'FP16 (emulated)', '-', str(emulated), str(real_fp16))]
    for key, calib in calibs.items():
        path = workdir / ('int8_%s.onnx' % key)
        qdq.quantize_qdq(model, calib.amax, path, op_types=options.op_types,
                         activations='s8', stats=calib.stats)
        variants.append(('int8_' + key, 'INT8', CALIBRATIONS[key][3], str(path), str(path)))
    cpu = workdir / 'int8_entropy_u8.onnx'
    qdq.quantize_qdq(model, calibs['entropy'].amax, cpu, op_types=options.op_types,
                     activations='u8', stats=calibs['entropy'].stats)
    variants.append(('int8_entropy_u8', 'INT8 (u8 act., CPU only)',
                     CALIBRATIONS['entropy'][3], str(cpu), str(cpu)))
    return variants


def sensitivity_ranking(model: str, calib, feeds: Sequence[dict], workdir: Path,
                        options: ReportOptions, activations: str = 's8') -> List[str]:
    """Return the weighted layers, most sensitive to INT8 first (isolated sensitivity)."""
    from fxseg_ros.quant import sensitivity

    ranked = sensitivity.isolated_sensitivity(model, calib.amax, feeds, workdir,
                                              op_types=options.op_types,
                                              activations=activations, stats=calib.stats,
                                              threads=options.threads)
    return [e.name for e in ranked]


def _mixed(model: str, calib, eval_set: EvalSet, baseline: float, options: ReportOptions,
           workdir: Path):
    from fxseg_ros.quant import sensitivity

    ranking = sensitivity_ranking(model, calib, eval_set.feeds(options.analyze_frames),
                                  workdir, options)
    return sensitivity.mixed_precision_search(
        model, calib.amax, eval_set.miou, ranking, options.max_drop, workdir,
        baseline=baseline, max_fallback=options.max_fallback, keep_float=options.keep_fp,
        op_types=options.op_types, activations='s8', stats=calib.stats)


def _coverage(model: str, calibs: Dict[str, object], eval_set: EvalSet,
              threads: int) -> Dict[str, dict]:
    from fxseg_ros.quant.collect import ArrayReader
    from fxseg_ros.quant.coverage import check_coverage

    frames = eval_set.blobs_of(COVERAGE_CONDITION)
    coverage = {}
    for key in ('entropy_day', 'entropy'):
        if frames:
            rep = check_coverage(model, calibs[key], ArrayReader(frames), threads=threads)
            coverage[key] = {'flagged': rep.flagged, 'reason': rep.reason(),
                             'max_clip_fraction': rep.max_clip_fraction}
    return coverage


def run_report(model: str, eval_set: EvalSet, options: ReportOptions, workdir: Path,
               progress: Callable[[str], None] = LOG.info) -> Dict[str, object]:
    """
    Build and measure every variant; returns the report's rows, coverage and mixed result.

    progress(text) is told the phase (calibration, evaluation, latency).
    """
    progress('calibration (%d frames, all conditions and day only) ...' % options.calib_frames)
    calibs = collect_calibrations(model, options)
    variants = _variants(model, calibs, options, workdir)
    progress('evaluating %d variants on %d frames ...' % (len(variants) + 1, len(eval_set)))
    results = {}
    for k, (name, precision, calibration, acc_path, _) in enumerate(variants):
        progress('  %d/%d %s, %s' % (k + 1, len(variants) + 1, precision, calibration))
        results[name] = eval_set.evaluate(acc_path)
    base = results['fp32']
    progress('  %d/%d mixed precision search (budget %.2f points) ...'
             % (len(variants) + 1, len(variants) + 1, options.max_drop))
    mixed = _mixed(model, calibs['entropy'], eval_set, base['miou'], options, workdir)
    results['int8_mixed'] = eval_set.evaluate(mixed.model_path)
    variants.append(('int8_mixed', 'INT8 mixed (%d layer(s) FP32)' % len(mixed.kept_float),
                     CALIBRATIONS['entropy'][3], str(mixed.model_path), str(mixed.model_path)))
    progress('latency (%d runs each) ...' % options.latency_runs)
    width, height = network_input_wh(model)
    timed = ort_latencies_ms([v[4] for v in variants], input_shape=(1, 3, height, width),
                             runs=options.latency_runs, threads=options.threads)
    latencies = {v[0]: t for v, t in zip(variants, timed)}
    rows = [_row(name, precision, calibration, lat_path, model, results[name], base,
                 latencies[name], latencies['fp32']['median_ms'])
            for name, precision, calibration, _, lat_path in variants]
    return {'rows': rows, 'coverage': _coverage(model, calibs, eval_set, options.threads),
            'mixed': mixed.to_dict(), 'frames': len(eval_set),
            'conditions': sorted_conditions(eval_set.conditions)}


def format_report(report: Dict[str, object], model: str, eval_set: EvalSet,
                  options: ReportOptions) -> str:
    """Format the report: the three tables and the notes under them (Markdown)."""
    rows, conditions, mixed = report['rows'], report['conditions'], report['mixed']
    columns = [
        ('precision', 'Precision'), ('calibration', 'Calibration'),
        ('weights_mb', 'Weights (MB)'), ('weights_ratio', 'x FP32'),
        ('latency_ms', 'ORT CPU ms (median)'), ('speedup', 'Speed-up'), ('miou', 'mIoU'),
        ('drop', 'Drop (pts)')]
    per_condition = columns[:2] + [('miou_' + c, 'mIoU %s' % c) for c in conditions] + [
        ('drop_' + c, 'drop %s' % c) for c in conditions]
    small = columns[:2] + [('small_miou', 'small-object IoU'),
                           ('small_recall', 'small-object recall'),
                           ('miou', 'mIoU (all pixels)')]

    def table(cols):
        return format_table([h for _, h in cols], [[r.get(k) for k, _ in cols] for r in rows])

    text = ['Accuracy-drop report: %s, %d held-out frames (%s), ONNX Runtime CPU with %s'
            % (model, report['frames'], ', '.join(conditions),
               '%d thread(s)' % options.threads if options.threads else 'all cores'),
            '', table(columns), '',
            'Per lighting condition (mIoU and drop against FP32, points):', table(per_condition),
            '', 'Small objects (components < %d px of poles, signs, lights, people, vehicles):'
            % eval_set.small.max_pixels, table(small), '']
    for key, cov in report['coverage'].items():
        text.append('coverage of the %s frames by the %s calibration: %s (%s)'
                    % (COVERAGE_CONDITION, CALIBRATIONS[key][3],
                       'FLAGGED' if cov['flagged'] else 'ok', cov['reason']))
    text.append('mixed precision: %s in FP32, drop %.2f points (budget %.2f)'
                % (', '.join(mixed['kept_float']) or 'no layer', mixed['drop_points'],
                   options.max_drop))
    text.append('FP16 latency is the FP16 graph on the CPU (run through FP32 kernels); its '
                'accuracy is the FP16 emulation. u8 activations are a CPU variant that '
                'TensorRT does not accept.')
    text.append('INT8 accuracy computed with %s.' % (
        "ONNX Runtime's default CPU kernels" if eval_set.int8_kernels == 'ort' else
        'exact int32 accumulation (int8 x int8 kernels, as dp4a)'))
    return '\n'.join(text)


def format_sensitivity(isolated, accumulated: Dict[str, object], frames: int) -> str:
    """Format the per-layer sensitivity table of `fxseg quantize analyze` (aligned text)."""
    header = ['rank', 'layer', 'op', 'only-this SQNR dB', 'only cosine', 'all-INT8 SQNR dB',
              'all cosine']
    rows = []
    for rank, err in enumerate(isolated, start=1):
        acc = accumulated.get(err.name)
        rows.append([rank, err.name, err.op_type, '%.2f' % err.sqnr, '%.6f' % err.cosine,
                     '%.2f' % acc.sqnr if acc else None, '%.6f' % acc.cosine if acc else None])
    lines = ['Per-layer INT8 sensitivity on %d frames (most sensitive first)' % frames,
             format_table(header, rows, align='lllrrrr', markdown=False)]
    out = accumulated.get('scores') or next((e for e in accumulated.values()
                                             if e.op_type == 'output'), None)
    if out is not None:
        lines.append('network output with every layer in INT8: SQNR %.2f dB, cosine %.6f'
                     % (out.sqnr, out.cosine))
    return '\n'.join(lines)
