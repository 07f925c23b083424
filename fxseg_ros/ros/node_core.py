# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
`segmentation_node` as a managed (lifecycle) node: semantic segmentation of camera topics.

Transitions (design.ros2.org/articles/node_lifecycle.html, rclpy.lifecycle):
- configure: validate the parameters, read the label table, check the model's classes against
  it, load or build the engine (progress logged; minutes on a Jetson), warm it up, start
  `/diagnostics` (diagnostic_msgs/DiagnosticArray every `diagnostics_period_s`);
- activate: publishers and subscriptions of every camera (fxseg_ros.ros.camera_io), the
  inference worker (fxseg_ros.ros.inference), the no-frames warning;
- deactivate: subscriptions, then the worker (it finishes its batch), then the publishers;
- cleanup: diagnostics, then the runner (engine, ONNX Runtime session);
- shutdown: deactivate and clean up from whatever state the node is in.

With `autostart` (the default) the node takes configure and activate itself at start-up; a
lifecycle manager drives it through the lifecycle services otherwise. Where rclpy has no
lifecycle module (Foxy) the node runs the same transitions itself (fxseg_ros.ros.compat).
"""


import threading
import time
import traceback
from typing import Dict, Optional, Sequence

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from fxseg_ros.ros import compat
from fxseg_ros.ros import params as P
from fxseg_ros.ros.camera_io import CameraIO, StartupError
from fxseg_ros.ros.diagnostics import status_level, status_values
from fxseg_ros.ros.inference import BatchStats, close_runner, open_runner, Worker
from fxseg_ros.ros.label_table import load_label_table
from fxseg_ros.ros.transport import describe_transport, speed_hint, transport_warning
from rcl_interfaces.msg import (FloatingPointRange, IntegerRange, ParameterDescriptor,
                                ParameterType, SetParametersResult)
from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException
from rclpy.parameter import Parameter

NODE_NAME = 'segmentation_node'
SUCCESS = compat.TransitionCallbackReturn.SUCCESS
FAILURE = compat.TransitionCallbackReturn.FAILURE

_PARAM_TYPES = {
    P.STRING: ParameterType.PARAMETER_STRING,
    P.BOOL: ParameterType.PARAMETER_BOOL,
    P.INTEGER: ParameterType.PARAMETER_INTEGER,
    P.DOUBLE: ParameterType.PARAMETER_DOUBLE,
    P.STRING_ARRAY: ParameterType.PARAMETER_STRING_ARRAY,
}
#: Overrides rclpy or launch may pass that are not the node's own parameters.
_FOREIGN_PARAMETERS = ('use_sim_time', 'start_type_description_service')
_OUTPUT_NAMES = tuple(spec.name for spec in P.OUTPUT_PARAMETERS)


def descriptor(spec: P.ParamSpec) -> ParameterDescriptor:
    """Return the rcl_interfaces ParameterDescriptor of one entry of the parameter table."""
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


def _release(steps) -> Optional[str]:
    """Run release steps in order, every one even when one fails; return the first problem."""
    first = None
    for step in steps:
        try:
            problem = step()
        except Exception as exc:  # release what can be released, report the first failure
            problem = '%s: %s' % (type(exc).__name__, exc)
        first = first or problem
    return first


class SegmentationNode(compat.ManagedNode):
    """
    Multi-camera semantic segmentation node (managed).

    Raises StartupError from the constructor when a parameter override has the wrong type;
    every other problem fails the configure transition with a line naming the parameter.
    """

    def __init__(self, node_name: str = NODE_NAME, **kwargs):
        super().__init__(node_name, **kwargs)
        #: unconfigured, inactive, active or finalized (the node's primary state)
        self.lifecycle_state = 'unconfigured'
        #: the last failed transition's message (None after a success)
        self.failure: Optional[str] = None
        self._lock = threading.Lock()
        self._setting_outputs = False
        self.cfg: Dict[str, object] = self._declare_parameters()
        self.autostart = bool(self.cfg['autostart']) or bool(self.cfg['build_only'])
        self.labels = None
        self.runner = None
        self.pipeline = None
        self.description = ''
        self.batch_stats: Optional[BatchStats] = None
        self.io: Optional[CameraIO] = None
        self.worker: Optional[Worker] = None
        self._diag_pub = None
        self._diag_timer = None
        self._watch_timer = None
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.get_logger().debug('rclpy differences: %s' % compat.summary())
        if compat.LIFECYCLE_PROBLEM:
            self.get_logger().warning('no lifecycle services: %s; the node takes its '
                                      'transitions itself' % compat.LIFECYCLE_PROBLEM)

    # Parameters ---------------------------------------------------------------------------------
    def _declare_parameters(self) -> Dict[str, object]:
        for spec in P.PARAMETERS + P.OUTPUT_PARAMETERS:
            try:
                if spec.type == P.STRING_ARRAY and not spec.default:
                    # an empty list has no type of its own; the outputs ignore overrides
                    compat.declare_typed_parameter(
                        self, spec.name, spec.type, descriptor(spec),
                        ignore_override=spec in P.OUTPUT_PARAMETERS)
                else:
                    self.declare_parameter(spec.name, spec.default, descriptor(spec))
            except (InvalidParameterValueException, InvalidParameterTypeException) as exc:
                raise StartupError('parameter %r: %s' % (spec.name, exc)) from None
        overrides = getattr(self, '_parameter_overrides', {})
        unknown = sorted(name for name in overrides
                         if name not in P.BY_NAME and name not in _FOREIGN_PARAMETERS
                         and name not in _OUTPUT_NAMES and not name.startswith('qos_overrides.'))
        if unknown:
            self.get_logger().warning('ignoring unknown parameter(s) %s (known: %s)'
                                      % (', '.join(unknown), ', '.join(P.BY_NAME)))
        return self._read_parameters()

    def _read_parameters(self) -> Dict[str, object]:
        values = {}
        overrides = getattr(self, '_parameter_overrides', {})
        for spec in P.PARAMETERS:
            param = self.get_parameter_or(spec.name)
            if param.type_ == Parameter.Type.NOT_SET:
                # an empty list from YAML or -p arrives untyped: the parameter stays unset
                values[spec.name] = [] if spec.name in overrides else list(spec.default)
            elif spec.type == P.STRING_ARRAY:
                values[spec.name] = list(param.value or [])
            else:
                values[spec.name] = param.value
        return values

    def _on_set_parameters(self, parameters: Sequence[Parameter]) -> SetParametersResult:
        changes = {}
        for param in parameters:
            if param.name in _OUTPUT_NAMES and not self._setting_outputs:
                return SetParametersResult(successful=False, reason='%s is set by the node from '
                                           'its label table (labels_file)' % param.name)
            spec = P.BY_NAME.get(param.name)
            if spec is None:
                continue
            try:
                changes[param.name] = P.check_value(spec, param.value)
            except P.ParameterError as exc:
                return SetParametersResult(successful=False, reason=str(exc))
        self.cfg.update(changes)
        return SetParametersResult(successful=True)

    def _publish_label_parameters(self) -> None:
        self._setting_outputs = True
        try:
            self.set_parameters([Parameter('label_names', value=list(self.labels.names)),
                                 Parameter('label_colors', value=self.labels.hex_colors())])
        finally:
            self._setting_outputs = False

    # Transitions --------------------------------------------------------------------------------
    def on_configure(self, state) -> 'compat.TransitionCallbackReturn':
        started = time.perf_counter()
        try:
            self._configure()
        except StartupError as exc:
            return self._failed('configure', str(exc), self._cleanup_steps())
        except Exception:  # a bug: say so, with the traceback (rclpy would drop it)
            return self._failed('configure', 'internal error, please report it with this log:'
                                '\n%s' % traceback.format_exc(), self._cleanup_steps())
        self.lifecycle_state = 'inactive'
        self.failure = None
        self.get_logger().info('model loaded and warmed up in %.1f s: %s with %s'
                               % (time.perf_counter() - started, self.runner.backend,
                                  self.description))
        return SUCCESS

    def _configure(self) -> None:
        try:
            cfg = P.validate(self._read_parameters())
        except P.ParameterError as exc:
            raise StartupError(str(exc)) from None
        self.cfg.update(cfg)
        try:
            self.labels = load_label_table(cfg['labels_file'])
        except (OSError, ValueError) as exc:
            raise StartupError("parameter 'labels_file': %s" % exc) from None
        self._publish_label_parameters()
        self.get_logger().info('configuring: loading %s (backend %s)%s' % (
            cfg['model'] or 'the demo model', cfg['backend'],
            '; an engine that must be built takes minutes on a Jetson'
            if cfg['backend'] == 'tensorrt' or cfg['engine'] else ''))
        self.runner, self.pipeline, self.description = open_runner(
            cfg, self.labels, len(cfg['camera_topics']))
        self.batch_stats = BatchStats(cfg['stats_window'])
        self._diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self._diag_timer = self.create_timer(cfg['diagnostics_period_s'],
                                             self._publish_diagnostics)

    def on_activate(self, state) -> 'compat.TransitionCallbackReturn':
        self.io = CameraIO(self, self.cfg, self.labels, self.labels.palette(), self._lock,
                           wake=self._wake_worker)
        self.worker = Worker(self.io, self.pipeline, self.cfg, self.batch_stats,
                             self.get_logger())
        try:
            self.io.create()
        except StartupError as exc:
            return self._failed('activate', str(exc), self._deactivate_steps())
        self.worker.start()
        timeout = self.cfg['camera_match_timeout_s']
        if timeout > 0:
            self._watch_timer = self.create_timer(min(1.0, timeout), self.io.check_frames_arrive)
        self.lifecycle_state = 'active'
        self.failure = None
        self.get_logger().info('segmenting %s -> %s with %s (%s), max_batch %s; %s' % (
            ', '.join(c.topic for c in self.io.cameras),
            ', '.join(c.mask_pub.topic_name for c in self.io.cameras), self.runner.backend,
            self.description, self.cfg['max_batch'] or 'all cameras', describe_transport()))
        warning = transport_warning()
        if warning:
            self.get_logger().warning(warning)
        hint = speed_hint()
        if hint:
            self.get_logger().info(hint)
        return SUCCESS

    def _wake_worker(self) -> None:
        worker = self.worker
        if worker is not None:
            worker.wake()

    def on_deactivate(self, state) -> 'compat.TransitionCallbackReturn':
        problem = _release(self._deactivate_steps())
        self.lifecycle_state = 'inactive'
        return self._released('deactivate', problem)

    def on_cleanup(self, state) -> 'compat.TransitionCallbackReturn':
        problem = _release(self._cleanup_steps())
        self.lifecycle_state = 'unconfigured'
        return self._released('cleanup', problem)

    def on_shutdown(self, state) -> 'compat.TransitionCallbackReturn':
        problem = self.release_all()
        self.lifecycle_state = 'finalized'
        return self._released('shutdown', problem)

    def on_error(self, state) -> 'compat.TransitionCallbackReturn':
        self.get_logger().error('a transition raised an error; releasing everything')
        self.release_all()
        self.lifecycle_state = 'unconfigured'
        return SUCCESS

    def release_all(self) -> Optional[str]:
        """Deactivate and clean up, in order, whatever the node holds (idempotent)."""
        return _release(self._deactivate_steps() + self._cleanup_steps())

    def _deactivate_steps(self):
        io, worker = self.io, self.worker

        def timer():
            if self._watch_timer is not None:
                self.destroy_timer(self._watch_timer)
                self._watch_timer = None

        def subscriptions():
            if io is not None:
                io.destroy_subscriptions()

        def stop_worker():
            self.worker = None
            return worker.stop() if worker is not None else None

        def publishers():
            if io is not None:
                io.destroy_publishers()
            self.io = None

        return [timer, subscriptions, stop_worker, publishers]

    def _cleanup_steps(self):
        def diagnostics():
            if self._diag_timer is not None:
                self.destroy_timer(self._diag_timer)
                self._diag_timer = None
            if self._diag_pub is not None:
                self.destroy_publisher(self._diag_pub)
                self._diag_pub = None

        def runner():
            runner, self.runner, self.pipeline = self.runner, None, None
            close_runner(runner)

        return [diagnostics, runner]

    def _failed(self, transition: str, message: str, release) -> 'compat.TransitionCallbackReturn':
        """Release what the transition took, say why it failed (one line), return FAILURE."""
        _release(release)
        self.failure = message
        if self.autostart:
            self.get_logger().fatal('cannot start: %s' % message)
        else:
            self.get_logger().error('%s failed: %s' % (transition, message))
        return FAILURE

    def _released(self, transition: str, problem: Optional[str]):
        if problem:
            self.get_logger().error('%s: %s' % (transition, problem))
        return SUCCESS

    # Diagnostics (executor thread) --------------------------------------------------------------
    def _publish_diagnostics(self) -> None:
        if self._diag_pub is None:
            return
        now_mono = time.monotonic()
        array = DiagnosticArray()
        array.header.stamp = self.get_clock().now().to_msg()
        budget, rate = self.cfg['latency_budget_ms'], self.cfg['expected_rate_hz']
        hardware_id = compat.fully_qualified_name(self)
        io = self.io
        for cam in (io.cameras if io is not None else []):
            snap = cam.stats.snapshot(now_mono)
            level, message = status_level(snap, rate, budget)
            array.status.append(DiagnosticStatus(
                level=bytes([level]), name=cam.mask_pub.topic_name, message=message,
                hardware_id=hardware_id,
                values=[KeyValue(key=k, value=v) for k, v in status_values(snap, rate, budget)]))
        array.status.append(self._runner_status(hardware_id))
        self._diag_pub.publish(array)

    def _runner_status(self, hardware_id: str) -> DiagnosticStatus:
        stats = self.batch_stats.snapshot() if self.batch_stats else {}
        runner = self.runner
        cameras = len(self.cfg['camera_topics'])
        values = [('state', self.lifecycle_state),
                  ('backend', runner.backend if runner else 'closed'),
                  ('model', self.description),
                  ('precision', self.cfg['precision']),
                  ('providers', ','.join(getattr(runner, 'providers', None) or [])
                   if runner is not None and runner.backend == 'onnxruntime' else ''),
                  ('input_hw', 'x'.join(str(v) for v in (runner.input_hw or ()))
                   if runner else ''),
                  ('cameras', str(cameras)),
                  ('max_batch', str(self.cfg['max_batch'] or cameras)),
                  ('batches', str(stats.get('batches', 0))),
                  ('batched_frames', str(stats.get('frames', 0))),
                  ('last_batch_size', str(stats.get('last_batch_size', 0))),
                  ('mean_batch_size', '%.2f' % (stats['frames'] / stats['batches'])
                   if stats.get('batches') else '0')]
        if stats.get('summary') is not None:
            values += [('batch_ms_%s' % p, '%.3f' % stats['summary'][p])
                       for p in ('p50', 'p95', 'p99', 'max')]
        worker = self.worker
        if self.lifecycle_state != 'active':
            level, message = 1, 'inactive (lifecycle state %s)' % self.lifecycle_state
        elif runner is not None and worker is not None and worker.alive():
            level, message = 0, 'OK'
        else:
            level, message = 2, 'inference worker stopped'
        return DiagnosticStatus(
            level=bytes([level]), name='%s: inference' % self.get_name(), message=message,
            hardware_id=hardware_id, values=[KeyValue(key=k, value=v) for k, v in values])
