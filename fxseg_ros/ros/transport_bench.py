# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Which Fast DDS setups deliver 1280x720 frames between two processes, and how fast.

    python -m fxseg_ros.ros.transport_bench --frames 100 --rate 10

For every (publisher, subscriber) pair of setups (fxseg_ros.ros.transport: default, shm,
large_data) a subscriber process and a publisher process, each with its own environment, send
`--frames` bgr8 frames at `--rate` Hz over a reliable topic; the subscriber measures header stamp
to receipt. One table, side by side in one run: frames delivered, p50 / p95, and each p50 as a
ratio to default -> default. `--localhost` adds ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST to both.
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
from typing import Dict, List, Optional, Sequence

from fxseg_ros.data.stamps import stamp_to_ns

LOG = logging.getLogger(__name__)
TOPIC = '/fxseg_transport_bench/image_raw'
WIDTH, HEIGHT = 1280, 720


def _profile_path() -> str:
    from fxseg_ros.ros.transport import PROFILE_FILE

    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'config',
                        PROFILE_FILE)
    if os.path.isfile(here):
        return os.path.abspath(here)
    from ament_index_python.packages import get_package_share_directory

    return os.path.join(get_package_share_directory('fxseg_ros'), 'config', PROFILE_FILE)


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


def _subscribe(duration_s: float) -> None:
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
    while time.monotonic() < end:
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
             profile: str) -> Dict[str, object]:
    """Delivered frames and latency percentiles of one (publisher, subscriber) setup pair."""
    from fxseg_ros.ros.transport import transport_environment

    def env(mode):
        out = {k: v for k, v in os.environ.items() if k not in (
            'FASTDDS_BUILTIN_TRANSPORTS', 'FASTDDS_DEFAULT_PROFILES_FILE',
            'FASTRTPS_DEFAULT_PROFILES_FILE')}
        out.update(transport_environment(mode, profile))
        if localhost:
            out['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
        return out

    match_s = 10.0
    duration = match_s + 2.0 + frames / rate_hz + 3.0
    cmd = [sys.executable, '-m', 'fxseg_ros.ros.transport_bench']
    sub = subprocess.Popen(cmd + ['--role', 'sub', '--duration', str(duration)],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           universal_newlines=True, env=env(subscriber))
    pub = subprocess.Popen(cmd + ['--role', 'pub', '--frames', str(frames), '--rate',
                                  str(rate_hz), '--match-timeout', str(match_s)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env=env(publisher))
    pub.wait(timeout=duration + 30)
    out, _ = sub.communicate(timeout=duration + 30)
    latencies = json.loads(out.strip().splitlines()[-1])['latencies_ms'] if out.strip() else []
    return {'publisher': publisher, 'subscriber': subscriber, 'sent': frames,
            'delivered': len(latencies), 'p50': _percentile(latencies, 0.5),
            'p95': _percentile(latencies, 0.95)}


def format_table(rows: List[Dict[str, object]], localhost: bool) -> str:
    base = next((r['p50'] for r in rows
                 if (r['publisher'], r['subscriber']) == ('default', 'default')), None)
    lines = ['1280x720 bgr8, reliable%s: publisher -> subscriber setup'
             % (', ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST' if localhost else ''),
             '%-11s -> %-11s %9s %9s %9s %9s' % ('publisher', 'subscriber', 'delivered',
                                                 'p50 ms', 'p95 ms', 'p50/def')]
    for r in rows:
        ratio = r['p50'] / base if base and r['delivered'] else float('nan')
        lines.append('%-11s -> %-11s %4d/%-4d %9.1f %9.1f %9.2f' % (
            r['publisher'], r['subscriber'], r['delivered'], r['sent'], r['p50'], r['p95'],
            ratio))
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    from fxseg_ros.ros.transport import TRANSPORTS

    parser = argparse.ArgumentParser(prog='transport_bench', description=__doc__.split('\n')[1])
    parser.add_argument('--frames', type=int, default=100, help='frames per pair (default 100)')
    parser.add_argument('--rate', type=float, default=10.0, help='frames per second')
    parser.add_argument('--localhost', action='store_true',
                        help='ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST for both processes')
    parser.add_argument('--role', choices=('pub', 'sub'), help=argparse.SUPPRESS)
    parser.add_argument('--duration', type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument('--match-timeout', type=float, default=10.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.frames < 1 or args.rate <= 0:
        parser.error('--frames must be >= 1 and --rate > 0')
    if args.role == 'pub':
        _publish(args.frames, args.rate, args.match_timeout)
        return 0
    if args.role == 'sub':
        _subscribe(args.duration)
        return 0
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    profile = _profile_path()
    rows = []
    pairs = list(itertools.product(TRANSPORTS, TRANSPORTS))
    for i, (publisher, subscriber) in enumerate(pairs):
        LOG.info('[%d/%d] %s -> %s (%d frames at %.0f Hz)', i + 1, len(pairs), publisher,
                 subscriber, args.frames, args.rate)
        rows.append(run_pair(publisher, subscriber, args.frames, args.rate, args.localhost,
                             profile))
    print(format_table(rows, args.localhost))
    return 0


if __name__ == '__main__':
    sys.exit(main())
