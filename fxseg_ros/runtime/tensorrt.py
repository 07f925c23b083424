# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
TensorRT runner: a deployment-graph engine driven through the CUDA layer of `cuda_device`.

The CUDA layer is cuda-python, or pycuda on JetPack 4. Loading (the engine decision,
deserialisation) is `trt_loader`; CUDA-graph capture is `cuda_graph`.

One code path serves TensorRT 8.0 - 8.4 (bindings, `execute_async_v2`) and 8.5 / 10.x / 11.x
(`set_tensor_address`, `execute_async_v3`); `EngineIO.io_tensors` is the switch.

Per in-flight slot (two by default) the runner holds an execution context with its own
optimization profile (a profile serves one context at a time with dynamic shapes), a stream,
pinned host buffers, device buffers and four events. `infer_async` enqueues upload -> inference
-> download on the slot's stream and returns at once, so the upload of frame N+1 (on the other
slot's stream) overlaps the inference of frame N; `infer_many` pipelines an iterable of batches
that way, `infer` is submit + wait. The events give the GPU-side stage times.

Float-I/O engines (TensorRT < 8.5 has no UINT8 network I/O) still receive uint8 frames: with
pycuda the runner uploads the uint8 bytes and converts them on the GPU (`cuda_device.Converters`),
and narrows the int32 labels to uint8 there; elsewhere it converts on the host.

Engines whose profile has min = opt = max (DLA builds, see builder) run max_batch frames per call:
smaller batches are padded on the device (the extra frames' labels are not read).
"""


import logging
import os
from pathlib import Path
import threading
import time
from typing import Iterable, Iterator, List, Optional, Tuple

from fxseg_ros.runtime.base import Runner, RunnerError
from fxseg_ros.runtime.trt_loader import default_engine_path, EngineRequest, load_engine
import numpy as np

LOG = logging.getLogger(__name__)

__all__ = ['default_engine_path', 'Ticket', 'TensorRtRunner']


class _Slot:
    """One in-flight batch: execution context, stream, buffers, events, captured graphs."""

    def __init__(self, index: int):
        self.index = index
        self.context = self.stream = None
        self.bindings: List[int] = []
        self.binding_in = 0
        self.host_in = self.host_out = None
        self.dev_in = self.dev_upload = self.dev_out = self.dev_download = None
        self.events = ()
        self.graphs = {}
        self.shape_n = 0
        self.ticket = None


class Ticket:
    """A submitted batch; `result()` waits for it and returns its labels, (N, h, w) uint8."""

    def __init__(self, runner: 'TensorRtRunner', slot: _Slot, count: int, host_pre_ms: float):
        self._runner = runner
        self.slot, self.count, self.host_pre_ms = slot, count, host_pre_ms
        self.labels: Optional[np.ndarray] = None
        self.timings: dict = {}

    @property
    def done(self) -> bool:
        return self.labels is not None

    def result(self) -> np.ndarray:
        if self.labels is None:
            self._runner._collect(self)
        self._runner.last_timings = self.timings
        return self.labels


class TensorRtRunner(Runner):
    """
    Run a deployment-graph TensorRT engine.

    engine_path: the serialized engine (`fxseg build`); its metadata file `E.json` is checked
        against this machine before loading.
    onnx_path: the ONNX model to (re)build from when build_if_missing / rebuild_on_mismatch.
    precision, calibration_cache, calib_data, workspace_mib, timing_cache, dla_core, max_batch,
        float_io: build settings (see fxseg_ros.runtime.builder.BuildOptions).
    camera_hw, output: frame size and label resolution the engine must have.
    cuda_graph: capture the steady-state enqueue in a CUDA graph (TensorRT >= 8.5, cuda-python).
    slots: concurrent in-flight batches (execution contexts / streams).
    device: CUDA device index; cuda_binding: 'cuda-python', 'pycuda' or None (the first found).
    """

    backend = 'tensorrt'

    def __init__(self, engine_path, camera_hw: Tuple[int, int] = (720, 1280),
                 output: str = 'camera', onnx_path=None, precision: str = 'fp16',
                 build_if_missing: bool = False, rebuild_on_mismatch: bool = False,
                 calibration_cache=None, calib_data=None, workspace_mib: int = 1024,
                 timing_cache=None, dla_core: Optional[int] = None, max_batch: int = 1,
                 float_io: Optional[bool] = None, cuda_graph: bool = False, slots: int = 2,
                 device: int = 0, cuda_binding: Optional[str] = None, name: Optional[str] = None):
        super().__init__(name)
        if slots < 1:
            raise ValueError('slots must be >= 1, got %d' % slots)
        from fxseg_ros.runtime.builder import BuildOptions

        self.engine_path = Path(os.fspath(engine_path))
        self.onnx_path = Path(os.fspath(onnx_path)) if onnx_path is not None else None
        self.camera_hw = (int(camera_hw[0]), int(camera_hw[1]))
        self.output = output
        self.precision = precision
        self.calibration_cache = calibration_cache
        self.cuda_graph = bool(cuda_graph)
        self.slots = int(slots)
        self.device_index = int(device)
        self.cuda_binding = cuda_binding
        self.request = EngineRequest(
            self.engine_path, self.onnx_path, precision, bool(build_if_missing),
            bool(rebuild_on_mismatch), calibration_cache, self.camera_hw, output,
            int(max_batch), BuildOptions(
                precision=precision, calibration_cache=calibration_cache, calib_data=calib_data,
                workspace_mib=int(workspace_mib), timing_cache=timing_cache,
                camera_hw=self.camera_hw, output=output, max_batch=int(max_batch),
                float_io=float_io, dla_core=dla_core, profiles=self.slots))
        self.build_if_missing = self.request.build_if_missing
        self.rebuild_on_mismatch = self.request.rebuild_on_mismatch
        #: The batch the engine must take (max_batch asked for; self.max_batch is the engine's).
        self.wanted_batch = self.request.max_batch
        self.metadata: Optional[dict] = None
        self._lock = threading.Lock()
        self._device = self._loaded = self._converters = None
        self._slots: List[_Slot] = []
        self._next_slot = 0

    @classmethod
    def from_onnx(cls, onnx_path, engine_path=None, precision: str = 'fp16',
                  build_if_missing: bool = True, rebuild_on_mismatch: bool = True,
                  cache_dir=None, **kwargs) -> 'TensorRtRunner':
        """Return an ONNX model's runner; its engine is built on first use (and after upgrades)."""
        if not isinstance(onnx_path, (str, os.PathLike)):
            raise RunnerError('TensorRT builds from an ONNX file; save the model first')
        if engine_path is None:
            engine_path = default_engine_path(onnx_path, precision, cache_dir)
        return cls(engine_path, onnx_path=onnx_path, precision=precision,
                   build_if_missing=build_if_missing, rebuild_on_mismatch=rebuild_on_mismatch,
                   **kwargs)

    # Loading ------------------------------------------------------------------------------
    def activate_impl(self) -> None:
        from fxseg_ros.runtime.cuda_device import CudaError, open_device
        from fxseg_ros.runtime.trt_support import import_tensorrt

        import_tensorrt(RunnerError)
        try:
            self._device = open_device(self.device_index, self.cuda_binding)
        except CudaError as exc:
            raise RunnerError(str(exc)) from exc
        if self.cuda_graph:
            self._check_capture()
        self._device.push()
        try:
            self._loaded = load_engine(self.request, self._device)
            self.metadata = self._loaded.metadata
            self._configure()
            self._allocate()
        except BaseException:
            self._free()
            self._device.pop()
            self._device = None
            raise
        self._device.pop()

    def _check_capture(self) -> None:
        from fxseg_ros.runtime.cuda_graph import capture_unavailable
        from fxseg_ros.runtime.trt_support import at_least, import_tensorrt, IO_TENSOR_API

        reason = capture_unavailable()
        trt = import_tensorrt(RunnerError)
        if reason is None and not at_least(trt.__version__, IO_TENSOR_API):
            reason = ('CUDA graphs are used with execute_async_v3 (TensorRT >= 8.5); TensorRT '
                      '%s has execute_async_v2 only' % trt.__version__)
        if reason:
            raise RunnerError('cuda_graph: %s; turn cuda_graph off' % reason)

    def _configure(self) -> None:
        io = self._loaded.io
        self.input_hw, self.output_hw, self.max_batch = io.input_hw, io.output_hw, io.max_batch

    def _allocate(self) -> None:
        io, device = self._loaded.io, self._device
        count = self.slots
        if io.dynamic and io.profiles < count:
            LOG.info('engine %s has %d optimization profile(s): %d in-flight slot(s) (rebuild '
                     'with fxseg build for %d)', self.engine_path, io.profiles, io.profiles, count)
            count = max(1, io.profiles)
        convert_in, convert_out = io.input_dtype == np.float32, io.output_dtype == np.int32
        if convert_in or convert_out:
            self._converters = device.kernels()
        gpu = self._converters is not None
        n, (h, w), (oh, ow) = self.max_batch, self.input_hw, self.output_hw
        self._slots = []
        for k in range(count):
            slot = _Slot(k)
            self._slots.append(slot)
            slot.stream = device.stream()
            slot.context = self._loaded.engine.create_execution_context()
            if slot.context is None:
                raise RunnerError('TensorRT could not create execution context %d (out of GPU '
                                  'memory?)' % k)
            if io.dynamic and io.profiles > 1:
                slot.context.set_optimization_profile_async(k, slot.stream.handle)
            slot.host_in = device.pinned((n, h, w, 3), np.float32 if convert_in and not gpu
                                         else np.uint8)
            slot.host_out = device.pinned((n, oh, ow), np.int32 if convert_out and not gpu
                                          else np.uint8)
            slot.dev_in = device.alloc(n * h * w * 3 * io.input_dtype.itemsize)
            slot.dev_upload = device.alloc(n * h * w * 3) if convert_in and gpu else slot.dev_in
            slot.dev_out = device.alloc(n * oh * ow * io.output_dtype.itemsize)
            slot.dev_download = device.alloc(n * oh * ow) if convert_out and gpu \
                else slot.dev_out
            slot.events = tuple(device.event() for _ in range(4))
            self._bind(slot)
            if io.fixed and io.dynamic:
                self._set_shape(slot, self.max_batch)
        for slot in self._slots:
            slot.stream.synchronize()
        self._next_slot = 0
        LOG.info('TensorRT %s engine %s: %s -> %s, max batch %d%s, %d slot(s), %s%s%s',
                 self._loaded.trt.__version__, self.engine_path, self.input_hw, self.output_hw,
                 self.max_batch, ' (fixed)' if io.fixed else '', len(self._slots),
                 device.binding, ', float I/O converted on the %s' % ('GPU' if gpu else 'host')
                 if convert_in or convert_out else '', ', CUDA graphs' if self.cuda_graph else '')

    def _bind(self, slot: _Slot) -> None:
        io = self._loaded.io
        if io.io_tensors:
            slot.context.set_tensor_address(io.input_name, slot.dev_in.ptr)
            slot.context.set_tensor_address(io.output_name, slot.dev_out.ptr)
            return
        slot.bindings = [0] * self._loaded.engine.num_bindings
        base = slot.index * io.per_profile if io.dynamic and io.profiles > 1 else 0
        slot.binding_in = base + io.input_index
        slot.bindings[base + io.input_index] = slot.dev_in.ptr
        slot.bindings[base + io.output_index] = slot.dev_out.ptr

    def _free(self) -> None:
        device = self._device
        for slot in self._slots:
            if slot.stream is not None:
                slot.stream.synchronize()
            for graph in slot.graphs.values():
                graph.destroy()
            slot.graphs.clear()
            for buf in {id(b): b for b in (slot.dev_in, slot.dev_upload, slot.dev_out,
                                           slot.dev_download) if b is not None}.values():
                buf.free()
            for host in (slot.host_in, slot.host_out):
                if host is not None:
                    device.free_pinned(host)
            for event in slot.events:
                event.destroy()
            slot.context = None
            if slot.stream is not None:
                slot.stream.destroy()
        self._slots = []
        self._loaded = self._converters = None

    def deactivate_impl(self) -> None:
        if self._device is None:
            return
        self._device.push()
        try:
            self._free()
        finally:
            self._device.pop()
            self._device = None

    # Inference ----------------------------------------------------------------------------
    def _set_shape(self, slot: _Slot, count: int) -> None:
        io = self._loaded.io
        if not io.dynamic or slot.shape_n == count:
            return
        shape = (count,) + self.input_hw + (3,)
        if io.io_tensors:
            ok = slot.context.set_input_shape(io.input_name, shape)
        else:
            ok = slot.context.set_binding_shape(slot.binding_in, shape)
        if ok is False:
            raise RunnerError('TensorRT rejected input shape %s (engine max batch %d)'
                              % (shape, self.max_batch))
        slot.shape_n = count

    def _execute(self, slot: _Slot) -> None:
        if self._loaded.io.io_tensors:
            ok = slot.context.execute_async_v3(stream_handle=slot.stream.handle)
        else:
            ok = slot.context.execute_async_v2(bindings=slot.bindings,
                                               stream_handle=slot.stream.handle)
        if not ok:
            raise RunnerError('TensorRT failed to enqueue inference (see the TensorRT log)')

    def _enqueue(self, slot: _Slot, count: int) -> None:
        if not self.cuda_graph:
            self._execute(slot)
            return
        graph = slot.graphs.get(count)
        if graph is None:
            from fxseg_ros.runtime.cuda_graph import capture

            # One plain enqueue first: it applies deferred shape updates (see cuda_graph).
            self._execute(slot)
            slot.stream.synchronize()
            graph = slot.graphs[count] = capture(slot.stream, lambda: self._execute(slot))
        graph.launch(slot.stream)

    def _submit(self, frames: np.ndarray) -> Ticket:
        device, io = self._device, self._loaded.io
        count = frames.shape[0]
        run = self.max_batch if io.fixed else count
        slot = self._slots[self._next_slot]
        self._next_slot = (self._next_slot + 1) % len(self._slots)
        if slot.ticket is not None and not slot.ticket.done:
            self._collect(slot.ticket)  # the slot's previous batch: finish it first
        t0 = time.perf_counter()
        host_in = slot.host_in[:count]
        np.copyto(host_in, frames, casting='unsafe')
        host_pre = (time.perf_counter() - t0) * 1e3
        self._set_shape(slot, run)
        stream = slot.stream
        start, uploaded, inferred, done = slot.events
        start.record(stream)
        device.copy_to_device(slot.dev_upload, host_in, stream)
        if self._converters is not None and io.input_dtype == np.float32:
            self._converters.u8_to_f32(slot.dev_upload, slot.dev_in, host_in.size, stream)
        uploaded.record(stream)
        self._enqueue(slot, run)
        inferred.record(stream)
        host_out = slot.host_out[:count]
        if self._converters is not None and io.output_dtype == np.int32:
            self._converters.i32_to_u8(slot.dev_out, slot.dev_download, host_out.size, stream)
        device.copy_to_host(host_out, slot.dev_download, stream)
        done.record(stream)
        ticket = slot.ticket = Ticket(self, slot, count, host_pre)
        return ticket

    def _collect(self, ticket: Ticket) -> None:
        slot = ticket.slot
        start, uploaded, inferred, done = slot.events
        done.synchronize()
        t0 = time.perf_counter()
        labels = slot.host_out[:ticket.count]
        labels = labels.astype(np.uint8) if labels.dtype != np.uint8 else labels.copy()
        ticket.timings = {'upload': uploaded.elapsed_ms(start),
                          'inference': inferred.elapsed_ms(uploaded),
                          'download': done.elapsed_ms(inferred),
                          'host_pre': ticket.host_pre_ms,
                          'host_post': (time.perf_counter() - t0) * 1e3}
        ticket.labels = labels
        if slot.ticket is ticket:
            slot.ticket = None

    def infer_async(self, frames: np.ndarray) -> Ticket:
        """
        Enqueue a batch and return at once; `ticket.result()` waits for the labels.

        frames: shape (N, H, W, 3), uint8, (H, W) == input_hw; validated as `infer` does. With
        two slots, a third call first finishes the oldest batch still in flight.
        """
        frames = self.check_frames(frames)
        with self._lock:
            self._device.push()
            try:
                return self._submit(frames)
            finally:
                self._device.pop()

    def wait(self, ticket: Ticket) -> np.ndarray:
        """Wait for a submitted batch; returns its labels and sets last_timings."""
        with self._lock:
            self._device.push()
            try:
                return ticket.result()
            finally:
                self._device.pop()

    def infer_impl(self, frames: np.ndarray) -> np.ndarray:
        with self._lock:
            self._device.push()
            try:
                return self._submit(frames).result()
            finally:
                self._device.pop()

    def infer_many(self, batches: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """
        Pipeline batches through the slots: yields labels in order, one batch behind.

        While the labels of batch k are copied out, batch k+1 is already uploading on the other
        slot's stream.
        """
        pending = []
        for frames in batches:
            pending.append(self.infer_async(frames))
            if len(pending) >= len(self._slots):
                yield self.wait(pending.pop(0))
        while pending:
            yield self.wait(pending.pop(0))
