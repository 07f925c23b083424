# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The Cityscapes directory layout: one reader for real Cityscapes and for synthetic scenes.

Layout (as the Cityscapes release ships it)::

    <root>/leftImg8bit/<split>/<city>/<city>_<seq:06d>_<frame:06d>_leftImg8bit.png
    <root>/gtFine/<split>/<city>/<city>_<seq:06d>_<frame:06d>_gtFine_labelTrainIds.png

Real Cityscapes ships `*_gtFine_labelIds.png` (34 label IDs); `*_gtFine_labelTrainIds.png` are
made from them by cityscapesScripts' `createTrainIdLabelImgs`. The reader takes train IDs where
they exist and otherwise maps label IDs with the official table. The synthetic writer uses the
lighting condition (`day`, `dusk`, `night`) as the city name
(`fxseg_ros.data.synth.writer`).
"""

import logging
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
from fxseg_ros.data.conditions import CONDITIONS
from fxseg_ros.data.labels import IGNORE_LABEL
import numpy as np

LOG = logging.getLogger(__name__)

IMAGE_SUFFIX = '_leftImg8bit.png'
TRAIN_IDS_SUFFIX = '_gtFine_labelTrainIds.png'
LABEL_IDS_SUFFIX = '_gtFine_labelIds.png'
SPLITS = ('train', 'val', 'test')

#: Cityscapes label ID -> train ID (cityscapesScripts `helpers/labels.py`); others are ignored.
CITYSCAPES_ID_TO_TRAIN_ID: Dict[int, int] = {
    7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9, 23: 10, 24: 11, 25: 12,
    26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18,
}

_LAYOUT_HELP = ('expected the Cityscapes layout: <root>/leftImg8bit/<split>/<city>/'
                '*%s with labels in <root>/gtFine/<split>/<city>/*%s (or *%s)'
                % (IMAGE_SUFFIX, TRAIN_IDS_SUFFIX, LABEL_IDS_SUFFIX))


class CityscapesLayoutError(FileNotFoundError):
    """The directory does not hold frames in the Cityscapes layout (or none match a filter)."""


def label_ids_to_train_ids(label_ids: np.ndarray) -> np.ndarray:
    """
    Map Cityscapes label IDs to train IDs; unevaluated IDs become IGNORE_LABEL (255).

    label_ids: shape (H, W), uint8. Returns shape (H, W), uint8.
    """
    table = np.full(256, IGNORE_LABEL, np.uint8)
    for label_id, train_id in CITYSCAPES_ID_TO_TRAIN_ID.items():
        table[label_id] = train_id
    return table[np.asarray(label_ids, np.uint8)]


def frame_stem(city: str, sequence: int, frame: int) -> str:
    """Cityscapes file stem, e.g. 'day_000012_000000'."""
    return '%s_%06d_%06d' % (city, sequence, frame)


def image_path(root: Union[str, Path], split: str, city: str, stem: str) -> Path:
    return Path(root) / 'leftImg8bit' / split / city / (stem + IMAGE_SUFFIX)


def label_path(root: Union[str, Path], split: str, city: str, stem: str,
               suffix: str = TRAIN_IDS_SUFFIX) -> Path:
    return Path(root) / 'gtFine' / split / city / (stem + suffix)


def condition_of_city(city: str) -> str:
    """
    Lighting condition of a city directory.

    Synthetic data names its cities after the condition; real Cityscapes was recorded in
    daylight, so any other city is 'day'.
    """
    return city if city in CONDITIONS else 'day'


class CityscapesDataset:
    """
    Frames of one split of a Cityscapes-layout directory, sorted by city and file name.

    `dataset[i]` returns (bgr, labels, meta): bgr uint8 (H, W, 3); labels uint8 (H, W) train
    IDs (255 = ignore), or None when `require_labels=False` and the frame has no label file;
    meta = {'city', 'condition', 'name', 'image_path', 'label_path'}.
    """

    def __init__(self, root: Union[str, Path], split: str = 'train',
                 cities: Optional[Sequence[str]] = None, require_labels: bool = True):
        self.root = Path(root)
        self.split = split
        self.require_labels = require_labels
        image_dir = self.root / 'leftImg8bit' / split
        if not image_dir.is_dir():
            found = sorted(p.name for p in (self.root / 'leftImg8bit').iterdir()) \
                if (self.root / 'leftImg8bit').is_dir() else []
            raise CityscapesLayoutError(
                'no split directory %s%s; %s' % (
                    image_dir, (' (splits there: %s)' % ', '.join(found)) if found else '',
                    _LAYOUT_HELP))
        available = sorted(p.name for p in image_dir.iterdir() if p.is_dir())
        wanted = list(cities) if cities else available
        missing = [c for c in wanted if c not in available]
        if missing:
            raise CityscapesLayoutError(
                'city / condition %s not in %s (there: %s); %s'
                % (', '.join(missing), image_dir, ', '.join(available) or 'nothing',
                   _LAYOUT_HELP))
        self.cities = wanted
        self.samples: List[Tuple[str, str, Path, Optional[Path], bool]] = []
        for city in wanted:
            for image in sorted((image_dir / city).glob('*' + IMAGE_SUFFIX)):
                stem = image.name[:-len(IMAGE_SUFFIX)]
                train_ids = label_path(self.root, split, city, stem, TRAIN_IDS_SUFFIX)
                label_ids = label_path(self.root, split, city, stem, LABEL_IDS_SUFFIX)
                if train_ids.is_file():
                    self.samples.append((city, stem, image, train_ids, True))
                elif label_ids.is_file():
                    self.samples.append((city, stem, image, label_ids, False))
                elif require_labels:
                    raise CityscapesLayoutError(
                        'frame %s has no label file (%s or %s); %s'
                        % (image, train_ids.name, label_ids.name, _LAYOUT_HELP))
                else:
                    self.samples.append((city, stem, image, None, False))
        if not self.samples:
            raise CityscapesLayoutError(
                'no *%s frames under %s for cities %s; %s'
                % (IMAGE_SUFFIX, image_dir, ', '.join(wanted) or '(none)', _LAYOUT_HELP))
        LOG.debug('Cityscapes %s/%s: %d frames in %s', self.root, split, len(self.samples),
                  ', '.join(wanted))

    def __len__(self) -> int:
        return len(self.samples)

    def image_paths(self) -> List[Path]:
        return [sample[2] for sample in self.samples]

    def load_image(self, index: int) -> np.ndarray:
        """Read the frame only: shape (H, W, 3), uint8, BGR."""
        path = self.samples[index][2]
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise CityscapesLayoutError('cannot read image %s (corrupt or not an image)' % path)
        return bgr

    def load_labels(self, index: int) -> Optional[np.ndarray]:
        """Train-ID labels: shape (H, W), uint8 (255 = ignore); None without a label file."""
        _, _, _, path, is_train_ids = self.samples[index]
        if path is None:
            return None
        labels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if labels is None or labels.ndim != 2:
            raise CityscapesLayoutError('cannot read single-channel label image %s' % path)
        labels = labels.astype(np.uint8)
        return labels if is_train_ids else label_ids_to_train_ids(labels)

    def meta(self, index: int) -> Dict[str, object]:
        city, stem, image, label, _ = self.samples[index]
        return {'city': city, 'condition': condition_of_city(city), 'name': stem,
                'image_path': str(image), 'label_path': str(label) if label else None}

    def __getitem__(self, index: int):
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError('index %d out of range for %d frames' % (index, len(self)))
        bgr = self.load_image(index)
        labels = self.load_labels(index)
        if labels is not None and labels.shape != bgr.shape[:2]:
            raise CityscapesLayoutError('label %s is %s but its image is %s'
                                        % (self.samples[index][3], labels.shape, bgr.shape[:2]))
        return bgr, labels, self.meta(index)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]
