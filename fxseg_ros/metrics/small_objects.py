# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Accuracy on small objects, where INT8 loses first.

The article's "very distant, small objects (pedestrians far down the road)".

Definitions (all at the resolution of the ground-truth label image):

- A **small object** of class c is an 8-connected component of the ground-truth pixels equal to
  c whose area is below `max_pixels`. Only the classes in `classes` are considered (default: the
  Cityscapes "thing" classes plus pole, traffic light and traffic sign). Ignore pixels (255) are
  never part of an object.
- For class c, with S_c the union of its small objects in a frame and R_c the ring of pixels
  within `margin` pixels (Chebyshev distance: a (2*margin+1) square dilation) of S_c that are
  neither ground truth c nor ignore:

    TP(O) = |{p in O : pred(p) = c}| for each small object O,
    FN_c = |S_c| - sum TP(O),  FP_c = |{p in R_c : pred(p) = c}|.

  The ring charges predictions that smear a small object into its surroundings (or hallucinate
  one next to it) to the small objects of that class, and only those: a false positive far from
  any small object is not a small-object error (the full-image confusion matrix counts it).
- Per class, over all frames: **small-object IoU** = sum TP / (sum TP + sum FN + sum FP);
  **pixel recall** = sum TP / sum |O|; **instance recall** = the fraction of small objects with
  TP(O) >= `hit_fraction` * |O| (default half of the object's pixels).
- **Small-object mIoU** = the mean of the small-object IoU over the classes with at least one
  small object.

Extraction runs once per ground-truth frame (shared by every model evaluated on it); scoring a
prediction touches only the pixels around the small objects. Candidates come from OpenCV's
border following, and only they are labelled exactly (see `_small_components`): a labelling
pass with statistics over each class mask measured 1.4-9 ms per class at 1280x720 here, which
alone would cost more than the confusion matrix of a frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import cv2
from fxseg_ros.data.labels import CLASS_NAMES, IGNORE_LABEL, NUM_CLASSES
from fxseg_ros.metrics.defaults import DEFAULT_MAX_PIXELS, DEFAULT_SMALL_CLASSES
import numpy as np


@dataclass
class ClassSmallObjects:
    """
    The small objects of one class in one frame, inside a window of the label image.

    window: (x, y, w, h) of the window in label-image pixels (the objects' bounding box grown by
    the margin). ids: shape (h, w), int32, 0 outside small objects, k = 1..K on object k.
    areas: shape (K,), int64, pixels of each object. ring: shape (h, w), bool, R_c.
    """

    class_id: int
    window: tuple
    ids: np.ndarray
    areas: np.ndarray
    ring: np.ndarray

    @property
    def count(self) -> int:
        return int(self.areas.size)


def class_presence(gt_u8: np.ndarray) -> np.ndarray:
    """Pixel count per label value 0..255. Shape: (256,), int64."""
    hist = cv2.calcHist([np.ascontiguousarray(gt_u8)], [0], None, [256], [0, 256])
    return hist.ravel().astype(np.int64)


def _small_components(mask: np.ndarray, max_pixels: int) -> List[tuple]:
    """
    Find the 8-connected components of a binary mask with fewer than max_pixels pixels.

    mask: shape (h, w), uint8 0 / 255. Returns (x, y, pixels bool (bh, bw), area) per small
    component, (x, y) the top-left corner of its bounding box.

    Components come from OpenCV's border following (`findContours`, RETR_CCOMP: every
    8-connected component has exactly one outer border at the top level, holes below it),
    which costs a fraction of a labelling pass over the mask. A component is large for sure
    when the area enclosed by its outer border minus its holes (a lower bound of its pixel
    count, Pick's theorem) reaches max_pixels; every other component is labelled exactly
    inside its bounding box.
    """
    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return []
    hierarchy = hierarchy[0]
    holes: Dict[int, float] = {}
    for i, (_, _, _, parent) in enumerate(hierarchy):
        if parent >= 0:
            # Hole border pixels belong to the component: at most area + 1 pixels are lost.
            holes[parent] = holes.get(parent, 0.0) + cv2.contourArea(contours[i]) + 1.0
    found = []
    for i, (_, _, _, parent) in enumerate(hierarchy):
        if parent >= 0:
            continue
        x, y, w, h = cv2.boundingRect(contours[i])
        if w * h >= max_pixels and \
                cv2.contourArea(contours[i]) - holes.get(i, 0.0) >= max_pixels:
            continue
        sub = mask[y:y + h, x:x + w]
        _, lab = cv2.connectedComponents(sub, connectivity=8, ltype=cv2.CV_32S)
        px, py = contours[i][0][0]
        pixels = lab == lab[py - y, px - x]
        area = int(np.count_nonzero(pixels))
        if area < max_pixels:
            found.append((x, y, pixels, area))
    return found


def extract_small_objects(gt_u8: np.ndarray, max_pixels: int = DEFAULT_MAX_PIXELS,
                          classes: Sequence[int] = DEFAULT_SMALL_CLASSES, margin: int = 3,
                          presence: Optional[np.ndarray] = None) -> List[ClassSmallObjects]:
    """
    Find the small objects of one ground-truth label image, per class.

    gt_u8: shape (H, W), uint8 train IDs (255 ignore). Returns, for each class in `classes`
    that has any, its 8-connected components with area < max_pixels (see ClassSmallObjects).
    """
    gt_u8 = np.ascontiguousarray(gt_u8, dtype=np.uint8)
    if gt_u8.ndim != 2:
        raise ValueError('ground truth must be (H, W), got %s' % (gt_u8.shape,))
    if presence is None:
        presence = class_presence(gt_u8)
    H, W = gt_u8.shape
    kernel = np.ones((2 * margin + 1, 2 * margin + 1), np.uint8) if margin > 0 else None
    found: List[ClassSmallObjects] = []
    for c in classes:
        if c == IGNORE_LABEL or presence[c] == 0:
            continue
        mask = cv2.compare(gt_u8, int(c), cv2.CMP_EQ)
        x0, y0, bw, bh = cv2.boundingRect(mask)
        comps = _small_components(mask[y0:y0 + bh, x0:x0 + bw], max_pixels)
        if not comps:
            continue
        # One window around all of them, grown by the margin (clipped to the frame).
        xa = max(x0 + min(x for x, _, _, _ in comps) - margin, 0)
        ya = max(y0 + min(y for _, y, _, _ in comps) - margin, 0)
        xb = min(x0 + max(x + p.shape[1] for x, _, p, _ in comps) + margin, W)
        yb = min(y0 + max(y + p.shape[0] for _, y, p, _ in comps) + margin, H)
        win = np.zeros((yb - ya, xb - xa), np.int32)
        for k, (x, y, pixels, _) in enumerate(comps, start=1):
            ox, oy = x0 + x - xa, y0 + y - ya
            win[oy:oy + pixels.shape[0], ox:ox + pixels.shape[1]][pixels] = k
        gt_win = gt_u8[ya:yb, xa:xb]
        grown = (win > 0).view(np.uint8) if kernel is None else \
            cv2.dilate((win > 0).view(np.uint8), kernel)
        ring = (grown > 0) & (gt_win != c) & (gt_win != IGNORE_LABEL)
        found.append(ClassSmallObjects(class_id=int(c), window=(xa, ya, xb - xa, yb - ya),
                                       ids=win, areas=np.array([a for _, _, _, a in comps],
                                                               np.int64), ring=ring))
    return found


class SmallObjectMetric:
    """
    Streaming small-object IoU, pixel recall and instance recall per class (see module doc).

    `update(gt, pred)` per frame, or `update_objects(objects, pred)` to reuse the objects of
    one ground truth for several predictions (one extraction per frame, not per model).
    """

    def __init__(self, max_pixels: int = DEFAULT_MAX_PIXELS,
                 classes: Sequence[int] = DEFAULT_SMALL_CLASSES, margin: int = 3,
                 hit_fraction: float = 0.5, num_classes: int = NUM_CLASSES):
        self.max_pixels = int(max_pixels)
        self.classes = tuple(int(c) for c in classes)
        self.margin = int(margin)
        self.hit_fraction = float(hit_fraction)
        self.num_classes = num_classes
        self.tp = np.zeros(num_classes, np.int64)
        self.fn = np.zeros(num_classes, np.int64)
        self.fp = np.zeros(num_classes, np.int64)
        self.instances = np.zeros(num_classes, np.int64)
        self.hits = np.zeros(num_classes, np.int64)

    def extract(self, gt_u8: np.ndarray, presence: Optional[np.ndarray] = None):
        return extract_small_objects(gt_u8, self.max_pixels, self.classes, self.margin,
                                     presence)

    def update(self, gt_u8: np.ndarray, pred_u8: np.ndarray) -> None:
        """Add one frame. gt_u8, pred_u8: shape (H, W), uint8."""
        if gt_u8.shape != pred_u8.shape:
            raise ValueError('ground truth %s and prediction %s differ in shape'
                             % (gt_u8.shape, pred_u8.shape))
        self.update_objects(self.extract(gt_u8), pred_u8)

    def update_objects(self, objects: Sequence[ClassSmallObjects], pred_u8: np.ndarray) -> None:
        """Add one frame whose small objects were extracted already (same margin)."""
        for obj in objects:
            c = obj.class_id
            x, y, w, h = obj.window
            hit = pred_u8[y:y + h, x:x + w] == c
            tp_each = np.bincount(obj.ids[hit], minlength=obj.count + 1)[1:]
            tp = int(tp_each.sum())
            self.tp[c] += tp
            self.fn[c] += int(obj.areas.sum()) - tp
            self.fp[c] += int(np.count_nonzero(hit & obj.ring))
            self.instances[c] += obj.count
            self.hits[c] += int(np.count_nonzero(tp_each >= self.hit_fraction * obj.areas))

    def merge(self, other: 'SmallObjectMetric') -> None:
        for name in ('tp', 'fn', 'fp', 'instances', 'hits'):
            getattr(self, name)[:] += getattr(other, name)

    def iou(self) -> np.ndarray:
        """Small-object IoU per class; NaN for classes without small objects. Shape: (C,)."""
        denom = (self.tp + self.fn + self.fp).astype(np.float64)
        with np.errstate(invalid='ignore', divide='ignore'):
            return np.where(self.instances > 0, self.tp / denom, np.nan)

    def miou(self) -> float:
        iou = self.iou()
        vals = iou[self.instances > 0]
        return float(vals.mean()) if vals.size else float('nan')

    def compute(self) -> Dict[str, object]:
        """JSON-ready results: mIoU, totals and per-class figures."""
        iou = self.iou()
        per_class = {}
        for c in np.nonzero(self.instances > 0)[0]:
            area = int(self.tp[c] + self.fn[c])
            per_class[CLASS_NAMES[c] if c < len(CLASS_NAMES) else str(c)] = {
                'iou': float(iou[c]),
                'pixel_recall': float(self.tp[c] / area) if area else None,
                'instance_recall': float(self.hits[c] / self.instances[c]),
                'instances': int(self.instances[c]),
                'pixels': area,
                'tp': int(self.tp[c]), 'fn': int(self.fn[c]), 'fp': int(self.fp[c]),
            }
        total = int(self.instances.sum())
        return {
            'miou': self.miou() if total else None,
            'instances': total,
            'instance_recall': float(self.hits.sum() / total) if total else None,
            'max_pixels': self.max_pixels,
            'margin': self.margin,
            'per_class': per_class,
        }
