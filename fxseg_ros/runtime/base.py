# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The one runner interface every backend implements (after Polygraphy's BaseRunner).

A runner owns one deployment graph or engine: uint8 BGR camera frames in, uint8 class IDs out.
It is a context manager: `activate()` loads (sessions, engines, buffers), `deactivate()` frees.
`infer()` takes a batch whose height and width equal `input_hw`; resizing other frame sizes and
decoding encodings is the pipeline's job, not the runner's.
"""


import abc
import time
from typing import Dict, Optional, Tuple

import numpy as np


class RunnerError(RuntimeError):
    """A runner could not load or run its model; the message says what to do."""


class Runner(abc.ABC):
    """
    Base class of all runners.

    Subclasses implement `activate_impl`, `deactivate_impl` and `infer_impl`, and set
    `input_hw`, `output_hw` and `max_batch` in `activate_impl`.
    """

    #: Backend name, e.g. 'onnxruntime' or 'tensorrt'.
    backend = 'base'

    def __init__(self, name: Optional[str] = None):
        self.name = name or self.backend
        self.is_active = False
        #: (height, width) of the frames `infer` accepts; set on activation.
        self.input_hw: Optional[Tuple[int, int]] = None
        #: (height, width) of the label images `infer` returns; set on activation.
        self.output_hw: Optional[Tuple[int, int]] = None
        #: Largest batch one call takes (None: no limit).
        self.max_batch: Optional[int] = None
        #: Milliseconds per stage of the last `infer` call, e.g. upload / inference / download.
        self.last_timings: Dict[str, float] = {}
        #: Wall-clock milliseconds of the whole last `infer` call.
        self.last_inference_ms: float = 0.0

    # Context management -------------------------------------------------------------------
    def activate(self) -> 'Runner':
        if not self.is_active:
            self.activate_impl()
            self.is_active = True
        return self

    def deactivate(self) -> None:
        if self.is_active:
            self.deactivate_impl()
            self.is_active = False

    def __enter__(self) -> 'Runner':
        return self.activate()

    def __exit__(self, exc_type, exc, tb) -> None:
        self.deactivate()

    # Inference ----------------------------------------------------------------------------
    def infer(self, frames: np.ndarray) -> np.ndarray:
        """
        Segment a batch of camera frames.

        frames: shape (N, H, W, 3), uint8, BGR, (H, W) == input_hw, C-contiguous.
        Returns shape (N, h, w), uint8 class IDs, (h, w) == output_hw.
        """
        frames = self.check_frames(frames)
        start = time.perf_counter()
        labels = self.infer_impl(frames)
        self.last_inference_ms = (time.perf_counter() - start) * 1e3
        return labels

    def check_frames(self, frames: np.ndarray) -> np.ndarray:
        """
        Validate a batch for this (active) runner; return it C-contiguous.

        Raises RunnerError when inactive, ValueError naming what is wrong with the batch.
        """
        if not self.is_active:
            raise RunnerError('runner %r is not active: use it as a context manager or call '
                              'activate() first' % self.name)
        frames = np.asarray(frames)
        if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError('expected uint8 frames of shape (N, H, W, 3), got %s %s'
                             % (frames.dtype, frames.shape))
        if tuple(frames.shape[1:3]) != tuple(self.input_hw):
            raise ValueError('frames are %dx%d but %s expects %dx%d (HxW); the pipeline resizes'
                             % (frames.shape[1], frames.shape[2], self.name,
                                self.input_hw[0], self.input_hw[1]))
        if self.max_batch is not None and frames.shape[0] > self.max_batch:
            raise ValueError('batch of %d exceeds %s max_batch=%d'
                             % (frames.shape[0], self.name, self.max_batch))
        return np.ascontiguousarray(frames)

    @abc.abstractmethod
    def activate_impl(self) -> None:
        """Load the model and allocate what inference needs."""

    @abc.abstractmethod
    def deactivate_impl(self) -> None:
        """Free what `activate_impl` allocated."""

    @abc.abstractmethod
    def infer_impl(self, frames: np.ndarray) -> np.ndarray:
        """Run one batch; set `self.last_timings`."""
