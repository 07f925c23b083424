# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Reading recorded drives (rosbag2, MCAP or sqlite3) with `rosbags`: frames with their labels.

The reader matches frames and labels by header stamp while streaming (memory bounded by a short
horizon, not by the bag's length) and counts frames without a label instead of failing. Topic
names and the layout are those of `fxseg_ros.data.bag`.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
import logging
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import cv2
from fxseg_ros.data.bag import (BagError, CAMERA_TYPES, COMPRESSED_TYPE, CONDITION_TOPIC,
                                get_typestore, IMAGE_TYPE, label_topic_for, NON_CAMERA_SUFFIXES,
                                STRING_TYPE)
from fxseg_ros.data.stamps import NS_PER_S, stamp_to_ns
import numpy as np

LOG = logging.getLogger(__name__)


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
                  if ty in CAMERA_TYPES and not t.endswith(NON_CAMERA_SUFFIXES))


class _ReaderContext:
    """An open rosbags Reader as a context manager; a damaged bag is a BagError."""

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
        self.horizon_ns = int(horizon_s * NS_PER_S)
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
