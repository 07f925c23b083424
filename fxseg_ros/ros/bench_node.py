# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
End-to-end benchmark of segmentation_node through DDS (`fxseg bench --node`).

Starts the node as its own process (config/cpu.yaml unless another parameter file is given),
publishes generated 1280x720 frames on one or more camera topics at a fixed rate from this
process, and reports per camera: latency from the header stamp to the mask's arrival back here
(both DDS hops), the node's own figures from /diagnostics (stamp to publish, per stage), output
FPS, drops, and the node's share of the time (end to end minus inference).
"""


import argparse
import logging
import os
import signal
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from fxseg_ros.data.stamps import ns_to_sec_nanosec, stamp_to_ns
from fxseg_ros.ros.environment import override_environ, restore_environ

LOG = logging.getLogger(__name__)

CONFIG_DIR = Path(__file__).resolve().parents[2] / 'config'


def _default_config() -> Optional[Path]:
    """config/cpu.yaml of the source tree, or of the installed package share."""
    path = CONFIG_DIR / 'cpu.yaml'
    if path.is_file():
        return path
    try:
        from ament_index_python.packages import get_package_share_directory

        path = Path(get_package_share_directory('fxseg_ros')) / 'config' / 'cpu.yaml'
        return path if path.is_file() else None
    except (ImportError, LookupError):
        return None


def _percentiles(values_ms: List[float]) -> Dict[str, float]:
    if not values_ms:
        nan = float('nan')
        return {'count': 0, 'p50': nan, 'p95': nan, 'p99': nan, 'max': nan}
    a = np.asarray(values_ms, dtype=np.float64)
    p50, p95, p99 = np.percentile(a, [50, 95, 99])
    return {'count': int(a.size), 'p50': float(p50), 'p95': float(p95), 'p99': float(p99),
            'max': float(a.max())}


def _batching(before: Dict[str, str], after: Dict[str, str]) -> Dict[str, float]:
    """Batches and frames the node ran during the benchmark (warm-up included, handshakes not)."""
    def delta(key):
        return int(after.get(key, 0)) - int(before.get(key, 0))

    batches, frames = delta('batches'), delta('batched_frames')
    return {'batches': batches, 'frames': frames,
            'mean_batch_size': frames / batches if batches > 0 else float('nan')}


def run_node_benchmark(model: Optional[str] = None, cameras: int = 1, rate_hz: float = 30.0,
                       duration_s: float = 10.0, warmup_s: float = 2.0, large_data: bool = True,
                       params_file: Optional[str] = None, params: Optional[Dict] = None,
                       seed: int = 0, log_path: Optional[str] = None) -> Dict[str, object]:
    """
    Run the node benchmark; return the figures as a dict (see `format_report`).

    large_data: set FASTDDS_BUILTIN_TRANSPORTS=LARGE_DATA for the node and this process (as the
    launch files do); False leaves Fast DDS on its default transports.
    """
    from fxseg_ros.data.synth import SceneGenerator
    from fxseg_ros.ros.probe import SegmentationProbe, start_node, status_dict

    topics = ['/fxseg_bench/cam%d/image_raw' % i for i in range(cameras)]
    node_params = {'camera_topics': topics, 'expected_rate_hz': float(rate_hz),
                   'diagnostics_period_s': 1.0, 'stats_window': 100000}
    if model:
        node_params['model'] = str(model)
    node_params.update(params or {})
    saved = override_environ({'FASTDDS_BUILTIN_TRANSPORTS': 'LARGE_DATA' if large_data else None})
    log_path = log_path or os.path.join(tempfile.mkdtemp(prefix='fxseg_bench_'), 'node.log')
    log_file = open(log_path, 'w')
    proc = start_node(params_file or _default_config(), node_params, log_file=log_file)
    log_file.close()
    probe = None
    try:
        probe = SegmentationProbe(topics)
        generator = SceneGenerator(seed=seed)
        frames = [generator.generate(i, 'day')[0] for i in range(4)]
        messages = [[probe.frame_message(f, 'bgr8', 'cam%d_optical' % c) for f in frames]
                    for c in range(cameras)]
        if not probe.wait_for_subscribers(60.0) or not all(
                probe.handshake(c, lambda c=c: messages[c][0], 60.0) for c in range(cameras)):
            raise RuntimeError('the node did not answer within 60 s; log %s:\n%s'
                               % (log_path, Path(log_path).read_text()[-2000:]))
        # the node's batch counters before the run: the handshakes above are single frames
        runner_name = 'segmentation_node: inference'
        ready_ns = probe.now_ns()
        before = probe.wait_for_diagnostics(
            lambda a: stamp_to_ns(a.header.stamp) > ready_ns and status_dict(a, runner_name), 5.0)
        before = (status_dict(before, runner_name) if before is not None else None) or {}
        sent: List[List[int]] = [[] for _ in range(cameras)]
        period = 1.0 / rate_hz
        start = time.monotonic()
        measure_from = start + warmup_s
        tick = 0
        while True:
            due = start + tick * period
            now = time.monotonic()
            if due > start + warmup_s + duration_s:
                break
            if due > now:
                time.sleep(due - now)  # pacing of the camera clock
            stamp_ns = probe.now_ns()
            for c in range(cameras):
                msg = messages[c][tick % len(frames)]
                msg.header.stamp.sec, msg.header.stamp.nanosec = ns_to_sec_nanosec(stamp_ns)
                probe.publish(c, msg)
                if due >= measure_from:
                    sent[c].append(stamp_ns)
            tick += 1
        last = [s[-1] for s in sent if s]
        probe.wait_until(lambda: all((topics[c], last[c]) in probe.masks
                                     for c in range(len(last))), 3.0)
        diag = probe.wait_for_diagnostics(
            lambda a: all(status_dict(a, t.rsplit('/', 1)[0] + '/segmentation/mask')
                          for t in topics), 5.0)
        diag = probe.diagnostics[-1] if probe.diagnostics else diag
        results = []
        for c, topic in enumerate(topics):
            arrivals = [probe.mask_arrival_ns.get((topic, s)) for s in sent[c]]
            e2e = [(a - s) * 1e-6 for a, s in zip(arrivals, sent[c]) if a is not None]
            status = status_dict(diag, topic.rsplit('/', 1)[0] + '/segmentation/mask') or {}

            def node_ms(key, status=status):
                return float(status.get(key, 'nan'))

            results.append({
                'topic': topic,
                'sent': len(sent[c]),
                'masks_received': len(e2e),
                'output_fps': len(e2e) / duration_s,
                'e2e_roundtrip_ms': _percentiles(e2e),
                'node_e2e_ms': {p: node_ms('e2e_ms_' + p) for p in ('p50', 'p95', 'p99', 'max')},
                'node_stage_p50_ms': {s: node_ms(s + '_ms_p50') for s in (
                    'transport', 'queue', 'convert', 'preprocess', 'inference', 'postprocess',
                    'publish', 'node')},
                'node_overhead_p50_ms': node_ms('overhead_ms_p50'),
                'frames_received': int(status.get('frames_received', 0)),
                'frames_dropped': int(status.get('frames_dropped', 0)),
                'frames_lost_middleware': int(status.get('frames_lost_middleware', 0)),
            })
        runner = status_dict(diag, runner_name) or {}
        return {'cameras': results, 'rate_hz': rate_hz, 'duration_s': duration_s,
                'large_data': large_data, 'runner': runner,
                'batching': _batching(before, runner), 'node_log': log_path}
    finally:
        if probe is not None:
            probe.close()
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except Exception:  # the benchmark result stands; do not leave the node behind
                proc.kill()
        restore_environ(saved)


def format_report(result: Dict[str, object]) -> str:
    """The benchmark's figures as text, one block per camera."""
    lines = ['segmentation_node through DDS: %d camera(s) at %.0f Hz for %.0f s, LARGE_DATA %s'
             % (len(result['cameras']), result['rate_hz'], result['duration_s'],
                'on' if result['large_data'] else 'off')]
    for cam in result['cameras']:
        rt, node = cam['e2e_roundtrip_ms'], cam['node_e2e_ms']
        stages = ', '.join('%s %.1f' % kv for kv in cam['node_stage_p50_ms'].items())
        lines += [
            '  %s: %d/%d masks, %.1f FPS out; node: %d received (incl. warm-up), %d replaced '
            'by a newer frame, %d lost in the middleware'
            % (cam['topic'], cam['masks_received'], cam['sent'], cam['output_fps'],
               cam['frames_received'], cam['frames_dropped'], cam['frames_lost_middleware']),
            '    stamp -> mask back here: p50 %.1f  p95 %.1f  p99 %.1f  max %.1f ms'
            % (rt['p50'], rt['p95'], rt['p99'], rt['max']),
            '    stamp -> node publish:   p50 %.1f  p95 %.1f  p99 %.1f  max %.1f ms'
            % (node['p50'], node['p95'], node['p99'], node['max']),
            '    node overhead (e2e - inference, per frame) p50 %.1f ms; stage p50 ms: %s'
            % (cam['node_overhead_p50_ms'], stages)]
    runner = result['runner']
    if runner:
        batching = result.get('batching') or {}
        lines.append('  inference: %s, %d batches of %d frames in the run (mean batch %.2f), '
                     'batch p50 %s ms'
                     % (runner.get('backend'), batching.get('batches', 0),
                        batching.get('frames', 0), batching.get('mean_batch_size', float('nan')),
                        runner.get('batch_ms_p50')))
    return '\n'.join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of the node benchmark (for `fxseg bench --node`)."""
    parser.add_argument('--cameras', type=int, default=1, help='camera topics (default 1)')
    parser.add_argument('--rate', type=float, default=30.0, help='frames per second per camera')
    parser.add_argument('--duration', type=float, default=10.0, help='seconds measured')
    parser.add_argument('--large-data', choices=('yes', 'no'), default='yes',
                        help='Fast DDS LARGE_DATA transports for both processes (default yes)')
    parser.add_argument('--params-file', help='node parameter file (default config/cpu.yaml)')


def run(args: argparse.Namespace, model: Optional[str] = None) -> int:
    """Run the node benchmark from parsed arguments; print the report."""
    result = run_node_benchmark(model=model, cameras=args.cameras, rate_hz=args.rate,
                                duration_s=args.duration, large_data=args.large_data == 'yes',
                                params_file=args.params_file)
    print(format_report(result))
    return 0


if __name__ == '__main__':
    logging.basicConfig(level=logging.INFO)
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    cli.add_argument('--model', help='ONNX model (default: the demo model)')
    add_arguments(cli)
    options = cli.parse_args()
    raise SystemExit(run(options, options.model))
