# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The TensorRT runner's CUDA layer, with no TensorRT.

Device memory, pinned host memory, streams and events, through cuda-python or pycuda.

- cuda-python (`cuda.bindings.runtime`, or `cuda.cudart` in cuda-python 11 / 12): CUDA >= 11,
  JetPack 5 / 6 and desktops; TensorRT's own samples use it from 8.6 on (NVIDIA/TensorRT
  release/10.3 samples/python/common_runtime.py). Preferred where present.
- pycuda >= 2020.1: JetPack 4 (CUDA 10.2), which has no cuda-python. Its kernels
  (pycuda.compiler, nvcc) convert float-I/O engines' data on the GPU.

Both bindings share the device's primary context (pycuda's `Device.retain_primary_context` is the
one the CUDA runtime uses), so a stream made by either works with the other's calls.
`retain_primary_context` arrived in pycuda 2020.1 (inducer/pycuda v2020.1 src/cpp/cuda.hpp; absent
from v2019.1.2), hence the minimum.

Imports nothing of fxseg_ros: trt_support (the TensorRT facts) imports this module, not back.
"""


import ctypes
import logging
from typing import List, Optional

import numpy as np

LOG = logging.getLogger(__name__)

BINDINGS = ('cuda-python', 'pycuda')
#: Oldest pycuda with Device.retain_primary_context (see the module docstring).
MIN_PYCUDA = (2020, 1)
CUDA_HINT = ('neither cuda-python nor pycuda is installed: pip install cuda-python (CUDA >= 11, '
             'JetPack 5 / 6, desktops) or pycuda >= %d.%d (JetPack 4, CUDA 10.2)' % MIN_PYCUDA)


class CudaError(RuntimeError):
    """A CUDA call failed, or no CUDA device / binding is usable; the message says which."""


def cudart():
    """Return cuda-python's runtime module, or None."""
    try:
        from cuda.bindings import runtime
    except ImportError:
        try:
            from cuda import cudart as runtime
        except ImportError:
            return None
    return runtime


def _pycuda():
    try:
        import pycuda.driver as driver
    except ImportError:
        return None
    return driver


def available_bindings() -> List[str]:
    """Return the CUDA bindings importable here, preferred first."""
    found = []
    if cudart() is not None:
        found.append('cuda-python')
    if _pycuda() is not None:
        found.append('pycuda')
    return found


def check(result, what: str):
    """Raise CudaError unless a cuda-python call returned success; return its values."""
    values = result if isinstance(result, tuple) else (result,)
    err = values[0]
    if int(err) != 0:
        name = getattr(err, 'name', str(err))
        hint = ' (no NVIDIA driver on this machine)' if 'InsufficientDriver' in name or \
            'NoDevice' in name else ''
        raise CudaError('%s failed with %s%s' % (what, name, hint))
    rest = values[1:]
    return rest[0] if len(rest) == 1 else (rest or None)


class DeviceBuffer:
    """nbytes of device memory at `ptr`; free() once."""

    def __init__(self, ptr: int, nbytes: int, release):
        self.ptr, self.nbytes, self._release = int(ptr), int(nbytes), release

    def free(self) -> None:
        if self._release is not None:
            self._release()
            self._release = None

    def __int__(self) -> int:
        return self.ptr


class Stream:
    """A CUDA stream: `handle` (int) for TensorRT, `native` for the binding's own calls."""

    def __init__(self, handle, sync, destroy, native=None):
        self.handle = int(handle)
        self.native = native if native is not None else handle
        self._sync, self._destroy = sync, destroy

    def synchronize(self) -> None:
        self._sync()

    def destroy(self) -> None:
        if self._destroy is not None:
            self._destroy()
            self._destroy = None


class Event:
    """A CUDA event: record on a stream, wait for it, time from another event."""

    def __init__(self, record, sync, since, destroy):
        self._record, self._sync, self._since, self._destroy = record, sync, since, destroy

    def record(self, stream: Stream) -> None:
        self._record(stream)

    def synchronize(self) -> None:
        self._sync()

    def elapsed_ms(self, start: 'Event') -> float:
        """Milliseconds from `start` to this event (both recorded and complete)."""
        return float(self._since(start))

    def destroy(self) -> None:
        if self._destroy is not None:
            self._destroy()
            self._destroy = None


class Device:
    """
    One CUDA device through one binding: `open_device(index, binding)` makes it.

    name, compute_capability: the GPU. push() / pop(): make it current in this thread.
    """

    binding = 'none'

    def __init__(self, index: int):
        self.index = int(index)
        self.name = ''
        self.compute_capability = (0, 0)

    # Interface: implemented by the two subclasses below.
    def push(self) -> None:
        raise NotImplementedError

    def pop(self) -> None:
        raise NotImplementedError


class CudaPythonDevice(Device):
    binding = 'cuda-python'

    def __init__(self, index: int):
        super().__init__(index)
        rt = self._rt = cudart()
        count = check(rt.cudaGetDeviceCount(), 'cudaGetDeviceCount')
        if not count or index >= count:
            raise CudaError('CUDA device %d does not exist (%d device(s))' % (index, count or 0))
        check(rt.cudaSetDevice(index), 'cudaSetDevice')
        prop = check(rt.cudaGetDeviceProperties(index), 'cudaGetDeviceProperties')
        name = prop.name
        self.name = (name.decode(errors='replace') if isinstance(name, bytes) else str(name)) \
            .rstrip('\0')
        self.compute_capability = (int(prop.major), int(prop.minor))
        self._pinned = {}

    def push(self) -> None:
        check(self._rt.cudaSetDevice(self.index), 'cudaSetDevice')

    def pop(self) -> None:
        return None

    def stream(self) -> Stream:
        rt = self._rt
        native = check(rt.cudaStreamCreateWithFlags(rt.cudaStreamNonBlocking), 'cudaStreamCreate')
        return Stream(int(native), lambda: check(rt.cudaStreamSynchronize(native),
                                                 'cudaStreamSynchronize'),
                      lambda: check(rt.cudaStreamDestroy(native), 'cudaStreamDestroy'), native)

    def event(self) -> Event:
        rt = self._rt
        native = check(rt.cudaEventCreate(), 'cudaEventCreate')
        event = Event(lambda s: check(rt.cudaEventRecord(native, s.native), 'cudaEventRecord'),
                      lambda: check(rt.cudaEventSynchronize(native), 'cudaEventSynchronize'),
                      lambda start: check(rt.cudaEventElapsedTime(start.native, native),
                                          'cudaEventElapsedTime'),
                      lambda: check(rt.cudaEventDestroy(native), 'cudaEventDestroy'))
        event.native = native
        return event

    def alloc(self, nbytes: int) -> DeviceBuffer:
        ptr = check(self._rt.cudaMalloc(int(nbytes)), 'cudaMalloc')
        return DeviceBuffer(int(ptr), nbytes, lambda: check(self._rt.cudaFree(ptr), 'cudaFree'))

    def pinned(self, shape, dtype) -> np.ndarray:
        dtype = np.dtype(dtype)
        nbytes = int(np.prod(shape)) * dtype.itemsize
        ptr = int(check(self._rt.cudaMallocHost(max(nbytes, 1)), 'cudaMallocHost'))
        raw = (ctypes.c_ubyte * max(nbytes, 1)).from_address(ptr)
        array = np.frombuffer(raw, dtype=np.uint8, count=nbytes).view(dtype).reshape(shape)
        self._pinned[array.ctypes.data] = ptr
        return array

    def free_pinned(self, array: np.ndarray) -> None:
        ptr = self._pinned.pop(array.ctypes.data, None)
        if ptr is not None:
            check(self._rt.cudaFreeHost(ptr), 'cudaFreeHost')

    def copy_to_device(self, buf: DeviceBuffer, host: np.ndarray,
                       stream: Optional[Stream] = None) -> None:
        rt = self._rt
        kind = rt.cudaMemcpyKind.cudaMemcpyHostToDevice
        if stream is None:
            check(rt.cudaMemcpy(buf.ptr, host.ctypes.data, host.nbytes, kind), 'cudaMemcpy')
        else:
            check(rt.cudaMemcpyAsync(buf.ptr, host.ctypes.data, host.nbytes, kind,
                                     stream.native), 'cudaMemcpyAsync')

    def copy_to_host(self, host: np.ndarray, buf: DeviceBuffer,
                     stream: Optional[Stream] = None) -> None:
        rt = self._rt
        kind = rt.cudaMemcpyKind.cudaMemcpyDeviceToHost
        if stream is None:
            check(rt.cudaMemcpy(host.ctypes.data, buf.ptr, host.nbytes, kind), 'cudaMemcpy')
        else:
            check(rt.cudaMemcpyAsync(host.ctypes.data, buf.ptr, host.nbytes, kind,
                                     stream.native), 'cudaMemcpyAsync')

    def kernels(self):
        """No conversion kernels here (float-I/O engines convert on the host)."""
        return None


class PycudaDevice(Device):
    binding = 'pycuda'

    def __init__(self, index: int):
        super().__init__(index)
        cuda = self._cuda = _pycuda()
        try:
            cuda.init()
            count = cuda.Device.count()
            if index >= count:
                raise CudaError('CUDA device %d does not exist (%d device(s))' % (index, count))
            dev = cuda.Device(index)
        except cuda.Error as exc:
            raise CudaError('CUDA is not usable here: %s' % exc) from exc
        if not hasattr(dev, 'retain_primary_context'):
            import pycuda

            raise CudaError('pycuda %s has no Device.retain_primary_context (pycuda >= %d.%d has '
                            'it); pip install --upgrade pycuda'
                            % ((getattr(pycuda, 'VERSION_TEXT', 'this old'),) + MIN_PYCUDA))
        self.name = dev.name()
        self.compute_capability = tuple(dev.compute_capability())
        self._ctx = dev.retain_primary_context()

    def push(self) -> None:
        self._ctx.push()

    def pop(self) -> None:
        self._cuda.Context.pop()

    def stream(self) -> Stream:
        native = self._cuda.Stream()
        return Stream(native.handle, native.synchronize, None, native)

    def event(self) -> Event:
        native = self._cuda.Event()
        event = Event(lambda s: native.record(s.native), native.synchronize,
                      lambda start: native.time_since(start.native), None)
        event.native = native
        return event

    def alloc(self, nbytes: int) -> DeviceBuffer:
        mem = self._cuda.mem_alloc(int(nbytes))
        return DeviceBuffer(int(mem), nbytes, mem.free)

    def pinned(self, shape, dtype) -> np.ndarray:
        return self._cuda.pagelocked_empty(shape, dtype)

    def free_pinned(self, array: np.ndarray) -> None:
        base = getattr(array, 'base', None)
        if base is not None and hasattr(base, 'free'):
            base.free()

    def copy_to_device(self, buf, host, stream=None) -> None:
        if stream is None:
            self._cuda.memcpy_htod(buf.ptr, host)
        else:
            self._cuda.memcpy_htod_async(buf.ptr, host, stream.native)

    def copy_to_host(self, host, buf, stream=None) -> None:
        if stream is None:
            self._cuda.memcpy_dtoh(host, buf.ptr)
        else:
            self._cuda.memcpy_dtoh_async(host, buf.ptr, stream.native)

    def kernels(self):
        """Return the uint8 -> float32 and int32 -> uint8 kernels, or None (see Converters)."""
        return Converters.build()


class Converters:
    """Element-wise dtype conversion kernels, compiled by pycuda (nvcc, part of JetPack)."""

    SOURCE = r"""
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
"""
    BLOCK = 256

    def __init__(self, module):
        self.module = module
        self._u8_to_f32 = module.get_function('u8_to_f32')
        self._i32_to_u8 = module.get_function('i32_to_u8')
        self._u8_to_f32.prepare('PPi')
        self._i32_to_u8.prepare('PPi')

    @classmethod
    def build(cls) -> Optional['Converters']:
        try:
            from pycuda.compiler import SourceModule

            return cls(SourceModule(cls.SOURCE, no_extern_c=True))
        except Exception as exc:  # pycuda raises CompileError / OSError without nvcc
            LOG.warning('cannot compile the uint8 <-> float conversion kernels (%s); converting '
                        'on the host instead (4x the upload bytes)', exc)
            return None

    def _launch(self, function, src, dst, count, stream):
        grid = ((count + self.BLOCK - 1) // self.BLOCK, 1)
        function.prepared_async_call(grid, (self.BLOCK, 1, 1), stream.native, src.ptr, dst.ptr,
                                     np.int32(count))

    def u8_to_f32(self, src, dst, count, stream):
        self._launch(self._u8_to_f32, src, dst, count, stream)

    def i32_to_u8(self, src, dst, count, stream):
        self._launch(self._i32_to_u8, src, dst, count, stream)


def open_device(index: int = 0, binding: Optional[str] = None) -> Device:
    """
    Open CUDA device `index` through `binding` ('cuda-python', 'pycuda'; None: the first found).

    Raises CudaError when no binding is installed or no device is usable.
    """
    found = available_bindings()
    if binding is None:
        if not found:
            raise CudaError(CUDA_HINT)
        binding = found[0]
    if binding not in BINDINGS:
        raise CudaError('unknown CUDA binding %r; choose from %s' % (binding, ', '.join(BINDINGS)))
    if binding not in found:
        raise CudaError('the CUDA binding %s is not installed (found: %s)'
                        % (binding, ', '.join(found) or 'none'))
    return CudaPythonDevice(index) if binding == 'cuda-python' else PycudaDevice(index)
