# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The frame blended with the colour mask of its labels, for a person looking at the result.

Plain numpy / OpenCV (no rclpy): the node publishes it on segmentation/overlay while someone
subscribes, as ros_deep_learning's segnet node offers its overlay.
"""


import cv2
import numpy as np


def blend_overlay(frame_bgr: np.ndarray, labels: np.ndarray, palette_rgb: np.ndarray,
                  alpha: float, rgb: bool = False) -> np.ndarray:
    """
    (1 - alpha) x frame + alpha x colour of each pixel's label, rounded to the nearest value.

    frame_bgr: shape (H, W, 3), uint8, BGR. labels: shape (H, W), uint8 class IDs.
    palette_rgb: shape (256, 3), uint8, RGB colour per label. alpha: 0 (frame) .. 1 (mask).
    rgb: return RGB (else BGR). Returns shape (H, W, 3), uint8.
    """
    if frame_bgr.shape[:2] != labels.shape:
        raise ValueError('frame %s and labels %s differ in size'
                         % (frame_bgr.shape[:2], labels.shape))
    if not 0.0 <= alpha <= 1.0:
        raise ValueError('alpha must be in [0, 1], got %r' % alpha)
    palette = np.ascontiguousarray(palette_rgb, dtype=np.uint8)
    lut = (palette if rgb else palette[:, ::-1]).reshape(1, 256, 3)
    colors = cv2.LUT(cv2.merge([labels, labels, labels]), np.ascontiguousarray(lut))
    frame = frame_bgr[..., ::-1] if rgb else frame_bgr
    # addWeighted computes in floating point and saturates with rounding to nearest
    return cv2.addWeighted(np.ascontiguousarray(frame), 1.0 - alpha, colors, alpha, 0.0)
