# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Cityscapes train-ID label set (19 classes) with its colour palette.

The synthetic generator, the readers, the metrics and the node all use this one table. Pixels that
belong to no evaluated class carry :data:`IGNORE_LABEL`.
"""


from typing import Iterable, List, NamedTuple, Tuple

import numpy as np


class LabelClass(NamedTuple):
    """One evaluated class: train ID, name and RGB display colour."""

    train_id: int
    name: str
    color_rgb: Tuple[int, int, int]


IGNORE_LABEL = 255

CITYSCAPES_CLASSES = (
    LabelClass(0, 'road', (128, 64, 128)),
    LabelClass(1, 'sidewalk', (244, 35, 232)),
    LabelClass(2, 'building', (70, 70, 70)),
    LabelClass(3, 'wall', (102, 102, 156)),
    LabelClass(4, 'fence', (190, 153, 153)),
    LabelClass(5, 'pole', (153, 153, 153)),
    LabelClass(6, 'traffic light', (250, 170, 30)),
    LabelClass(7, 'traffic sign', (220, 220, 0)),
    LabelClass(8, 'vegetation', (107, 142, 35)),
    LabelClass(9, 'terrain', (152, 251, 152)),
    LabelClass(10, 'sky', (70, 130, 180)),
    LabelClass(11, 'person', (220, 20, 60)),
    LabelClass(12, 'rider', (255, 0, 0)),
    LabelClass(13, 'car', (0, 0, 142)),
    LabelClass(14, 'truck', (0, 0, 70)),
    LabelClass(15, 'bus', (0, 60, 100)),
    LabelClass(16, 'train', (0, 80, 100)),
    LabelClass(17, 'motorcycle', (0, 0, 230)),
    LabelClass(18, 'bicycle', (119, 11, 32)),
)

NUM_CLASSES = len(CITYSCAPES_CLASSES)
CLASS_NAMES = tuple(c.name for c in CITYSCAPES_CLASSES)
TRAIN_ID = {c.name: c.train_id for c in CITYSCAPES_CLASSES}


def palette_rgb(num_classes: int = NUM_CLASSES) -> np.ndarray:
    """
    Return the colour table indexed by label; unknown labels (and 255) map to black.

    Shape: (256, 3), uint8, RGB order.
    """
    table = np.zeros((256, 3), dtype=np.uint8)
    for c in CITYSCAPES_CLASSES[:num_classes]:
        table[c.train_id] = c.color_rgb
    return table


def colorize(labels_u8: np.ndarray, palette: np.ndarray = None) -> np.ndarray:
    """
    Map a label image to colours.

    labels_u8: shape (H, W), uint8. Returns shape (H, W, 3), uint8, RGB.
    """
    table = palette_rgb() if palette is None else palette
    return table[labels_u8]


def sorted_class_names(names: Iterable[str]) -> List[str]:
    """Return the distinct class names in train-ID order; names of no class after them."""
    return sorted(set(names), key=lambda n: (CLASS_NAMES.index(n) if n in CLASS_NAMES
                                             else len(CLASS_NAMES), n))
