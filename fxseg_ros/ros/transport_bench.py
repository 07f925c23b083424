# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Which Fast DDS setups deliver 1280x720 frames between two processes, and how fast.

    python -m fxseg_ros.ros.transport_bench --frames 100 --rate 10

For every (publisher, subscriber) pair of setups (fxseg_ros.ros.transport: default, shm,
large_data; and large_data_plain, bare FASTDDS_BUILTIN_TRANSPORTS=LARGE_DATA without the socket
size, for comparison) a subscriber process and a publisher process, each with its own
environment, send `--frames` bgr8 frames at `--rate` Hz over a reliable topic; the subscriber
measures header stamp to receipt. One table, side by side in one run: frames delivered, p50 /
p95, and each p50 as a ratio to default -> default. `--pairs` picks pairs (PUB:SUB ...);
`--localhost` adds ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST to both.
"""


import argparse
import array
import itertools
import json
import logging
import os
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

from fxseg_ros.data.stamps import stamp_to_ns

from fxseg_ros.ros.transport import (DEFAULT_TRANSPORT, PROFILE_FILE, profile_path,
                                     transport_environment, TRANSPORT_VARIABLES, TRANSPORTS)

LOG = logging.getLogger(__name__)
TOPIC = '/fxseg_transport_bench/image_raw'
WIDTH, HEIGHT = 1280, 720
#: Bare LARGE_DATA, without the socket size of the `large_data` setup: measured beside it.
PLAIN_LARGE_DATA = 'large_data_plain'
SETUPS = TRANSPORTS + (PLAIN_LARGE_DATA,)
#: The pairs measured by default: every pair of the node's setups, then bare LARGE_DATA.
DEFAULT_PAIRS = tuple(itertools.product(TRANSPORTS, TRANSPORTS)) + (
    (PLAIN_LARGE_DATA, PLAIN_LARGE_DATA),)
#: Seconds a publisher waits for its subscriber to match (default of --match-timeout).
MATCH_TIMEOUT_S = 10.0


def setup_environment(setup: str, profile: str) -> Dict[str, str]:
    """Return the Fast DDS variables of one setup of SETUPS (bare LARGE_DATA included)."""
    if setup == PLAIN_LARGE_DATA:
        return {'FASTDDS_BUILTIN_TRANSPORTS': 'LARGE_DATA'}
    return transport_environment(setup, profile)


def parse_pairs(texts: Sequence[str]) -> List[Tuple[str, str]]:
    """'PUB:SUB' texts -> (publisher, subscriber) setups; ValueError names a bad one."""
    pairs = []
    for text in texts:
        publisher, _, subscriber = text.partition(':')
        if publisher not in SETUPS or subscriber not in SETUPS:
            raise ValueError('--pairs: %r is not PUB:SUB with PUB and SUB among %s'
                             % (text, ', '.join(SETUPS)))
        pairs.append((publisher, subscriber))
    return pairs


def _qos():
    from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy

    return QoSProfile(depth=5, history=HistoryPolicy.KEEP_LAST,
                      reliability=ReliabilityPolicy.RELIABLE)


def _publish(frames: int, rate_hz: float, match_timeout_s: float) -> None:
    import rclpy
    from rclpy.node import Node
    from sensor_msgs.msg import Image

    rclpy.init()
    node = Node('fxseg_transport_pub')
    pub = node.create_publisher(Image, TOPIC, _qos())
    deadline = time.monotonic() + match_timeout_s
    while pub.get_subscription_count() == 0 and time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.05)
    time.sleep(1.0)  # let the subscriber's side of discovery finish (reliable sample 0)
    data = array.array('B', bytes(WIDTH * HEIGHT * 3))
    period = 1.0 / rate_hz
    start = time.monotonic()
    for i in range(frames):
        msg = Image(height=HEIGHT, width=WIDTH, encoding='bgr8', step=WIDTH * 3, data=data)
        msg.header.stamp = node.get_clock().now().to_msg()
        pub.publish(msg)
        time.sleep(max(0.0, start + (i + 1) * period - time.monotonic()))
    time.sleep(1.0)  # reliable delivery of the last ones
    node.destroy_node()
    rclpy.try_shutdown()


def _subscribe(duration_s: float, frames: int) -> None:
    import rclpy
    from rclpy.node import Node
    from sensor_msgs.msg import Image

    rclpy.init()
    node = Node('fxseg_transport_sub')
    latencies: List[float] = []

    def on_frame(msg):
        now = node.get_clock().now().nanoseconds
        stamp = stamp_to_ns(msg.header.stamp)
        latencies.append((now - stamp) * 1e-6)

    node.create_subscription(Image, TOPIC, on_frame, _qos())
    end = time.monotonic() + duration_s
    while time.monotonic() < end and len(latencies) < frames:
        rclpy.spin_once(node, timeout_sec=0.05)
    print(json.dumps({'latencies_ms': latencies}), flush=True)
    node.destroy_node()
    rclpy.try_shutdown()


def _percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float('nan')
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run_pair(publisher: str, subscriber: str, frames: int, rate_hz: float, localhost: bool,
             profile: str, match_timeout_s: float = MATCH_TIMEOUT_S) -> Dict[str, object]:
    """Delivered frames and latency percentiles of one (publisher, subscriber) setup pair."""
    def env(setup):
        out = {k: v for k, v in os.environ.items() if k not in TRANSPORT_VARIABLES}
        out.update(setup_environment(setup, profile))
        if localhost:
            out['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
        return out

    duration = match_timeout_s + 2.0 + frames / rate_hz + 3.0
    cmd = [sys.executable, '-m', 'fxseg_ros.ros.transport_bench']
    sub = subprocess.Popen(cmd + ['--role', 'sub', '--duration', str(duration), '--frames',
                                  str(frames)],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           universal_newlines=True, env=env(subscriber))
    pub = subprocess.Popen(cmd + ['--role', 'pub', '--frames', str(frames), '--rate',
                                  str(rate_hz), '--match-timeout', str(match_timeout_s)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env=env(publisher))
    pub.wait(timeout=duration + 30)
    out, _ = sub.communicate(timeout=duration + 30)
    latencies = json.loads(out.strip().splitlines()[-1])['latencies_ms'] if out.strip() else []
    return {'publisher': publisher, 'subscriber': subscriber, 'sent': frames,
            'delivered': len(latencies), 'p50': _percentile(latencies, 0.5),
            'p95': _percentile(latencies, 0.95)}


def format_table(rows: List[Dict[str, object]], localhost: bool) -> str:
    """Return the `run_pair` rows as a table, each p50 also as a ratio to default -> default."""
    base = next((r['p50'] for r in rows if r['delivered']
                 and (r['publisher'], r['subscriber']) == (DEFAULT_TRANSPORT, DEFAULT_TRANSPORT)),
                None)
    lines = ['%dx%d bgr8, reliable%s: publisher -> subscriber setup'
             % (WIDTH, HEIGHT, ', ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST' if localhost else ''),
             '%-16s -> %-16s %9s %9s %9s %9s' % ('publisher', 'subscriber', 'delivered',
                                                 'p50 ms', 'p95 ms', 'p50/def')]
    for r in rows:
        ratio = r['p50'] / base if base and r['delivered'] else float('nan')
        lines.append('%-16s -> %-16s %4d/%-4d %9.1f %9.1f %9.2f' % (
            r['publisher'], r['subscriber'], r['delivered'], r['sent'], r['p50'], r['p95'],
            ratio))
    return '\n'.join(lines)


def _check_arguments(args: argparse.Namespace) -> Optional[str]:
    """Return the first problem with the arguments as one sentence, or None."""
    if args.frames < 1:
        return '--frames must be an integer >= 1 (frames per pair), got %d' % args.frames
    if not args.rate > 0:
        return '--rate must be a number > 0 (frames per second), got %g' % args.rate
    if not args.match_timeout > 0:
        return '--match-timeout must be a number of seconds > 0, got %g' % args.match_timeout
    if args.role is None:
        try:
            parse_pairs(args.pairs or ())
        except ValueError as exc:
            return str(exc)
        if not profile_path():
            return ('the Fast DDS profile %s of the shm setup was not found (config/ of the '
                    'source tree or of the installed fxseg_ros package)' % PROFILE_FILE)
    return None


def main(argv: Optional[Sequence[str]] = None) -> int:
    """`python -m fxseg_ros.ros.transport_bench`: the table, or one role of a pair."""
    parser = argparse.ArgumentParser(prog='transport_bench', description=__doc__.split('\n')[1])
    parser.add_argument('--frames', type=int, default=100, help='frames per pair (default 100)')
    parser.add_argument('--rate', type=float, default=10.0, help='frames per second')
    parser.add_argument('--pairs', nargs='+', metavar='PUB:SUB',
                        help='pairs of setups to measure, among %s (default: every pair of '
                             '%s, then %s:%s)' % (', '.join(SETUPS), ', '.join(TRANSPORTS),
                                                  PLAIN_LARGE_DATA, PLAIN_LARGE_DATA))
    parser.add_argument('--localhost', action='store_true',
                        help='ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST for both processes')
    parser.add_argument('--role', choices=('pub', 'sub'), help=argparse.SUPPRESS)
    parser.add_argument('--duration', type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument('--match-timeout', type=float, default=MATCH_TIMEOUT_S,
                        help='seconds a publisher waits for its subscriber (default %g); a pair '
                             'that cannot talk takes this long' % MATCH_TIMEOUT_S)
    args = parser.parse_args(argv)
    problem = _check_arguments(args)
    if problem:
        print('%s: %s' % (parser.prog, problem), file=sys.stderr)
        return 2
    if args.role == 'pub':
        _publish(args.frames, args.rate, args.match_timeout)
        return 0
    if args.role == 'sub':
        _subscribe(args.duration, args.frames)
        return 0
    pairs = parse_pairs(args.pairs) if args.pairs else list(DEFAULT_PAIRS)
    profile = profile_path()
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    rows = []
    for i, (publisher, subscriber) in enumerate(pairs):
        LOG.info('[%d/%d] %s -> %s (%d frames at %g Hz)', i + 1, len(pairs), publisher,
                 subscriber, args.frames, args.rate)
        rows.append(run_pair(publisher, subscriber, args.frames, args.rate, args.localhost,
                             profile, args.match_timeout))
    print(format_table(rows, args.localhost))
    return 0


if __name__ == '__main__':
    sys.exit(main())
