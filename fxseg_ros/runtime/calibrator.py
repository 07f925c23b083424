# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
TensorRT INT8 calibrators fed by fxseg_ros calibration readers and/or a calibration cache.

A reader is anything with `get_next() -> Optional[dict {input name: float32 (N, 3, h, w)}]`
(`fxseg_ros.data.readers`, onnxruntime's CalibrationDataReader). Batches are split into single
frames, because the calibration profile fixes the batch at 1.

`CalibratorCore` holds the callbacks' logic as plain Python (tested without TensorRT); the
TensorRT subclass made by `make_calibrator` only forwards to it. The callbacks never raise:
- TensorRT 8.0 / 8.2 call them from noexcept C++ without a try block (release/8.2
  python/src/infer/pyInt8.cpp; release/8.5 wraps them in try blocks), so an exception there is
  std::terminate; the core catches on every version, logs and returns None (get_batch: no more
  data) and keeps the first error for the builder.
- Every frame is checked against the network input's shape before it is uploaded: TensorRT reads
  exactly that many bytes from the device pointer, so a frame of another size would make it read
  past the buffer.
- read_calibration_cache keeps the returned bytes alive on the object: release/8.0 pyInt8.cpp
  keeps no reference to the buffer it returns a pointer into (8.2 added mCache).
"""


import logging
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence, Tuple

import numpy as np

LOG = logging.getLogger(__name__)

_CLASSES = {}


class CalibratorCore:
    """
    The calibrator callbacks without TensorRT.

    reader: calibration reader (None: cache only). input_shapes: network input name -> shape of
    one frame, e.g. {'input': (1, 3, 360, 640)}. upload(name, array) -> device pointer (int).
    cache_path / cache_bytes: see make_calibrator.
    """

    def __init__(self, reader, input_shapes: Dict[str, Tuple[int, ...]],
                 upload: Callable[[str, np.ndarray], int], cache_path: Optional[Path] = None,
                 cache_bytes: Optional[bytes] = None):
        self.reader = reader
        self.input_shapes = {k: tuple(int(d) for d in v) for k, v in input_shapes.items()}
        self.upload = upload
        self.cache_path = Path(cache_path) if cache_path is not None else None
        self.cache_bytes = cache_bytes
        self.batches = 0
        self.error: Optional[BaseException] = None
        self._pending = []
        self._returned_cache: Optional[bytes] = None

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

    def get_batch(self, names: Sequence[str]):
        """Device pointers of the next frame, one per name; None at the end or after an error."""
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
                want = self.input_shapes.get(name)
                if want is not None and tuple(array.shape) != want:
                    raise ValueError('calibration frame %r has shape %s, the network input is %s'
                                     % (name, tuple(array.shape), want))
                pointers.append(int(self.upload(name, array)))
            self.batches += 1
            if self.batches % 50 == 0:
                LOG.info('calibration: %d frames', self.batches)
            return pointers
        except Exception as exc:  # TensorRT must not see it (see the module docstring)
            LOG.error('calibration stopped: %s', exc)
            self.error = exc
            return None

    def read_calibration_cache(self) -> Optional[bytes]:
        try:
            data = self.cache_bytes
            if data is None and self.cache_path is not None and self.cache_path.is_file():
                data = self.cache_path.read_bytes()
        except Exception as exc:  # an unreadable cache: calibrate instead
            LOG.error('cannot read the calibration cache %s: %s', self.cache_path, exc)
            self.error = self.error or exc
            data = None
        self._returned_cache = data
        return data

    def write_calibration_cache(self, cache) -> None:
        if self.cache_path is None:
            return None
        try:
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.cache_path.with_name(self.cache_path.name + '.tmp')
            tmp.write_bytes(bytes(cache))
            tmp.replace(self.cache_path)
            LOG.info('wrote calibration cache %s', self.cache_path)
        except Exception as exc:  # a failed write must not terminate the build
            LOG.error('cannot write the calibration cache %s: %s', self.cache_path, exc)
            self.error = self.error or exc
        return None


def make_calibrator(class_name: str = 'IInt8EntropyCalibrator2', reader=None,
                    cache_path: Optional[Path] = None, cache_bytes: Optional[bytes] = None,
                    input_shapes: Optional[Dict[str, Tuple[int, ...]]] = None, device=None):
    """
    Create a TensorRT calibrator of the named class (e.g. 'IInt8EntropyCalibrator2').

    reader: calibration reader (None: cache only). input_shapes: the calibrated network's inputs
    (name -> (1, 3, h, w)). device: a fxseg_ros.runtime.cuda_device.Device for the uploads.
    cache_path: where TensorRT's computed cache is written (and read from when it exists and
    cache_bytes is not given). cache_bytes: cache content handed to TensorRT as is.
    After the build, `.core.batches` counts the frames fed and `.core.error` holds the first
    error (TensorRT itself only sees None).
    """
    cls = _CLASSES.get(class_name)
    if cls is None:
        cls = _CLASSES[class_name] = _define(class_name)
    return cls(reader, cache_path, cache_bytes, input_shapes or {}, device)


def _define(class_name: str):
    import tensorrt as trt

    base = getattr(trt, class_name)

    class Calibrator(base):
        """Forwards TensorRT's callbacks to a CalibratorCore; device buffers per input."""

        def __init__(self, reader, cache_path, cache_bytes, input_shapes, device):
            base.__init__(self)
            self._device = device
            self._buffers = {}
            self.core = CalibratorCore(reader, input_shapes, self._upload, cache_path,
                                       cache_bytes)

        def _upload(self, name, array):
            buf = self._buffers.get(name)
            if buf is None or buf.nbytes < array.nbytes:
                if buf is not None:
                    buf.free()
                buf = self._buffers[name] = self._device.alloc(array.nbytes)
            self._device.copy_to_device(buf, array)
            return buf.ptr

        def get_batch_size(self):
            return 1

        def get_batch(self, names, *args):
            return self.core.get_batch(names)

        def read_calibration_cache(self):
            return self.core.read_calibration_cache()

        def write_calibration_cache(self, cache):
            return self.core.write_calibration_cache(cache)

        def free(self):
            for buf in self._buffers.values():
                buf.free()
            self._buffers = {}

    Calibrator.__name__ = 'Fxseg' + class_name[1:]
    return Calibrator
