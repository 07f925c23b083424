# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Calibration data readers in onnxruntime's `CalibrationDataReader` style.

`get_next()` returns one feed `{input name: float32 (N, 3, 360, 640)}` or None at the end;
`rewind()` starts over; `len(reader)` is the number of feeds where it is known. Every frame goes
through `fxseg_ros.data.preprocess.preprocess`, the deployment preprocessing, so calibration sees
exactly what the deployed network sees. The readers duck-type onnxruntime's class (which is not
imported here) and also feed the TensorRT calibrators and the streaming histogram calibrators.

Sources: a Cityscapes-layout directory (synthetic or real), a plain image folder, a rosbag2
camera topic (via `fxseg_ros.data.bag`), or any iterable of BGR frames.
"""

import itertools
import logging
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import cv2
from fxseg_ros.data.preprocess import NET_INPUT_NAME, NET_INPUT_WH, preprocess
import numpy as np

LOG = logging.getLogger(__name__)

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp')

FrameSource = Union[Callable[[], Iterable[np.ndarray]], Iterable[np.ndarray]]


class CalibrationDataError(ValueError):
    """A calibration reader has no data (or unusable data); the message says why."""


class FrameCalibrationReader:
    """
    Calibration feeds from any source of BGR frames.

    frames: a zero-argument callable returning an iterable of frames (rewindable), a
    re-iterable collection (list, dataset: rewindable), or a one-shot iterator (not
    rewindable). Each frame: shape (H, W, 3), uint8, BGR, any size.
    max_frames: stop after this many frames (after `stride`); stride: take every n-th frame.
    batch_size: frames per feed (the last feed may be smaller).
    """

    def __init__(self, frames: FrameSource, input_name: str = NET_INPUT_NAME,
                 size_wh: Tuple[int, int] = NET_INPUT_WH, max_frames: Optional[int] = None,
                 stride: int = 1, batch_size: int = 1, source: str = 'frames',
                 hints: Sequence[str] = ()):
        if stride < 1:
            raise ValueError('stride must be >= 1, got %d' % stride)
        if batch_size < 1:
            raise ValueError('batch_size must be >= 1, got %d' % batch_size)
        if max_frames is not None and max_frames < 0:
            raise ValueError('max_frames must be >= 0, got %d' % max_frames)
        self._frames = frames
        self.input_name = input_name
        self.size_wh = tuple(size_wh)
        self.max_frames = max_frames
        self.stride = stride
        self.batch_size = batch_size
        self.source = source
        self.hints = list(hints)
        self._it: Optional[Iterator[np.ndarray]] = None
        self._started_once = False
        self.frames_read = 0

    # -------------------------------------------------------------- sources
    def _open(self) -> Iterator[np.ndarray]:
        frames = self._frames
        if callable(frames) and not hasattr(frames, '__iter__'):
            frames = frames()
        elif iter(frames) is frames and self._started_once:
            raise CalibrationDataError(
                'calibration reader over %s cannot rewind: it was given a one-shot iterator; '
                'pass a callable that returns a new iterator, or a list' % self.source)
        self._started_once = True
        it = iter(frames)
        if self.stride > 1:
            it = itertools.islice(it, 0, None, self.stride)
        if self.max_frames is not None:
            it = itertools.islice(it, self.max_frames)
        return it

    def _known_frames(self) -> Optional[int]:
        frames = self._frames
        if callable(frames) and not hasattr(frames, '__len__'):
            return None
        try:
            n = len(frames)
        except TypeError:
            return None
        n = (n + self.stride - 1) // self.stride
        return n if self.max_frames is None else min(n, self.max_frames)

    # ------------------------------------------------------------------ API
    def __len__(self) -> int:
        """Return the number of feeds; raise TypeError where the source's length is unknown."""
        n = self._known_frames()
        if n is None:
            raise TypeError('the number of frames of %s is not known in advance' % self.source)
        return (n + self.batch_size - 1) // self.batch_size

    def rewind(self) -> None:
        """Start again from the first frame."""
        self._it = None
        self.frames_read = 0

    def get_next(self) -> Optional[Dict[str, np.ndarray]]:
        """
        Return the next feed {input_name: float32 (N, 3, h, w)}, or None after the last frame.

        Raises CalibrationDataError when the source yields no frame at all.
        """
        if self._it is None:
            self._it = self._open()
        batch: List[np.ndarray] = []
        for frame in self._it:
            batch.append(self._prepare(frame))
            if len(batch) == self.batch_size:
                break
        if not batch:
            if self.frames_read == 0:
                raise CalibrationDataError(self._empty_message())
            return None
        self.frames_read += len(batch)
        blob = batch[0] if len(batch) == 1 else np.concatenate(batch, axis=0)
        return {self.input_name: blob}

    def __iter__(self) -> Iterator[Dict[str, np.ndarray]]:
        """All feeds from the start (rewinds first)."""
        self.rewind()
        while True:
            feed = self.get_next()
            if feed is None:
                return
            yield feed

    # ------------------------------------------------------------ internals
    def _prepare(self, frame: np.ndarray) -> np.ndarray:
        frame = np.asarray(frame)
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise CalibrationDataError(
                'calibration frame %d of %s is %s %s; expected BGR uint8 of shape (H, W, 3)'
                % (self.frames_read, self.source, frame.dtype, frame.shape))
        return preprocess(frame, self.size_wh)

    def _empty_message(self) -> str:
        reasons = self.hints + [
            'max_frames is 0' if self.max_frames == 0 else None,
            'the stride (%d) skips past every frame' % self.stride if self.stride > 1 else None,
        ]
        reasons = [r for r in reasons if r]
        text = 'calibration reader over %s provided no frames.' % self.source
        if reasons:
            text += ' Possible reasons:\n' + '\n'.join('  - ' + r for r in reasons)
        return text


class CityscapesCalibrationReader(FrameCalibrationReader):
    """
    Calibration feeds from the images of a Cityscapes-layout directory (labels not needed).

    cities: city directories to use; for synthetic data the lighting conditions, e.g. ['day']
    for a day-only calibration set.
    """

    def __init__(self, root: Union[str, Path], split: str = 'train',
                 cities: Optional[Sequence[str]] = None, max_frames: Optional[int] = None,
                 stride: int = 1, batch_size: int = 1, input_name: str = NET_INPUT_NAME,
                 size_wh: Tuple[int, int] = NET_INPUT_WH):
        from fxseg_ros.data.cityscapes import CityscapesDataset, CityscapesLayoutError

        source = 'Cityscapes directory %s (split %s%s)' % (
            root, split, ', cities %s' % ','.join(cities) if cities else '')
        try:
            self.dataset = CityscapesDataset(root, split, cities=cities, require_labels=False)
        except CityscapesLayoutError as err:
            raise CalibrationDataError(
                'calibration reader over %s provided no frames: %s. Possible reasons: a wrong '
                'path, a wrong --split, or a city / condition filter that matches nothing'
                % (source, err)) from err
        super().__init__(_DatasetImages(self.dataset), input_name=input_name, size_wh=size_wh,
                         max_frames=max_frames, stride=stride, batch_size=batch_size,
                         source=source)


class _DatasetImages:
    """Re-iterable view of a dataset's images only (no label decoding)."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __iter__(self) -> Iterator[np.ndarray]:
        for i in range(len(self.dataset)):
            yield self.dataset.load_image(i)


def list_images(folder: Union[str, Path], extensions: Sequence[str] = IMAGE_EXTENSIONS,
                recursive: bool = True) -> List[Path]:
    """Image files under a folder, sorted by path (case-insensitive extension match)."""
    folder = Path(folder)
    pattern = '**/*' if recursive else '*'
    wanted = tuple(e.lower() for e in extensions)
    return sorted(p for p in folder.glob(pattern) if p.is_file() and p.suffix.lower() in wanted)


class _ImageFiles:

    def __init__(self, paths: List[Path]):
        self.paths = paths

    def __len__(self) -> int:
        return len(self.paths)

    def __iter__(self) -> Iterator[np.ndarray]:
        for path in self.paths:
            bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if bgr is None:
                raise CalibrationDataError('cannot read image %s (corrupt or not an image)'
                                           % path)
            yield bgr


class ImageFolderCalibrationReader(FrameCalibrationReader):
    """Calibration feeds from the image files (png / jpg / bmp) of a folder, sorted by path."""

    def __init__(self, folder: Union[str, Path], max_frames: Optional[int] = None,
                 stride: int = 1, batch_size: int = 1, recursive: bool = True,
                 extensions: Sequence[str] = IMAGE_EXTENSIONS,
                 input_name: str = NET_INPUT_NAME, size_wh: Tuple[int, int] = NET_INPUT_WH):
        folder = Path(folder)
        source = 'image folder %s' % folder
        if not folder.is_dir():
            raise CalibrationDataError(
                'calibration reader over %s provided no frames: %s is not a directory '
                '(wrong path?)' % (source, folder))
        self.paths = list_images(folder, extensions, recursive)
        if not self.paths:
            raise CalibrationDataError(
                'calibration reader over %s provided no frames. Possible reasons:\n'
                '  - a wrong path\n'
                '  - no files ending in %s%s\n'
                '  - for a rosbag2 or Cityscapes directory, use the matching reader'
                % (source, ', '.join(extensions),
                   '' if recursive else ' directly in it (recursive=False)'))
        super().__init__(_ImageFiles(self.paths), input_name=input_name, size_wh=size_wh,
                         max_frames=max_frames, stride=stride, batch_size=batch_size,
                         source=source)


class BagCalibrationReader(FrameCalibrationReader):
    """
    Calibration feeds from a rosbag2 camera topic (decoded by `fxseg_ros.data.bag`).

    topic: the image topic (default: the bag's only camera topic). conditions: keep frames
    recorded under these lighting conditions (the bag's condition topic), e.g. ['day'].
    """

    def __init__(self, path: Union[str, Path], topic: Optional[str] = None,
                 max_frames: Optional[int] = None, conditions: Optional[Sequence[str]] = None,
                 stride: int = 1, batch_size: int = 1, input_name: str = NET_INPUT_NAME,
                 size_wh: Tuple[int, int] = NET_INPUT_WH):
        from fxseg_ros.data.bag_reader import iter_bag_images

        self.path = Path(path)
        self.topic = topic
        self.conditions = list(conditions) if conditions else None
        source = 'rosbag2 %s (topic %s%s)' % (
            self.path, topic or 'auto', ', conditions %s' % ','.join(self.conditions)
            if self.conditions else '')
        super().__init__(lambda: iter_bag_images(self.path, topic, conditions=self.conditions),
                         input_name=input_name, size_wh=size_wh, max_frames=max_frames,
                         stride=stride, batch_size=batch_size, source=source,
                         hints=['the camera topic has no messages',
                                'no frame was recorded under conditions %s' % self.conditions
                                if self.conditions else None])
        self.hints = [h for h in self.hints if h]
