# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
CUDA-graph capture of an enqueue on a stream, through cuda-python's runtime API.

pycuda cannot capture: no pycuda release up to v2026.1 has stream capture (inducer/pycuda
v2026.1 `src/wrapper/wrap_cudadrv.cpp`: Stream offers synchronize, is_done, wait_for_event and
handle, and no cuStreamBeginCapture / cuGraph call exists in its sources). cuda-python captures
any stream of the device's primary context, including pycuda's, by its handle.

TensorRT with CUDA graphs (TensorRT developer guide, "CUDA Graphs"): run execute_async_v3 once
before capturing (it applies deferred shape changes), capture on a non-default stream; the
captured addresses and shapes are frozen, so a graph is captured per batch size and slot.
"""


from typing import Callable, Optional

from fxseg_ros.runtime.cuda_device import check, CudaError, cudart, Stream


def capture_unavailable() -> Optional[str]:
    """Why CUDA graphs cannot be captured here, or None."""
    rt = cudart()
    if rt is None:
        return ('CUDA-graph capture needs cuda-python (pip install cuda-python; CUDA >= 11.4): '
                'pycuda has no stream capture in any release')
    if not hasattr(rt, 'cudaGraphInstantiateWithFlags'):
        return 'this cuda-python has no cudaGraphInstantiateWithFlags (CUDA >= 11.4 needed)'
    return None


class CudaGraph:
    """An instantiated CUDA graph: launch(stream) replays it; destroy() frees it."""

    def __init__(self, graph, executable):
        self._rt = cudart()
        self._graph, self._exec = graph, executable

    def launch(self, stream: Stream) -> None:
        check(self._rt.cudaGraphLaunch(self._exec, stream.handle), 'cudaGraphLaunch')

    def destroy(self) -> None:
        if self._exec is not None:
            check(self._rt.cudaGraphExecDestroy(self._exec), 'cudaGraphExecDestroy')
            check(self._rt.cudaGraphDestroy(self._graph), 'cudaGraphDestroy')
            self._exec = self._graph = None


def capture(stream: Stream, enqueue: Callable[[], None]) -> CudaGraph:
    """
    Capture what `enqueue()` puts on `stream` (thread-local capture mode) into a CUDA graph.

    Raises CudaError where capture is unavailable or a CUDA call fails; a failed enqueue ends
    the capture before its exception propagates.
    """
    reason = capture_unavailable()
    if reason:
        raise CudaError(reason)
    rt = cudart()
    mode = rt.cudaStreamCaptureMode.cudaStreamCaptureModeThreadLocal
    check(rt.cudaStreamBeginCapture(stream.handle, mode), 'cudaStreamBeginCapture')
    try:
        enqueue()
    except BaseException:
        graph = rt.cudaStreamEndCapture(stream.handle)
        if int(graph[0]) == 0 and graph[1] is not None:
            rt.cudaGraphDestroy(graph[1])
        raise
    graph = check(rt.cudaStreamEndCapture(stream.handle), 'cudaStreamEndCapture')
    try:
        executable = check(rt.cudaGraphInstantiateWithFlags(graph, 0),
                           'cudaGraphInstantiateWithFlags')
    except CudaError:
        rt.cudaGraphDestroy(graph)
        raise
    return CudaGraph(graph, executable)
