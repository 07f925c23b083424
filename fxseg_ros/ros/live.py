# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Live evaluation of a running `segmentation_node` over ROS 2.

Play a bag's camera topic into the node and score the masks it publishes, matched by header
stamp.

The player publishes each frame as a live camera would, with `header.stamp` set to the publish
time (so the node's stamp-age checks and end-to-end figures mean what they mean on a vehicle),
and remembers which recorded frame each stamp carries. The node answers on
`<camera ns>/segmentation/mask` with the same header; the collector hands each mask with the
frame's ground truth to the caller's scoring callback as it arrives (memory bounded by the frames
in flight), measures the end-to-end time from publish to mask receipt (through DDS both ways),
and counts frames the node never answered as dropped. What a score is belongs to the caller
(`fxseg_ros.eval.live`): this module plays and matches.

Rates: 'recorded' keeps the bag's timing, a number plays at that many Hz, and 'max' plays each
frame as soon as the mask of the previous one is back (closed loop: the node's full speed
without queueing, so nothing is dropped by design).
"""


import logging
import os
from pathlib import Path
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Dict, Optional, Sequence

from fxseg_ros.data.stamps import stamp_to_ns
from fxseg_ros.ros.environment import environ_overrides
from fxseg_ros.ros.transport import LARGE_DATA_TRANSPORTS
import numpy as np

LOG = logging.getLogger(__name__)

#: Node name of the node this module starts (so it never collides with a running one).
LIVE_NODE_NAME = 'fxseg_live_eval_node'


class LiveEvalError(RuntimeError):
    """Live evaluation could not run; the message says why (with the node's log tail)."""


class LiveOptions:
    """
    What `run_live` plays, into which node, at what rate (keyword arguments: FIELDS).

    score(labels, pred, condition): called for every mask that has ground truth, on the
    executor thread; labels and pred shape (H, W), uint8.
    """

    #: field name -> default (a plain class, not a dataclass: this module runs on Python 3.6)
    FIELDS = (
        ('model', None),
        ('image_topic', None),
        ('label_topic', ''),
        ('condition_topic', None),
        ('precision', None),
        ('name', None),
        ('backend', 'auto'),
        ('threads', 0),
        ('rate', 'recorded'),
        ('connect', False),
        ('params_file', None),
        ('params', None),
        ('mask_topic', None),
        ('node_timeout_s', 60.0),
        ('frame_timeout_s', 5.0),
        ('max_frames', None),
        ('score', None),
        ('progress', True),
        ('log_path', None),
    )

    def __init__(self, bag: str, **kwargs):
        unknown = sorted(set(kwargs) - {name for name, _ in self.FIELDS})
        if unknown:
            raise TypeError('LiveOptions: unknown field(s) %s' % ', '.join(unknown))
        self.bag = bag
        for name, default in self.FIELDS:
            setattr(self, name, kwargs.get(name, default))
        if self.params is None:
            self.params = {}

    def __repr__(self) -> str:
        fields = ', '.join('%s=%r' % (n, getattr(self, n)) for n in ('bag',) + tuple(
            name for name, _ in self.FIELDS))
        return 'LiveOptions(%s)' % fields


def default_params_file() -> Optional[Path]:
    """config/cpu.yaml of the source tree, else of the installed share folder."""
    import fxseg_ros

    candidates = [Path(fxseg_ros.__file__).resolve().parent.parent / 'config' / 'cpu.yaml',
                  Path(sys.prefix) / 'share' / 'fxseg_ros' / 'config' / 'cpu.yaml']
    return next((p for p in candidates if p.is_file()), None)


class NodeProcess:
    """`segmentation_node` in a child process, stopped with SIGINT like `ros2 launch` does."""

    def __init__(self, params_files: Sequence[Path], log_path: Path,
                 node_name: str = LIVE_NODE_NAME, env: Optional[Dict[str, str]] = None):
        self.log_path = Path(log_path)
        cmd = [sys.executable, '-m', 'fxseg_ros.ros.node', '--ros-args',
               '-r', '__node:=%s' % node_name]
        for p in params_files:
            cmd += ['--params-file', str(p)]
        self.cmd = cmd
        self.node_name = node_name
        self._log = open(self.log_path, 'wb')
        LOG.info('starting %s', ' '.join(cmd))
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     env=env or os.environ.copy())

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text(errors='replace').splitlines()
        except OSError:
            return ''
        return '\n'.join(text[-lines:])

    def stop(self, timeout_s: float = 15.0) -> int:
        if self.alive():
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                LOG.warning('node did not stop within %.0f s after SIGINT; terminating',
                            timeout_s)
                self.proc.terminate()
                try:
                    self.proc.wait(5.0)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        self._log.close()
        return self.proc.returncode


def _to_ros_image(msg, Image, CompressedImage, stamp):
    """Convert a rosbags message to rclpy with a new stamp (same pixels, frame_id, encoding)."""
    if hasattr(msg, 'format'):
        out = CompressedImage()
        out.format = msg.format
    else:
        out = Image()
        out.height, out.width = int(msg.height), int(msg.width)
        out.encoding = msg.encoding
        out.is_bigendian = int(msg.is_bigendian)
        out.step = int(msg.step)
    out.header.frame_id = msg.header.frame_id
    out.header.stamp = stamp
    out.data = np.asarray(msg.data, dtype=np.uint8).tobytes()
    return out


class _InFlight:
    __slots__ = ('labels', 'condition', 't_pub', 'recorded_stamp')

    def __init__(self, labels, condition, t_pub, recorded_stamp):
        self.labels = labels
        self.condition = condition
        self.t_pub = t_pub
        self.recorded_stamp = recorded_stamp


def _node_overrides(options: LiveOptions, reader, frame_hw) -> Dict[str, object]:
    """Return the parameters the started node needs on top of its params file."""
    overrides = {
        'model': str(Path(options.model).resolve()),
        'camera_topics': [reader.image_topic],
        'input_type': 'compressed' if reader.compressed else 'raw',
        'camera_width': int(frame_hw[1]), 'camera_height': int(frame_hw[0]),
        'threads': int(options.threads),
        # Reliable delivery: the evaluation scores every frame it plays.
        'qos': 'reliable',
        'qos_depth': 2,
    }
    if options.backend != 'auto':
        overrides['backend'] = options.backend
    if options.precision in ('fp32', 'fp16', 'int8'):
        overrides['precision'] = options.precision
    overrides.update(options.params)
    return overrides


def _result(options: LiveOptions, session: '_LiveSession', status) -> Dict[str, object]:
    """Return the run entry of metrics.json, without accuracy (the caller's score adds it)."""
    counts = session.counts
    summary = session.e2e.summary()
    name = options.name or (Path(options.model).stem if options.model else 'node')
    dropped = session.published - counts['received']
    LOG.info('live: %d published, %d masks, %d dropped, end-to-end p50 %.1f ms',
             session.published, counts['received'], dropped, summary['p50'])
    return {
        'name': name,
        'offline_run': name,
        'model': str(options.model) if options.model else None,
        'precision': options.precision,
        'backend': session.runner_diag.get('backend') or options.backend,
        'mode': 'live',
        'rate': str(options.rate),
        'image_topic': session.image_topic,
        'mask_topic': session.mask_topic,
        'frames': session.published,
        'published': session.published,
        'received': counts['received'],
        'scored': counts['scored'],
        'dropped': dropped,
        'unmatched_masks': counts['unmatched_masks'],
        'wall_s': session.wall_s,
        'fps': (counts['received'] / session.wall_s) if session.wall_s > 0 else None,
        'end_to_end_ms': summary,
        'latency_ms': {'end_to_end': dict(summary, count=session.e2e.count)},
        'node_diagnostics': dict(session.node_diag),
        'node_runner': dict(session.runner_diag),
        'node_exit_status': status,
        'dds_transport': session.transport or 'DEFAULT',
    }


def run_live(options: LiveOptions) -> Dict[str, object]:
    """
    Play the bag into the node and hand its masks to `options.score`; return the run entry.

    Starts `segmentation_node` (config/cpu.yaml plus overrides for the model, camera topic,
    input type and frame size) unless options.connect is set.
    """
    from fxseg_ros.data.bag import camera_namespace_of, CONDITION_TOPIC
    from fxseg_ros.data.bag_reader import BagFrameReader
    from fxseg_ros.ros.probe import write_params_file

    reader = BagFrameReader(options.bag, image_topic=options.image_topic,
                            label_topic=options.label_topic,
                            condition_topic=options.condition_topic or CONDITION_TOPIC,
                            max_frames=options.max_frames)
    image_topic = reader.image_topic
    mask_topic = options.mask_topic or camera_namespace_of(image_topic).rstrip('/') \
        + '/segmentation/mask'
    # The first frame's size builds the node's deployment graph, as offline.
    frames_it = iter(reader)
    first = next(frames_it, None)
    frames_it.close()
    if first is None:
        raise LiveEvalError('bag %s has no frames on %s' % (options.bag, image_topic))
    frame_hw = first.bgr().shape[:2]
    if not options.connect and not options.model:
        raise LiveEvalError('give the model the node should run (or --connect)')

    # Large frames between processes: the node started here and our own participant use the
    # large_data setup (LARGE_DATA_TRANSPORTS, shared memory that holds a frame) unless the
    # caller chose transports; a node started elsewhere (--connect) is reached on the caller's
    # transports, Fast DDS's default ones unless set (LARGE_DATA reaches only LARGE_DATA peers).
    # Applied to the node and to our own participant only, not left in this process.
    transport = os.environ.get('FASTDDS_BUILTIN_TRANSPORTS') or (
        None if options.connect else LARGE_DATA_TRANSPORTS)
    env = dict(os.environ)
    if transport:
        env['FASTDDS_BUILTIN_TRANSPORTS'] = transport
    tmp = Path(tempfile.mkdtemp(prefix='fxseg_live_'))
    node_proc = None
    try:
        if not options.connect:
            base = Path(options.params_file) if options.params_file else default_params_file()
            overrides = _node_overrides(options, reader, frame_hw)
            files = ([base] if base else []) + [
                write_params_file(tmp / 'overrides.yaml', overrides)]
            log_path = Path(options.log_path) if options.log_path else tmp / 'node.log'
            node_proc = NodeProcess(files, log_path, env=env)
        session = _LiveSession(options, reader, image_topic, mask_topic, node_proc, transport)
        try:
            session.wait_for_node()
            session.play()
        finally:
            session.close()
    finally:
        status = node_proc.stop() if node_proc is not None else None
        shutil.rmtree(tmp, ignore_errors=True)
    return _result(options, session, status)


class _LiveSession:
    """The player / collector ROS node of one live run (its own rclpy context)."""

    def __init__(self, options: LiveOptions, reader, image_topic: str, mask_topic: str,
                 node_proc: Optional[NodeProcess], transport: Optional[str]):
        from diagnostic_msgs.msg import DiagnosticArray
        from fxseg_ros.pipeline.stats import LatencyWindow
        import rclpy
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import CompressedImage, Image

        self.options = options
        self.reader = reader
        self.image_topic = image_topic
        self.mask_topic = mask_topic
        self.node_proc = node_proc
        self.transport = transport
        self._Image, self._CompressedImage = Image, CompressedImage
        self.e2e = LatencyWindow(size=max(len(reader), 1))
        self.lock = threading.Lock()
        self.inflight: Dict[int, _InFlight] = {}
        self.answered = threading.Event()
        self.ready = threading.Event()
        self.counts = {'received': 0, 'unmatched_masks': 0, 'scored': 0}
        self.node_diag: Dict[str, str] = {}
        self.published = 0
        self.wall_s = 0.0

        self.runner_diag: Dict[str, str] = {}
        self.ctx = Context()
        # the participant reads the variable when it is created
        with environ_overrides({'FASTDDS_BUILTIN_TRANSPORTS': transport}):
            rclpy.init(context=self.ctx)
            self.node = rclpy.create_node('fxseg_live_player_%d' % os.getpid(),
                                          context=self.ctx)
        self.executor = SingleThreadedExecutor(context=self.ctx)
        self.executor.add_node(self.node)
        reliable = QoSProfile(depth=5, history=HistoryPolicy.KEEP_LAST,
                              reliability=ReliabilityPolicy.RELIABLE,
                              durability=DurabilityPolicy.VOLATILE)
        self.pub = self.node.create_publisher(
            CompressedImage if reader.compressed else Image, image_topic, reliable)
        self.mask_sub = self.node.create_subscription(
            Image, mask_topic, self._on_mask,
            QoSProfile(depth=50, history=HistoryPolicy.KEEP_LAST,
                       reliability=ReliabilityPolicy.RELIABLE))
        self.node.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics, 10)
        self.spin = threading.Thread(target=self.executor.spin, name='live_eval_spin',
                                     daemon=True)
        self.spin.start()

    # Callbacks (executor thread) ---------------------------------------------------------------
    def _on_mask(self, msg) -> None:
        t = time.monotonic()
        stamp = stamp_to_ns(msg.header.stamp)
        with self.lock:
            entry = self.inflight.pop(stamp, None)
            if entry is None:
                self.counts['unmatched_masks'] += 1
                return
            self.counts['received'] += 1
        self.e2e.add((t - entry.t_pub) * 1e3)
        if entry.labels is not None and self.options.score is not None:
            h, w, step = msg.height, msg.width, msg.step
            pred = np.frombuffer(bytes(msg.data), np.uint8).reshape(h, step)[:, :w]
            self.options.score(entry.labels, pred, entry.condition)
            self.counts['scored'] += 1
        self.answered.set()

    def _on_diagnostics(self, msg) -> None:
        for st in msg.status:
            ours = self.node_proc is None or st.name.startswith(self.node_proc.node_name + ':')
            if ours and st.name.endswith(': inference'):
                self.runner_diag = {kv.key: kv.value for kv in st.values}
                if st.level == b'\x00':
                    self.ready.set()
            if st.name == self.mask_topic:
                self.node_diag = {kv.key: kv.value for kv in st.values}

    # Main thread --------------------------------------------------------------------------------
    def wait_for_node(self) -> None:
        """Until the node runs (model loaded: its first OK diagnostics) and topics matched."""
        opts = self.options
        deadline = time.monotonic() + opts.node_timeout_s
        while time.monotonic() < deadline:
            self._check_node('during start-up')
            # Both directions matched: our frames reach the node, its masks reach us.
            matched = self.pub.get_subscription_count() > 0 and self._mask_publishers() > 0
            if matched and (self.ready.is_set() or opts.connect):
                return
            time.sleep(0.05)
        tail = self.node_proc.log_tail() if self.node_proc else ''
        raise LiveEvalError(
            'no segmentation node %s %s -> %s within %.0f s%s'
            % ('answering on' if opts.connect else 'came up on', self.image_topic,
               self.mask_topic, opts.node_timeout_s,
               (':\n' + tail) if tail else ' (is it running, in the same ROS_DOMAIN_ID?)'))

    def _mask_publishers(self) -> int:
        count = getattr(self.mask_sub, 'get_publisher_count', None)
        if count is not None:
            return count()
        # rclpy before Iron: the graph only; give the subscription a moment to match.
        found = self.node.count_publishers(self.mask_topic)
        if found:
            time.sleep(0.2)
        return found

    def _check_node(self, when: str) -> None:
        if self.node_proc is not None and not self.node_proc.alive():
            raise LiveEvalError('segmentation_node exited with status %s %s:\n%s'
                                % (self.node_proc.proc.returncode, when,
                                   self.node_proc.log_tail()))

    def play(self) -> None:
        """Publish every frame at the chosen rate, then wait for the last masks."""
        opts = self.options
        rate = opts.rate
        bar = None
        if opts.progress:
            from tqdm import tqdm
            bar = tqdm(total=len(self.reader), unit='frame', desc='live', dynamic_ncols=True)
        t_start = time.monotonic()
        first_stamp = None
        try:
            for i, frame in enumerate(self.reader):
                self._check_node('during playback')
                if rate == 'recorded':
                    first_stamp = frame.stamp_ns if first_stamp is None else first_stamp
                    delay = t_start + (frame.stamp_ns - first_stamp) * 1e-9 - time.monotonic()
                elif rate == 'max':
                    delay = 0.0
                else:
                    delay = t_start + i / float(rate) - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                stamp = self.node.get_clock().now()
                msg = _to_ros_image(frame.msg, self._Image, self._CompressedImage,
                                    stamp.to_msg())
                self.answered.clear()
                with self.lock:
                    self.inflight[stamp.nanoseconds] = _InFlight(
                        frame.labels, frame.condition, time.monotonic(), frame.stamp_ns)
                self.pub.publish(msg)
                self.published += 1
                if rate == 'max':
                    self.answered.wait(opts.frame_timeout_s)
                self._expire(opts.frame_timeout_s)
                if bar is not None:
                    bar.update(1)
            end = time.monotonic() + opts.frame_timeout_s
            while time.monotonic() < end:
                with self.lock:
                    if not self.inflight:
                        break
                time.sleep(0.01)
            self.wall_s = time.monotonic() - t_start
        finally:
            if bar is not None:
                bar.close()

    def _expire(self, timeout_s: float) -> None:
        """Forget frames the node has not answered within timeout_s (they count as dropped)."""
        now = time.monotonic()
        with self.lock:
            for k in [k for k, v in self.inflight.items() if now - v.t_pub > timeout_s]:
                del self.inflight[k]

    def close(self) -> None:
        import rclpy

        self.executor.shutdown(timeout_sec=1.0)
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.ctx)
        self.spin.join(timeout=2.0)
