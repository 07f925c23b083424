# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Frames of any size in, label images at each frame's own size out, with per-stage timings.

The runner takes batches of frames at its `input_hw`; the pipeline in front of it resizes other
frame sizes on the host (OpenCV, bilinear), splits batches larger than the runner's `max_batch`,
and resizes the labels back to each frame's size (nearest). For frames already at the camera size
the hot path is a view (one frame) or one `np.stack` (several frames) and the runner call.
"""


import time
from typing import Dict, List, Sequence, Union

import cv2
from fxseg_ros.runtime.base import Runner
import numpy as np

#: Keys of `PipelineResult.timings_ms`, in stage order.
STAGES = ('preprocess', 'upload', 'inference', 'download', 'postprocess', 'total')


class PipelineResult:
    """
    Labels and stage timings of one `SegmentationPipeline.process` call.

    labels: list of uint8 arrays, shape (H_i, W_i) of the i-th input frame (class IDs).
    timings_ms: milliseconds per stage for the whole batch, keys STAGES.
    """

    __slots__ = ('labels', 'timings_ms')

    def __init__(self, labels: List[np.ndarray], timings_ms: Dict[str, float]):
        self.labels = labels
        self.timings_ms = timings_ms

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        return 'PipelineResult(%d frames, total %.2f ms)' % (len(self.labels),
                                                             self.timings_ms['total'])


class SegmentationPipeline:
    """
    Segment BGR frames of any size with an (activated) runner.

    runner: a `Runner`; activated here if it is not active yet (the caller keeps ownership and
        deactivates it).
    """

    def __init__(self, runner: Runner):
        self.runner = runner
        if not runner.is_active:
            runner.activate()
        self._input_hw = tuple(runner.input_hw)
        self._output_hw = tuple(runner.output_hw)
        self._max_batch = runner.max_batch

    def process(self, frames: Union[np.ndarray, Sequence[np.ndarray]]) -> PipelineResult:
        """
        Segment a batch of frames.

        frames: a sequence of BGR uint8 arrays of shape (H_i, W_i, 3), a single such array, or
            an array of shape (N, H, W, 3).
        Returns a PipelineResult with one uint8 (H_i, W_i) label image per frame.
        """
        start = time.perf_counter()
        if isinstance(frames, np.ndarray):
            if frames.ndim == 3:
                frames = [frames]
            elif frames.ndim != 4:
                raise ValueError('expected frames of shape (H, W, 3) or (N, H, W, 3), got %s'
                                 % (frames.shape,))
        count = len(frames)
        if count == 0:
            raise ValueError('no frames to process')
        in_h, in_w = self._input_hw
        out_h, out_w = self._output_hw
        sizes = []
        resized = False
        prepared = []
        for frame in frames:
            if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 \
                    or frame.shape[2] != 3:
                raise ValueError('expected BGR uint8 frames of shape (H, W, 3), got %s %s'
                                 % (getattr(frame, 'dtype', type(frame)),
                                    getattr(frame, 'shape', '')))
            h, w = frame.shape[0], frame.shape[1]
            if h == 0 or w == 0:
                raise ValueError('frame of zero size %s' % (frame.shape,))
            sizes.append((h, w))
            if h != in_h or w != in_w:
                frame = cv2.resize(frame, (in_w, in_h), interpolation=cv2.INTER_LINEAR)
                resized = True
            prepared.append(frame)
        chunk = self._max_batch or count
        preprocess = (time.perf_counter() - start) * 1e3
        stage_sums = {'upload': 0.0, 'inference': 0.0, 'download': 0.0, 'host_pre': 0.0,
                      'host_post': 0.0}
        outputs = []
        # Runners with in-flight slots (TensorRT) get the next chunk submitted before the
        # previous one is collected, so its upload overlaps the previous inference.
        pipelined = count > chunk and hasattr(self.runner, 'infer_async')
        pending = []
        for first in range(0, count, chunk):
            t0 = time.perf_counter()
            part = prepared[first:first + chunk]
            if len(part) == 1:
                batch = part[0][None]
            else:
                batch = np.stack(part)
            preprocess += (time.perf_counter() - t0) * 1e3
            if pipelined:
                pending.append(self.runner.infer_async(batch))
                if len(pending) > 1:
                    outputs.append(self.runner.wait(pending.pop(0)))
                    self._add_stages(stage_sums)
            else:
                outputs.append(self.runner.infer(batch))
                self._add_stages(stage_sums)
        for ticket in pending:
            outputs.append(self.runner.wait(ticket))
            self._add_stages(stage_sums)
        preprocess += stage_sums['host_pre']
        postprocess = stage_sums['host_post']
        t0 = time.perf_counter()
        labels = [lab for out in outputs for lab in out]
        if resized or (out_h, out_w) != (in_h, in_w):
            for i, (h, w) in enumerate(sizes):
                if (h, w) != (out_h, out_w):
                    labels[i] = cv2.resize(labels[i], (w, h), interpolation=cv2.INTER_NEAREST)
        end = time.perf_counter()
        postprocess += (end - t0) * 1e3
        timings = {'preprocess': preprocess, 'upload': stage_sums['upload'],
                   'inference': stage_sums['inference'], 'download': stage_sums['download'],
                   'postprocess': postprocess, 'total': (end - start) * 1e3}
        return PipelineResult(labels, timings)

    def _add_stages(self, sums: Dict[str, float]) -> None:
        for key, value in self.runner.last_timings.items():
            if key in sums:
                sums[key] += value
