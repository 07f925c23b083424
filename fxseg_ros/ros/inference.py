# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The segmentation node's inference side: opening the runner, and the worker thread.

Opening the runner loads the engine or builds it (minutes on a Jetson).
The worker takes every fresh frame (camera_io's slots), converts them, runs one batched
inference for all cameras and publishes. A slow model therefore never builds a queue.
"""


import logging
import os
import tempfile
import threading
import time
import traceback
from typing import Dict, Optional

from fxseg_ros.pipeline.classes import class_count_problem, model_class_count
from fxseg_ros.pipeline.convert import CONVERTERS, FrameRejected
from fxseg_ros.ros import params as P
from fxseg_ros.ros.camera_io import StartupError

LOG = logging.getLogger(__name__)


def model_path(cfg: Dict[str, object]) -> str:
    """Return the ONNX model of the configuration (the demo model when `model` is empty)."""
    if cfg['model']:
        return os.path.abspath(os.path.expanduser(cfg['model']))
    from fxseg_ros import DEMO_MODEL

    return str(DEMO_MODEL)


def uses_tensorrt(cfg: Dict[str, object]) -> bool:
    return bool(cfg['engine']) or cfg['backend'] == 'tensorrt'


def check_writable_dir(path: str, parameter: str) -> None:
    """Create `path` if needed and check that a file can be written there; else StartupError."""
    try:
        os.makedirs(path, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix='.write_test_', dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise StartupError("parameter '%s': cannot write engines to %s (%s); set %s to a folder "
                           'this user can write (default $ROS_HOME/fxseg_ros/engines)'
                           % (parameter, path, exc.strerror or exc, parameter)) from None


def tensorrt_available() -> bool:
    """Whether the TensorRT Python bindings can be imported (without importing them)."""
    import importlib.util

    return importlib.util.find_spec('tensorrt') is not None


def check_engine_files(cfg: Dict[str, object], paths: P.EnginePaths,
                       with_tensorrt: bool) -> None:
    """
    Before TensorRT is touched: an engine that will be built needs a folder this user can write.

    Only when the engine is missing and build_if_missing is set: an existing engine is loaded
    from wherever it is (a rebuild after an upgrade reports a failed write itself). The INT8
    calibration cache is checked only where TensorRT is there to build with (elsewhere the
    runner's line that TensorRT is missing comes first).
    """
    if os.path.isfile(paths.engine) or not cfg['build_if_missing']:
        return  # loaded, or the runner reports the missing engine and how to build it
    folder = os.path.dirname(paths.engine)
    check_writable_dir(folder, 'engine_dir' if folder == paths.engine_dir else 'engine')
    if (with_tensorrt and cfg['precision'] == 'int8' and paths.calibration_cache
            and not os.path.isfile(paths.calibration_cache)):
        raise StartupError("parameter 'calibration_cache': %s does not exist, and the INT8 "
                           'engine %s must be built from it; create it with fxseg calibrate '
                           '(--cache), or build the engine with fxseg build'
                           % (paths.calibration_cache, paths.engine))


def check_classes(model: str, labels, labels_file: str) -> None:
    """Check the model's class count against the label table's (StartupError when they differ)."""
    try:
        classes = model_class_count(model)
    except Exception as exc:  # onnx raises its own types for unreadable files
        raise StartupError('cannot load the model %s: %s' % (model, exc)) from None
    problem = class_count_problem(classes, labels.names, model, labels_file or
                                  '(the 19 Cityscapes classes)')
    if problem:
        raise StartupError("parameter 'labels_file': %s" % problem)


def open_runner(cfg: Dict[str, object], labels, camera_count: int):
    """
    Create and activate the runner and its pipeline; return (runner, pipeline, description).

    Loads the engine, or builds it (minutes on a Jetson; the runtime logs its progress).
    Raises StartupError naming the parameter or the runtime's advice.
    """
    from fxseg_ros.pipeline.pipeline import SegmentationPipeline
    from fxseg_ros.runtime import RunnerError, create_runner

    model = model_path(cfg)
    camera_hw = (cfg['camera_height'], cfg['camera_width'])
    tensorrt = uses_tensorrt(cfg)
    paths = P.engine_paths(dict(cfg, backend='tensorrt' if tensorrt else cfg['backend']), model)
    description = paths.engine if tensorrt else model
    if tensorrt:
        check_engine_files(cfg, paths, tensorrt_available())
    if os.path.isfile(model):
        check_classes(model, labels, cfg['labels_file'])
    runner = None
    try:
        if tensorrt:
            runner = create_runner(
                model, backend='tensorrt', camera_hw=camera_hw, engine_path=paths.engine,
                precision=cfg['precision'], build_if_missing=cfg['build_if_missing'],
                rebuild_on_mismatch=cfg['rebuild_on_mismatch'],
                calibration_cache=paths.calibration_cache or None,
                timing_cache=paths.timing_cache or None, workspace_mib=cfg['workspace_mib'],
                dla_core=cfg['dla_core'] if cfg['dla_core'] >= 0 else None,
                max_batch=cfg['max_batch'] or camera_count)
        else:
            runner = create_runner(model, backend=cfg['backend'], camera_hw=camera_hw,
                                   providers=cfg['providers'] or None, threads=cfg['threads'])
        runner.activate()
        pipeline = SegmentationPipeline(runner)
        warm_up(pipeline, cfg, camera_count)
    except RunnerError as exc:
        close_runner(runner)
        raise StartupError('cannot load the model: %s' % exc) from None
    except (OSError, ValueError, ImportError) as exc:
        close_runner(runner)
        raise StartupError('cannot load the model %s: %s: %s'
                           % (description, type(exc).__name__, exc)) from None
    except BaseException:  # interrupted (a signal during an engine build) or a bug
        close_runner(runner)
        raise
    return runner, pipeline, description


def warm_up(pipeline, cfg: Dict[str, object], camera_count: int) -> None:
    """One inference per batch size the node will use: the first calls allocate."""
    import numpy as np

    h, w = cfg['camera_height'], cfg['camera_width']
    largest = min(cfg['max_batch'] or camera_count, camera_count)
    for size in sorted({1, largest}):
        pipeline.process([np.zeros((h, w, 3), np.uint8)] * size)


def close_runner(runner) -> None:
    if runner is not None:
        runner.deactivate()


class BatchStats:
    """Batches, frames and batch latency of the worker (thread-safe)."""

    def __init__(self, window: int):
        from fxseg_ros.pipeline.stats import LatencyWindow

        self._lock = threading.Lock()
        self.batches = 0
        self.frames = 0
        self.last_batch_size = 0
        self._window = LatencyWindow(window)

    def add(self, size: int, total_ms: float) -> None:
        with self._lock:
            self.batches += 1
            self.frames += size
            self.last_batch_size = size
            self._window.add(total_ms)

    def snapshot(self) -> Dict[str, object]:
        with self._lock:
            return {'batches': self.batches, 'frames': self.frames,
                    'last_batch_size': self.last_batch_size,
                    'summary': self._window.summary() if self.batches else None}


class Worker:
    """
    The inference thread of an active node.

    io: the node's CameraIO; pipeline: an activated SegmentationPipeline; cfg: the live
    parameters; logger: the node's rclpy logger.
    """

    def __init__(self, io, pipeline, cfg: Dict[str, object], stats: BatchStats, logger):
        self.io = io
        self.pipeline = pipeline
        self.cfg = cfg
        self.stats = stats
        self.logger = logger
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name='segmentation_worker',
                                        daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout_s: float = 10.0) -> Optional[str]:
        """Stop the thread (it finishes the running batch); a problem in words, else None."""
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is None or thread is threading.current_thread():
            return None
        thread.join(timeout=timeout_s)
        if thread.is_alive():
            return 'the inference worker did not stop within %.0f s' % timeout_s
        return None

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._wake.wait(0.1):
                continue
            self._wake.clear()
            self._gather()
            taken = self.io.take_pending()
            if taken and not self._stop.is_set():
                try:
                    self._process(taken)
                except Exception:  # keep serving: a failure is logged and counted per frame
                    self.logger.error('inference failed:\n%s' % traceback.format_exc(limit=8),
                                      throttle_duration_sec=5.0)
                    for cam, _ in taken:
                        cam.stats.on_error()

    def _gather(self) -> None:
        """
        With batch_wait_ms > 0, wait that long after the first fresh frame for the others.

        Frames of cameras triggered together arrive a few milliseconds apart; waiting for them
        turns several inference calls into one batch.
        """
        wait_s = self.cfg['batch_wait_ms'] * 1e-3
        if wait_s <= 0 or len(self.io.cameras) < 2:
            return
        first = self.io.first_pending_time()
        if first is None:
            return
        deadline = first + wait_s
        while not self._stop.is_set() and not self.io.all_pending():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._wake.wait(left)
            self._wake.clear()

    def _process(self, taken) -> None:
        convert = CONVERTERS[self.cfg['input_type']]
        ready = []  # (camera, msg, frame, (receipt mono, receipt ns, pickup mono, convert ms))
        for cam, (msg, recv_mono, recv_ns) in taken:
            t0 = time.monotonic()
            try:
                frame = convert(msg)
            except FrameRejected as exc:
                self.io.reject(cam, exc)
                continue
            convert_ms = (time.monotonic() - t0) * 1e3
            cam.stats.frame_id = msg.header.frame_id
            cam.stats.encoding = getattr(msg, 'encoding', None) or getattr(msg, 'format', '')
            cam.stats.size_wh = (frame.shape[1], frame.shape[0])
            ready.append((cam, msg, frame, (recv_mono, recv_ns, t0, convert_ms)))
        chunk = max(self.cfg['max_batch'] or len(ready), 1)
        for first in range(0, len(ready), chunk):
            part = ready[first:first + chunk]
            result = self.pipeline.process([item[2] for item in part])
            self.stats.add(len(part), result.timings_ms['total'])
            for (cam, msg, frame, times), labels in zip(part, result.labels):
                if self._stop.is_set():
                    return  # deactivating: the publishers go away next
                self.io.publish(cam, msg, frame, labels, times, result.timings_ms)
