# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
TensorRT runner: a deployment-graph engine driven through pycuda.

pycuda provides memory, streams and events because the Jetson TX2 (JetPack 4.6, CUDA 10.2) has
no cuda-python. One code path serves TensorRT 8.2 (bindings, `execute_async_v2`) and 8.5 / 10.x /
11.x (`set_tensor_address`, `execute_async_v3`); `_V3` below is the switch.

Per in-flight slot (two by default) the runner holds an execution context with its own
optimization profile (a profile serves one context at a time with dynamic shapes), a CUDA stream,
pinned host buffers, device buffers and four CUDA events. `infer_async` enqueues upload ->
inference -> download on the slot's stream and returns at once, so the upload of frame N+1 (on
the other slot's stream) overlaps the inference of frame N; `infer_many` pipelines an iterable of
batches that way, `infer` is submit + wait. The events give the GPU-side stage times.

Engines built with float I/O (TensorRT < 8.6 has no UINT8 network I/O) still receive uint8
frames: the runner uploads the uint8 bytes and converts them to float32 with a small CUDA kernel
on the same stream, and narrows the int32 labels to uint8 on the GPU before the download
(a quarter of the bytes). The kernels are compiled by pycuda (nvcc, part of JetPack); where nvcc
is missing the runner converts on the host instead and says so.

Optional CUDA-graph capture (TensorRT >= 8.5): after one plain `execute_async_v3` the enqueue is
captured on the slot's (non-default) stream, once per batch size, and replayed; tensor addresses
are fixed per slot so the graph stays valid. Capture uses pycuda's `Stream.begin_capture`
(pycuda >= 2022.1) or, failing that, cuda-python's runtime API.
"""


import logging
import os
import threading
import time
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Tuple

import numpy as np

from fxseg_ros.runtime.base import Runner, RunnerError

LOG = logging.getLogger(__name__)

_KERNELS = r'''
extern "C" __global__ void u8_to_f32(const unsigned char* src, float* dst, const int n)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) dst[i] = (float)src[i];
}
extern "C" __global__ void i32_to_u8(const int* src, unsigned char* dst, const int n)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) dst[i] = (unsigned char)src[i];
}
'''
_BLOCK = 256


def _import_cuda():
    try:
        import tensorrt as trt
    except ImportError as exc:
        raise RunnerError('the TensorRT Python bindings are not installed: on Jetson they come '
                          'with JetPack (python3-libnvinfer), on x86 pip install tensorrt; or '
                          'run the .onnx model with ONNX Runtime (backend onnxruntime)') from exc
    try:
        import pycuda.driver as cuda
    except ImportError as exc:
        raise RunnerError('pycuda is not installed (pip install pycuda; on Jetson it builds '
                          'against the JetPack CUDA)') from exc
    return trt, cuda


def default_engine_path(onnx_path, precision: str, cache_dir=None) -> Path:
    """Where `TensorRtRunner.from_onnx` keeps an engine built from an ONNX model."""
    from fxseg_ros.runtime.onnxrt import default_cache_dir

    base = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return base / 'engines' / ('%s.%s.engine' % (Path(onnx_path).stem, precision))


class _Slot:
    """One in-flight frame batch: context, profile, stream, buffers, events, graphs."""

    def __init__(self, index: int):
        self.index = index
        self.context = None
        self.stream = None
        self.bindings: List[int] = []
        self.host_in = self.host_out = None
        self.dev_in = self.dev_upload = self.dev_out = self.dev_download = None
        self.events = ()
        self.graphs = {}
        self.shape_n = 0
        self.ticket = None


class Ticket:
    """
    A submitted batch; `result()` waits for it and returns its labels.

    Labels: shape (N, h, w), uint8.
    """

    def __init__(self, runner: 'TensorRtRunner', slot: _Slot, count: int, host_pre_ms: float):
        self._runner = runner
        self.slot = slot
        self.count = count
        self.host_pre_ms = host_pre_ms
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
    cuda_graph: capture the steady-state enqueue in a CUDA graph (TensorRT >= 8.5).
    slots: concurrent in-flight batches (execution contexts / streams).
    device: CUDA device index.
    """

    backend = 'tensorrt'

    def __init__(self, engine_path, camera_hw: Tuple[int, int] = (720, 1280),
                 output: str = 'camera', onnx_path=None, precision: str = 'fp16',
                 build_if_missing: bool = False, rebuild_on_mismatch: bool = False,
                 calibration_cache=None, calib_data=None, workspace_mib: int = 1024,
                 timing_cache=None, dla_core: Optional[int] = None, max_batch: int = 1,
                 float_io: Optional[bool] = None, cuda_graph: bool = False, slots: int = 2,
                 device: int = 0, name: Optional[str] = None):
        super().__init__(name)
        if slots < 1:
            raise ValueError('slots must be >= 1, got %d' % slots)
        self.engine_path = Path(os.fspath(engine_path))
        self.onnx_path = Path(os.fspath(onnx_path)) if onnx_path is not None else None
        self.camera_hw = (int(camera_hw[0]), int(camera_hw[1]))
        self.output = output
        self.precision = precision
        self.build_if_missing = bool(build_if_missing)
        self.rebuild_on_mismatch = bool(rebuild_on_mismatch)
        self.calibration_cache = calibration_cache
        self.calib_data = calib_data
        self.workspace_mib = int(workspace_mib)
        self.timing_cache = timing_cache
        self.dla_core = dla_core
        self.wanted_batch = int(max_batch)
        self.float_io = float_io
        self.cuda_graph = bool(cuda_graph)
        self.slots = int(slots)
        self.device = int(device)
        self.metadata: Optional[dict] = None
        self._lock = threading.Lock()
        self._ctx = None
        self._engine = None
        self._slots: List[_Slot] = []
        self._next_slot = 0

    @classmethod
    def from_onnx(cls, onnx_path, engine_path=None, precision: str = 'fp16',
                  build_if_missing: bool = True, rebuild_on_mismatch: bool = True,
                  cache_dir=None, **kwargs) -> 'TensorRtRunner':
        """
        A runner for an ONNX model, building the engine on first use (and after upgrades).

        engine_path defaults to `default_engine_path(onnx_path, precision, cache_dir)`.
        """
        if not isinstance(onnx_path, (str, os.PathLike)):
            raise RunnerError('TensorRT builds from an ONNX file; save the model first')
        if engine_path is None:
            engine_path = default_engine_path(onnx_path, precision, cache_dir)
        return cls(engine_path, onnx_path=onnx_path, precision=precision,
                   build_if_missing=build_if_missing, rebuild_on_mismatch=rebuild_on_mismatch,
                   **kwargs)

    # Loading ------------------------------------------------------------------------------
    def _build_options(self):
        from fxseg_ros.runtime.builder import BuildOptions

        return BuildOptions(
            precision=self.precision, calibration_cache=self.calibration_cache,
            calib_data=self.calib_data, workspace_mib=self.workspace_mib,
            timing_cache=self.timing_cache, camera_hw=self.camera_hw, output=self.output,
            max_batch=self.wanted_batch, float_io=self.float_io, dla_core=self.dla_core,
            profiles=self.slots)

    def activate_impl(self) -> None:
        trt, cuda = _import_cuda()
        from fxseg_ros.runtime import builder, metadata

        self._trt, self._cuda = trt, cuda
        cuda.init()
        self._ctx = cuda.Device(self.device).retain_primary_context()
        self._ctx.push()
        try:
            try:
                platform = builder.current_platform(self.device)
            except builder.BuildError as exc:
                raise RunnerError(str(exc)) from exc
            decision = metadata.decide_engine_action(
                self.engine_path, platform, onnx_path=self.onnx_path, precision=self.precision,
                calibration_cache=self.calibration_cache, build_if_missing=self.build_if_missing,
                rebuild_on_mismatch=self.rebuild_on_mismatch,
                options={'camera_hw': list(self.camera_hw), 'output': self.output,
                         'max_batch': self.wanted_batch})
            if decision.action == 'error':
                raise RunnerError(decision.message)
            if decision.action in ('build', 'rebuild'):
                LOG.warning('%s', decision.message)
                try:
                    builder.build_engine(self.onnx_path, self.engine_path, self._build_options(),
                                         device=self.device)
                except builder.BuildError as exc:
                    raise RunnerError('building %s failed: %s' % (self.engine_path, exc)) \
                        from exc
            elif decision.reasons:
                LOG.warning('%s', decision.message)
            try:
                self.metadata = metadata.read_metadata(self.engine_path)
            except metadata.MetadataError:
                self.metadata = None
            self._load_engine(platform, metadata)
            self._allocate()
        except BaseException:
            self._free()
            self._ctx.pop()
            self._ctx = None
            raise
        self._ctx.pop()

    def _load_engine(self, platform, metadata) -> None:
        trt = self._trt
        from fxseg_ros.runtime.builder import _Logger

        self._logger = _Logger.create(trt)
        if hasattr(trt, 'init_libnvinfer_plugins'):
            trt.init_libnvinfer_plugins(self._logger, '')
        self._runtime = trt.Runtime(self._logger)
        data = self.engine_path.read_bytes()
        engine = self._runtime.deserialize_cuda_engine(data)
        if engine is None:
            command = metadata.build_command(self.onnx_path, self.engine_path, self.precision,
                                             self.calibration_cache)
            raise RunnerError('TensorRT %s could not load the engine %s (truncated, or built by '
                              'another TensorRT version or GPU); rebuild it on this machine: %s'
                              % (platform.tensorrt_version, self.engine_path, command))
        self._engine = engine
        # The version switch: TensorRT 8.5 added named I/O tensors and execute_async_v3; 10
        # removed the binding API.
        self._v3 = hasattr(engine, 'num_io_tensors')
        if self._v3:
            names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
            is_input = [engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT for n in names]
            shapes = [tuple(engine.get_tensor_shape(n)) for n in names]
            dtypes = [np.dtype(trt.nptype(engine.get_tensor_dtype(n))) for n in names]
            self._per_profile = len(names)
        else:
            profiles = max(1, engine.num_optimization_profiles)
            self._per_profile = engine.num_bindings // profiles
            names = [engine.get_binding_name(i) for i in range(self._per_profile)]
            is_input = [engine.binding_is_input(i) for i in range(self._per_profile)]
            shapes = [tuple(engine.get_binding_shape(i)) for i in range(self._per_profile)]
            dtypes = [np.dtype(trt.nptype(engine.get_binding_dtype(i)))
                      for i in range(self._per_profile)]
        ins = [i for i, flag in enumerate(is_input) if flag]
        outs = [i for i, flag in enumerate(is_input) if not flag]
        if len(ins) != 1 or len(outs) != 1:
            raise RunnerError('engine %s has %d inputs and %d outputs; the runner takes a '
                              'deployment-graph engine (frames in, labels out) from fxseg build'
                              % (self.engine_path, len(ins), len(outs)))
        i, o = ins[0], outs[0]
        in_shape, out_shape = shapes[i], shapes[o]
        if len(in_shape) != 4 or in_shape[3] != 3 or dtypes[i] not in (np.uint8, np.float32):
            raise RunnerError('engine input %r is %s %s; expected frames (N, H, W, 3) uint8 or '
                              'float32 — build the engine from the deployment graph'
                              % (names[i], dtypes[i], in_shape))
        if len(out_shape) != 3 or dtypes[o] not in (np.uint8, np.int32):
            raise RunnerError('engine output %r is %s %s; expected labels (N, h, w) uint8 or '
                              'int32' % (names[o], dtypes[o], out_shape))
        self._in_index, self._out_index = i, o
        self._in_name, self._out_name = names[i], names[o]
        self._in_dtype, self._out_dtype = dtypes[i], dtypes[o]
        self.input_hw = (int(in_shape[1]), int(in_shape[2]))
        self.output_hw = (int(out_shape[1]), int(out_shape[2]))
        self._dynamic = in_shape[0] == -1
        self._profiles = engine.num_optimization_profiles if self._dynamic else 0
        if self._dynamic:
            if self._v3:
                max_shape = engine.get_tensor_profile_shape(self._in_name, 0)[2]
            else:
                max_shape = engine.get_profile_shape(0, i)[2]
            self.max_batch = int(max_shape[0])
        else:
            self.max_batch = int(in_shape[0])
        if self.cuda_graph and not self._v3:
            LOG.warning('CUDA graphs are used with TensorRT >= 8.5 (execute_async_v3); TensorRT '
                        '%s runs without them', trt.__version__)
            self.cuda_graph = False

    def _kernels(self):
        """Compile the dtype conversion kernels (None when nvcc is unavailable)."""
        try:
            from pycuda.compiler import SourceModule

            module = SourceModule(_KERNELS, no_extern_c=True)
        except Exception as exc:  # pycuda raises CompileError / OSError without nvcc
            LOG.warning('cannot compile the uint8<->float conversion kernels (%s); converting '
                        'on the host instead (slower: 4x the upload bytes)', exc)
            return None
        u8_to_f32 = module.get_function('u8_to_f32')
        i32_to_u8 = module.get_function('i32_to_u8')
        u8_to_f32.prepare('PPi')
        i32_to_u8.prepare('PPi')
        return module, u8_to_f32, i32_to_u8

    def _allocate(self) -> None:
        cuda = self._cuda
        if self.cuda_graph:
            _check_capture_support(cuda)
        count = self.slots
        if self._dynamic and self._profiles < count:
            LOG.info('engine %s has %d optimization profile(s): %d in-flight slot(s) (rebuild '
                     'with fxseg build for %d)', self.engine_path, self._profiles,
                     self._profiles, count)
            count = max(1, self._profiles)
        convert_in = self._in_dtype == np.float32
        convert_out = self._out_dtype == np.int32
        self._module = None
        self._gpu_convert = False
        if convert_in or convert_out:
            compiled = self._kernels()
            if compiled is not None:
                self._module, self._u8_to_f32, self._i32_to_u8 = compiled
                self._gpu_convert = True
        n = self.max_batch
        h, w = self.input_hw
        oh, ow = self.output_hw
        in_count = n * h * w * 3
        out_count = n * oh * ow
        self._slots = []
        for k in range(count):
            slot = _Slot(k)
            slot.stream = cuda.Stream()
            slot.context = self._engine.create_execution_context()
            if slot.context is None:
                raise RunnerError('TensorRT could not create execution context %d (out of GPU '
                                  'memory?)' % k)
            if self._dynamic and self._profiles > 1:
                slot.context.set_optimization_profile_async(k, slot.stream.handle)
            host_in_dtype = np.float32 if convert_in and not self._gpu_convert else np.uint8
            slot.host_in = cuda.pagelocked_empty((n, h, w, 3), host_in_dtype)
            slot.host_out = cuda.pagelocked_empty(
                (n, oh, ow), np.int32 if convert_out and not self._gpu_convert else np.uint8)
            slot.dev_in = cuda.mem_alloc(in_count * self._in_dtype.itemsize)
            slot.dev_upload = cuda.mem_alloc(in_count) if convert_in and self._gpu_convert \
                else slot.dev_in
            slot.dev_out = cuda.mem_alloc(out_count * self._out_dtype.itemsize)
            slot.dev_download = cuda.mem_alloc(out_count) if convert_out and self._gpu_convert \
                else slot.dev_out
            slot.events = tuple(cuda.Event() for _ in range(4))
            if self._v3:
                slot.context.set_tensor_address(self._in_name, int(slot.dev_in))
                slot.context.set_tensor_address(self._out_name, int(slot.dev_out))
            else:
                slot.bindings = [0] * self._engine.num_bindings
                base = k * self._per_profile if self._dynamic and self._profiles > 1 else 0
                slot.binding_in = base + self._in_index
                slot.bindings[base + self._in_index] = int(slot.dev_in)
                slot.bindings[base + self._out_index] = int(slot.dev_out)
            self._slots.append(slot)
        for slot in self._slots:
            slot.stream.synchronize()
        self._next_slot = 0
        LOG.info('TensorRT %s engine %s: %s -> %s, max batch %d, %d slot(s)%s%s',
                 self._trt.__version__, self.engine_path, self.input_hw, self.output_hw,
                 self.max_batch, len(self._slots),
                 ', float I/O converted on the %s' % ('GPU' if self._gpu_convert else 'host')
                 if convert_in or convert_out else '',
                 ', CUDA graphs' if self.cuda_graph else '')

    def _free(self) -> None:
        for slot in self._slots:
            if slot.stream is not None:
                slot.stream.synchronize()
            slot.graphs.clear()
            for buf in {id(b): b for b in (slot.dev_in, slot.dev_upload, slot.dev_out,
                                           slot.dev_download) if b is not None}.values():
                buf.free()
            slot.context = None
        self._slots = []
        self._engine = None
        self._module = None

    def deactivate_impl(self) -> None:
        if self._ctx is None:
            return
        self._ctx.push()
        try:
            self._free()
        finally:
            self._ctx.pop()
            self._ctx = None

    # Inference ----------------------------------------------------------------------------
    def _set_shape(self, slot: _Slot, count: int) -> None:
        if not self._dynamic or slot.shape_n == count:
            return
        shape = (count,) + self.input_hw + (3,)
        if self._v3:
            ok = slot.context.set_input_shape(self._in_name, shape)
        else:
            ok = slot.context.set_binding_shape(slot.binding_in, shape)
        if ok is False:
            raise RunnerError('TensorRT rejected input shape %s (engine max batch %d)'
                              % (shape, self.max_batch))
        slot.shape_n = count

    def _execute(self, slot: _Slot) -> None:
        if self._v3:
            ok = slot.context.execute_async_v3(stream_handle=slot.stream.handle)
        else:
            ok = slot.context.execute_async_v2(bindings=slot.bindings,
                                               stream_handle=slot.stream.handle)
        if not ok:
            raise RunnerError('TensorRT failed to enqueue inference (see the TensorRT log)')

    def _graph(self, slot: _Slot, count: int):
        launch = slot.graphs.get(count)
        if launch is None:
            # TensorRT: one plain enqueue before capture applies deferred shape updates.
            self._execute(slot)
            slot.stream.synchronize()
            launch = _capture(self._cuda, slot, lambda: self._execute(slot))
            slot.graphs[count] = launch
        return launch

    def _submit(self, frames: np.ndarray) -> Ticket:
        cuda = self._cuda
        count = frames.shape[0]
        slot = self._slots[self._next_slot]
        self._next_slot = (self._next_slot + 1) % len(self._slots)
        if slot.ticket is not None and not slot.ticket.done:
            self._collect(slot.ticket)  # the slot's previous batch: finish it first
        t0 = time.perf_counter()
        host_in = slot.host_in[:count]
        np.copyto(host_in, frames, casting='unsafe')
        host_pre = (time.perf_counter() - t0) * 1e3
        self._set_shape(slot, count)
        stream = slot.stream
        start, uploaded, inferred, done = slot.events
        n_in = count * self.input_hw[0] * self.input_hw[1] * 3
        n_out = count * self.output_hw[0] * self.output_hw[1]
        start.record(stream)
        cuda.memcpy_htod_async(slot.dev_upload, host_in, stream)
        if self._gpu_convert and self._in_dtype == np.float32:
            self._u8_to_f32.prepared_async_call(((n_in + _BLOCK - 1) // _BLOCK, 1),
                                                (_BLOCK, 1, 1), stream, slot.dev_upload,
                                                slot.dev_in, np.int32(n_in))
        uploaded.record(stream)
        if self.cuda_graph:
            self._graph(slot, count)(stream)
        else:
            self._execute(slot)
        inferred.record(stream)
        if self._gpu_convert and self._out_dtype == np.int32:
            self._i32_to_u8.prepared_async_call(((n_out + _BLOCK - 1) // _BLOCK, 1),
                                                (_BLOCK, 1, 1), stream, slot.dev_out,
                                                slot.dev_download, np.int32(n_out))
        cuda.memcpy_dtoh_async(slot.host_out[:count], slot.dev_download, stream)
        done.record(stream)
        ticket = Ticket(self, slot, count, host_pre)
        slot.ticket = ticket
        return ticket

    def _collect(self, ticket: Ticket) -> None:
        slot = ticket.slot
        start, uploaded, inferred, done = slot.events
        done.synchronize()
        t0 = time.perf_counter()
        labels = slot.host_out[:ticket.count]
        labels = labels.astype(np.uint8) if labels.dtype != np.uint8 else labels.copy()
        host_post = (time.perf_counter() - t0) * 1e3
        ticket.timings = {'upload': uploaded.time_since(start),
                          'inference': inferred.time_since(uploaded),
                          'download': done.time_since(inferred),
                          'host_pre': ticket.host_pre_ms, 'host_post': host_post}
        ticket.labels = labels
        if slot.ticket is ticket:
            slot.ticket = None

    def infer_async(self, frames: np.ndarray) -> Ticket:
        """
        Enqueue a batch and return at once; `ticket.result()` waits for the labels.

        frames: shape (N, H, W, 3), uint8, (H, W) == input_hw. With two slots, a third call
        first finishes the oldest batch still in flight.
        """
        if not self.is_active:
            raise RunnerError('runner %r is not active' % self.name)
        frames = np.ascontiguousarray(frames)
        if frames.dtype != np.uint8 or frames.ndim != 4 or \
                tuple(frames.shape[1:]) != self.input_hw + (3,):
            raise ValueError('expected uint8 frames (N, %d, %d, 3), got %s %s'
                             % (self.input_hw + (frames.dtype, frames.shape)))
        if frames.shape[0] > self.max_batch:
            raise ValueError('batch of %d exceeds max_batch=%d' % (frames.shape[0],
                                                                 self.max_batch))
        with self._lock:
            self._ctx.push()
            try:
                return self._submit(frames)
            finally:
                self._ctx.pop()

    def wait(self, ticket: Ticket) -> np.ndarray:
        """Wait for a submitted batch; returns its labels and sets last_timings."""
        with self._lock:
            self._ctx.push()
            try:
                return ticket.result()
            finally:
                self._ctx.pop()

    def infer_impl(self, frames: np.ndarray) -> np.ndarray:
        with self._lock:
            self._ctx.push()
            try:
                return self._submit(frames).result()
            finally:
                self._ctx.pop()

    def infer_many(self, batches: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """
        Pipeline batches through the slots: yields labels in order, one batch behind.

        While the labels of batch k are copied out, batch k+1 is already uploading on the
        other slot's stream.
        """
        pending = []
        for frames in batches:
            pending.append(self.infer_async(frames))
            if len(pending) >= len(self._slots):
                yield self.wait(pending.pop(0))
        while pending:
            yield self.wait(pending.pop(0))


def _cudart():
    """cuda-python's runtime module, or None."""
    try:
        from cuda.bindings import runtime as cudart
    except ImportError:
        try:
            from cuda import cudart
        except ImportError:
            return None
    return cudart


def _check_capture_support(cuda) -> None:
    if hasattr(cuda.Stream, 'begin_capture') or _cudart() is not None:
        return
    raise RunnerError('CUDA-graph capture needs pycuda >= 2022.1 (Stream.begin_capture) or '
                      'cuda-python; neither is installed: turn cuda_graph off or install one '
                      '(on JetPack 4 / CUDA 10.2 only a newer pycuda works)')


def _capture(cuda, slot: _Slot, enqueue):
    """
    Capture `enqueue` on the slot's stream into a CUDA graph; return launch(stream).

    Uses pycuda's stream capture (pycuda >= 2022.1) or cuda-python's runtime API.
    """
    stream = slot.stream
    if hasattr(stream, 'begin_capture'):
        mode = getattr(getattr(cuda, 'capture_mode', None), 'THREAD_LOCAL', None)
        if mode is not None:
            stream.begin_capture(mode)
        else:
            stream.begin_capture()
        try:
            enqueue()
        finally:
            graph = stream.end_capture()
        instance = graph.instantiate()
        slot.graphs.setdefault('_keep', []).append((graph, instance))
        return lambda s: instance.launch(s)
    cudart = _cudart()
    if cudart is None:
        _check_capture_support(cuda)

    def check(result, what):
        err = result[0] if isinstance(result, tuple) else result
        if int(err) != 0:
            raise RunnerError('%s failed with CUDA error %d' % (what, int(err)))
        return result[1] if isinstance(result, tuple) and len(result) > 1 else None

    handle = stream.handle
    check(cudart.cudaStreamBeginCapture(
        handle, cudart.cudaStreamCaptureMode.cudaStreamCaptureModeThreadLocal),
        'cudaStreamBeginCapture')
    try:
        enqueue()
    finally:
        graph = check(cudart.cudaStreamEndCapture(handle), 'cudaStreamEndCapture')
    try:
        instance = check(cudart.cudaGraphInstantiate(graph, 0), 'cudaGraphInstantiate')
    except TypeError:  # CUDA 11 bindings: (graph, error node, log buffer, buffer size)
        instance = check(cudart.cudaGraphInstantiate(graph, None, None, 0),
                         'cudaGraphInstantiate')
    slot.graphs.setdefault('_keep', []).append((graph, instance))

    def launch(s):
        check(cudart.cudaGraphLaunch(instance, s.handle), 'cudaGraphLaunch')

    return launch
