# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Labelled frames held in memory for the quantization decisions: mIoU of any number of bare graphs.

The mixed-precision search and the accuracy-drop report evaluate many variants of one network on
the same frames; each frame is preprocessed and its small objects extracted once. Frames come
from a Cityscapes-layout folder or from the synthetic generator's test range (never used for
training or calibration); calibration frames come from its training range or a data set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

from fxseg_ros.data.conditions import CONDITIONS
from fxseg_ros.data.preprocess import (NET_INPUT_NAME, NET_INPUT_WH, NET_OUTPUT_NAME,
                                       postprocess, preprocess)
from fxseg_ros.metrics.accumulate import AccuracyAccumulator
from fxseg_ros.metrics.small_objects import SmallObjectMetric
from fxseg_ros.runtime.session import EXACT_INT8_CONFIG, make_session
import numpy as np

#: How INT8 models are computed when their accuracy is measured on this CPU.
INT8_KERNELS = ('ort', 'exact')


class EvalSetError(ValueError):
    """The evaluation frames cannot be loaded as asked; the message says why."""


class EvalSet:
    """
    Labelled frames preprocessed once and evaluated for any number of bare graphs.

    blobs: float32 (1, 3, h, w) each; labels: uint8 (H, W) each; conditions: str each.
    int8_kernels: 'ort' (ONNX Runtime's default CPU kernels) or 'exact' (int8 x int8 with exact
    int32 accumulation, as the GPU's dp4a; slower on x86).
    """

    def __init__(self, blobs, labels, conditions, threads: int = 0, int8_kernels: str = 'ort'):
        if int8_kernels not in INT8_KERNELS:
            raise ValueError('int8_kernels must be one of %s, got %r'
                             % (', '.join(INT8_KERNELS), int8_kernels))
        self.blobs = list(blobs)
        self.labels = list(labels)
        self.conditions = list(conditions)
        self.threads = threads
        self.int8_kernels = int8_kernels
        self.small = SmallObjectMetric()
        self.small_objects = [self.small.extract(gt) for gt in self.labels]

    def __len__(self) -> int:
        return len(self.blobs)

    def evaluate(self, model_path: Union[str, Path]) -> Dict[str, object]:
        """Measure the mIoU overall, per condition and on small objects of a bare graph."""
        session = make_session(model_path, threads=self.threads,
                               config=EXACT_INT8_CONFIG if self.int8_kernels == 'exact' else None)
        acc = AccuracyAccumulator(small_max_pixels=self.small.max_pixels,
                                  small_classes=self.small.classes)
        for blob, gt, condition, objects in zip(self.blobs, self.labels, self.conditions,
                                                self.small_objects):
            scores = session.run([NET_OUTPUT_NAME], {NET_INPUT_NAME: blob})[0]
            pred = postprocess(scores, (gt.shape[1], gt.shape[0]))[0]
            acc.update(gt, pred, condition=condition, small_objects=objects)
        return acc.compute()

    def miou(self, model_path: Union[str, Path]) -> float:
        """Measure the mIoU (0..1) of a bare graph over all frames."""
        return float(self.evaluate(model_path)['miou'])

    def feeds(self, count: int, condition: Optional[str] = None) -> List[Dict[str, np.ndarray]]:
        """Return the first input feeds, `count` of them (of one condition when given)."""
        picked = [b for b, c in zip(self.blobs, self.conditions)
                  if condition is None or c == condition]
        return [{NET_INPUT_NAME: b} for b in picked[:count]]

    def blobs_of(self, condition: str) -> List[np.ndarray]:
        """Return the input blobs of one condition."""
        return [b for b, c in zip(self.blobs, self.conditions) if c == condition]


def synthetic_frames(seed: int, count: int, conditions: Sequence[str],
                     split: str = 'train') -> Iterator[Tuple[np.ndarray, np.ndarray, str]]:
    """
    Yield (bgr, labels, condition) of `count` generated frames, conditions taken in turn.

    split: the generator's index range, as `fxseg synth --split` numbers it ('train' for
    calibration, 'test' for held-out evaluation).
    """
    from fxseg_ros.data.synth import SceneGenerator, SPLIT_INDEX_BASE

    generator = SceneGenerator(seed)
    for i in range(count):
        condition = conditions[i % len(conditions)]
        bgr, labels = generator.generate(SPLIT_INDEX_BASE[split] + i, condition)
        yield bgr, labels, condition


def synthetic_eval_set(seed: int, per_condition: int, threads: int = 0,
                       int8_kernels: str = 'ort', progress: Optional[bool] = None,
                       size_wh: Tuple[int, int] = NET_INPUT_WH) -> EvalSet:
    """
    Load the held-out set: `per_condition` frames per condition of the test range.

    progress: a progress bar of the generated frames (None: on a terminal only). size_wh: the
    network input the frames are resized to (`model.deploy.network_input_wh`).
    """
    from tqdm import tqdm

    blobs, labels, conditions = [], [], []
    total = per_condition * len(CONDITIONS)
    frames = synthetic_frames(seed, total, CONDITIONS, 'test')
    for bgr, gt, condition in tqdm(frames, total=total, desc='evaluation set', unit='frame',
                                   leave=False,
                                   disable=None if progress is None else not progress):
        blobs.append(preprocess(bgr, size_wh))
        labels.append(gt)
        conditions.append(condition)
    return EvalSet(blobs, labels, conditions, threads=threads, int8_kernels=int8_kernels)


def cityscapes_eval_set(root: Union[str, Path], split: str, per_condition: int,
                        threads: int = 0, int8_kernels: str = 'ort',
                        size_wh: Tuple[int, int] = NET_INPUT_WH) -> EvalSet:
    """
    Load at most `per_condition` labelled frames per city of a Cityscapes-layout split.

    size_wh: the network input the frames are resized to (`model.deploy.network_input_wh`).
    """
    from fxseg_ros.data.cityscapes import CityscapesDataset

    dataset = CityscapesDataset(root, split)
    blobs, labels, conditions = [], [], []
    taken: Dict[str, int] = {}
    for i in range(len(dataset)):
        bgr, gt, meta = dataset[i]
        condition = meta.get('condition') or meta.get('city') or 'all'
        if taken.get(condition, 0) >= per_condition:
            continue
        taken[condition] = taken.get(condition, 0) + 1
        blobs.append(preprocess(bgr, size_wh))
        labels.append(gt)
        conditions.append(condition)
    if not blobs:
        raise EvalSetError('no labelled frames in %s split %s' % (root, split))
    return EvalSet(blobs, labels, conditions, threads=threads, int8_kernels=int8_kernels)


def calibration_blobs(count: int, conditions: Optional[Sequence[str]] = None,
                      data: Optional[Union[str, Path]] = None, topic: Optional[str] = None,
                      seed: int = 0, size_wh: Tuple[int, int] = NET_INPUT_WH
                      ) -> List[np.ndarray]:
    """
    Return input blobs for calibration / analysis: `count` frames of `data`, else generated.

    data: a Cityscapes-layout directory, an image folder or a rosbag2 (`topic`); without it,
    frames of the generator's training range, conditions in turn (default: all). size_wh: the
    network input the frames are resized to (`model.deploy.network_input_wh`).
    """
    if data:
        from fxseg_ros.quant.collect import iterate_feeds, open_calibration_reader

        reader = open_calibration_reader(data, frames=count, topic=topic,
                                         conditions=None if conditions is None
                                         else list(conditions), size_wh=size_wh)
        return [feed[NET_INPUT_NAME] for feed in iterate_feeds(reader)]
    return [preprocess(bgr, size_wh) for bgr, _, _ in
            synthetic_frames(seed, count, conditions or CONDITIONS, 'train')]
