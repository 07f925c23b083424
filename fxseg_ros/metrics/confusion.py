# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Streaming segmentation metrics: confusion matrix, IoU per class, mIoU, pixel accuracy.

`update` per frame, `compute` at the end: memory stays flat over long bags. The confusion matrix
is accumulated with one `np.bincount` over label pairs, never per-class loops.
"""

from __future__ import annotations

from typing import Dict, Optional, Sequence

from fxseg_ros.data.labels import CLASS_NAMES, IGNORE_LABEL, NUM_CLASSES
import numpy as np


class ConfusionMatrix:
    """
    A streaming confusion matrix: rows are ground truth, columns prediction.

    Pixels whose ground truth is `ignore_label` are
    skipped; a prediction outside [0, num_classes) counts as wrong for its ground-truth class.
    """

    def __init__(self, num_classes: int = NUM_CLASSES, ignore_label: int = IGNORE_LABEL):
        self.num_classes = num_classes
        self.ignore_label = ignore_label
        # One extra column collects out-of-range predictions.
        self.matrix = np.zeros((num_classes, num_classes + 1), dtype=np.int64)

    def reset(self) -> None:
        self.matrix[:] = 0

    def update(self, gt: np.ndarray, pred: np.ndarray) -> None:
        """
        Add one frame (or a batch).

        gt, pred: same shape, integer labels (uint8 usually).
        """
        gt = np.asarray(gt)
        pred = np.asarray(pred)
        if gt.shape != pred.shape:
            raise ValueError('ground truth %s and prediction %s differ in shape'
                             % (gt.shape, pred.shape))
        gt = gt.ravel().astype(np.int64)
        pred = pred.ravel().astype(np.int64)
        keep = (gt != self.ignore_label) & (gt >= 0) & (gt < self.num_classes)
        gt = gt[keep]
        pred = pred[keep]
        pred = np.where((pred >= 0) & (pred < self.num_classes), pred, self.num_classes)
        n = self.num_classes + 1
        self.matrix += np.bincount(gt * n + pred, minlength=self.num_classes * n).reshape(
            self.num_classes, n)

    def merge(self, other: 'ConfusionMatrix') -> None:
        self.matrix += other.matrix

    @property
    def square(self) -> np.ndarray:
        """Return the (num_classes, num_classes) matrix without the out-of-range column."""
        return self.matrix[:, :self.num_classes]

    def iou(self) -> np.ndarray:
        """
        Return the IoU per class; NaN for a class absent from both ground truth and prediction.

        Shape: (num_classes,), float64.
        """
        tp = np.diag(self.square).astype(np.float64)
        gt_total = self.matrix.sum(axis=1).astype(np.float64)
        pred_total = self.square.sum(axis=0).astype(np.float64)
        union = gt_total + pred_total - tp
        with np.errstate(invalid='ignore', divide='ignore'):
            return np.where(union > 0, tp / union, np.nan)

    def present(self) -> np.ndarray:
        """Classes that occur in the ground truth. Shape: (num_classes,), bool."""
        return self.matrix.sum(axis=1) > 0

    def miou(self, classes: Optional[Sequence[int]] = None) -> float:
        """Mean IoU over the classes present in the ground truth (or over `classes`)."""
        iou = self.iou()
        mask = (self.present() if classes is None
                else np.isin(np.arange(self.num_classes), classes))
        vals = iou[mask]
        vals = vals[~np.isnan(vals)]
        return float(vals.mean()) if vals.size else float('nan')

    def pixel_accuracy(self) -> float:
        total = self.matrix.sum()
        return float(np.trace(self.square) / total) if total else float('nan')

    def compute(self) -> Dict[str, object]:
        """All metrics as plain Python values (JSON-ready)."""
        iou = self.iou()
        present = self.present()
        return {
            'miou': self.miou(),
            'pixel_accuracy': self.pixel_accuracy(),
            'iou': {CLASS_NAMES[i] if i < len(CLASS_NAMES) else str(i):
                    (None if np.isnan(iou[i]) else float(iou[i]))
                    for i in range(self.num_classes) if present[i]},
            'pixels': int(self.matrix.sum()),
        }
