# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Frames to evaluate: a bag's camera topic or a Cityscapes-layout folder, with ground truth.

Bag frames are decoded by the node's own conversions (`fxseg_ros.pipeline.convert`), so the
replay sees exactly what the node would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, Iterator, Optional, Sequence

import numpy as np


@dataclass
class EvalFrame:
    """
    One frame to evaluate.

    load() returns the decoded BGR frame, shape (H, W, 3), uint8, and may raise
    `fxseg_ros.pipeline.convert.FrameRejected`. labels: shape (H, W), uint8, or None.
    """

    key: str
    load: Callable[[], np.ndarray]
    labels: Optional[np.ndarray] = None
    condition: Optional[str] = None
    stamp_ns: Optional[int] = None


@dataclass
class FrameSource:
    """Frames plus what the report says about where they came from."""

    frames: Iterable[EvalFrame]
    total: Optional[int]
    info: Dict[str, object] = field(default_factory=dict)
    #: Called after the pass; returns counts to merge into `info` (e.g. unmatched labels).
    finish: Optional[Callable[[], Dict[str, object]]] = None


def message_decoder(msgtype: str) -> Callable:
    """Return the node's conversion for a camera message type (fxseg_ros.pipeline.convert)."""
    from fxseg_ros.pipeline import convert

    if msgtype.endswith('CompressedImage'):
        return convert.compressed_to_bgr
    return convert.image_to_bgr


def bag_source(path, image_topic: Optional[str] = None, label_topic: Optional[str] = '',
               condition_topic: Optional[str] = None, max_frames: Optional[int] = None,
               decoder: Optional[Callable] = None) -> FrameSource:
    """Frames of a bag's camera topic with labels matched by stamp (see data.bag)."""
    from fxseg_ros.data.bag import CONDITION_TOPIC
    from fxseg_ros.data.bag_reader import BagFrameReader

    reader = BagFrameReader(path, image_topic=image_topic, label_topic=label_topic,
                            condition_topic=condition_topic or CONDITION_TOPIC,
                            max_frames=max_frames)
    decode = decoder or message_decoder(reader.topics[reader.image_topic][0])

    def frames() -> Iterator[EvalFrame]:
        for f in reader:
            yield EvalFrame(key=str(f.stamp_ns), load=(lambda m=f.msg: decode(m)),
                            labels=f.labels, condition=f.condition, stamp_ns=f.stamp_ns)

    def finish() -> Dict[str, object]:
        s = reader.stats
        return {'frames_read': s.frames, 'frames_without_label': s.frames_without_label,
                'labels_without_frame': s.labels_without_frame,
                'frames_without_condition': s.frames_without_condition}

    info = {'source': 'bag', 'path': str(path), 'image_topic': reader.image_topic,
            'image_type': reader.topics[reader.image_topic][0],
            'label_topic': reader.label_topic, 'condition_topic': reader.condition_topic}
    return FrameSource(frames=frames(), total=len(reader), info=info, finish=finish)


def cityscapes_source(root, split: str = 'val', max_frames: Optional[int] = None,
                      cities: Optional[Sequence[str]] = None) -> FrameSource:
    """
    Read the frames of a Cityscapes-layout folder (e.g. a held-out synthetic set).

    The condition is the city's lighting condition ('day' / 'dusk' / 'night' for synthetic data,
    the city otherwise). Frames without a label file are run and counted, not scored.
    """
    from fxseg_ros.data.cityscapes import CityscapesDataset

    ds = CityscapesDataset(root, split, cities=cities, require_labels=False)
    n = len(ds) if not max_frames else min(len(ds), max_frames)

    def frames() -> Iterator[EvalFrame]:
        for i in range(n):
            meta = ds.meta(i)
            yield EvalFrame(key=str(meta.get('name', i)), load=(lambda k=i: ds.load_image(k)),
                            labels=ds.load_labels(i),
                            condition=meta.get('condition') or meta.get('city'))

    info = {'source': 'cityscapes', 'path': str(root), 'split': split}
    return FrameSource(frames=frames(), total=n, info=info)
