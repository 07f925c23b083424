# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Recorded drives as rosbag2 files, written and read with `rosbags` (no ROS installation needed).

Layout of a bag written here: rosbag2 metadata version 8 by default (read by `ros2 bag` of
Humble, Jazzy and Kilted) or 9 (Jazzy and later; see BAG_VERSIONS), in the MCAP or sqlite3
storage, with the message definitions and type hashes of the ROS 2 message packages, so
`ros2 bag play` replays it as recorded:

- `<camera>/image_raw`: `sensor_msgs/msg/Image`, encoding `bgr8`; or, when compressed,
  `<camera>/image_raw/compressed`: `sensor_msgs/msg/CompressedImage`, format `jpeg`
  (image_transport's naming). `<camera>` is `/camera` for one camera, `/cam0`, `/cam1`, ... for
  several; all cameras share the frame stamps.
- `<camera>/labels`: `sensor_msgs/msg/Image`, `mono8`, Cityscapes train IDs (255 = ignore), the
  same `header.stamp` as the frame it labels.
- `/fxseg/condition`: `std_msgs/msg/String` with the lighting condition ('day', 'dusk', 'night').
  `std_msgs/String` has no header, so the message is logged at the receive time equal to the
  frame stamp; a frame's condition is the last condition message logged at or before its stamp.

This module names the topics and writes bags; `fxseg_ros.data.bag_reader` reads them.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
import logging
from pathlib import Path
import time
from typing import Callable, Dict, List, Optional, Tuple

from fxseg_ros.data.sizes import CAMERA_WH
from fxseg_ros.data.stamps import NS_PER_S, ns_to_sec_nanosec
import numpy as np

LOG = logging.getLogger(__name__)

IMAGE_TYPE = 'sensor_msgs/msg/Image'
COMPRESSED_TYPE = 'sensor_msgs/msg/CompressedImage'
STRING_TYPE = 'std_msgs/msg/String'
CAMERA_TYPES = (IMAGE_TYPE, COMPRESSED_TYPE)
#: Topic with the lighting condition of the frames (std_msgs/String).
CONDITION_TOPIC = '/fxseg/condition'
#: First stamp of a written bag: 2026-01-01T00:00:00Z, so stamps look like a real drive.
DEFAULT_START_NS = 1767225600 * NS_PER_S
STORAGES = ('mcap', 'sqlite3')
#: rosbag2 metadata versions written here (rosbags writes 8 and 9). Humble's rosbag2 decodes any
#: version but reads `offered_qos_profiles` as one YAML string, which version 9 turned into a
#: list of mappings: Humble fails on a version-9 bag ("Exception on parsing info file") and
#: reads a version-8 one (github:ros2/rosbag2 humble rosbag2_storage/src/rosbag2_storage/
#: metadata_io.cpp, convert<TopicMetadata>::decode); Jazzy and rolling (Kilted) read 5 to 9
#: (jazzy and rolling rosbag2_storage/include/rosbag2_storage/yaml.hpp). Humble's default
#: storage plugin is sqlite3; MCAP needs ros-humble-rosbag2-storage-mcap there
#: (humble rosbag2/package.xml, rosbag2_storage/src/rosbag2_storage/default_storage_id.cpp).
BAG_VERSIONS = (8, 9)
#: The version every supported distro's `ros2 bag play` reads.
DEFAULT_BAG_VERSION = 8
#: Suffixes of topics that carry label images rather than camera frames.
NON_CAMERA_SUFFIXES = ('/labels', '/mask', '/segmentation/mask', '/segmentation/color')


class BagError(RuntimeError):
    """A bag cannot be read as asked; the message lists what the bag holds."""


def get_typestore():
    """Return the newest ROS 2 message typestore `rosbags` ships (Kilted or later)."""
    from rosbags.typesys import get_typestore as _get
    from rosbags.typesys import Stores

    for name in ('ROS2_LYRICAL', 'ROS2_KILTED', 'ROS2_JAZZY', 'LATEST'):
        store = getattr(Stores, name, None)
        if store is not None:
            return _get(store)
    raise BagError('rosbags ships no ROS 2 typestore; upgrade rosbags (>= 0.9.15)')


def camera_namespaces(cameras: int) -> List[str]:
    """Camera namespaces for `cameras` cameras: ['/camera'] or ['/cam0', '/cam1', ...]."""
    if cameras < 1:
        raise ValueError('need at least one camera, got %d' % cameras)
    return ['/camera'] if cameras == 1 else ['/cam%d' % i for i in range(cameras)]


def image_topic_for(namespace: str, compressed: bool = False) -> str:
    """Return the camera topic of a namespace, image_transport style."""
    return namespace.rstrip('/') + ('/image_raw/compressed' if compressed else '/image_raw')


def camera_namespace_of(image_topic: str) -> str:
    """
    Return the camera namespace of an image topic: '/cam0/image_raw/compressed' -> '/cam0'.

    The label topic of a camera is `<namespace>/labels`, the node's mask topic
    `<namespace>/segmentation/mask`.
    """
    topic = image_topic.rstrip('/')
    for suffix in ('/compressed', '/image_raw', '/image_rect_color', '/image_color', '/image'):
        if topic.endswith(suffix):
            topic = topic[:-len(suffix)]
    return topic or '/'


def label_topic_for(image_topic: str) -> str:
    """Return the ground-truth label topic that belongs to an image topic."""
    return camera_namespace_of(image_topic).rstrip('/') + '/labels'


# Writing ------------------------------------------------------------------------------------
class BagWriter:
    """
    Write camera frames, ground-truth labels and lighting conditions to a new rosbag2.

    Use as a context manager::

        with BagWriter(path, storage='mcap') as bag:
            bag.add_camera('/camera', compressed=False)
            bag.write_frame('/camera', stamp_ns, bgr, labels)
            bag.write_condition(stamp_ns, 'day')
    """

    def __init__(self, path, storage: str = 'mcap', jpeg_quality: int = 90,
                 version: int = DEFAULT_BAG_VERSION):
        from rosbags.rosbag2 import StoragePlugin, Writer

        if storage not in STORAGES:
            raise ValueError('storage must be one of %s, got %r' % (STORAGES, storage))
        if version not in BAG_VERSIONS:
            raise ValueError('rosbag2 version must be one of %s, got %r' % (BAG_VERSIONS, version))
        self.path = Path(path)
        if self.path.exists():
            raise BagError('%s exists already; choose a new bag path' % self.path)
        self.storage = storage
        self.jpeg_quality = int(jpeg_quality)
        self.typestore = get_typestore()
        plugin = StoragePlugin.MCAP if storage == 'mcap' else StoragePlugin.SQLITE3
        self._writer = Writer(self.path, version=version, storage_plugin=plugin)
        self._cameras: Dict[str, Tuple[object, object, bool, str]] = {}
        self._condition_conn = None
        self._counts: Dict[str, int] = collections.Counter()
        self._types: Dict[str, str] = {}
        t = self.typestore.types
        self._Image = t[IMAGE_TYPE]
        self._Compressed = t[COMPRESSED_TYPE]
        self._Header = t['std_msgs/msg/Header']
        self._Time = t['builtin_interfaces/msg/Time']
        self._String = t[STRING_TYPE]

    def __enter__(self) -> 'BagWriter':
        self._writer.open()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._writer.close()

    def set_custom_data(self, key: str, value: str) -> None:
        """Store a key/value pair in metadata.yaml's custom_data."""
        self._writer.set_custom_data(key, str(value))

    def _connection(self, topic: str, msgtype: str):
        conn = self._writer.add_connection(topic, msgtype, typestore=self.typestore)
        self._types[topic] = msgtype
        return conn

    def add_camera(self, namespace: str, compressed: bool = False,
                   frame_id: Optional[str] = None, with_labels: bool = True) -> str:
        """Register a camera; returns its image topic."""
        namespace = '/' + namespace.strip('/')
        if namespace in self._cameras:
            raise ValueError('camera %s added twice' % namespace)
        image_topic = image_topic_for(namespace, compressed)
        img_conn = self._connection(image_topic, COMPRESSED_TYPE if compressed else IMAGE_TYPE)
        lbl_conn = (self._connection(namespace + '/labels', IMAGE_TYPE) if with_labels
                    else None)
        frame_id = frame_id or namespace.strip('/').replace('/', '_') + '_optical_frame'
        self._cameras[namespace] = (img_conn, lbl_conn, compressed, frame_id)
        return image_topic

    def _header(self, stamp_ns: int, frame_id: str):
        sec, nanosec = ns_to_sec_nanosec(stamp_ns)
        return self._Header(stamp=self._Time(sec=sec, nanosec=nanosec), frame_id=frame_id)

    def _write(self, conn, stamp_ns: int, msg, msgtype: str) -> None:
        self._writer.write(conn, int(stamp_ns), self.typestore.serialize_cdr(msg, msgtype))
        self._counts[conn.topic] += 1

    def image_message(self, bgr: np.ndarray, stamp_ns: int, frame_id: str,
                      compressed: bool = False):
        """Build the camera message for a BGR frame (shape (H, W, 3), uint8)."""
        bgr = np.ascontiguousarray(bgr, dtype=np.uint8)
        if bgr.ndim != 3 or bgr.shape[2] != 3:
            raise ValueError('frames must be (H, W, 3) uint8 BGR, got %s' % (bgr.shape,))
        header = self._header(stamp_ns, frame_id)
        if compressed:
            import cv2

            ok, buf = cv2.imencode('.jpg', bgr, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
            if not ok:
                raise BagError('JPEG encoding failed for a %s frame' % (bgr.shape,))
            return self._Compressed(header=header, format='jpeg', data=buf.ravel())
        h, w = bgr.shape[:2]
        return self._Image(header=header, height=h, width=w, encoding='bgr8', is_bigendian=0,
                           step=w * 3, data=bgr.reshape(-1))

    def label_message(self, labels: np.ndarray, stamp_ns: int, frame_id: str):
        """Build the mono8 label message (labels: shape (H, W), uint8)."""
        labels = np.ascontiguousarray(labels, dtype=np.uint8)
        if labels.ndim != 2:
            raise ValueError('labels must be (H, W) uint8, got %s' % (labels.shape,))
        h, w = labels.shape
        return self._Image(header=self._header(stamp_ns, frame_id), height=h, width=w,
                           encoding='mono8', is_bigendian=0, step=w, data=labels.reshape(-1))

    def _camera(self, namespace: str) -> Tuple[object, object, bool, str]:
        namespace = '/' + namespace.strip('/')
        if namespace not in self._cameras:
            raise ValueError('camera %s was not added (known: %s)'
                             % (namespace, ', '.join(self._cameras) or 'none'))
        return self._cameras[namespace]

    def write_image(self, namespace: str, stamp_ns: int, bgr: np.ndarray,
                    log_ns: Optional[int] = None) -> None:
        """
        Write one camera frame of a registered camera (BGR, shape (H, W, 3), uint8).

        log_ns: the bag's receive time (default: the header stamp, as a recorder next to the
        camera logs it).
        """
        img_conn, _, compressed, frame_id = self._camera(namespace)
        self._write(img_conn, stamp_ns if log_ns is None else log_ns,
                    self.image_message(bgr, stamp_ns, frame_id, compressed),
                    COMPRESSED_TYPE if compressed else IMAGE_TYPE)

    def write_labels(self, namespace: str, stamp_ns: int, labels: np.ndarray,
                     log_ns: Optional[int] = None) -> None:
        """Write the ground truth (shape (H, W), uint8) of the frame stamped `stamp_ns`."""
        _, lbl_conn, _, frame_id = self._camera(namespace)
        if lbl_conn is None:
            raise ValueError('camera %s was added without a label topic' % namespace)
        self._write(lbl_conn, stamp_ns if log_ns is None else log_ns,
                    self.label_message(labels, stamp_ns, frame_id), IMAGE_TYPE)

    def write_frame(self, namespace: str, stamp_ns: int, bgr: np.ndarray,
                    labels: Optional[np.ndarray] = None) -> None:
        """Write one frame (and its labels, same stamp) of a registered camera."""
        if labels is not None and labels.shape[:2] != bgr.shape[:2]:
            raise ValueError('labels %s and frame %s differ in size'
                             % (labels.shape, bgr.shape[:2]))
        self.write_image(namespace, stamp_ns, bgr)
        if labels is not None:
            self.write_labels(namespace, stamp_ns, labels)

    def write_condition(self, stamp_ns: int, condition: str) -> None:
        """Log the lighting condition that holds from `stamp_ns` on."""
        if self._condition_conn is None:
            self._condition_conn = self._connection(CONDITION_TOPIC, STRING_TYPE)
        self._write(self._condition_conn, stamp_ns, self._String(data=str(condition)),
                    STRING_TYPE)

    @property
    def topics(self) -> Dict[str, Tuple[str, int]]:
        """Topic -> (message type, messages written)."""
        return {t: (self._types[t], self._counts.get(t, 0)) for t in self._types}


@dataclass
class BagSpec:
    """What `write_synthetic_bag` writes."""

    storage: str = 'mcap'
    compressed: bool = False
    cameras: int = 1
    frames_per_condition: int = 20
    conditions: Tuple[str, ...] = ('day', 'night')
    seed: int = 0
    size_wh: Tuple[int, int] = CAMERA_WH
    rate_hz: float = 10.0
    jpeg_quality: int = 90
    start_ns: int = DEFAULT_START_NS
    version: int = DEFAULT_BAG_VERSION


@dataclass
class BagSummary:
    """What was written: path, storage, frames per camera, topics, bytes on disk."""

    path: Path
    storage: str
    frames_per_camera: int
    topics: Dict[str, Tuple[str, int]] = field(default_factory=dict)
    size_bytes: int = 0
    image_topics: List[str] = field(default_factory=list)
    seconds: float = 0.0


def synthetic_sequence(seed: int, camera: int, condition: str, count: int,
                       size_wh: Tuple[int, int], fps: float):
    """
    Yield (bgr, labels) of one synthetic drive with camera motion (data.synth).

    Camera `camera` of a bag drives its own sequence (sequence index = camera) of the
    generator seeded with `seed`, so cameras see different streets at the same stamps.
    """
    from fxseg_ros.data.synth import SceneGenerator

    gen = SceneGenerator(seed, size_wh=tuple(size_wh))
    for bgr, labels in gen.generate_sequence(camera, count, condition, fps=fps):
        yield bgr, labels


def write_synthetic_bag(path, spec: Optional[BagSpec] = None, progress: bool = False,
                        frame_source: Optional[Callable] = None) -> BagSummary:
    """
    Write a bag of synthetic drives (see `_write_synthetic_frames`) to the new folder `path`.

    The bag is built under a hidden staging folder and renamed to `path` once it is complete
    (`fxseg_ros.data.atomic`): an interrupted run leaves no bag that a reader would open.
    """
    from fxseg_ros.data.atomic import atomic_directory

    final = Path(path)
    if final.exists():
        raise BagError('%s exists already; choose a new bag path' % final)
    with atomic_directory(final) as staged:
        summary = _write_synthetic_frames(staged, spec, progress, frame_source)
    summary.path = final
    LOG.info('wrote %s: %d frames in %.1f s', final,
             summary.frames_per_camera * len(summary.image_topics), summary.seconds)
    return summary


def _write_synthetic_frames(path, spec: Optional[BagSpec] = None, progress: bool = False,
                            frame_source: Optional[Callable] = None) -> BagSummary:
    """
    Write a bag of synthetic drives: one sequence per condition, stamps at `spec.rate_hz`.

    Each camera drives its own sequence with the same stamps. The condition is written on
    CONDITION_TOPIC with every frame stamp, so a player that starts mid-bag still knows it.
    frame_source(seed, camera, condition, count, size_wh, fps) -> iterable of (bgr, labels)
    replaces `synthetic_sequence` (tests use it).
    """
    spec = spec or BagSpec()
    source = frame_source or synthetic_sequence
    start = time.perf_counter()
    period_ns = int(round(NS_PER_S / spec.rate_hz))
    namespaces = camera_namespaces(spec.cameras)
    total = spec.frames_per_condition * len(spec.conditions) * len(namespaces)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=total, unit='frame', desc='make-bag', dynamic_ncols=True)
    try:
        with BagWriter(path, storage=spec.storage, jpeg_quality=spec.jpeg_quality,
                       version=spec.version) as bag:
            bag.set_custom_data('fxseg.conditions', ','.join(spec.conditions))
            bag.set_custom_data('fxseg.seed', str(spec.seed))
            image_topics = [bag.add_camera(ns, compressed=spec.compressed) for ns in namespaces]
            stamp = spec.start_ns
            for condition in spec.conditions:
                streams = [iter(source(spec.seed, cam, condition, spec.frames_per_condition,
                                       tuple(spec.size_wh), spec.rate_hz))
                           for cam in range(len(namespaces))]
                for _ in range(spec.frames_per_condition):
                    bag.write_condition(stamp, condition)
                    for ns, stream in zip(namespaces, streams):
                        bgr, labels = next(stream)
                        bag.write_frame(ns, stamp, bgr, labels)
                        if bar is not None:
                            bar.update(1)
                    stamp += period_ns
            topics = bag.topics
    finally:
        if bar is not None:
            bar.close()
    size = sum(f.stat().st_size for f in Path(path).rglob('*') if f.is_file())
    summary = BagSummary(path=Path(path), storage=spec.storage,
                         frames_per_camera=spec.frames_per_condition * len(spec.conditions),
                         topics=topics, size_bytes=size, image_topics=image_topics,
                         seconds=time.perf_counter() - start)
    return summary
