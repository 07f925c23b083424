# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The segmentation node's camera side: subscriptions, frame slots, outputs, the no-frames warning.

Per camera (`camera_topics`), in the camera's namespace, while the node is active:
- subscribes `<topic>` (sensor_msgs/Image, or CompressedImage with input_type compressed);
- publishes `segmentation/mask` (mono8 class IDs at the frame's resolution, the input header
  unchanged), `segmentation/color_mask` (rgb8) and `segmentation/overlay` (the frame blended
  with the colour mask; bgr8 for bgr8 input, rgb8 otherwise), both only computed while
  subscribed, and `segmentation/labels` (std_msgs/String YAML label table, transient local).

The subscription callback (executor thread) does cheap header checks and puts the message into
its camera's one-frame slot: the latest frame wins, a replaced frame counts as dropped.
"""


import time
from typing import Dict, List, Optional, Tuple

from fxseg_ros.data.stamps import stamp_to_ns
from fxseg_ros.pipeline.convert import (array_to_image_fields, CHECKS, colorize_to_image_fields,
                                        FrameRejected, labels_to_image_fields, REJECT_REASONS)
from fxseg_ros.pipeline.overlay import blend_overlay
from fxseg_ros.ros import compat
from fxseg_ros.ros import params as P
from fxseg_ros.ros.diagnostics import CameraStats, STAGES
from fxseg_ros.ros.transport import no_frames_advice
from rclpy.qos import (DurabilityPolicy, HistoryPolicy, qos_policy_name_from_kind,
                       qos_profile_sensor_data, QoSProfile, ReliabilityPolicy)
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import String

#: Node-level reasons a frame is rejected, besides the message ones of fxseg_ros.pipeline.convert.
STAMP_REASONS = ('stale', 'future_stamp')
ALL_REASONS = REJECT_REASONS + STAMP_REASONS
_REJECT_LOG_PERIOD_S = 5.0


class StartupError(RuntimeError):
    """The node cannot start; the message says why and what to change."""


def subscription_qos(name: str, depth: int) -> QoSProfile:
    """Return the QoS of the camera subscriptions: 'sensor_data' (best effort) or 'reliable'."""
    if name == 'sensor_data':
        qos = QoSProfile(depth=depth)
        qos.reliability = qos_profile_sensor_data.reliability
        qos.durability = qos_profile_sensor_data.durability
        qos.history = HistoryPolicy.KEEP_LAST
        return qos
    return QoSProfile(depth=depth, history=HistoryPolicy.KEEP_LAST,
                      reliability=ReliabilityPolicy.RELIABLE,
                      durability=DurabilityPolicy.VOLATILE)


class Camera:
    """One input topic: its slot, publishers, subscription and statistics."""

    def __init__(self, topic: str, namespace: str, stats: CameraStats):
        self.topic = topic
        self.namespace = namespace
        self.stats = stats
        self.pending = None  # (msg, receipt monotonic s, receipt ROS ns) or None
        self.mask_pub = None
        self.color_pub = None
        self.overlay_pub = None
        self.labels_pub = None
        self.subscription = None
        self.matched = None  # publishers matched (Iron and later), None where not reported
        self.reject_log: Dict[str, Tuple[float, int]] = {}

    def publishers(self):
        return [p for p in (self.mask_pub, self.color_pub, self.overlay_pub, self.labels_pub)
                if p is not None]


class CameraIO:
    """
    Creates and destroys the cameras of an active node and publishes their results.

    node: the segmentation node (rclpy Node); cfg: its validated parameters (read live for the
    live ones); wake: called when a fresh frame is in a slot.
    """

    def __init__(self, node, cfg: Dict[str, object], labels, palette, slot_lock, wake):
        self.node = node
        self.cfg = cfg
        self.labels = labels
        self.palette = palette
        self.lock = slot_lock
        self.wake = wake
        self.cameras: List[Camera] = []
        self._activated_at = None
        self._warned = set()

    # Creating ---------------------------------------------------------------------------------
    def create(self) -> List[Camera]:
        """Create the publishers and subscriptions of every camera (on_activate)."""
        cfg = self.cfg
        msg_type = Image if cfg['input_type'] == 'raw' else CompressedImage
        qos_in = subscription_qos(cfg['qos'], cfg['qos_depth'])
        qos_out = QoSProfile(depth=cfg['qos_depth'], history=HistoryPolicy.KEEP_LAST,
                             reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.VOLATILE)
        namespaces: Dict[str, str] = {}
        for topic in cfg['camera_topics']:
            cam = self._camera(topic, namespaces)
            node = self.node
            cam.mask_pub = node.create_publisher(Image, P.output_topic(cam.namespace, 'mask'),
                                                 qos_out)
            cam.color_pub = node.create_publisher(
                Image, P.output_topic(cam.namespace, 'color_mask'), qos_out)
            cam.overlay_pub = node.create_publisher(
                Image, P.output_topic(cam.namespace, 'overlay'), qos_out)
            cam.labels_pub = node.create_publisher(
                String, P.output_topic(cam.namespace, 'labels'),
                QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST,
                           reliability=ReliabilityPolicy.RELIABLE,
                           durability=DurabilityPolicy.TRANSIENT_LOCAL))
            cam.labels_pub.publish(String(data=self.labels.to_yaml()))
            cam.subscription = self._subscribe(msg_type, cam, qos_in)
            self.cameras.append(cam)
        self._activated_at = time.monotonic()
        self._warned = set()
        return self.cameras

    def _camera(self, topic: str, namespaces: Dict[str, str]) -> Camera:
        try:
            resolved = compat.resolve_topic_name(self.node, topic)
        except Exception as exc:  # rclpy raises its own validation errors here
            raise StartupError("parameter 'camera_topics': %r: %s" % (topic, exc)) from None
        ns = P.camera_namespace(resolved, self.cfg['input_type'])
        if ns in namespaces:
            raise StartupError("parameter 'camera_topics': %s and %s share the output "
                               'namespace %r' % (namespaces[ns], resolved, ns or '/'))
        namespaces[ns] = resolved
        return Camera(resolved, ns, CameraStats(resolved, self.cfg['stats_window'],
                                                reasons=ALL_REASONS))

    def _subscribe(self, msg_type, cam: Camera, qos: QoSProfile):
        logger = self.node.get_logger()

        def on_frame(msg):
            self.on_frame(cam, msg)

        def on_lost(info):
            cam.stats.on_lost(info.total_count_change)

        def on_matched(info):
            cam.matched = info.current_count

        def on_incompatible(info):
            policy = qos_policy_name_from_kind(info.last_policy_kind)
            hint = (" (the camera publishes best effort: set the node's parameter "
                    'qos:=sensor_data)' if policy == 'RELIABILITY' else '')
            logger.error("%s: a publisher offers QoS incompatible with this node's, no frames "
                         'will arrive from it; policy %s%s' % (cam.topic, policy, hint))

        # messages the middleware lost before they reached the node (best effort gaps), and
        # publishers matching, where this rclpy reports them (fxseg_ros.ros.compat)
        return compat.create_subscription(
            self.node, msg_type, cam.topic, on_frame, qos, message_lost=on_lost,
            incompatible_qos=on_incompatible, matched=on_matched)

    def destroy_subscriptions(self) -> None:
        """No new frames (first step of on_deactivate); frames waiting in slots are dropped."""
        for cam in self.cameras:
            if cam.subscription is not None:
                self.node.destroy_subscription(cam.subscription)
                cam.subscription = None
        with self.lock:
            for cam in self.cameras:
                cam.pending = None

    def destroy_publishers(self) -> None:
        """Destroy the outputs (after the worker stopped: nothing publishes any more)."""
        for cam in self.cameras:
            for pub in cam.publishers():
                self.node.destroy_publisher(pub)
            cam.mask_pub = cam.color_pub = cam.overlay_pub = cam.labels_pub = None
        self.cameras = []

    # Subscription callback (executor thread): cheap checks, then the slot ----------------------
    def on_frame(self, cam: Camera, msg) -> None:
        now_mono = time.monotonic()
        now_ns = self.node.get_clock().now().nanoseconds
        cam.stats.on_received(now_mono)
        try:
            CHECKS[self.cfg['input_type']](msg)
            self._check_stamp(msg.header.stamp, now_ns)
        except FrameRejected as exc:
            self.reject(cam, exc)
            return
        with self.lock:
            replaced = cam.pending is not None
            cam.pending = (msg, now_mono, now_ns)
        if replaced:
            cam.stats.on_dropped()
        self.wake()

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

    def reject(self, cam: Camera, exc: FrameRejected) -> None:
        """Count a rejected frame; log the first of each reason, then once per period."""
        cam.stats.on_rejected(exc.reason)
        now = time.monotonic()
        last, suppressed = cam.reject_log.get(exc.reason, (-1e9, 0))
        if now - last >= _REJECT_LOG_PERIOD_S:
            more = ' (and %d more since the last report)' % suppressed if suppressed else ''
            self.node.get_logger().warning('%s: frame rejected, %s: %s%s'
                                           % (cam.topic, exc.reason, exc, more))
            cam.reject_log[exc.reason] = (now, 0)
        else:
            cam.reject_log[exc.reason] = (last, suppressed + 1)

    # No frames: what to check (executor thread, from the node's timer) -----------------------
    def check_frames_arrive(self) -> None:
        """Warn once per camera that delivered no frame camera_match_timeout_s after activation."""
        timeout = self.cfg['camera_match_timeout_s']
        if timeout <= 0 or self._activated_at is None:
            return
        waited = time.monotonic() - self._activated_at
        if waited < timeout:
            return
        for cam in self.cameras:
            if cam.topic in self._warned or cam.stats.received > 0:
                continue
            self._warned.add(cam.topic)
            publishers = self.node.count_publishers(cam.topic)
            self.node.get_logger().warning(no_frames_advice(cam.topic, publishers, waited,
                                                            matched=cam.matched))

    # Publishing (worker thread) ---------------------------------------------------------------
    def publish(self, cam: Camera, msg, frame, labels, times: Tuple[float, int, float, float],
                timings_ms: Dict[str, float]) -> None:
        """
        Publish the mask (and, while subscribed, the colour mask and the overlay) of one frame.

        frame: the converted frame, shape (H, W, 3), uint8, BGR; labels: shape (H, W), uint8.
        times: (receipt monotonic s, receipt ROS ns, worker pickup monotonic s, convert ms).
        """
        recv_mono, recv_ns, pickup_mono, convert_ms = times
        t0 = time.monotonic()
        cam.mask_pub.publish(Image(header=msg.header, **labels_to_image_fields(labels)))
        color = self.cfg['publish_color_mask'] and cam.color_pub.get_subscription_count() > 0
        if color:
            cam.color_pub.publish(Image(header=msg.header, **colorize_to_image_fields(
                labels, self.palette)))
        if self.cfg['publish_overlay'] and cam.overlay_pub.get_subscription_count() > 0:
            bgr = getattr(msg, 'encoding', '') == 'bgr8'
            pixels = blend_overlay(frame, labels, self.palette, self.cfg['overlay_alpha'],
                                   rgb=not bgr)
            cam.overlay_pub.publish(Image(header=msg.header, **array_to_image_fields(
                pixels, 'bgr8' if bgr else 'rgb8')))
        done = time.monotonic()
        now_ns = self.node.get_clock().now().nanoseconds
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

    def take_pending(self) -> List[Tuple[Camera, tuple]]:
        """Every fresh frame, taken out of its slot (worker thread)."""
        with self.lock:
            taken = [(cam, cam.pending) for cam in self.cameras if cam.pending is not None]
            for cam, _ in taken:
                cam.pending = None
        return taken

    def first_pending_time(self) -> Optional[float]:
        with self.lock:
            times = [c.pending[1] for c in self.cameras if c.pending is not None]
        return min(times) if times else None

    def all_pending(self) -> bool:
        with self.lock:
            return all(c.pending is not None for c in self.cameras)
