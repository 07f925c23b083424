# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
TensorRT INT8 calibrators fed by fxseg_ros calibration readers and/or a calibration cache.

A reader is anything with `get_next() -> Optional[dict {input name: float32 (N, 3, h, w)}]`
(`fxseg_ros.data.readers`, onnxruntime's CalibrationDataReader). Batches are split into single
frames, because the calibration profile fixes the batch at 1. The class is created on first use
so this module imports without TensorRT.
"""


import logging
from pathlib import Path
from typing import Optional

LOG = logging.getLogger(__name__)

_CLASSES = {}


def make_calibrator(class_name: str = 'IInt8EntropyCalibrator2', reader=None,
                    cache_path: Optional[Path] = None, cache_bytes: Optional[bytes] = None):
    """
    Create a TensorRT calibrator of the named class (e.g. 'IInt8EntropyCalibrator2').

    reader: calibration reader (None: cache only).
    cache_path: where TensorRT's computed cache is written (and read from when it exists and
        cache_bytes is not given).
    cache_bytes: cache content handed to TensorRT as is (e.g. with a rewritten header).
    After the build, `.batches` counts the frames fed and `.error` holds the first reader error
    (TensorRT swallows exceptions raised inside get_batch).
    """
    cls = _CLASSES.get(class_name)
    if cls is None:
        cls = _CLASSES[class_name] = _define(class_name)
    return cls(reader, cache_path, cache_bytes)


def _define(class_name: str):
    import numpy as np
    import pycuda.driver as cuda
    import tensorrt as trt

    base = getattr(trt, class_name)

    class Calibrator(base):
        """Feeds reader frames through pinned device buffers; reads/writes the cache."""

        def __init__(self, reader, cache_path, cache_bytes):
            base.__init__(self)
            self.reader = reader
            self.cache_path = Path(cache_path) if cache_path is not None else None
            self.cache_bytes = cache_bytes
            self.batches = 0
            self.error = None
            self._device = {}
            self._pending = []

        def get_batch_size(self):
            return 1

        def _next_frame(self):
            if self._pending:
                return self._pending.pop(0)
            feed = self.reader.get_next()
            if feed is None:
                return None
            count = next(iter(feed.values())).shape[0]
            frames = [{k: np.ascontiguousarray(v[i:i + 1], dtype=np.float32)
                       for k, v in feed.items()} for i in range(count)]
            self._pending = frames[1:]
            return frames[0]

        def get_batch(self, names, *args):
            if self.reader is None or self.error is not None:
                return None
            try:
                feed = self._next_frame()
                if feed is None:
                    return None
                pointers = []
                for name in names:
                    if name not in feed:
                        raise KeyError('the calibration reader yields %s, the network wants %r'
                                       % (sorted(feed), name))
                    array = feed[name]
                    buf = self._device.get(name)
                    if buf is None or buf[1] < array.nbytes:
                        buf = (cuda.mem_alloc(array.nbytes), array.nbytes)
                        self._device[name] = buf
                    cuda.memcpy_htod(buf[0], array)
                    pointers.append(int(buf[0]))
                self.batches += 1
                if self.batches % 50 == 0:
                    LOG.info('calibration: %d frames', self.batches)
                return pointers
            except Exception as exc:  # TensorRT would swallow it: keep it for the builder
                LOG.error('calibration reader failed: %s', exc)
                self.error = exc
                return None

        def read_calibration_cache(self):
            if self.cache_bytes is not None:
                return self.cache_bytes
            if self.cache_path is not None and self.cache_path.is_file():
                return self.cache_path.read_bytes()
            return None

        def write_calibration_cache(self, cache):
            if self.cache_path is None:
                return
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            self.cache_path.write_bytes(bytes(cache))
            LOG.info('wrote calibration cache %s', self.cache_path)

        def free(self):
            for buf, _ in self._device.values():
                buf.free()
            self._device = {}

    Calibrator.__name__ = 'Fxseg' + class_name[1:]
    return Calibrator
