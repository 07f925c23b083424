# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The one definition of the network's input and output conventions.

Every path into the network (training, calibration, the deployment graph, the reference used in
tests) uses these constants, so a model trained here segments the same frames the node sees.
Frames are camera frames as they arrive: BGR, uint8, shape (H, W, 3).
"""


from typing import Tuple

import cv2
from fxseg_ros.data.sizes import CAMERA_WH, NET_INPUT_WH  # noqa: F401 (conventions used here)
import numpy as np

#: Per-channel mean and standard deviation in BGR order, on the 0..255 scale (ImageNet statistics).
MEAN_BGR = np.array([0.406 * 255, 0.456 * 255, 0.485 * 255], dtype=np.float32)
STD_BGR = np.array([0.225 * 255, 0.224 * 255, 0.229 * 255], dtype=np.float32)
#: Names of the bare network graph's input and output.
NET_INPUT_NAME = 'input'
NET_OUTPUT_NAME = 'scores'
#: Names of the deployment graph's input and output.
DEPLOY_INPUT_NAME = 'frames'
DEPLOY_OUTPUT_NAME = 'labels'


def resize_bilinear(frame: np.ndarray, size_wh: Tuple[int, int]) -> np.ndarray:
    """
    Resize like ONNX `Resize` (linear, half_pixel, no antialias) does.

    Computed in float32 so the result equals the deployment graph's resize, not OpenCV's
    fixed-point uint8 path. frame: shape (H, W, C), any dtype. Returns float32 (h, w, C).
    """
    if (frame.shape[1], frame.shape[0]) == tuple(size_wh):
        return frame.astype(np.float32)
    return cv2.resize(frame.astype(np.float32), tuple(size_wh), interpolation=cv2.INTER_LINEAR)


def preprocess(frames_bgr: np.ndarray, size_wh: Tuple[int, int] = NET_INPUT_WH) -> np.ndarray:
    """
    Turn camera frames into the network's input blob.

    frames_bgr: shape (N, H, W, 3) or (H, W, 3), uint8, BGR.
    Returns shape (N, 3, h, w), float32, normalised with MEAN_BGR / STD_BGR.
    """
    frames = np.asarray(frames_bgr)
    if frames.ndim == 3:
        frames = frames[None]
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError('expected frames of shape (N, H, W, 3), got %s' % (frames.shape,))
    w, h = size_wh
    blob = np.empty((frames.shape[0], 3, h, w), dtype=np.float32)
    for i, frame in enumerate(frames):
        x = (resize_bilinear(frame, size_wh) - MEAN_BGR) / STD_BGR
        blob[i] = x.transpose(2, 0, 1)
    return blob


def postprocess(scores: np.ndarray, out_wh: Tuple[int, int] = None) -> np.ndarray:
    """
    Turn network scores into class IDs, optionally resized (nearest) to the camera resolution.

    scores: shape (N, C, h, w), float. Returns shape (N, h, w) or (N, H, W), uint8.
    Nearest resize follows ONNX `Resize` (nearest, asymmetric, floor) so it equals the graph's.
    """
    labels = np.argmax(scores, axis=1).astype(np.uint8)
    if out_wh is None or (labels.shape[2], labels.shape[1]) == tuple(out_wh):
        return labels
    out_w, out_h = out_wh
    rows = np.floor(np.arange(out_h) * (labels.shape[1] / out_h)).astype(np.int64)
    cols = np.floor(np.arange(out_w) * (labels.shape[2] / out_w)).astype(np.int64)
    return labels[:, rows][:, :, cols]
