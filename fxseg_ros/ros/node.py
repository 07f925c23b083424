# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
`segmentation_node`: semantic segmentation of one or more camera topics.

Per camera (`camera_topics`), in the camera's namespace:
- subscribes `<topic>` (sensor_msgs/Image, or CompressedImage with input_type compressed);
- publishes `segmentation/mask` (mono8 class IDs at the frame's resolution, the input header
  unchanged), `segmentation/color_mask` (rgb8, only while subscribed) and
  `segmentation/labels` (std_msgs/String YAML label table, transient local);
and `/diagnostics` (diagnostic_msgs/DiagnosticArray) every `diagnostics_period_s`.

Threads: the executor runs the subscription callbacks (cheap header checks, then the message is
put into its camera's one-frame slot: the latest frame wins, a replaced frame counts as dropped)
and the diagnostics timer. One worker thread takes every fresh frame, converts them, runs one
batched inference for all cameras and publishes. A slow model therefore never builds a queue.
"""


import argparse
import logging
import sys
import threading
import time
from typing import Dict, List, Optional, Sequence, Tuple

import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import (FloatingPointRange, IntegerRange, ParameterDescriptor,
                                ParameterType, SetParametersResult)
from rclpy.exceptions import (InvalidParameterTypeException, InvalidParameterValueException,
                              ParameterException)
from rclpy.event_handler import SubscriptionEventCallbacks, UnsupportedEventTypeError
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import (DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy,
                       qos_policy_name_from_kind, qos_profile_sensor_data)
from rclpy.utilities import remove_ros_args
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import String

from fxseg_ros.data.stamps import stamp_to_ns
from fxseg_ros.pipeline.convert import (CHECKS, CONVERTERS, FrameRejected, REJECT_REASONS,
                                        colorize_to_image_fields, labels_to_image_fields)
from fxseg_ros.ros import params as P
from fxseg_ros.ros.diagnostics import CameraStats, STAGES, status_level, status_values
from fxseg_ros.ros.label_table import LabelTable, load_label_table

NODE_NAME = 'segmentation_node'
#: Node-level reasons a frame is rejected, besides the message ones of fxseg_ros.pipeline.convert.
STAMP_REASONS = ('stale', 'future_stamp')
ALL_REASONS = REJECT_REASONS + STAMP_REASONS

_PARAM_TYPES = {
    P.STRING: ParameterType.PARAMETER_STRING,
    P.BOOL: ParameterType.PARAMETER_BOOL,
    P.INTEGER: ParameterType.PARAMETER_INTEGER,
    P.DOUBLE: ParameterType.PARAMETER_DOUBLE,
    P.STRING_ARRAY: ParameterType.PARAMETER_STRING_ARRAY,
}
#: Overrides rclpy or launch may pass that are not the node's own parameters.
_FOREIGN_PARAMETERS = ('use_sim_time', 'start_type_description_service')
_REJECT_LOG_PERIOD_S = 5.0


class StartupError(RuntimeError):
    """The node cannot start; the message says why and what to change."""


def descriptor(spec: P.ParamSpec) -> ParameterDescriptor:
    """The rcl_interfaces ParameterDescriptor of one entry of the parameter table."""
    d = ParameterDescriptor(name=spec.name, type=_PARAM_TYPES[spec.type],
                            description=spec.description, read_only=spec.read_only)
    constraints = spec.constraints
    if spec.choices:
        constraints = 'one of: ' + ', '.join(spec.choices)
    d.additional_constraints = constraints
    if spec.range is not None and spec.type == P.INTEGER:
        d.integer_range = [IntegerRange(from_value=int(spec.range[0]),
                                        to_value=int(spec.range[1]), step=1)]
    elif spec.range is not None and spec.type == P.DOUBLE:
        d.floating_point_range = [FloatingPointRange(from_value=float(spec.range[0]),
                                                     to_value=float(spec.range[1]), step=0.0)]
    return d


def subscription_qos(name: str, depth: int) -> QoSProfile:
    """QoS of the camera subscriptions: 'sensor_data' (best effort) or 'reliable'."""
    if name == 'sensor_data':
        qos = QoSProfile(depth=depth)
        qos.reliability = qos_profile_sensor_data.reliability
        qos.durability = qos_profile_sensor_data.durability
        qos.history = HistoryPolicy.KEEP_LAST
        return qos
    return QoSProfile(depth=depth, history=HistoryPolicy.KEEP_LAST,
                      reliability=ReliabilityPolicy.RELIABLE,
                      durability=DurabilityPolicy.VOLATILE)


class _Camera:
    """One input topic: its slot, publishers and statistics."""

    def __init__(self, topic: str, namespace: str, stats: CameraStats):
        self.topic = topic
        self.namespace = namespace
        self.stats = stats
        self.pending = None  # (msg, receipt monotonic s, receipt ROS ns) or None
        self.mask_pub = None
        self.color_pub = None
        self.labels_pub = None
        self.subscription = None
        self.reject_log: Dict[str, Tuple[float, int]] = {}


class SegmentationNode(Node):
    """
    Multi-camera semantic segmentation node.

    Raises StartupError (with the parameter's name or the runner's advice) when it cannot start.
    """

    def __init__(self, node_name: str = NODE_NAME, **kwargs):
        super().__init__(node_name, **kwargs)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._worker: Optional[threading.Thread] = None
        self.runner = None
        self.pipeline = None
        self._batch_stats: Dict[str, object] = {}
        self.cfg = self._declare_and_validate()
        self.labels = self._load_labels()
        self._palette = self.labels.palette()
        self._publish_label_parameters()
        self.cameras = self._create_cameras()
        self._open_runner()
        self._diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self._diag_timer = self.create_timer(self.cfg['diagnostics_period_s'],
                                             self._publish_diagnostics)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self._worker = threading.Thread(target=self._work, name='segmentation_worker',
                                        daemon=True)
        self._worker.start()
        self.get_logger().info(
            'segmenting %s -> %s with %s (%s), max_batch %s' % (
                ', '.join(c.topic for c in self.cameras),
                ', '.join(c.mask_pub.topic_name for c in self.cameras),
                self.runner.backend, self._model_description(),
                self.cfg['max_batch'] or 'all cameras'))
        warning = P.transport_warning()
        if warning:
            self.get_logger().warning(warning)

    # Start-up ----------------------------------------------------------------------------------
    def _declare_and_validate(self) -> Dict[str, object]:
        values = {}
        for spec in P.PARAMETERS:
            default = spec.default
            if spec.type == P.STRING_ARRAY and not default:
                default = Parameter.Type.STRING_ARRAY  # an empty list has no type of its own
            try:
                self.declare_parameter(spec.name, default, descriptor(spec))
            except (InvalidParameterValueException, InvalidParameterTypeException) as exc:
                raise StartupError('parameter %r: %s' % (spec.name, exc)) from None
            param = self.get_parameter_or(spec.name)
            if param.type_ == Parameter.Type.NOT_SET:
                # an empty list from YAML or -p arrives untyped: the parameter stays unset
                values[spec.name] = [] if spec.name in self._parameter_overrides else \
                    list(spec.default)
            elif spec.type == P.STRING_ARRAY:
                values[spec.name] = list(param.value or [])
            else:
                values[spec.name] = param.value
        unknown = sorted(name for name in self._parameter_overrides
                         if name not in P.BY_NAME and name not in _FOREIGN_PARAMETERS
                         and not name.startswith('qos_overrides.'))
        if unknown:
            self.get_logger().warning('ignoring unknown parameter(s) %s (known: %s)'
                                      % (', '.join(unknown), ', '.join(P.BY_NAME)))
        try:
            return P.validate(values)
        except P.ParameterError as exc:
            raise StartupError(str(exc)) from None

    def _load_labels(self) -> LabelTable:
        try:
            return load_label_table(self.cfg['labels_file'])
        except (OSError, ValueError) as exc:
            raise StartupError("parameter 'labels_file': %s" % exc) from None

    def _publish_label_parameters(self) -> None:
        for spec, value in zip(P.OUTPUT_PARAMETERS, (self.labels.names, self.labels.hex_colors())):
            self.declare_parameter(spec.name, list(value), descriptor(spec), ignore_override=True)

    def _create_cameras(self) -> List[_Camera]:
        cfg = self.cfg
        msg_type = Image if cfg['input_type'] == 'raw' else CompressedImage
        qos_in = subscription_qos(cfg['qos'], cfg['qos_depth'])
        qos_out = QoSProfile(depth=cfg['qos_depth'], history=HistoryPolicy.KEEP_LAST,
                             reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.VOLATILE)
        qos_latched = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST,
                                 reliability=ReliabilityPolicy.RELIABLE,
                                 durability=DurabilityPolicy.TRANSIENT_LOCAL)
        labels_doc = String(data=self.labels.to_yaml())
        cameras: List[_Camera] = []
        namespaces: Dict[str, str] = {}
        for topic in cfg['camera_topics']:
            try:
                resolved = self.resolve_topic_name(topic)
            except Exception as exc:  # rclpy raises its own validation errors here
                raise StartupError("parameter 'camera_topics': %r: %s" % (topic, exc)) from None
            ns = P.camera_namespace(resolved, cfg['input_type'])
            if ns in namespaces:
                raise StartupError("parameter 'camera_topics': %s and %s share the output "
                                   'namespace %r' % (namespaces[ns], resolved, ns or '/'))
            namespaces[ns] = resolved
            cam = _Camera(resolved, ns, CameraStats(resolved, cfg['stats_window'],
                                                    reasons=ALL_REASONS))
            cam.mask_pub = self.create_publisher(Image, P.output_topic(ns, 'mask'), qos_out)
            cam.color_pub = self.create_publisher(Image, P.output_topic(ns, 'color_mask'),
                                                  qos_out)
            cam.labels_pub = self.create_publisher(String, P.output_topic(ns, 'labels'),
                                                   qos_latched)
            cam.labels_pub.publish(labels_doc)
            cam.subscription = self._subscribe(msg_type, resolved, cam, qos_in)
            cameras.append(cam)
        return cameras

    def _subscribe(self, msg_type, topic: str, cam: _Camera, qos: QoSProfile):
        def on_frame(msg):
            self._on_frame(cam, msg)

        def on_lost(info):
            cam.stats.on_lost(info.total_count_change)

        def on_incompatible(info):
            policy = qos_policy_name_from_kind(info.last_policy_kind)
            hint = (" (the camera publishes best effort: set the node's parameter "
                    "qos:=sensor_data)" if policy == 'RELIABILITY' else '')
            self.get_logger().error('%s: a publisher offers QoS incompatible with this node\'s, '
                                    'no frames will arrive from it; policy %s%s'
                                    % (topic, policy, hint))

        try:
            # messages the middleware lost before they reached the node (best effort gaps)
            return self.create_subscription(
                msg_type, topic, on_frame, qos,
                event_callbacks=SubscriptionEventCallbacks(
                    message_lost=on_lost, incompatible_qos=on_incompatible))
        except UnsupportedEventTypeError:
            return self.create_subscription(msg_type, topic, on_frame, qos)

    def _model_path(self) -> str:
        if self.cfg['model']:
            return self.cfg['model']
        from fxseg_ros import DEMO_MODEL

        return str(DEMO_MODEL)

    def _model_description(self) -> str:
        engine = self.cfg['engine']
        return engine if engine else self._model_path()

    def _open_runner(self) -> None:
        from fxseg_ros.pipeline.pipeline import SegmentationPipeline
        from fxseg_ros.runtime import RunnerError, create_runner

        cfg = self.cfg
        camera_hw = (cfg['camera_height'], cfg['camera_width'])
        providers = cfg['providers'] or None
        model = self._model_path()
        tensorrt = bool(cfg['engine']) or cfg['backend'] == 'tensorrt'
        try:
            if tensorrt:
                # loads `engine` when it exists and was built for this GPU / TensorRT; builds it
                # from `model` when missing (build_if_missing) or stale (rebuild_on_mismatch)
                runner = create_runner(
                    model, backend='tensorrt', camera_hw=camera_hw,
                    engine_path=cfg['engine'] or None, precision=cfg['precision'],
                    build_if_missing=cfg['build_if_missing'],
                    rebuild_on_mismatch=cfg['rebuild_on_mismatch'],
                    calibration_cache=cfg['calibration_cache'] or None,
                    timing_cache=cfg['timing_cache'] or None,
                    workspace_mib=cfg['workspace_mib'],
                    dla_core=cfg['dla_core'] if cfg['dla_core'] >= 0 else None,
                    max_batch=cfg['max_batch'] or len(cfg['camera_topics']))
            else:
                runner = create_runner(model, backend=cfg['backend'], camera_hw=camera_hw,
                                       providers=providers, threads=cfg['threads'])
            started = time.perf_counter()
            self.runner = runner.activate()
            self.pipeline = SegmentationPipeline(self.runner)
            self._warm_up()
        except RunnerError as exc:
            self._close_runner()
            raise StartupError('cannot load the model: %s' % exc) from None
        except (OSError, ValueError, ImportError) as exc:
            self._close_runner()
            raise StartupError('cannot load the model %s: %s: %s'
                               % (self._model_description(), type(exc).__name__, exc)) from None
        self.get_logger().info('model loaded and warmed up in %.1f s'
                               % (time.perf_counter() - started))

    def _warm_up(self) -> None:
        """One inference per batch size the node will use: the first calls allocate."""
        import numpy as np

        h, w = self.cfg['camera_height'], self.cfg['camera_width']
        largest = min(self.cfg['max_batch'] or len(self.cameras), len(self.cameras))
        for size in sorted({1, largest}):
            self.pipeline.process([np.zeros((h, w, 3), np.uint8)] * size)

    def _close_runner(self) -> None:
        runner, self.runner = self.runner, None
        if runner is not None:
            runner.deactivate()

    # Parameters at run time --------------------------------------------------------------------
    def _on_set_parameters(self, parameters: Sequence[Parameter]) -> SetParametersResult:
        values = dict(self.cfg)
        for param in parameters:
            if param.name in P.BY_NAME:
                values[param.name] = param.value
        try:
            checked = P.validate(values)
        except P.ParameterError as exc:
            return SetParametersResult(successful=False, reason=str(exc))
        for param in parameters:
            if param.name in P.BY_NAME:
                self.cfg[param.name] = checked[param.name]
        return SetParametersResult(successful=True)

    # Subscription callback (executor thread): cheap checks, then the slot ----------------------
    def _on_frame(self, cam: _Camera, msg) -> None:
        now_mono = time.monotonic()
        now_ns = self.get_clock().now().nanoseconds
        cam.stats.on_received(now_mono)
        try:
            CHECKS[self.cfg['input_type']](msg)
            self._check_stamp(msg.header.stamp, now_ns)
        except FrameRejected as exc:
            self._reject(cam, exc)
            return
        with self._lock:
            replaced = cam.pending is not None
            cam.pending = (msg, now_mono, now_ns)
        if replaced:
            cam.stats.on_dropped()
        self._wake.set()

    def _check_stamp(self, stamp, now_ns: int) -> None:
        if now_ns == 0:
            return  # use_sim_time before the first /clock message: nothing to compare with
        age_s = (now_ns - stamp_to_ns(stamp)) * 1e-9
        max_age, max_future = self.cfg['max_stamp_age_s'], self.cfg['max_stamp_future_s']
        if max_age > 0 and age_s > max_age:
            raise FrameRejected('stale', 'header stamp %.3f s old (max_stamp_age_s %.3f)'
                                % (age_s, max_age))
        if max_future > 0 and -age_s > max_future:
            raise FrameRejected('future_stamp', 'header stamp %.3f s in the future '
                                '(max_stamp_future_s %.3f)' % (-age_s, max_future))

    def _reject(self, cam: _Camera, exc: FrameRejected) -> None:
        """Count a rejected frame; log the first of each reason, then once per period."""
        cam.stats.on_rejected(exc.reason)
        now = time.monotonic()
        last, suppressed = cam.reject_log.get(exc.reason, (-1e9, 0))
        if now - last >= _REJECT_LOG_PERIOD_S:
            more = ' (and %d more since the last report)' % suppressed if suppressed else ''
            self.get_logger().warning('%s: frame rejected, %s: %s%s'
                                      % (cam.topic, exc.reason, exc, more))
            cam.reject_log[exc.reason] = (now, 0)
        else:
            cam.reject_log[exc.reason] = (last, suppressed + 1)

    # Worker thread: convert, one batched inference, publish -------------------------------------
    def _work(self) -> None:
        while not self._stop.is_set():
            if not self._wake.wait(0.1):
                continue
            self._wake.clear()
            self._gather()
            with self._lock:
                taken = [(cam, cam.pending) for cam in self.cameras if cam.pending is not None]
                for cam, _ in taken:
                    cam.pending = None
            if taken and not self._stop.is_set():
                try:
                    self._process(taken)
                except Exception:  # keep serving: a failure is logged and counted per frame
                    self.get_logger().error('inference failed:\n%s' % _format_exc(),
                                            throttle_duration_sec=5.0)
                    for cam, _ in taken:
                        cam.stats.on_error()

    def _gather(self) -> None:
        """
        With batch_wait_ms > 0, wait that long after the first fresh frame for the others.

        Frames of cameras triggered together arrive a few milliseconds apart; waiting for them
        turns several inference calls into one batch.
        """
        wait_s = self.cfg['batch_wait_ms'] * 1e-3
        if wait_s <= 0 or len(self.cameras) < 2:
            return
        with self._lock:
            first = min((c.pending[1] for c in self.cameras if c.pending is not None),
                        default=None)
        if first is None:
            return
        deadline = first + wait_s
        while not self._stop.is_set():
            with self._lock:
                if all(c.pending is not None for c in self.cameras):
                    return
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._wake.wait(left)
            self._wake.clear()

    def _process(self, taken) -> None:
        convert = CONVERTERS[self.cfg['input_type']]
        ready = []  # (camera, msg, frame, receipt mono, receipt ns, pickup mono, convert ms)
        for cam, (msg, recv_mono, recv_ns) in taken:
            t0 = time.monotonic()
            try:
                frame = convert(msg)
            except FrameRejected as exc:
                self._reject(cam, exc)
                continue
            t1 = time.monotonic()
            cam.stats.frame_id = msg.header.frame_id
            cam.stats.encoding = getattr(msg, 'encoding', None) or getattr(msg, 'format', '')
            cam.stats.size_wh = (frame.shape[1], frame.shape[0])
            ready.append((cam, msg, frame, recv_mono, recv_ns, t0, (t1 - t0) * 1e3))
        chunk = self.cfg['max_batch'] or len(ready)
        for first in range(0, len(ready), max(chunk, 1)):
            part = ready[first:first + chunk]
            result = self.pipeline.process([item[2] for item in part])
            self._record_batch(len(part), result.timings_ms)
            for (cam, msg, _, recv_mono, recv_ns, pickup, convert_ms), labels in zip(
                    part, result.labels):
                self._publish(cam, msg, labels, recv_mono, recv_ns, pickup, convert_ms,
                              result.timings_ms)

    def _publish(self, cam: _Camera, msg, labels, recv_mono: float, recv_ns: int,
                 pickup_mono: float, convert_ms: float, timings_ms: Dict[str, float]) -> None:
        t0 = time.monotonic()
        cam.mask_pub.publish(Image(header=msg.header, **labels_to_image_fields(labels)))
        color = (self.cfg['publish_color_mask'] and cam.color_pub.get_subscription_count() > 0)
        if color:
            cam.color_pub.publish(Image(header=msg.header, **colorize_to_image_fields(
                labels, self._palette)))
        done = time.monotonic()
        now_ns = self.get_clock().now().nanoseconds
        stamp_ns = stamp_to_ns(msg.header.stamp)
        stages = {stage: timings_ms.get(stage) for stage in STAGES}
        stages.update({
            'transport': (recv_ns - stamp_ns) * 1e-6,
            'queue': (pickup_mono - recv_mono) * 1e3,
            'convert': convert_ms,
            'publish': (done - t0) * 1e3,
            'node': (done - recv_mono) * 1e3,
            'e2e': (now_ns - stamp_ns) * 1e-6,
        })
        device = sum(stages[k] or 0.0 for k in ('upload', 'inference', 'download'))
        stages['overhead'] = stages['e2e'] - device
        cam.stats.on_published(done, stamp_ns * 1e-9, stages, self.cfg['expected_rate_hz'],
                               color)

    def _record_batch(self, size: int, timings_ms: Dict[str, float]) -> None:
        with self._lock:
            stats = self._batch_stats
            stats['batches'] = stats.get('batches', 0) + 1
            stats['frames'] = stats.get('frames', 0) + size
            stats['last_batch_size'] = size
            if 'window' not in stats:
                from fxseg_ros.pipeline.stats import LatencyWindow

                stats['window'] = LatencyWindow(self.cfg['stats_window'])
            stats['window'].add(timings_ms['total'])

    # Diagnostics (executor thread) ------------------------------------------------------------
    def _publish_diagnostics(self) -> None:
        now_mono = time.monotonic()
        array = DiagnosticArray()
        array.header.stamp = self.get_clock().now().to_msg()
        budget, rate = self.cfg['latency_budget_ms'], self.cfg['expected_rate_hz']
        hardware_id = self.get_fully_qualified_name()
        for cam in self.cameras:
            snap = cam.stats.snapshot(now_mono)
            level, message = status_level(snap, rate, budget)
            array.status.append(DiagnosticStatus(
                level=bytes([level]), name=cam.mask_pub.topic_name, message=message,
                hardware_id=hardware_id,
                values=[KeyValue(key=k, value=v) for k, v in status_values(snap, rate, budget)]))
        array.status.append(self._runner_status(hardware_id))
        self._diag_pub.publish(array)

    def _runner_status(self, hardware_id: str) -> DiagnosticStatus:
        with self._lock:
            stats = dict(self._batch_stats)
        summary = stats['window'].summary() if 'window' in stats else None
        values = [('backend', self.runner.backend if self.runner else 'closed'),
                  ('model', self._model_description()),
                  ('precision', self.cfg['precision']),
                  ('providers', ','.join(getattr(self.runner, 'providers', None) or [])
                   if self.runner is not None and self.runner.backend == 'onnxruntime'
                   else ''),
                  ('input_hw', 'x'.join(str(v) for v in (self.runner.input_hw or ()))
                   if self.runner else ''),
                  ('cameras', str(len(self.cameras))),
                  ('max_batch', str(self.cfg['max_batch'] or len(self.cameras))),
                  ('batches', str(stats.get('batches', 0))),
                  ('batched_frames', str(stats.get('frames', 0))),
                  ('last_batch_size', str(stats.get('last_batch_size', 0))),
                  ('mean_batch_size', '%.2f' % (stats['frames'] / stats['batches'])
                   if stats.get('batches') else '0')]
        if summary is not None:
            values += [('batch_ms_%s' % p, '%.3f' % summary[p])
                       for p in ('p50', 'p95', 'p99', 'max')]
        level = 0 if self.runner is not None and self._worker_alive() else 2
        return DiagnosticStatus(
            level=bytes([level]), name='%s: inference' % self.get_name(),
            message='OK' if level == 0 else 'inference worker stopped',
            hardware_id=hardware_id, values=[KeyValue(key=k, value=v) for k, v in values])

    def _worker_alive(self) -> bool:
        return self._worker is not None and self._worker.is_alive()

    # Shutdown ---------------------------------------------------------------------------------
    def destroy_node(self) -> None:
        """Stop the worker (waits for the running batch), close the runner, destroy the node."""
        self._stop.set()
        self._wake.set()
        if self._worker is not None and self._worker is not threading.current_thread():
            self._worker.join(timeout=10.0)
            if self._worker.is_alive():
                self.get_logger().error('the inference worker did not stop within 10 s')
        self._close_runner()
        super().destroy_node()


def _format_exc() -> str:
    import traceback

    return traceback.format_exc(limit=8)


def parameter_table_markdown() -> str:
    """The parameters as a Markdown table (for `segmentation_node --list-parameters`)."""
    lines = ['| parameter | type | default | allowed | live |', '|---|---|---|---|---|']
    lines += ['| %s |' % ' | '.join(row) for row in P.spec_rows()]
    return '\n'.join(lines)


def _parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=NODE_NAME, description='Semantic segmentation of camera topics. Parameters are '
        'ROS parameters: --ros-args -p name:=value or --params-file config/cpu.yaml.')
    parser.add_argument('--list-parameters', action='store_true',
                        help='print the parameter table (Markdown) and exit')
    return parser.parse_args(list(argv))


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the node until SIGINT / SIGTERM; return the exit status (2: it could not start)."""
    args = list(sys.argv if argv is None else argv)
    options = _parse_args(remove_ros_args(args)[1:])
    if options.list_parameters:
        print(parameter_table_markdown())
        return 0
    logging.basicConfig(level=logging.INFO, format='[%(levelname)s] [%(name)s]: %(message)s')
    rclpy.init(args=args)
    node = None
    status = 0
    try:
        node = SegmentationNode()
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        executor.spin()
    except StartupError as exc:
        rclpy.logging.get_logger(NODE_NAME).fatal('cannot start: %s' % exc)
        status = 2
    except ParameterException as exc:
        rclpy.logging.get_logger(NODE_NAME).fatal('cannot start: %s' % exc)
        status = 2
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return status


if __name__ == '__main__':
    sys.exit(main())
