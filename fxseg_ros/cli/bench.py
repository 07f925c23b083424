# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
`fxseg bench`: the same generated camera frames through each available runner, side by side.

For every model (ONNX: bare or deployment graph, any precision; TensorRT engine) the same batches
of generated 1280x720 frames go through `SegmentationPipeline`, the backend's raw call on the same
graph and batch (`InferenceSession.run` for ONNX Runtime; for TensorRT the engine's GPU time of
the pipeline's own call) and, for ONNX models, the bare network on the same frames' blobs. The
three run in blocks of consecutive calls of one graph, each block after an untimed call of that
graph, in an order that rotates from block to block (`call_schedule`): every timed call follows a
call of its own graph, so no graph is timed with caches another graph left cold. Printed: median
and p90 per call, the ratio to the first row, the pipeline's overhead over the raw call, the
deployment graph's time over its bare network's, the share of the upscore (+ crop) in ONNX
Runtime's profile of both graphs, and the CPU's vector ISA. ONNX models are also built and timed
with TensorRT where it is installed, at the precision the model's kind builds at
(`builder.precision_for_model`); a row that cannot run is listed as skipped, with the reason.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
import time
from typing import Dict, List, Optional, Sequence, Tuple

from fxseg_ros.cli.argtypes import file_list, ListAction, non_negative_int, positive_int
from fxseg_ros.cli.errors import fail

NAME = 'bench'
LOG = logging.getLogger(__name__)

#: Frame size of the generated frames (width, height).
BENCH_WH = (1280, 720)
#: Targets the table reports against: pipeline overhead over the raw call, deployment graph over
#: its bare network, and the upscore + crop share of the bare network's time.
OVERHEAD_TARGET_PCT = 15
DEPLOY_OVER_BARE_TARGET = 1.15
UPSCORE_TARGET_PCT = 20
#: Batches profiled with ONNX Runtime's profiler (--profile).
PROFILE_BATCHES = 8
#: Timed calls of one graph in a row (a block), and the untimed calls of that graph before them.
BLOCK_CALLS = 5
BLOCK_WARMUP = 1

HELP = ('time the same generated %dx%d frames through each model/runner (ONNX Runtime on '
        'the CPU, TensorRT engines where available): medians, p90, ratios, pipeline overhead, '
        'the deployment graph against its bare network' % BENCH_WH)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--model', action=ListAction, type=file_list, default=None,
                        metavar='[LABEL=]M',
                        help='ONNX models (bare or deployment graph) or TensorRT engines, '
                             'spaces or repeated (e.g. --model fp32=demo.onnx int8=qdq.onnx); '
                             'default: the demo model')
    parser.add_argument('--frames', type=positive_int, default=30,
                        help='timed calls per model (default %(default)s)')
    parser.add_argument('--warmup', type=non_negative_int, default=3,
                        help='untimed calls before timing (default %(default)s)')
    parser.add_argument('--threads', type=non_negative_int, default=0,
                        help='ONNX Runtime intra-op threads (0: its default)')
    parser.add_argument('--batch', type=positive_int, default=1,
                        help='frames per call (default %(default)s)')
    parser.add_argument('--providers', action=ListAction, default=None, metavar='EP',
                        help='ONNX Runtime execution providers, commas or spaces '
                             '(default CPUExecutionProvider)')
    parser.add_argument('--tensorrt', choices=('auto', 'yes', 'no'), default='auto',
                        help='also build and run each ONNX model with TensorRT, at the precision '
                             'of its kind: Q/DQ INT8, FP16 FP16, FP32 FP16 (FP32 on TensorRT 11) '
                             '(auto: when tensorrt and cuda-python or pycuda are importable)')
    parser.add_argument('--profile', choices=('yes', 'no'), default='yes',
                        help='profile the deployment graph and its bare network with ONNX '
                             "Runtime's profiler for the upscore share (default %(default)s)")
    parser.add_argument('--seed', type=non_negative_int, default=0,
                        help='seed of the generated frames')
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
    """Return `count` BGR uint8 frames (H, W, 3) of generated driving scenes (day, dusk, night)."""
    from fxseg_ros.data.conditions import CONDITIONS
    from fxseg_ros.data.synth import SceneGenerator

    gen = SceneGenerator(seed, size_wh=tuple(size_wh))
    return [gen.generate(i, CONDITIONS[i % len(CONDITIONS)])[0] for i in range(count)]


def _summary(samples: Sequence[float]) -> Dict[str, float]:
    import numpy as np

    a = np.asarray(samples, dtype=np.float64)
    return {'median': float(np.median(a)), 'p90': float(np.percentile(a, 90)),
            'mean': float(a.mean())}


def call_schedule(batches: int, kinds: Sequence[str], block: int = BLOCK_CALLS,
                  warmup: int = BLOCK_WARMUP) -> List[Tuple[str, int, bool]]:
    """
    Return the order of the side-by-side calls: (kind, batch index, timed) per call.

    The batches go in blocks of `block`. In each block every kind makes `warmup` untimed calls,
    then one timed call per batch of the block, before the next kind; the kinds' order rotates
    by one from block to block. So every timed call follows a call of its own graph, each kind
    is timed once on every batch, and no kind is always first or last in a block.
    """
    if block < 1 or warmup < 0:
        raise ValueError('block must be >= 1 and warmup >= 0, got %d and %d' % (block, warmup))
    kinds = list(kinds)
    calls = []
    for number, start in enumerate(range(0, batches, block)):
        indices = list(range(start, min(start + block, batches)))
        shift = number % len(kinds)
        for kind in kinds[shift:] + kinds[:shift]:
            calls += [(kind, indices[i % len(indices)], False) for i in range(warmup)]
            calls += [(kind, i, True) for i in indices]
    return calls


def timed_samples(calls: Dict[str, object], batches, warmup: int = 0,
                  block: int = BLOCK_CALLS) -> Dict[str, list]:
    """
    Run `calls` (kind -> call(batch) -> sample) on the batches in `call_schedule` order.

    `warmup` untimed rounds of every kind come first. Returns kind -> samples, one per batch, in
    batch order.
    """
    kinds = list(calls)
    for i in range(warmup):
        for kind in kinds:
            calls[kind](batches[i % len(batches)])
    samples = {kind: [None] * len(batches) for kind in kinds}
    for kind, index, timed in call_schedule(len(batches), kinds, block):
        value = calls[kind](batches[index])
        if timed:
            samples[kind][index] = value
    return samples


def _time_runner(runner, batches, warmup: int, raw_call=None, bare_call=None) -> Dict[str, object]:
    """
    Pipeline, raw and bare-network samples on the same batches, in fair order (call_schedule).

    raw_call None: the raw time is the pipeline call's own inference stage (TensorRT: the
    engine's GPU time).
    """
    from fxseg_ros.pipeline.pipeline import SegmentationPipeline

    pipeline = SegmentationPipeline(runner)
    calls = {'pipeline': lambda batch: pipeline.process(batch).timings_ms}
    if raw_call is not None:
        calls['raw'] = raw_call
    if bare_call is not None:
        calls['bare'] = bare_call
    samples = timed_samples(calls, batches, warmup)
    stages = {}
    for timings in samples['pipeline']:
        for key, value in timings.items():
            stages.setdefault(key, []).append(value)
    raw = samples['raw'] if raw_call is not None else list(stages['inference'])
    return {'total': list(stages['total']), 'raw': raw, 'bare': samples.get('bare', []),
            'stages': stages}


def _bare_network(path: str):
    """Return the bare network of an ONNX model (itself, or recovered from a deployment graph)."""
    from fxseg_ros.model import deploy

    model = deploy.load_model(path)
    if not deploy.is_deployment_graph(model):
        return model
    try:
        return deploy.bare_graph_of(model)
    except deploy.DeploymentGraphError:
        return None


def _ort_row(label: str, path: str, batches, args, cache_dir) -> dict:
    import numpy as np

    from fxseg_ros.data.preprocess import preprocess
    from fxseg_ros.runtime import ort_profile
    from fxseg_ros.runtime.onnxrt import OnnxRuntimeRunner

    runner = OnnxRuntimeRunner(path, providers=args.providers, threads=args.threads,
                               cache_dir=cache_dir)
    bare = _bare_network(path) if not args.providers else None
    with runner:
        session, in_name, out_name = runner.session, runner.input_name, runner.output_name
        stacked = {id(b): np.stack(b) for b in batches}
        bare_call, blobs = None, {}
        if bare is not None:
            bare_session = ort_profile.cpu_session(bare, args.threads)
            bare_in = bare_session.get_inputs()[0].name
            blobs = {id(b): np.concatenate([preprocess(f) for f in b]) for b in batches}
            bare_call = _timer(bare_session, bare_in, blobs)

        def raw_call(batch):
            feed = {in_name: stacked[id(batch)]}
            t0 = time.perf_counter()
            session.run([out_name], feed)
            return (time.perf_counter() - t0) * 1e3

        timed = _time_runner(runner, batches, args.warmup, raw_call, bare_call)
        providers = ','.join(p.replace('ExecutionProvider', '') for p in session.get_providers())
    row = dict(timed, label=label, model=path, backend='onnxruntime (%s, threads %s)'
               % (providers, args.threads or 'default'), raw_name='InferenceSession.run')
    if bare is not None and args.profile == 'yes':
        row['profile'] = _profile(runner, bare, batches, blobs, stacked, args)
    return row


def _timer(session, name, blobs):
    """Return a call timing `session` on the blob of a batch (ms)."""
    from fxseg_ros.runtime import ort_profile

    return lambda batch: ort_profile.timed_run(session, {name: blobs[id(batch)]})


def _profile(runner, bare, batches, blobs, stacked, args) -> dict:
    """ONNX Runtime profiles of the deployment graph and the bare network: upscore shares."""
    from fxseg_ros.model import deploy
    from fxseg_ros.runtime import ort_profile

    from fxseg_ros.runtime.onnxrt import channels_last_resize_ok

    graph = deploy.ensure_deployment_graph(runner.model, camera_hw=runner.camera_hw,
                                           output=runner.output,
                                           channels_last=channels_last_resize_ok())
    picked = batches[:min(len(batches), PROFILE_BATCHES)]
    name, bare_name = graph.graph.input[0].name, bare.graph.input[0].name
    deploy_times, bare_times = ort_profile.node_times(
        [graph, bare], [[{name: stacked[id(b)]} for b in picked],
                        [{bare_name: blobs[id(b)]} for b in picked]], args.threads)
    bare_total = sum(bare_times.values())
    upscore = ort_profile.share(deploy_times, _names_and_outputs(graph))
    bare_upscore = ort_profile.share(bare_times, _names_and_outputs(bare))
    return {'upscore_ms': upscore, 'bare_upscore_ms': bare_upscore, 'bare_total_ms': bare_total,
            'deploy_total_ms': sum(deploy_times.values()),
            'upscore_pct_of_bare': 100.0 * upscore / bare_total if bare_total else float('nan'),
            'bare_upscore_pct': 100.0 * bare_upscore / bare_total if bare_total else float('nan')}


def _names_and_outputs(model) -> List[str]:
    """Return upscore nodes' names and outputs (ONNX Runtime names rewritten nodes after them)."""
    from fxseg_ros.model import deploy

    names = set(deploy.upscore_nodes(model))
    return sorted(names | {o for n in model.graph.node if n.name in names for o in n.output})


def _trt_row(label: str, runner, path: str, batches, args) -> dict:
    with runner:
        timed = _time_runner(runner, batches, args.warmup)
    return dict(timed, label=label, model=path, backend='tensorrt (%s)' % runner.precision,
                raw_name='engine GPU time')


def _skipped(label: str, path: str, backend: str, reason: str) -> dict:
    LOG.warning('skipping %s (%s): %s', label, backend, reason)
    return {'label': label, 'model': path, 'backend': backend, 'skipped': reason}


def _row(label: str, path: str, backend: str, measure) -> dict:
    """measure() -> row, or a skipped row naming why the runner could not run the model."""
    from fxseg_ros.model.deploy import DeploymentGraphError
    from fxseg_ros.runtime.base import RunnerError
    from fxseg_ros.runtime.build_plan import BuildError

    try:
        return measure()
    except (RunnerError, BuildError, DeploymentGraphError) as exc:
        return _skipped(label, path, backend, ' '.join(str(exc).split()))


def _trt_onnx_row(label: str, path: str, trt_version: str, batches, args, cache_dir) -> dict:
    """Time an ONNX model built with TensorRT at the precision of its kind (or skip it)."""
    from fxseg_ros.model.deploy import DeploymentGraphError
    from fxseg_ros.runtime.build_plan import model_kind, precision_for_model
    from fxseg_ros.runtime.tensorrt import TensorRtRunner

    try:
        precision = precision_for_model(model_kind(path), trt_version)
    except DeploymentGraphError as exc:
        return _skipped(label + '/trt', path, 'tensorrt', ' '.join(str(exc).split()))
    trt_label = '%s/trt-%s' % (label, precision)
    return _row(trt_label, path, 'tensorrt (%s)' % precision, lambda: _trt_row(
        trt_label, TensorRtRunner.from_onnx(path, precision=precision, max_batch=args.batch,
                                            cache_dir=cache_dir), path, batches, args))


def _tensorrt_version(use_trt: bool) -> Optional[str]:
    if not use_trt:
        return None
    from fxseg_ros.runtime.base import RunnerError
    from fxseg_ros.runtime.trt_support import import_tensorrt

    return import_tensorrt(RunnerError).__version__


def run_bench(models: Sequence[Tuple[str, str]], args: argparse.Namespace,
              cache_dir: Optional[str] = None) -> List[dict]:
    """
    Time each model; returns one row per runner with per-call samples and summaries.

    Rows: label, model, backend, total / raw / bare / stages (ms samples), summary, raw_summary,
    bare_summary (ONNX models), deploy_over_bare (raw median / bare median), overhead_pct
    (pipeline median over raw median, in percent), profile (upscore shares, with --profile);
    a runner that cannot run a model gives a row with `skipped` (the reason) instead.
    """
    from fxseg_ros.runtime import ENGINE_SUFFIXES
    from fxseg_ros.runtime.tensorrt import TensorRtRunner
    from fxseg_ros.runtime.trt_support import tensorrt_available

    frames = generate_frames(args.frames * args.batch, seed=args.seed, size_wh=BENCH_WH)
    batches = [frames[i * args.batch:(i + 1) * args.batch] for i in range(args.frames)]
    available, reason = tensorrt_available()
    use_trt = args.tensorrt == 'yes' or (args.tensorrt == 'auto' and available)
    if args.tensorrt == 'no':
        reason = 'TensorRT is turned off (--tensorrt no)'
    trt_version = _tensorrt_version(use_trt)
    rows = []
    for label, path in models:
        if Path(path).suffix.lower() in ENGINE_SUFFIXES:
            if not use_trt:
                rows.append(_skipped(label, path, 'tensorrt', reason))
                continue
            rows.append(_row(label, path, 'tensorrt', lambda: _trt_row(
                label, TensorRtRunner(path, max_batch=args.batch), path, batches, args)))
            continue
        rows.append(_row(label, path, 'onnxruntime',
                         lambda: _ort_row(label, path, batches, args, cache_dir)))
        if use_trt:
            rows.append(_trt_onnx_row(label, path, trt_version, batches, args, cache_dir))
    for row in rows:
        if 'skipped' not in row:
            _summarise(row)
    return rows


def _summarise(row: dict) -> None:
    row['summary'] = _summary(row['total'])
    row['raw_summary'] = _summary(row['raw'])
    row['stage_medians'] = {k: _summary(v)['median'] for k, v in row['stages'].items()}
    st = row['stages']
    added = [t - u - i - d for t, u, i, d in
             zip(st['total'], st['upload'], st['inference'], st['download'])]
    row['added_ms'] = _summary(added)['median']
    raw = row['raw_summary']['median']
    row['overhead_pct'] = (row['summary']['median'] / raw - 1.0) * 100.0 if raw > 0 \
        else float('nan')
    if row.get('bare'):
        row['bare_summary'] = _summary(row['bare'])
        row['deploy_over_bare'] = raw / row['bare_summary']['median']


def format_table(rows: Sequence[dict], batch: int) -> str:
    """Return the side-by-side comparison as text."""
    from fxseg_ros.runtime.ort_profile import cpu_isa

    ran = [row for row in rows if 'skipped' not in row]
    if not ran:
        return '\n'.join(['no runner could run any of the models'] + _skipped_lines(rows))
    first = ran[0]['summary']['median']
    header = ('%-22s %-34s %8s %8s %9s %7s %10s %9s %8s'
              % ('model', 'backend', 'median', 'p90', 'per frame', 'ratio', 'raw median',
                 'overhead', 'added'))
    lines = ['pipeline time per call of %d frame(s) at %dx%d, ms; CPU: %s'
             % ((batch,) + BENCH_WH + (cpu_isa(),)), header, '-' * len(header)]
    for row in ran:
        s = row['summary']
        lines.append('%-22s %-34s %8.2f %8.2f %9.2f %6.2fx %10.2f %8.1f%% %8.2f'
                     % (row['label'][:22], row['backend'][:34], s['median'], s['p90'],
                        s['median'] / batch, s['median'] / first,
                        row['raw_summary']['median'], row['overhead_pct'], row['added_ms']))
    lines.append('')
    stages = ['%s: %s' % (row['label'], ', '.join('%s %.2f' % item
                                                  for item in row['stage_medians'].items()))
              for row in ran]
    lines.append('stage medians, ms: ' + '; '.join(stages))
    lines.append('ratio = median / median of the first row; raw = %s on the same deployment '
                 'graph and batches, in blocks of %d calls per graph in rotating order; '
                 'overhead = pipeline median / raw median - 1 (target <= %d %%); added = median '
                 'per-call time the pipeline spends outside upload / inference / download (host '
                 'resize, stacking, bookkeeping)'
                 % (ran[0]['raw_name'], BLOCK_CALLS, OVERHEAD_TARGET_PCT))
    lines += _graph_lines(ran) + _skipped_lines(rows)
    return '\n'.join(lines)


def _skipped_lines(rows: Sequence[dict]) -> List[str]:
    return ['skipped %s (%s, %s): %s'
            % (row['label'], row['backend'], row['model'], row['skipped'])
            for row in rows if 'skipped' in row]


def _graph_lines(rows: Sequence[dict]) -> List[str]:
    """Return lines on the deployment graph against its bare network: time ratio, upscore share."""
    lines = []
    for row in rows:
        if 'deploy_over_bare' not in row:
            continue
        ratio = row['deploy_over_bare']
        lines.append('%s: deployment graph %.2f ms / bare network %.2f ms (InferenceSession.run '
                     'medians, blocks in rotating order) = %.2fx (target <= %.2fx: %s)'
                     % (row['label'], row['raw_summary']['median'],
                        row['bare_summary']['median'], ratio, DEPLOY_OVER_BARE_TARGET,
                        'met' if ratio <= DEPLOY_OVER_BARE_TARGET else 'NOT met'))
        prof = row.get('profile')
        if prof:
            pct = prof['upscore_pct_of_bare']
            lines.append("%s: upscore + crop %.2f ms = %.1f %% of the bare network's %.2f ms "
                         '(ONNX Runtime profile; target <= %d %%: %s); in the bare network '
                         'itself %.2f ms = %.1f %%'
                         % (row['label'], prof['upscore_ms'], pct, prof['bare_total_ms'],
                            UPSCORE_TARGET_PCT, 'met' if pct <= UPSCORE_TARGET_PCT else
                            'NOT met', prof['bare_upscore_ms'], prof['bare_upscore_pct']))
    return lines


def _models(args) -> List[Tuple[str, str]]:
    """(label, path) of every --model, checked: runnable, and a precision label that fits."""
    from fxseg_ros import DEMO_MODEL
    from fxseg_ros.cli.checks import inference_model, precision_label
    from fxseg_ros.eval.models import PRECISIONS

    models = ([parse_model_arg(m) for m in args.model] if args.model
              else [('demo-fp32', str(DEMO_MODEL))])
    for label, path in models:
        inference_model('--model', path)
        if label.lower() in PRECISIONS:   # a label that names a precision must be true
            precision_label('--model', path, label.lower(),
                            built_by_tensorrt=args.tensorrt == 'yes')
    labels = [label for label, _ in models]
    if len(set(labels)) != len(labels):
        fail('--model', 'two models have the label %s'
             % next(x for x in labels if labels.count(x) > 1),
             'label them: --model LABEL=PATH')
    return models


def main(args: argparse.Namespace) -> int:
    from fxseg_ros.cli.checks import output_file
    from fxseg_ros.data.atomic import write_text
    from fxseg_ros.runtime.base import RunnerError

    models = _models(args)
    if args.json:
        output_file('--json', args.json, inputs=[path for _, path in models])
    try:
        rows = run_bench(models, args)
    except RunnerError as exc:
        fail('--providers' if args.providers and 'provider' in str(exc) else '--model',
             str(exc))
    print(format_table(rows, args.batch))
    if args.json:
        keep = ('label', 'model', 'backend', 'summary', 'raw_summary', 'overhead_pct',
                'added_ms', 'stage_medians', 'bare_summary', 'deploy_over_bare', 'profile',
                'skipped')
        write_text(args.json, json.dumps([{k: r[k] for k in keep if k in r}
                                          for r in rows], indent=2) + '\n')
    return 0 if any('skipped' not in row for row in rows) else 1


#: The node benchmark's numeric options and what each must be (checked before the node starts).
NODE_OPTIONS = (('--cameras', 'an integer >= 1', lambda v: v >= 1 and int(v) == v),
                ('--rate', 'a rate in Hz > 0', lambda v: v > 0 and v != float('inf')),
                ('--duration', 'a number of seconds > 0', lambda v: v > 0 and v != float('inf')))


def _check_node(args) -> Optional[str]:
    """Check the options of `--node`; return the model the node runs (None: its default)."""
    import importlib.util

    from fxseg_ros.cli.checks import inference_model, parameter_file

    for flag, expected, valid in NODE_OPTIONS:
        value = getattr(args, flag[2:], None)
        if value is not None and not valid(value):
            fail(flag, 'must be %s, got %s' % (expected, value))
    if args.params_file is not None:
        parameter_file('--params-file', args.params_file)
    if args.model and len(args.model) > 1:
        fail('--model', '--node runs one model, %d given' % len(args.model),
             'give one --model')
    if args.json:
        fail('--json', 'applies to the runner benchmark, not --node')
    if importlib.util.find_spec('rclpy') is None:
        fail('--node', 'needs ROS 2 (rclpy), which is not installed',
             'pip install .[ros] or source a ROS 2 installation')
    if not args.model:
        return None
    path = parse_model_arg(args.model[0])[1]
    inference_model('--model', path)
    return path


def run(args: argparse.Namespace) -> int:
    if args.node:
        from fxseg_ros.ros import bench_node

        model = _check_node(args)
        return bench_node.run(args, model)
    return main(args)
