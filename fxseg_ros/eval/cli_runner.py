# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The body of `fxseg eval` (kept out of the parser module so `fxseg --help` stays light)."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import List, Optional, Sequence

from fxseg_ros.data.labels import CLASS_NAMES, TRAIN_ID
from fxseg_ros.metrics.defaults import DEFAULT_MAX_PIXELS, DEFAULT_SMALL_CLASSES

LOG = logging.getLogger(__name__)

#: Exit status when the live run through the node failed (the offline results are printed).
EXIT_LIVE_FAILED = 3


def parse_classes(names: Optional[Sequence[str]]) -> Optional[List[int]]:
    """Class names or train IDs -> train IDs."""
    if not names:
        return None
    ids = []
    for n in names:
        if n.isdigit() and int(n) < len(CLASS_NAMES):
            ids.append(int(n))
        elif n in TRAIN_ID:
            ids.append(TRAIN_ID[n])
        else:
            raise ValueError('unknown class %r; classes: %s' % (n, ', '.join(CLASS_NAMES)))
    return ids


def _open_source(args: argparse.Namespace):
    from fxseg_ros.eval import sources

    if args.bag:
        return sources.bag_source(args.bag, args.image_topic,
                                  args.label_topic if args.label_topic else '',
                                  args.condition_topic, args.max_frames)
    return sources.cityscapes_source(args.data, args.split, args.max_frames)


def print_summary(metrics, out=None) -> None:
    """Print the article's table and the headline numbers on the terminal."""
    from fxseg_ros.eval.report import article_table, evaluation_rows

    out = out or sys.stdout
    runs = metrics['runs']
    ref = metrics.get('reference')
    print('', file=out)
    print(article_table(evaluation_rows(metrics),
                        baseline=next((i for i, r in enumerate(runs) if r['name'] == ref), None)),
          file=out)
    ds = metrics['dataset']
    print('\n%s frames, %s scored, %s without label, rejected %s'
          % (ds.get('frames'), ds.get('frames_evaluated'), ds.get('frames_unlabelled'),
             ds.get('frames_rejected') or 0), file=out)
    for r in runs:
        small = r['accuracy'].get('small_objects', {})
        conds = r['accuracy'].get('conditions', {})
        miou = r['accuracy'].get('miou')
        parts = ['%s: mIoU %s' % (r['name'], 'n/a (no ground truth)' if miou is None
                                  else '%.2f' % (100 * miou))]
        if small.get('miou') is not None:
            parts.append('small objects %.2f (%d)' % (100 * small['miou'], small['instances']))
        for c, m in conds.items():
            if m.get('miou') is not None:
                parts.append('%s %.2f' % (c, 100 * m['miou']))
        if r.get('mode') == 'live':
            parts.append('dropped %s of %s' % (r.get('dropped'), r.get('published')))
        print('  ' + ', '.join(parts), file=out)
    t = metrics.get('timing', {})
    if t.get('metrics_overhead_pct') is not None:
        print('metrics: %.1f %% of the pipeline time (measured on the metrics thread)'
              % t['metrics_overhead_pct'], file=out)
    if t.get('overhead_vs_bare_pct') is not None:
        print('replay with metrics took %.0f ms, without %.0f ms: %+.1f %%'
              % (t['wall_ms'], t['bare_wall_ms'], t['overhead_vs_bare_pct']), file=out)


def _live_runs(args: argparse.Namespace, specs, evaluation, small_classes) -> List[dict]:
    """Play each run live into the node (only the first with --connect: one running node)."""
    from fxseg_ros.eval.live import evaluate_live

    runs = []
    for spec in specs[:1] if args.connect else specs:
        runs.append(evaluate_live(
            args.bag, model=spec.model, precision=spec.precision,
            small_max_pixels=args.small_max_pixels or DEFAULT_MAX_PIXELS,
            small_classes=small_classes, image_topic=evaluation.dataset.get('image_topic'),
            label_topic=evaluation.dataset.get('label_topic'),
            condition_topic=evaluation.dataset.get('condition_topic'), name=spec.name,
            backend=spec.backend, threads=spec.threads, rate=args.rate, connect=args.connect,
            params_file=args.params_file, mask_topic=args.mask_topic,
            node_timeout_s=args.node_timeout, max_frames=args.max_frames,
            progress=not args.no_progress))
    return runs


def _evaluate(args: argparse.Namespace, specs, small_classes):
    """Replay offline (after a bare replay without metrics with --measure-overhead)."""
    from fxseg_ros.eval import replay

    bare = None
    if args.measure_overhead:
        bare = replay.evaluate(_open_source(args), specs, batch=args.batch,
                               collect_metrics=False, overlays=0,
                               progress=not args.no_progress)
    evaluation = replay.evaluate(
        _open_source(args), specs, batch=args.batch,
        small_max_pixels=args.small_max_pixels or DEFAULT_MAX_PIXELS,
        small_classes=small_classes, overlays=args.overlays, reference=args.reference,
        progress=not args.no_progress)
    if bare is not None:
        t = evaluation.timing
        t['bare_wall_ms'] = bare.timing['wall_ms']
        t['bare_pipeline_ms'] = bare.timing['pipeline_ms']
        t['overhead_vs_bare_pct'] = replay.overhead_pct(t['wall_ms'], bare.timing['wall_ms'])
    return evaluation


def run_eval_command(args: argparse.Namespace, command: Optional[str] = None) -> int:
    """
    Run `fxseg eval` on checked arguments; returns the exit status.

    command: the command line that reproduces the run, for the report. Bad input raises the
    package's error types (the CLI names the argument); a live run that fails prints one line
    and returns EXIT_LIVE_FAILED. The results are printed before the report is written.
    """
    from fxseg_ros.eval import replay
    from fxseg_ros.eval.report import evaluation_metrics, write_report

    small_classes = parse_classes(args.small_classes) or list(DEFAULT_SMALL_CLASSES)
    specs = replay.default_run_specs(args.model, args.precision, args.name, args.backend,
                                     args.threads)
    evaluation = _evaluate(args, specs, small_classes)
    live_runs = []
    if args.live:
        from fxseg_ros.ros.live import LiveEvalError

        try:
            live_runs = _live_runs(args, specs, evaluation, small_classes)
        except LiveEvalError as err:
            print_summary(evaluation_metrics(evaluation))
            print('fxseg eval: error: --live: live evaluation failed: %s'
                  % ' '.join(str(err).split()), file=sys.stderr)
            return EXIT_LIVE_FAILED
    print_summary(evaluation_metrics(evaluation, live_runs))
    if args.report:
        paths = write_report(evaluation, args.report, live_runs=live_runs, command=command)
        print('\nreport: %s' % paths['report'])
    return 0
