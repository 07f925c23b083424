# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The evaluation report: report.md, metrics.json and PNG plots.

`report.md` has the article's table for this model plus per-class, small-object,
per-condition and per-stage tables; `metrics.json` is for machines.

`article_table(rows)` formats the article's table from plain dicts, so other tools (the
quantization report) print the same table::

    rows = [{'precision': 'fp32', 'weight_bytes': 9.1e6, 'latency_ms': 12.0, 'miou': 0.61},
            {'precision': 'int8', 'weight_bytes': 2.3e6, 'latency_ms': 8.0, 'miou': 0.60}]
    print(article_table(rows))
"""

from __future__ import annotations

import datetime
import json
import logging
import math
import os
from pathlib import Path
import platform
from typing import Dict, List, Mapping, Optional, Sequence

from fxseg_ros.data.atomic import write_text
from fxseg_ros.data.labels import CLASS_NAMES, sorted_class_names
from fxseg_ros.eval.models import PRECISION_LABELS
from fxseg_ros.metrics.tables import format_table
import numpy as np

LOG = logging.getLogger(__name__)

ARTICLE_COLUMNS = ('Platform', 'Precision', 'Weights', 'Latency p50 (ms)', 'FPS', 'mIoU (%)',
                   'Drop vs FP32 (mIoU points)')


# Formatting helpers -------------------------------------------------------------------------
def format_bytes(n: Optional[float]) -> str:
    """Bytes in the article's style: '~240 MB' -> '239.6 MB', '2.31 MB', '610 kB'."""
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return 'n/a'
    n = float(n)
    for unit, scale in (('GB', 1e9), ('MB', 1e6), ('kB', 1e3)):
        if n >= scale:
            v = n / scale
            return ('%.0f %s' if v >= 100 else '%.1f %s' if v >= 10 else '%.2f %s') % (v, unit)
    return '%d B' % n


def _num(v: Optional[float], fmt: str = '%.1f') -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return 'n/a'
    return fmt % v


def _pct(v: Optional[float], fmt: str = '%.1f') -> str:
    return 'n/a' if v is None or (isinstance(v, float) and math.isnan(v)) else fmt % (100.0 * v)


def precision_label(precision: Optional[str]) -> str:
    if not precision:
        return 'n/a'
    return PRECISION_LABELS.get(precision, precision)


def _markdown(header: Sequence[str], rows: Sequence[Sequence[object]],
              align: Optional[str] = None) -> str:
    """Format a report table: first column left, the others right unless `align` says."""
    return format_table(header, rows, align or 'l' + 'r' * (len(header) - 1))


def host_platform(backend: Optional[str] = None, threads: Optional[int] = None) -> str:
    """
    E.g. 'AMD EPYC 9R45 x2, AVX2 (onnxruntime)': where the latency was measured.

    On the CPU the vector ISA is named (`fxseg_ros.runtime.ort_profile.cpu_isa`): INT8 results
    of ONNX Runtime differ slightly between AVX2, AVX-512 VNNI and NEON kernels.
    """
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    for junk in ('(R)', '(TM)', ' Processor', ' CPU', '  '):
        cpu = cpu.replace(junk, ' ' if junk == '  ' else '')
    cpu = ' '.join(cpu.split()[:4])
    label = '%s x%d' % (cpu, os.cpu_count() or 1)
    if backend in (None, 'onnxruntime'):
        from fxseg_ros.runtime.ort_profile import cpu_isa

        label += ', %s' % cpu_isa()
    if backend:
        label += ' (%s%s)' % (backend, ', %d threads' % threads if threads else '')
    return label


# The article's table --------------------------------------------------------------------------
def article_table(rows: Sequence[Mapping[str, object]], baseline: Optional[int] = None,
                  show_name: Optional[bool] = None) -> str:
    """
    Return the article's table (Platform | Precision | Weights | Latency | FPS | mIoU | Drop).

    rows: dicts with keys 'precision' (fp32/fp16/int8/mixed or free text), 'weight_bytes',
    'latency_ms' (p50 per frame), 'miou' (0..1); optional 'platform', 'name' (adds a first
    column), 'fps' (default 1000 / latency_ms), 'drop' (mIoU points; default: against the
    baseline row), 'note'. baseline: index of the row drops are measured against (default: the
    first fp32 row, else the first row); that row shows 'baseline'.
    """
    rows = list(rows)
    if baseline is None:
        baseline = next((i for i, r in enumerate(rows) if r.get('precision') == 'fp32'), 0)
    base_miou = rows[baseline].get('miou') if rows else None
    if show_name is None:
        show_name = any(r.get('name') for r in rows)
    header = (['Model'] if show_name else []) + list(ARTICLE_COLUMNS)
    out = []
    for i, r in enumerate(rows):
        lat = r.get('latency_ms')
        fps = r.get('fps')
        if fps is None and lat:
            fps = 1000.0 / float(lat)
        if i == baseline:
            drop = 'baseline'
        else:
            d = r.get('drop')
            if d is None and base_miou is not None and r.get('miou') is not None:
                d = 100.0 * (float(base_miou) - float(r['miou']))
            drop = _num(round(float(d), 2) + 0.0, '%+.2f') if d is not None else 'n/a'
        cells = ([r.get('name', '')] if show_name else []) + [
            r.get('platform', '') or '', precision_label(r.get('precision')),
            format_bytes(r.get('weight_bytes')), _num(lat), _num(fps, '%.0f'),
            _pct(r.get('miou'), '%.2f'), drop]
        out.append(cells)
    align = ('l' if show_name else '') + 'llrrrrr'
    return _markdown(header, out, align)


def evaluation_rows(metrics: Mapping[str, object]) -> List[Dict[str, object]]:
    """Rows for `article_table` from a metrics.json dict (offline runs and live runs)."""
    rows = []
    for run in metrics['runs']:
        lat = run.get('latency_ms', {})
        lat = lat.get('total') or lat.get('end_to_end') or {}
        rows.append({
            'name': run['name'] + (' (live)' if run.get('mode') == 'live' else ''),
            'platform': run.get('platform', ''),
            'precision': run.get('precision'),
            'weight_bytes': run.get('weight_bytes'),
            'latency_ms': lat.get('p50'),
            'miou': run['accuracy'].get('miou'),
            'drop': run.get('drop_vs_reference'),
        })
    return rows


# metrics.json -----------------------------------------------------------------------------
def _clean(obj):
    """Make numpy values and NaN JSON-safe (NaN -> None)."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(obj, np.ndarray):
        return _clean(obj.tolist())
    if isinstance(obj, Path):
        return str(obj)
    return obj


def evaluation_metrics(evaluation, live_runs: Sequence[Mapping[str, object]] = (),
                       extra: Optional[Mapping[str, object]] = None) -> Dict[str, object]:
    """
    Return the metrics.json dict of an `Evaluation` (plus live runs from `fxseg_ros.ros.live`).

    Drops are in mIoU points (percentage points) against the reference run; a live run's drop
    is against the same reference, and `live_vs_offline_miou_points` compares it with its
    offline run of the same model.
    """
    from fxseg_ros.eval.replay import reference_drop

    drops = reference_drop(evaluation)
    runs = []
    for res in evaluation.runs:
        d = res.to_json()
        d['drop_vs_reference'] = drops.get(res.spec.name)
        d['platform'] = host_platform(d.get('backend'), res.spec.threads or None)
        d.setdefault('model_info', {k: v for k, v in res.model_info.items()
                                    if k not in ('precision', 'weight_bytes')})
        runs.append(d)
    ref_miou = None
    if evaluation.reference is not None:
        ref_miou = evaluation.run(evaluation.reference).accuracy.cm.miou()
    offline = {r['name']: r for r in runs}
    for live in live_runs:
        d = dict(live)
        d['mode'] = 'live'
        if ref_miou is not None and d['accuracy'].get('miou') is not None:
            d['drop_vs_reference'] = 100.0 * (ref_miou - d['accuracy']['miou'])
        base = offline.get(d.get('offline_run') or d['name'])
        if base is not None and d['accuracy'].get('miou') is not None:
            d['live_vs_offline_miou_points'] = 100.0 * (d['accuracy']['miou']
                                                        - base['accuracy']['miou'])
        d.setdefault('platform', host_platform(d.get('backend')))
        runs.append(d)
    out = {
        'created': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'dataset': evaluation.dataset,
        'settings': evaluation.settings,
        'reference': evaluation.reference,
        'timing': evaluation.timing,
        'classes': list(CLASS_NAMES),
        'runs': runs,
    }
    if extra:
        out.update(extra)
    return _clean(out)


# report.md ----------------------------------------------------------------------------------
def _per_class_table(runs) -> str:
    classes = sorted_class_names(c for r in runs for c in r['accuracy'].get('iou', {}))
    rows = [[c] + [_pct(r['accuracy']['iou'].get(c)) for r in runs] for c in classes]
    rows.append(['**mIoU**'] + ['**%s**' % _pct(r['accuracy'].get('miou'), '%.2f')
                                for r in runs])
    rows.append(['pixel accuracy'] + [_pct(r['accuracy'].get('pixel_accuracy'), '%.2f')
                                      for r in runs])
    return _markdown(['IoU (%)'] + [r['name'] for r in runs], rows)


def _small_table(runs) -> str:
    classes = sorted_class_names(c for r in runs
                                 for c in r['accuracy'].get('small_objects', {}).get('per_class',
                                                                                     {}))
    if not classes:
        return ''
    rows = []
    for c in classes:
        first = next(r['accuracy']['small_objects']['per_class'].get(c) for r in runs
                     if c in r['accuracy']['small_objects']['per_class'])
        row = [c, first['instances']]
        for r in runs:
            pc = r['accuracy']['small_objects']['per_class'].get(c)
            row.append('%s / %s' % (_pct(pc['iou']), _pct(pc['instance_recall'], '%.0f'))
                       if pc else 'n/a')
        rows.append(row)
    rows.append(['**small-object mIoU**', sum(r['accuracy']['small_objects']['instances']
                                              for r in runs[:1])]
                + ['**%s**' % _pct(r['accuracy']['small_objects'].get('miou'), '%.2f')
                   for r in runs])
    return _markdown(['class', 'objects'] + ['%s IoU / found (%%)' % r['name']
                                             for r in runs], rows)


def _condition_table(runs, reference: Optional[str]) -> str:
    conds = []
    for r in runs:
        for c in r['accuracy'].get('conditions', {}):
            if c not in conds:
                conds.append(c)
    if not conds:
        return ''
    ref = next((r for r in runs if r['name'] == reference), None)
    rows = []
    for c in conds:
        row = [c, runs[0]['accuracy']['conditions'].get(c, {}).get('frames', 'n/a')]
        for r in runs:
            m = r['accuracy']['conditions'].get(c, {}).get('miou')
            cell = _pct(m, '%.2f')
            if ref is not None and r is not ref and m is not None:
                rm = ref['accuracy']['conditions'].get(c, {}).get('miou')
                if rm is not None:
                    cell += ' (%+.2f)' % (round(100.0 * (m - rm), 2) + 0.0)
            row.append(cell)
        rows.append(row)
    return _markdown(['condition', 'frames'] + ['%s mIoU (%%)' % r['name'] for r in runs],
                     rows)


def _latency_table(runs) -> str:
    stages = []
    for r in runs:
        for s, v in r.get('latency_ms', {}).items():
            # Stages a backend does not have (upload / download on the CPU) stay out.
            if s not in stages and (v.get('max') or s == 'total'):
                stages.append(s)
    rows = []
    for r in runs:
        lat = r.get('latency_ms', {})
        rows.append([r['name']] + ['%s / %s' % (_num(lat[s]['p50'], '%.2f'),
                                                _num(lat[s]['p95'], '%.2f'))
                                   if s in lat else '' for s in stages]
                    + [_num(r.get('throughput_fps'), '%.1f')])
    return _markdown(['run'] + ['%s p50 / p95' % s for s in stages] + ['frames/s'], rows)


def _live_table(runs) -> str:
    live = [r for r in runs if r.get('mode') == 'live']
    if not live:
        return ''
    rows = []
    for r in live:
        e2e = r.get('end_to_end_ms', {})
        rows.append([r['name'], r.get('published', 'n/a'), r.get('received', 'n/a'),
                     r.get('dropped', 'n/a'), r.get('rate', ''),
                     _num(e2e.get('p50'), '%.1f'), _num(e2e.get('p95'), '%.1f'),
                     _pct(r['accuracy'].get('miou'), '%.2f'),
                     _num(r.get('live_vs_offline_miou_points'), '%+.3f')])
    return _markdown(['node run', 'published', 'masks received', 'dropped', 'rate',
                      'end-to-end p50 (ms)', 'p95 (ms)', 'mIoU (%)',
                      'live - offline (points)'], rows)


def render_markdown(metrics: Mapping[str, object], plots: Mapping[str, str] = None,
                    title: str = 'fxseg_ros evaluation', command: Optional[str] = None,
                    notes: Sequence[str] = ()) -> str:
    """report.md text from a metrics.json dict and the relative paths of its plots."""
    plots = plots or {}
    runs = list(metrics['runs'])
    offline = [r for r in runs if r.get('mode') != 'live']
    ds = metrics.get('dataset', {})
    st = metrics.get('settings', {})
    lines = ['# %s' % title, '']
    if command:
        lines += ['Produced by:', '', '```', command, '```', '']
    src = ds.get('path', '')
    lines.append('Data: %s `%s`%s; %s frames, %s with ground truth%s.' % (
        ds.get('source', ''), src,
        (', topic `%s`' % ds['image_topic']) if ds.get('image_topic') else '',
        ds.get('frames', 'n/a'), ds.get('frames_evaluated', 'n/a'),
        (', %s without a label (counted, not scored)' % ds['frames_unlabelled'])
        if ds.get('frames_unlabelled') else ''))
    rej = ds.get('frames_rejected') or {}
    if rej:
        lines.append('Rejected frames: %s.' % ', '.join('%s: %d' % kv for kv in rej.items()))
    lines += ['', "## The article's table for this model", '',
              article_table(evaluation_rows(metrics),
                            baseline=next((i for i, r in enumerate(runs)
                                           if r['name'] == metrics.get('reference')), None)),
              '',
              'Latency: p50 of the whole pipeline per frame (decode, pre-processing, inference, '
              'post-processing to camera-size labels); FPS = 1000 / latency. Weights: bytes of '
              "the model's weight tensors as stored for that precision. Drop: mIoU points "
              'below the reference run `%s`.' % metrics.get('reference'), '']
    for note in notes:
        lines += [note, '']
    lines += ['## Per class', '', _per_class_table(offline), '']
    if 'per_class_iou' in plots:
        lines += ['![per-class IoU](%s)' % plots['per_class_iou'], '']
    small = _small_table(offline)
    if small:
        lines += ['## Small objects', '',
                  'Ground-truth connected components (8-connected) of thing classes smaller than '
                  '%s pixels; IoU counts the object pixels and the predictions of its class '
                  'within %s px around it; "found" = objects with at least half of their pixels '
                  'predicted correctly.' % (st.get('small_max_pixels'),
                                            offline[0]['accuracy']['small_objects'].get('margin')),
                  '', small, '']
    cond = _condition_table(offline, metrics.get('reference'))
    if cond:
        lines += ['## Per lighting condition', '',
                  'mIoU per condition; in brackets the difference to the reference run.', '',
                  cond, '']
    lines += ['## Latency per stage (ms per frame)', '', _latency_table(offline), '']
    t = metrics.get('timing', {})
    if t.get('metrics_overhead_pct') is not None:
        lines += ['Scoring (confusion matrices, small objects, overlays) cost %.1f %% of the '
                  'pipeline time on its own thread; replay wall time minus pipeline time '
                  '(bag reading, waiting for the scoring) was %.1f %% of the pipeline time.'
                  % (t['metrics_overhead_pct'], t.get('replay_overhead_pct') or 0.0), '']
    if t.get('overhead_vs_bare_pct') is not None:
        lines += ['Measured replay with metrics %.0f ms against %.0f ms without: %+.1f %%.'
                  % (t['wall_ms'], t['bare_wall_ms'], t['overhead_vs_bare_pct']), '']
    if 'latency_hist' in plots:
        lines += ['![latency](%s)' % plots['latency_hist'], '']
    live = _live_table(runs)
    if live:
        lines += ['## Live through the ROS 2 node', '',
                  'Frames played into `segmentation_node`, masks matched by header stamp; '
                  'end-to-end = mask received - frame published (through DDS).', '', live, '']
    if 'confusion' in plots:
        lines += ['## Confusion matrix', '', '![confusion matrix](%s)' % plots['confusion'], '']
    overlays = [v for k, v in sorted(plots.items()) if k.startswith('overlay')]
    if overlays:
        lines += ['## Where the runs disagree most', '',
                  'Frame / ground truth / reference / other run; the frames where the '
                  'predictions differ on the most labelled pixels.', '']
        lines += ['![overlay](%s)' % p for p in overlays]
        lines.append('')
    return '\n'.join(lines)


def write_report(evaluation, out_dir, live_runs: Sequence[Mapping[str, object]] = (),
                 title: str = 'fxseg_ros evaluation', command: Optional[str] = None,
                 notes: Sequence[str] = (), plots: bool = True,
                 extra: Optional[Mapping[str, object]] = None) -> Dict[str, Path]:
    """Write metrics.json, report.md and the PNG plots into out_dir. Returns name -> path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    metrics = evaluation_metrics(evaluation, live_runs, extra)
    paths: Dict[str, Path] = {}
    rel: Dict[str, str] = {}
    if plots:
        from fxseg_ros.eval import plots as plotting
        for name, path in plotting.write_plots(evaluation, metrics, out).items():
            paths[name] = path
            rel[name] = os.path.relpath(path, out)
    metrics['plots'] = rel
    # Each file appears complete or not at all; report.md, which names the others, comes last.
    paths['metrics'] = write_text(out / 'metrics.json', json.dumps(metrics, indent=2) + '\n')
    paths['report'] = write_text(out / 'report.md',
                                 render_markdown(metrics, rel, title, command, notes) + '\n')
    LOG.info('report written to %s', out)
    return paths
