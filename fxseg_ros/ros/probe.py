# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Drive a running segmentation node from another process: publish frames, collect masks.

`SegmentationProbe` owns its own rclpy context and a spinning executor thread, publishes camera
frames (or any prepared message) on the node's input topics and keeps the masks, colour masks,
label tables and diagnostics that come back, with waits that take a timeout. The integration
tests and `fxseg bench --node` use it; `start_node` starts the node as its own process.
"""


import os
from pathlib import Path
import subprocess
import sys
import threading
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray
from fxseg_ros.data.stamps import ns_to_sec_nanosec, stamp_to_ns
from fxseg_ros.pipeline.convert import array_to_image_fields
from fxseg_ros.ros.params import camera_namespace, output_topic
import numpy as np
import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import String
import yaml


def start_node(params_file: Optional[str] = None, params: Optional[Dict[str, object]] = None,
               env: Optional[Dict[str, str]] = None, ros_args: Sequence[str] = (),
               log_level: str = 'info', log_file=None) -> subprocess.Popen:
    """
    Start `segmentation_node` as its own process (this Python, `-m fxseg_ros.ros.node`).

    params: name -> value, passed as `-p name:=value` (each value written by
    `param_value_yaml`). The node logs to stderr unless `env` says otherwise. log_file: an open
    file that receives stdout and stderr; None: both are pipes (read them with `communicate`; a
    node that logs much blocks once a pipe is full).
    """
    cmd = [sys.executable, '-m', 'fxseg_ros.ros.node', '--ros-args', '--log-level', log_level]
    if params_file:
        cmd += ['--params-file', str(params_file)]
    for name, value in (params or {}).items():
        cmd += ['-p', '%s:=%s' % (name, param_value_yaml(value))]
    cmd += list(ros_args)
    full_env = dict(os.environ)
    # ROS's default, stderr, whatever this process was given (a launch test run in this
    # process by launch_testing's pytest plugin may have set RCUTILS_LOGGING_USE_STDOUT)
    full_env['RCUTILS_LOGGING_USE_STDOUT'] = '0'
    full_env.update(env or {})
    full_env.setdefault('PYTHONUNBUFFERED', '1')
    if log_file is not None:
        return subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, env=full_env)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env,
                            universal_newlines=True)


class _ParamDumper(yaml.SafeDumper):
    """
    YAML for rcl's parameter parser: every string quoted.

    rcl types an unquoted scalar itself (`on` is a bool, `1e5` a double) where PyYAML would
    leave it plain, so a string value is only safe quoted (rcl_yaml_param_parser parse.c).
    """


def _quoted_str(dumper, data):
    return dumper.represent_scalar('tag:yaml.org,2002:str', data, style="'")


_ParamDumper.add_representer(str, _quoted_str)
_ParamDumper.add_representer(tuple, yaml.SafeDumper.represent_list)


def _dump(value, flow: bool) -> str:
    text = yaml.dump(value, Dumper=_ParamDumper, default_flow_style=flow, sort_keys=False,
                     width=1 << 30)
    if text.endswith('\n...\n'):  # the end marker yaml.dump writes after a bare scalar
        text = text[:-len('...\n')]
    return text.strip() if flow else text


def param_value_yaml(value) -> str:
    """Return a parameter value as the one-line YAML that rcl reads after `-p name:=`."""
    return _dump(value, flow=True)


def write_params_file(path, values: Dict[str, object], node_name: str = '/**') -> Path:
    """
    Write a ROS parameter file that sets `values` on `node_name` (`/**`: any node).

    Written to a temporary name and renamed, so a node never reads half a file.
    """
    path = Path(path)
    partial = path.with_name('.%s.partial' % path.name)
    partial.write_text(_dump({node_name: {'ros__parameters': dict(values)}}, flow=False))
    os.replace(str(partial), str(path))
    return path


def to_stamp(ns: int) -> Time:
    sec, nanosec = ns_to_sec_nanosec(ns)
    return Time(sec=sec, nanosec=nanosec)


def mask_array(msg: Image) -> np.ndarray:
    """Return a mono8 / rgb8 Image's pixels. Shape: (H, W) or (H, W, 3), uint8."""
    channels = msg.step // msg.width
    data = np.frombuffer(msg.data, np.uint8).reshape(msg.height, msg.step)
    pixels = data[:, :msg.width * channels]
    return pixels.reshape(msg.height, msg.width, channels) if channels > 1 else pixels


class SegmentationProbe:
    """
    Publisher of camera frames and collector of a segmentation node's outputs.

    camera_topics: the node's input topics (absolute names). qos_reliable: publish reliably
    (else best effort). Use as a context manager, or call `close()`.
    """

    _count = 0

    def __init__(self, camera_topics: Sequence[str], input_type: str = 'raw',
                 qos_reliable: bool = True, depth: int = 5, name: Optional[str] = None,
                 color_masks: bool = False):
        self.camera_topics = list(camera_topics)
        self.context = Context()
        rclpy.init(context=self.context)
        SegmentationProbe._count += 1
        name = name or 'segmentation_probe_%d_%d' % (os.getpid(), SegmentationProbe._count)
        self.node = Node(name, context=self.context)
        self._cond = threading.Condition()
        self.masks: Dict[Tuple[str, int], Image] = {}
        self.mask_arrival_ns: Dict[Tuple[str, int], int] = {}
        self.color_masks: Dict[Tuple[str, int], Image] = {}
        self.labels: Dict[str, str] = {}
        self.diagnostics: List[DiagnosticArray] = []
        self.input_type = input_type
        self._out_qos = QoSProfile(depth=10, history=HistoryPolicy.KEEP_LAST,
                                   reliability=ReliabilityPolicy.RELIABLE)
        msg_type = Image if input_type == 'raw' else CompressedImage
        qos = QoSProfile(depth=depth, history=HistoryPolicy.KEEP_LAST,
                         reliability=(ReliabilityPolicy.RELIABLE if qos_reliable
                                      else ReliabilityPolicy.BEST_EFFORT))
        out_qos = self._out_qos
        latched = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST,
                             reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.publishers = []
        self._subscriptions = []
        for topic in self.camera_topics:
            self.publishers.append(self.node.create_publisher(msg_type, topic, qos))
            ns = camera_namespace(topic, input_type)
            self._subscriptions.append(self.node.create_subscription(
                Image, output_topic(ns, 'mask'),
                lambda msg, t=topic: self._on_mask(self.masks, t, msg), out_qos))
            if color_masks:
                self.subscribe_color(topic)
            self._subscriptions.append(self.node.create_subscription(
                String, output_topic(ns, 'labels'),
                lambda msg, t=topic: self._on_labels(t, msg), latched))
        self._subscriptions.append(self.node.create_subscription(
            DiagnosticArray, '/diagnostics', self._on_diagnostics, 10))
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self._spin_thread = threading.Thread(target=self._spin, name='probe_spin', daemon=True)
        self._spin_thread.start()

    def subscribe_color(self, topic: str):
        """Subscribe to the colour mask of camera `topic` (the node publishes it from now)."""
        ns = camera_namespace(topic, self.input_type)
        sub = self.node.create_subscription(
            Image, output_topic(ns, 'color_mask'),
            lambda msg, t=topic: self._on_mask(self.color_masks, t, msg), self._out_qos)
        self._subscriptions.append(sub)
        return sub

    # Callbacks -------------------------------------------------------------------------------
    def _spin(self) -> None:
        while self.context.ok():
            try:
                self.executor.spin_once(timeout_sec=0.05)
            except Exception:  # the context shut down while spinning: end the thread
                if self.context.ok():
                    raise
                return

    def _on_mask(self, store, topic: str, msg: Image) -> None:
        now = int(time.time() * 1e9)  # time.time_ns needs Python 3.7
        with self._cond:
            key = (topic, stamp_to_ns(msg.header.stamp))
            store[key] = msg
            if store is self.masks:
                self.mask_arrival_ns[key] = now
            self._cond.notify_all()

    def _on_labels(self, topic: str, msg: String) -> None:
        with self._cond:
            self.labels[topic] = msg.data
            self._cond.notify_all()

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        with self._cond:
            self.diagnostics.append(msg)
            self._cond.notify_all()

    # Publishing ------------------------------------------------------------------------------
    def now_ns(self) -> int:
        return self.node.get_clock().now().nanoseconds

    def frame_message(self, frame: np.ndarray, encoding: str = 'bgr8', frame_id: str = 'camera',
                      stamp: Optional[int] = None) -> Image:
        """Return an Image of `frame` (H, W, C) uint8, stamped now unless `stamp` (ns) is given."""
        msg = Image(**array_to_image_fields(frame, encoding))
        msg.header.frame_id = frame_id
        msg.header.stamp = to_stamp(self.now_ns() if stamp is None else stamp)
        return msg

    def publish(self, camera: int, msg) -> int:
        """Publish a prepared message on camera `camera`; return its stamp in ns."""
        self.publishers[camera].publish(msg)
        return stamp_to_ns(msg.header.stamp)

    def publish_frame(self, camera: int, frame: np.ndarray, encoding: str = 'bgr8',
                      frame_id: Optional[str] = None) -> int:
        """Stamp `frame` now and publish it; return the stamp in ns."""
        msg = self.frame_message(frame, encoding, frame_id or 'camera%d' % camera)
        return self.publish(camera, msg)

    # Waiting ---------------------------------------------------------------------------------
    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until predicate() (evaluated under the probe's lock) holds; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def wait_for_subscribers(self, timeout: float = 20.0) -> bool:
        """Wait until the node subscribes to every camera topic (discovery is done)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(p.get_subscription_count() > 0 for p in self.publishers):
                return True
            time.sleep(0.02)
        return False

    def handshake(self, camera: int, make_msg: Callable[[], object], timeout: float = 30.0,
                  period: float = 1.0) -> bool:
        """
        Publish `make_msg()` every `period` s until a mask for one of them comes back.

        Discovery is not symmetric: the probe can see the node's subscription before the node
        knows the probe's publisher, and a sample sent then is lost. After a handshake both
        directions are matched.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            stamp = self.publish(camera, make_msg())
            if self.wait_for_mask(camera, stamp, min(period, deadline - time.monotonic())):
                return True
        return False

    def wait_for_mask(self, camera: int, stamp: int, timeout: float = 10.0) -> Optional[Image]:
        key = (self.camera_topics[camera], stamp)
        self.wait_until(lambda: key in self.masks, timeout)
        with self._cond:
            return self.masks.get(key)

    def wait_for_color_mask(self, camera: int, stamp: int,
                            timeout: float = 10.0) -> Optional[Image]:
        key = (self.camera_topics[camera], stamp)
        self.wait_until(lambda: key in self.color_masks, timeout)
        with self._cond:
            return self.color_masks.get(key)

    def wait_for_diagnostics(self, predicate: Callable[[DiagnosticArray], bool],
                             timeout: float = 10.0) -> Optional[DiagnosticArray]:
        """Return the first diagnostics message (received so far or later) satisfying predicate."""
        found: List[DiagnosticArray] = []

        def check() -> bool:
            for msg in self.diagnostics:
                if predicate(msg):
                    found.append(msg)
                    return True
            return False

        self.wait_until(check, timeout)
        return found[0] if found else None

    def get_parameters(self, node_name: str, names: Sequence[str],
                       timeout: float = 10.0) -> Optional[Dict[str, object]]:
        """Values of a node's parameters via its get_parameters service (None on timeout)."""
        from fxseg_ros.ros.compat import parameter_value_to_python  # not in Foxy's rclpy
        from rcl_interfaces.srv import GetParameters

        client = self.node.create_client(GetParameters, node_name + '/get_parameters')
        try:
            if not client.wait_for_service(timeout_sec=timeout):
                return None
            future = client.call_async(GetParameters.Request(names=list(names)))
            done = threading.Event()
            future.add_done_callback(lambda _: done.set())
            if not done.wait(timeout):
                return None
            return {name: parameter_value_to_python(value)
                    for name, value in zip(names, future.result().values)}
        finally:
            self.node.destroy_client(client)

    def set_parameters(self, node_name: str, values: Dict[str, object],
                       timeout: float = 10.0) -> Optional[List[Tuple[bool, str]]]:
        """Set a node's parameters one by one; (successful, reason) each (None on timeout)."""
        from rcl_interfaces.srv import SetParameters
        from rclpy.parameter import Parameter

        client = self.node.create_client(SetParameters, node_name + '/set_parameters')
        try:
            if not client.wait_for_service(timeout_sec=timeout):
                return None
            request = SetParameters.Request(parameters=[
                Parameter(name, value=value).to_parameter_msg()
                for name, value in values.items()])
            future = client.call_async(request)
            done = threading.Event()
            future.add_done_callback(lambda _: done.set())
            if not done.wait(timeout):
                return None
            return [(r.successful, r.reason) for r in future.result().results]
        finally:
            self.node.destroy_client(client)

    def close(self) -> None:
        try:
            self.executor.shutdown(timeout_sec=1.0)
            self.node.destroy_node()
        finally:
            rclpy.try_shutdown(context=self.context)
            self._spin_thread.join(timeout=2.0)

    def __enter__(self) -> 'SegmentationProbe':
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def status_dict(array: DiagnosticArray, name: str) -> Optional[Dict[str, str]]:
    """Return the key-values of the status called `name` in a DiagnosticArray (None if absent)."""
    for status in array.status:
        if status.name == name:
            values = {kv.key: kv.value for kv in status.values}
            values['_level'] = str(ord(status.level) if isinstance(status.level, bytes)
                                   else status.level)
            values['_message'] = status.message
            return values
    return None
