# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
End-to-end benchmark of segmentation_node through DDS (`fxseg bench --node`).

Starts the node as its own process (config/cpu.yaml unless another parameter file is given),
publishes generated 1280x720 frames on one or more camera topics at a fixed rate from this
process, and reports per camera: latency from the header stamp to the mask's arrival back here
(both DDS hops), the node's own figures from /diagnostics (stamp to publish, per stage), output
FPS, drops, and the node's share of the time (end to end minus inference). A node that exits
(a bad parameter, a model that does not load) ends the benchmark at once with its last log lines.
"""


import argparse
import logging
import os
from pathlib import Path
import signal
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional

from fxseg_ros.data.stamps import ns_to_sec_nanosec, stamp_to_ns
from fxseg_ros.ros.arguments import ArgumentParser, CommandLineError
from fxseg_ros.ros.environment import override_environ, restore_environ
from fxseg_ros.ros.transport import (DEFAULT_TRANSPORT, describe_transport, profile_path,
                                     transport_environment, TRANSPORT_VARIABLES, TRANSPORTS)
import numpy as np

LOG = logging.getLogger(__name__)

CONFIG_DIR = Path(__file__).resolve().parents[2] / 'config'

#: How long the node may take to subscribe and answer its first frame.
START_TIMEOUT_S = 60.0
#: Log lines of a node that exited, shown with the error.
LOG_TAIL_LINES = 15


class NodeExitedError(RuntimeError):
    """The node under benchmark exited (or never answered); the message has its last log lines."""


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


def log_tail(log_path: str, lines: int = LOG_TAIL_LINES) -> str:
    """Return the last `lines` lines of the node's log file ('' when there is none)."""
    try:
        text = Path(log_path).read_text(errors='replace')
    except OSError:
        return ''
    return '\n'.join(text.rstrip().splitlines()[-lines:])


class _NodeWatch:
    """Waits that end as soon as the node process exits."""

    def __init__(self, proc: subprocess.Popen, log_path: str):
        self.proc = proc
        self.log_path = log_path

    def check(self, when: str) -> None:
        code = self.proc.poll()
        if code is not None:
            raise NodeExitedError('segmentation_node exited with code %d %s; its last log lines '
                                  '(%s):\n%s' % (code, when, self.log_path,
                                                 log_tail(self.log_path)))

    def until(self, condition: Callable[[], bool], timeout_s: float, when: str) -> bool:
        """Poll `condition` until it holds (True) or `timeout_s` passes (False)."""
        deadline = time.monotonic() + timeout_s
        while True:
            self.check(when)
            if condition():
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    def not_answering(self, what: str) -> NodeExitedError:
        return NodeExitedError('segmentation_node did not %s within %.0f s; its last log lines '
                               '(%s):\n%s' % (what, START_TIMEOUT_S, self.log_path,
                                              log_tail(self.log_path)))


def _stop(proc: subprocess.Popen) -> None:
    """SIGINT, as `ros2 launch` stops a node; kill when it does not end."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _handshake_all(probe, watch: _NodeWatch, messages) -> None:
    """Wait for the node's subscriptions, then for one answered frame per camera."""
    if not watch.until(lambda: all(p.get_subscription_count() > 0 for p in probe.publishers),
                       START_TIMEOUT_S, 'before subscribing to the camera topics'):
        raise watch.not_answering('subscribe to the camera topics')
    deadline = time.monotonic() + START_TIMEOUT_S
    for camera, camera_messages in enumerate(messages):
        while not probe.handshake(camera, lambda m=camera_messages[0]: m, timeout=1.0):
            watch.check('before answering a frame')
            if time.monotonic() > deadline:
                raise watch.not_answering('answer a frame on camera %d' % camera)


def _camera_result(probe, topic: str, sent: List[int], diag, duration_s: float) -> Dict:
    """One camera's figures: round trip of the measured frames, the node's diagnostics."""
    from fxseg_ros.ros.probe import status_dict

    arrivals = [probe.mask_arrival_ns.get((topic, s)) for s in sent]
    e2e = [(a - s) * 1e-6 for a, s in zip(arrivals, sent) if a is not None]
    status = (status_dict(diag, topic.rsplit('/', 1)[0] + '/segmentation/mask')
              if diag is not None else None) or {}

    def node_ms(key):
        return float(status.get(key, 'nan'))

    return {
        'topic': topic,
        'sent': len(sent),
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
    }


def _publish_paced(probe, messages, rate_hz: float, warmup_s: float, duration_s: float,
                   watch: _NodeWatch, progress: bool) -> List[List[int]]:
    """Publish every camera's frame at each tick; return the stamps of the measured ones."""
    cameras = len(messages)
    sent: List[List[int]] = [[] for _ in range(cameras)]
    period = 1.0 / rate_hz
    ticks = int(np.floor((warmup_s + duration_s) * rate_hz + 1e-9)) + 1
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=ticks, unit='tick', desc='bench --node (warm-up %.0f s)' % warmup_s,
                   dynamic_ncols=True, file=sys.stderr)
    start = time.monotonic()
    measure_from = start + warmup_s
    try:
        for tick in range(ticks):
            due = start + tick * period
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)  # pacing of the camera clock
            if tick % max(1, int(rate_hz)) == 0:
                watch.check('during the run')
            stamp_ns = probe.now_ns()
            for c in range(cameras):
                msg = messages[c][tick % len(messages[c])]
                msg.header.stamp.sec, msg.header.stamp.nanosec = ns_to_sec_nanosec(stamp_ns)
                probe.publish(c, msg)
                if due >= measure_from:
                    sent[c].append(stamp_ns)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return sent


def run_node_benchmark(model: Optional[str] = None, cameras: int = 1, rate_hz: float = 30.0,
                       duration_s: float = 10.0, warmup_s: float = 2.0,
                       transport: str = DEFAULT_TRANSPORT, params_file: Optional[str] = None,
                       params: Optional[Dict] = None, seed: int = 0,
                       log_path: Optional[str] = None,
                       progress: bool = False) -> Dict[str, object]:
    """
    Run the node benchmark; return the figures as a dict (see `format_report`).

    transport: the Fast DDS setup (fxseg_ros.ros.transport.TRANSPORTS) of the node and of this
    process, the camera side, as the launch argument `transport` sets it for the node. Raises
    NodeExitedError when the node exits or does not answer (with its last log lines),
    ValueError on a bad argument.
    """
    if cameras < 1 or not rate_hz > 0 or not duration_s > 0 or warmup_s < 0:
        raise ValueError('cameras >= 1, rate_hz > 0, duration_s > 0 and warmup_s >= 0 needed, '
                         'got %r, %r, %r, %r' % (cameras, rate_hz, duration_s, warmup_s))
    env = transport_environment(transport, profile_path() if transport == 'shm' else '')
    from fxseg_ros.data.synth import SceneGenerator
    from fxseg_ros.ros.probe import SegmentationProbe, start_node, status_dict

    topics = ['/fxseg_bench/cam%d/image_raw' % i for i in range(cameras)]
    node_params = {'camera_topics': topics, 'expected_rate_hz': float(rate_hz),
                   'diagnostics_period_s': 1.0, 'stats_window': 100000}
    if model:
        node_params['model'] = str(model)
    node_params.update(params or {})
    saved = override_environ({name: env.get(name) for name in TRANSPORT_VARIABLES})
    log_path = log_path or os.path.join(tempfile.mkdtemp(prefix='fxseg_bench_'), 'node.log')
    with open(log_path, 'w') as log_file:
        proc = start_node(params_file or _default_config(), node_params, log_file=log_file)
    watch = _NodeWatch(proc, log_path)
    LOG.info('started segmentation_node (pid %d, log %s); waiting for it to answer',
             proc.pid, log_path)
    probe = None
    try:
        probe = SegmentationProbe(topics)
        generator = SceneGenerator(seed=seed)
        frames = [generator.generate(i, 'day')[0] for i in range(4)]
        messages = [[probe.frame_message(f, 'bgr8', 'cam%d_optical' % c) for f in frames]
                    for c in range(cameras)]
        started = time.monotonic()
        _handshake_all(probe, watch, messages)
        LOG.info('segmentation_node answered after %.1f s; measuring %.0f s at %g Hz',
                 time.monotonic() - started, duration_s, rate_hz)
        # the node's batch counters before the run: the handshakes above are single frames
        runner_name = 'segmentation_node: inference'
        ready_ns = probe.now_ns()
        before = probe.wait_for_diagnostics(
            lambda a: stamp_to_ns(a.header.stamp) > ready_ns and status_dict(a, runner_name), 5.0)
        before = (status_dict(before, runner_name) if before is not None else None) or {}
        sent = _publish_paced(probe, messages, rate_hz, warmup_s, duration_s, watch, progress)
        last = [s[-1] for s in sent if s]
        probe.wait_until(lambda: all((topics[c], last[c]) in probe.masks
                                     for c in range(len(last))), 3.0)
        watch.check('during the run')
        # the node's figures after the run: a message published once the last masks are back
        # (the node counts a batch before it publishes the masks); the latest one received
        # may still be from before the last batches
        done_ns = probe.now_ns()
        diag = probe.wait_for_diagnostics(
            lambda a: stamp_to_ns(a.header.stamp) > done_ns and status_dict(a, runner_name)
            and all(status_dict(a, t.rsplit('/', 1)[0] + '/segmentation/mask') for t in topics),
            5.0)
        diag = diag if diag is not None or not probe.diagnostics else probe.diagnostics[-1]
        results = [_camera_result(probe, topic, sent[c], diag, duration_s)
                   for c, topic in enumerate(topics)]
        runner = (status_dict(diag, runner_name) if diag is not None else None) or {}
        return {'cameras': results, 'rate_hz': rate_hz, 'duration_s': duration_s,
                'transport': transport, 'transport_environment': env,
                'runner': runner, 'batching': _batching(before, runner), 'node_log': log_path}
    finally:
        if probe is not None:
            probe.close()
        _stop(proc)
        restore_environ(saved)


def format_report(result: Dict[str, object]) -> str:
    """Return the benchmark's figures as text, one block per camera."""
    lines = ['segmentation_node through DDS: %d camera(s) at %g Hz for %g s, transport %s (%s)'
             % (len(result['cameras']), result['rate_hz'], result['duration_s'],
                result['transport'], describe_transport(result['transport_environment']))]
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


def _rate_range():
    """Return the node's accepted range of expected_rate_hz (the benchmark passes --rate to it)."""
    from fxseg_ros.ros.params import PARAMETERS

    return next(p.range for p in PARAMETERS if p.name == 'expected_rate_hz')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of the node benchmark (for `fxseg bench --node`)."""
    parser.add_argument('--cameras', type=int, default=1, help='camera topics (default 1)')
    parser.add_argument('--rate', type=float, default=30.0,
                        help='frames per second per camera (default 30, at most %g)'
                        % _rate_range()[1])
    parser.add_argument('--duration', type=float, default=10.0, help='seconds measured')
    parser.add_argument('--transport', choices=TRANSPORTS, default=DEFAULT_TRANSPORT,
                        help='Fast DDS setup of the node and of the publishing side, as the '
                             'launch argument transport (default %s; fxseg_ros.ros.transport)'
                             % DEFAULT_TRANSPORT)
    parser.add_argument('--params-file', help='node parameter file (default config/cpu.yaml)')


def check_arguments(args: argparse.Namespace, model: Optional[str] = None) -> Optional[str]:
    """Return the first problem with the benchmark's arguments as one sentence, or None."""
    low, high = _rate_range()
    if args.cameras < 1:
        return ('--cameras must be an integer >= 1 (camera topics to publish), got %d'
                % args.cameras)
    if not (args.rate > low and args.rate <= high):
        return ('--rate must be a number > %g and <= %g (frames per second per camera), got %g'
                % (low, high, args.rate))
    if not args.duration > 0:
        return '--duration must be a number of seconds > 0, got %g' % args.duration
    if args.params_file and not Path(args.params_file).is_file():
        return ('--params-file %s does not exist: give an existing ROS parameter file (e.g. '
                'config/cpu.yaml) or leave it out' % args.params_file)
    if model and not Path(model).is_file():
        return '--model %s does not exist: give an existing .onnx model file' % model
    return None


def run(args: argparse.Namespace, model: Optional[str] = None,
        prog: str = 'fxseg bench --node') -> int:
    """Run the node benchmark from parsed arguments; print the report (2: it could not run)."""
    problem = check_arguments(args, model)
    if problem:
        print('%s: %s' % (prog, problem), file=sys.stderr)
        return 2
    try:
        result = run_node_benchmark(model=model, cameras=args.cameras, rate_hz=args.rate,
                                    duration_s=args.duration,
                                    transport=args.transport,
                                    params_file=args.params_file, progress=True)
    except NodeExitedError as exc:
        print('%s: %s' % (prog, exc), file=sys.stderr)
        return 2
    print(format_report(result))
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    """`python -m fxseg_ros.ros.bench_node`: the node benchmark on its own."""
    logging.basicConfig(level=logging.INFO, format='[%(levelname)s] %(name)s: %(message)s')
    cli = ArgumentParser(prog='python -m fxseg_ros.ros.bench_node',
                         description=__doc__.strip().splitlines()[0])
    cli.add_argument('--model', help='ONNX model (default: the demo model)')
    add_arguments(cli)
    try:
        options = cli.parse_args(argv)
    except CommandLineError as exc:
        print('%s: %s' % (cli.prog, exc), file=sys.stderr)
        return 2
    try:
        return run(options, options.model, prog=cli.prog)
    except KeyboardInterrupt:
        print('interrupted', file=sys.stderr)
        return 130


if __name__ == '__main__':
    sys.exit(main())
