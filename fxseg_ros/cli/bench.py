# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
`fxseg bench`: the same generated camera frames through each available runner, side by side.

For every model (ONNX: bare or deployment graph, any precision; TensorRT engine) the same batches
of generated 1280x720 frames go through `SegmentationPipeline` and, interleaved call by call, the
backend's raw call on the same graph and batch (`InferenceSession.run` for ONNX Runtime, the
engine's GPU time for TensorRT). Printed: median and p90 per call, the ratio to the first row, and
the pipeline's overhead over the raw call.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from fxseg_ros.cli.argtypes import non_negative_int, positive_int

NAME = 'bench'
HELP = ('time the same generated 1280x720 frames through each model/runner (ONNX Runtime on the '
        'CPU, TensorRT engines where available): medians, p90, ratios and pipeline overhead')

LOG = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--model', action='append', default=None, metavar='[LABEL=]M',
                        help='ONNX model (bare or deployment graph) or TensorRT engine; repeat '
                             'for several (e.g. --model fp32=demo.onnx --model int8=qdq.onnx); '
                             'default: the demo model')
    parser.add_argument('--frames', type=positive_int, default=30,
                        help='timed calls per model (default %(default)s)')
    parser.add_argument('--warmup', type=non_negative_int, default=3,
                        help='untimed calls before timing (default %(default)s)')
    parser.add_argument('--threads', type=non_negative_int, default=0,
                        help='ONNX Runtime intra-op threads (0: its default)')
    parser.add_argument('--batch', type=positive_int, default=1,
                        help='frames per call (default %(default)s)')
    parser.add_argument('--providers', default=None,
                        help='comma-separated ONNX Runtime execution providers '
                             '(default CPUExecutionProvider)')
    parser.add_argument('--tensorrt', choices=('auto', 'yes', 'no'), default='auto',
                        help='also run each ONNX model through TensorRT, FP16 (auto: when '
                             'tensorrt and pycuda are importable)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the generated frames')
    parser.add_argument('--json', metavar='F', help='also write the results as JSON to F')
    parser.add_argument('--node', action='store_true',
                        help='benchmark segmentation_node end to end through DDS instead: start '
                             'it, publish frames at --rate from this process, report latency '
                             'percentiles, output FPS, drops and the node overhead')
    from fxseg_ros.ros import bench_node

    bench_node.add_arguments(parser.add_argument_group('--node options'))


def parse_model_arg(text: str) -> Tuple[str, str]:
    """'label=path' -> (label, path); 'path' -> (file stem, path)."""
    if '=' in text:
        label, path = text.split('=', 1)
        if label and path:
            return label, path
    return Path(text).stem, text


def generate_frames(count: int, seed: int = 0, size_wh=(1280, 720)):
    """
    Return `count` BGR uint8 frames (H, W, 3) of generated driving scenes.

    Uses the synthetic scene generator when available, else smooth structured noise.
    """
    import numpy as np

    w, h = size_wh
    try:
        from fxseg_ros.data.synth import SceneGenerator
    except ImportError:
        SceneGenerator = None
    if SceneGenerator is not None:
        gen = SceneGenerator(seed, size_wh=(w, h))
        conditions = ('day', 'dusk', 'night')
        return [gen.generate(i, conditions[i % 3])[0] for i in range(count)]
    import cv2

    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(count):
        small = rng.integers(0, 256, (h // 16, w // 16, 3), dtype=np.uint8)
        frame = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
        frames.append(np.ascontiguousarray(frame))
    return frames


def _summary(samples: Sequence[float]) -> Dict[str, float]:
    import numpy as np

    a = np.asarray(samples, dtype=np.float64)
    return {'median': float(np.median(a)), 'p90': float(np.percentile(a, 90)),
            'mean': float(a.mean())}


def _tensorrt_available() -> bool:
    try:
        import pycuda.driver  # noqa: F401
        import tensorrt  # noqa: F401
    except ImportError:
        return False
    return True


def _time_runner(runner, batches, warmup: int, raw_call) -> Dict[str, object]:
    """Interleave pipeline and raw calls on the same batches; return per-call samples."""
    from fxseg_ros.pipeline.pipeline import SegmentationPipeline

    pipeline = SegmentationPipeline(runner)
    for i in range(warmup):
        batch = batches[i % len(batches)]
        pipeline.process(batch)
        raw_call(batch)
    total, raw, stages = [], [], {}
    for i in range(len(batches)):
        batch = batches[i]
        result = pipeline.process(batch)
        total.append(result.timings_ms['total'])
        for key, value in result.timings_ms.items():
            stages.setdefault(key, []).append(value)
        raw.append(raw_call(batch))
    return {'total': total, 'raw': raw, 'stages': stages}


def _ort_row(label: str, path: str, batches, args, cache_dir) -> dict:
    import numpy as np

    from fxseg_ros.runtime.onnxrt import OnnxRuntimeRunner

    runner = OnnxRuntimeRunner(path, providers=args.providers, threads=args.threads,
                               cache_dir=cache_dir)
    with runner:
        session, in_name, out_name = runner.session, runner.input_name, runner.output_name
        stacked = {id(b): np.stack(b) for b in batches}

        def raw_call(batch):
            feed = {in_name: stacked[id(batch)]}
            t0 = time.perf_counter()
            session.run([out_name], feed)
            return (time.perf_counter() - t0) * 1e3

        timed = _time_runner(runner, batches, args.warmup, raw_call)
        providers = ','.join(p.replace('ExecutionProvider', '') for p in session.get_providers())
    return dict(timed, label=label, model=path, backend='onnxruntime (%s, threads %s)'
                % (providers, args.threads or 'default'), raw_name='InferenceSession.run')


def _trt_row(label: str, runner, path: str, batches, args) -> dict:
    with runner:
        def raw_call(batch):
            return runner.last_timings.get('inference', float('nan'))

        timed = _time_runner(runner, batches, args.warmup, raw_call)
    return dict(timed, label=label, model=path, backend='tensorrt (%s)' % runner.precision,
                raw_name='engine GPU time')


def run_bench(models: Sequence[Tuple[str, str]], args: argparse.Namespace,
              cache_dir: Optional[str] = None) -> List[dict]:
    """
    Time each model; returns one row per runner with per-call samples and summaries.

    Rows: label, model, backend, total / raw / stages (ms samples), summary, raw_summary,
    overhead_pct (pipeline median over raw median, in percent).
    """
    frames = generate_frames(args.frames * args.batch, seed=args.seed)
    batches = [frames[i * args.batch:(i + 1) * args.batch] for i in range(args.frames)]
    use_trt = args.tensorrt == 'yes' or (args.tensorrt == 'auto' and _tensorrt_available())
    rows = []
    for label, path in models:
        suffix = Path(path).suffix.lower()
        if suffix in ('.engine', '.plan', '.trt'):
            if not use_trt and args.tensorrt != 'yes':
                LOG.warning('skipping %s: TensorRT is not available here', path)
                continue
            from fxseg_ros.runtime.tensorrt import TensorRtRunner

            runner = TensorRtRunner(path, max_batch=args.batch)
            rows.append(_trt_row(label, runner, path, batches, args))
            continue
        rows.append(_ort_row(label, path, batches, args, cache_dir))
        if use_trt:
            from fxseg_ros.runtime.tensorrt import TensorRtRunner

            runner = TensorRtRunner.from_onnx(path, precision='fp16', max_batch=args.batch,
                                              cache_dir=cache_dir)
            rows.append(_trt_row(label + '/trt-fp16', runner, path, batches, args))
    for row in rows:
        row['summary'] = _summary(row['total'])
        row['raw_summary'] = _summary(row['raw'])
        row['stage_medians'] = {k: _summary(v)['median'] for k, v in row['stages'].items()}
        st = row['stages']
        added = [t - u - i - d for t, u, i, d in zip(st['total'], st['upload'],
                                                      st['inference'], st['download'])]
        row['added_ms'] = _summary(added)['median']
        raw = row['raw_summary']['median']
        row['overhead_pct'] = (row['summary']['median'] / raw - 1.0) * 100.0 if raw > 0 \
            else float('nan')
    return rows


def format_table(rows: Sequence[dict], batch: int) -> str:
    """The side-by-side comparison as text."""
    if not rows:
        return 'no runner could run any of the models'
    first = rows[0]['summary']['median']
    header = ('%-22s %-34s %8s %8s %9s %7s %10s %9s %8s'
              % ('model', 'backend', 'median', 'p90', 'per frame', 'ratio', 'raw median',
                 'overhead', 'added'))
    lines = ['pipeline time per call of %d frame(s) at 1280x720, ms' % batch, header,
             '-' * len(header)]
    for row in rows:
        s = row['summary']
        lines.append('%-22s %-34s %8.2f %8.2f %9.2f %6.2fx %10.2f %8.1f%% %8.2f'
                     % (row['label'][:22], row['backend'][:34], s['median'], s['p90'],
                        s['median'] / batch, s['median'] / first,
                        row['raw_summary']['median'], row['overhead_pct'], row['added_ms']))
    lines.append('')
    lines.append('stage medians, ms: ' + '; '.join(
        '%s: %s' % (row['label'], ', '.join('%s %.2f' % (k, v)
                                             for k, v in row['stage_medians'].items()))
        for row in rows))
    lines.append('raw = %s on the same deployment graph and batches, interleaved call by '
                 'call; overhead = pipeline median / raw median - 1 (target <= 15 %%); added = '
                 'median per-call time the pipeline spends outside upload / inference / '
                 'download (host resize, stacking, bookkeeping)' % rows[0]['raw_name'])
    return '\n'.join(lines)


def main(args: argparse.Namespace) -> int:
    from fxseg_ros import DEMO_MODEL

    if args.model:
        models = [parse_model_arg(m) for m in args.model]
    elif DEMO_MODEL.is_file():
        models = [('demo-fp32', str(DEMO_MODEL))]
    else:
        print('fxseg bench: no --model given and the demo model %s is missing' % DEMO_MODEL)
        return 2
    missing = [path for _, path in models if not Path(path).is_file()]
    if missing:
        print('fxseg bench: model file(s) not found: %s' % ', '.join(missing))
        return 2
    from fxseg_ros.runtime.base import RunnerError

    try:
        rows = run_bench(models, args)
    except RunnerError as exc:
        print('fxseg bench: %s' % exc)
        return 2
    print(format_table(rows, args.batch))
    if args.json:
        keep = ('label', 'model', 'backend', 'summary', 'raw_summary', 'overhead_pct',
                'added_ms', 'stage_medians')
        Path(args.json).write_text(json.dumps([{k: r[k] for k in keep} for r in rows],
                                              indent=2) + '\n')
    return 0


def run(args: argparse.Namespace) -> int:
    if args.node:
        from fxseg_ros.ros import bench_node

        model = parse_model_arg(args.model[0])[1] if args.model else None
        return bench_node.run(args, model)
    return main(args)
