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

The reader matches frames and labels by header stamp while streaming (memory bounded by a short
horizon, not by the bag's length) and counts frames without a label instead of failing.
"""

from __future__ import annotations

import collections
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from fxseg_ros.data.preprocess import CAMERA_WH

LOG = logging.getLogger(__name__)

IMAGE_TYPE = 'sensor_msgs/msg/Image'
COMPRESSED_TYPE = 'sensor_msgs/msg/CompressedImage'
STRING_TYPE = 'std_msgs/msg/String'
CAMERA_TYPES = (IMAGE_TYPE, COMPRESSED_TYPE)
#: Topic with the lighting condition of the frames (std_msgs/String).
CONDITION_TOPIC = '/fxseg/condition'
#: First stamp of a written bag: 2026-01-01T00:00:00Z, so stamps look like a real drive.
DEFAULT_START_NS = 1767225600 * 10**9
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
_NON_CAMERA_SUFFIXES = ('/labels', '/mask', '/segmentation/mask', '/segmentation/color')


class BagError(RuntimeError):
    """A bag cannot be read as asked; the message lists what the bag holds."""


def get_typestore():
    """Return the newest ROS 2 message typestore `rosbags` ships (Kilted or later)."""
    from rosbags.typesys import Stores, get_typestore as _get

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
    """The camera topic of a namespace, image_transport style."""
    return namespace.rstrip('/') + ('/image_raw/compressed' if compressed else '/image_raw')


def camera_namespace_of(image_topic: str) -> str:
    """
    The camera namespace of an image topic: '/cam0/image_raw/compressed' -> '/cam0'.

    The label topic of a camera is `<namespace>/labels`, the node's mask topic
    `<namespace>/segmentation/mask`.
    """
    topic = image_topic.rstrip('/')
    for suffix in ('/compressed', '/image_raw', '/image_rect_color', '/image_color', '/image'):
        if topic.endswith(suffix):
            topic = topic[:-len(suffix)]
    return topic or '/'


def label_topic_for(image_topic: str) -> str:
    """The ground-truth label topic that belongs to an image topic."""
    return camera_namespace_of(image_topic).rstrip('/') + '/labels'


def stamp_to_ns(stamp) -> int:
    """builtin_interfaces/Time (sec, nanosec) -> integer nanoseconds."""
    return int(stamp.sec) * 10**9 + int(stamp.nanosec)


# Decoding -----------------------------------------------------------------------------------
def decode_image(msg) -> np.ndarray:
    """
    Decode a sensor_msgs Image (bgr8, rgb8, bgra8, rgba8, mono8) or CompressedImage to BGR.

    The node decodes with `fxseg_ros.pipeline.convert`; this decoder serves the data layer
    (calibration readers, tests). Returns shape (H, W, 3), uint8, BGR.
    """
    if hasattr(msg, 'format'):
        buf = np.frombuffer(bytes(msg.data) if not isinstance(msg.data, np.ndarray)
                            else msg.data, dtype=np.uint8)
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR) if buf.size else None
        if img is None:
            raise BagError('could not decode a %r CompressedImage of %d bytes'
                           % (msg.format, buf.size))
        return img
    channels = {'bgr8': 3, 'rgb8': 3, 'bgra8': 4, 'rgba8': 4, 'mono8': 1, '8UC1': 1,
                '8UC3': 3}
    enc = msg.encoding
    if enc not in channels:
        raise BagError('unsupported image encoding %r (expected one of %s)'
                       % (enc, ', '.join(sorted(channels))))
    img = _image_rows(msg, channels[enc])
    if enc == 'rgb8':
        return img[..., ::-1].copy()
    if enc == 'bgra8':
        return np.ascontiguousarray(img[..., :3])
    if enc == 'rgba8':
        return img[..., 2::-1].copy()
    if channels[enc] == 1:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    return img


def decode_labels(msg) -> np.ndarray:
    """Decode a mono8 label image. Returns shape (H, W), uint8."""
    if msg.encoding not in ('mono8', '8UC1'):
        raise BagError('label images must be mono8, got encoding %r' % msg.encoding)
    return _image_rows(msg, 1)


def _image_rows(msg, channels: int) -> np.ndarray:
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    data = np.asarray(msg.data, dtype=np.uint8).ravel()
    if h == 0 or w == 0:
        raise BagError('image of size %dx%d' % (w, h))
    if step < w * channels or data.size < step * h:
        raise BagError('image data of %d bytes is too short for %dx%d %s (step %d)'
                       % (data.size, w, h, msg.encoding, step))
    rows = data[:step * h].reshape(h, step)[:, :w * channels]
    img = rows.reshape(h, w, channels) if channels > 1 else rows.reshape(h, w)
    return np.ascontiguousarray(img)


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
        sec, nsec = divmod(int(stamp_ns), 10**9)
        return self._Header(stamp=self._Time(sec=sec, nanosec=nsec), frame_id=frame_id)

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

    def write_frame(self, namespace: str, stamp_ns: int, bgr: np.ndarray,
                    labels: Optional[np.ndarray] = None) -> None:
        """Write one frame (and its labels, same stamp) of a registered camera."""
        namespace = '/' + namespace.strip('/')
        if namespace not in self._cameras:
            raise ValueError('camera %s was not added (known: %s)'
                             % (namespace, ', '.join(self._cameras) or 'none'))
        img_conn, lbl_conn, compressed, frame_id = self._cameras[namespace]
        self._write(img_conn, stamp_ns, self.image_message(bgr, stamp_ns, frame_id, compressed),
                    COMPRESSED_TYPE if compressed else IMAGE_TYPE)
        if labels is not None:
            if lbl_conn is None:
                raise ValueError('camera %s was added without a label topic' % namespace)
            if labels.shape[:2] != bgr.shape[:2]:
                raise ValueError('labels %s and frame %s differ in size'
                                 % (labels.shape, bgr.shape[:2]))
            self._write(lbl_conn, stamp_ns, self.label_message(labels, stamp_ns, frame_id),
                        IMAGE_TYPE)

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
    Write a bag of synthetic drives: one sequence per condition, stamps at `spec.rate_hz`.

    Each camera drives its own sequence with the same stamps. The condition is written on
    CONDITION_TOPIC with every frame stamp, so a player that starts mid-bag still knows it.
    frame_source(seed, camera, condition, count, size_wh, fps) -> iterable of (bgr, labels)
    replaces `synthetic_sequence` (tests use it).
    """
    spec = spec or BagSpec()
    source = frame_source or synthetic_sequence
    start = time.perf_counter()
    period_ns = int(round(1e9 / spec.rate_hz))
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
    LOG.info('wrote %s: %d frames in %.1f s', path, total, summary.seconds)
    return summary


# Reading ------------------------------------------------------------------------------------
@dataclass
class BagFrame:
    """
    One camera frame of a bag with its ground truth.

    msg: the deserialized camera message (sensor_msgs Image or CompressedImage fields).
    labels: shape (H, W), uint8, or None when the bag has no label with this stamp.
    """

    stamp_ns: int
    topic: str
    msg: object
    labels: Optional[np.ndarray] = None
    condition: Optional[str] = None
    index: int = 0

    def bgr(self, decoder: Optional[Callable] = None) -> np.ndarray:
        """Decode the frame (default: `decode_image`). Returns shape (H, W, 3), uint8, BGR."""
        return (decoder or decode_image)(self.msg)


def _metadata_topics(path: Path) -> Dict[str, Tuple[str, int]]:
    """Topics listed in a bag's metadata.yaml (works when the storage file is damaged)."""
    import yaml

    meta = path / 'metadata.yaml' if path.is_dir() else path.parent / 'metadata.yaml'
    try:
        info = yaml.safe_load(meta.read_text())['rosbag2_bagfile_information']
        return {t['topic_metadata']['name']: (t['topic_metadata']['type'],
                                              int(t.get('message_count', 0)))
                for t in info.get('topics_with_message_count', [])}
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError):
        return {}


def format_topics(topics: Dict[str, Tuple[str, int]]) -> str:
    """Topic table for error messages."""
    if not topics:
        return '  (no topics could be read)'
    return '\n'.join('  %-40s %-32s %d msgs' % (t, ty, n) for t, (ty, n) in sorted(topics.items()))


def list_topics(path) -> Dict[str, Tuple[str, int]]:
    """Topic -> (message type, message count) of a bag."""
    with _open_reader(Path(path)) as reader:
        return {t: (info.msgtype, info.msgcount) for t, info in reader.topics.items()}


def find_camera_topics(topics: Dict[str, Tuple[str, int]]) -> List[str]:
    """Image / CompressedImage topics that are camera frames (not labels or masks)."""
    return sorted(t for t, (ty, _) in topics.items()
                  if ty in CAMERA_TYPES and not t.endswith(_NON_CAMERA_SUFFIXES))


class _ReaderContext:
    def __init__(self, path: Path):
        from rosbags.rosbag2 import Reader

        self.path = path
        if not path.exists():
            raise BagError('bag %s does not exist' % path)
        try:
            self.reader = Reader(path)
            self.reader.open()
        except Exception as err:  # rosbags raises ReaderError, OSError, KeyError, ...
            raise BagError('cannot open bag %s (%s: %s); it may be corrupt or incomplete.\n'
                           'Topics in its metadata.yaml:\n%s'
                           % (path, type(err).__name__, err,
                              format_topics(_metadata_topics(path)))) from err

    def __enter__(self):
        return self.reader

    def __exit__(self, exc_type, exc, tb):
        self.reader.close()


def _open_reader(path: Path) -> _ReaderContext:
    return _ReaderContext(path)


@dataclass
class ReadStats:
    """Counts of a pass over a bag."""

    frames: int = 0
    frames_without_label: int = 0
    labels_without_frame: int = 0
    frames_without_condition: int = 0


class BagFrameReader:
    """
    Iterate over the frames of one camera topic with their labels and lighting conditions.

    path: bag directory (or .mcap / .db3 file). image_topic: default the only camera topic.
    label_topic: default `<camera ns>/labels` when the bag has it (None: no labels).
    A frame whose label has not arrived within `horizon_s` of bag time is yielded with
    labels=None and counted in `stats.frames_without_label`.
    """

    def __init__(self, path, image_topic: Optional[str] = None,
                 label_topic: Optional[str] = '', condition_topic: Optional[str] = CONDITION_TOPIC,
                 max_frames: Optional[int] = None, conditions: Optional[Sequence[str]] = None,
                 horizon_s: float = 1.0):
        self.path = Path(path)
        self.topics = list_topics(self.path)
        cameras = find_camera_topics(self.topics)
        if image_topic is None:
            if len(cameras) != 1:
                raise BagError('bag %s has %s camera topics; choose one with --image-topic.\n'
                               'Topics in the bag:\n%s'
                               % (self.path, len(cameras) or 'no',
                                  format_topics(self.topics)))
            image_topic = cameras[0]
        self._require(image_topic, CAMERA_TYPES, 'camera')
        if label_topic == '':
            label_topic = label_topic_for(image_topic)
            if label_topic not in self.topics:
                LOG.warning('bag %s has no %s: frames are read without ground truth',
                            self.path, label_topic)
                label_topic = None
        if label_topic is not None:
            self._require(label_topic, (IMAGE_TYPE,), 'label')
        if condition_topic is not None and condition_topic not in self.topics:
            condition_topic = None
        elif condition_topic is not None:
            self._require(condition_topic, (STRING_TYPE,), 'condition')
        self.image_topic = image_topic
        self.label_topic = label_topic
        self.condition_topic = condition_topic
        self.max_frames = max_frames
        self.conditions = set(conditions) if conditions else None
        self.horizon_ns = int(horizon_s * 1e9)
        self.stats = ReadStats()

    def _require(self, topic: str, types: Sequence[str], role: str) -> None:
        if topic not in self.topics:
            raise BagError('bag %s has no %s topic %s.\nTopics in the bag:\n%s'
                           % (self.path, role, topic, format_topics(self.topics)))
        if self.topics[topic][0] not in types:
            raise BagError('%s topic %s carries %s, expected %s.\nTopics in the bag:\n%s'
                           % (role, topic, self.topics[topic][0], ' or '.join(types),
                              format_topics(self.topics)))

    @property
    def compressed(self) -> bool:
        return self.topics[self.image_topic][0] == COMPRESSED_TYPE

    def __len__(self) -> int:
        """Camera messages on the topic (capped by max_frames); before condition filtering."""
        n = self.topics[self.image_topic][1]
        return min(n, self.max_frames) if self.max_frames else n

    def __iter__(self) -> Iterator[BagFrame]:
        self.stats = ReadStats()
        emitted = 0
        for frame in self._frames():
            if self.conditions is not None and frame.condition not in self.conditions:
                continue
            frame.index = emitted
            yield frame
            emitted += 1
            if self.max_frames and emitted >= self.max_frames:
                return

    def _frames(self) -> Iterator[BagFrame]:
        with _open_reader(self.path) as reader:
            store = get_typestore()
            wanted = {self.image_topic, self.label_topic, self.condition_topic} - {None}
            conns = [c for c in reader.connections if c.topic in wanted]
            # Frames waiting for their label: stamp -> (log time, frame); labels waiting for
            # their frame: stamp -> (log time, labels). Both stay within `horizon_ns`.
            pending: 'collections.OrderedDict[int, Tuple[int, BagFrame]]' = \
                collections.OrderedDict()
            labels: 'collections.OrderedDict[int, Tuple[int, np.ndarray]]' = \
                collections.OrderedDict()
            cond_log: 'collections.deque[Tuple[int, str]]' = collections.deque()
            current_cond: Optional[str] = None
            try:
                for conn, log_ns, raw in reader.messages(connections=conns):
                    msg = store.deserialize_cdr(raw, conn.msgtype)
                    if conn.topic == self.condition_topic:
                        cond_log.append((log_ns, msg.data))
                    elif conn.topic == self.label_topic:
                        stamp = stamp_to_ns(msg.header.stamp)
                        if stamp in pending:
                            pending[stamp][1].labels = decode_labels(msg)
                        else:
                            labels[stamp] = (log_ns, decode_labels(msg))
                    else:
                        stamp = stamp_to_ns(msg.header.stamp)
                        frame = BagFrame(stamp_ns=stamp, topic=conn.topic, msg=msg)
                        if stamp in labels:
                            frame.labels = labels.pop(stamp)[1]
                        pending[stamp] = (log_ns, frame)
                        pending.move_to_end(stamp)
                    # Release the oldest frames once their label is in and no condition logged
                    # at their time can still come (messages arrive in log-time order), or
                    # once the horizon has passed.
                    while pending:
                        frame_log, frame = next(iter(pending.values()))
                        expired = log_ns - frame_log > self.horizon_ns
                        label_ok = frame.labels is not None or self.label_topic is None
                        cond_ok = self.condition_topic is None or log_ns > frame_log
                        if not (expired or (label_ok and cond_ok)):
                            break
                        pending.popitem(last=False)
                        current_cond = self._condition_at(cond_log, frame_log, current_cond)
                        yield self._finish(frame, current_cond)
                    while labels and log_ns - next(iter(labels.values()))[0] > self.horizon_ns:
                        labels.popitem(last=False)
                        self.stats.labels_without_frame += 1
            except BagError:
                raise
            except Exception as err:  # a damaged chunk or row surfaces while iterating
                raise BagError('bag %s is corrupt: reading failed after %d frames (%s: %s).\n'
                               'Topics in the bag:\n%s'
                               % (self.path, self.stats.frames, type(err).__name__, err,
                                  format_topics(self.topics))) from err
            for frame_log, frame in pending.values():
                current_cond = self._condition_at(cond_log, frame_log, current_cond)
                yield self._finish(frame, current_cond)
            self.stats.labels_without_frame += len(labels)

    @staticmethod
    def _condition_at(cond_log, log_ns: int, current: Optional[str]) -> Optional[str]:
        while cond_log and cond_log[0][0] <= log_ns:
            current = cond_log.popleft()[1]
        return current

    def _finish(self, frame: BagFrame, condition: Optional[str]) -> BagFrame:
        frame.condition = condition
        self.stats.frames += 1
        if frame.labels is None and self.label_topic is not None:
            self.stats.frames_without_label += 1
        if condition is None and self.condition_topic is not None:
            self.stats.frames_without_condition += 1
        return frame


def iter_bag_images(path, image_topic: Optional[str] = None, max_frames: Optional[int] = None,
                    conditions: Optional[Sequence[str]] = None,
                    stride: int = 1) -> Iterator[np.ndarray]:
    """
    Yield decoded BGR frames (shape (H, W, 3), uint8) of a bag's camera topic.

    conditions: only frames recorded under these lighting conditions; stride: every n-th of
    them; max_frames: stop after this many. The calibration reader
    `fxseg_ros.data.readers.BagCalibrationReader` is built on it.
    """
    reader = BagFrameReader(path, image_topic=image_topic, label_topic=None,
                            conditions=conditions)
    taken = 0
    for frame in reader:
        if frame.index % max(1, stride):
            continue
        yield frame.bgr()
        taken += 1
        if max_frames and taken >= max_frames:
            return
