#!/usr/bin/env python3
# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
GPU check for a CUDA machine without TensorRT (engines/README.md says how to run it).

1. The deployment graph of the demo model (or --model) on ONNX Runtime's CUDA execution provider
   (onnxruntime-gpu) against the CPU provider's labels, frame by frame.
2. The TensorRT runner's CUDA layer (fxseg_ros.runtime.cuda_device) through cuda-python: pinned
   host buffers, device buffers, a non-default stream, events; a uint8 frame batch goes up and
   comes back on the stream and must be byte-identical; the events time it.
3. CUDA-graph capture (fxseg_ros.runtime.cuda_graph) of the same copies, replayed on new data.

Prints one PASS or FAIL line per check. Exit status: 0 all passed, 1 a check failed,
2 no CUDA here (no cuda-python, no driver or no device), which it says.
"""


import argparse
import os
import sys
import time

import numpy as np

# Run from a checkout: the package next to this script (fxseg_ros is imported in the checks).
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

#: Least share of pixels whose CUDA-provider label equals the CPU provider's (float rounding
#: of the two providers' kernels may flip pixels on class boundaries).
MIN_AGREEMENT = 0.999
#: Size of the generated frames (width, height), as the node's cameras send them.
FRAME_WH = (1280, 720)


def line(status: str, name: str, detail: str) -> bool:
    print('%-4s %-28s %s' % (status, name, detail), flush=True)
    return status != 'FAIL'


def open_cuda():
    """Return the cuda-python device, or (None, why CUDA is not usable)."""
    from fxseg_ros.runtime import cuda_device

    if cuda_device.cudart() is None:
        return None, 'cuda-python is not installed (pip install cuda-python)'
    try:
        return cuda_device.open_device(0, binding='cuda-python'), ''
    except cuda_device.CudaError as exc:
        return None, str(exc)


def scene_frames(count: int) -> np.ndarray:
    """Generate driving scenes, (count, H, W, 3) uint8 (needs opencv)."""
    from fxseg_ros.data.conditions import CONDITIONS
    from fxseg_ros.data.synth import SceneGenerator

    gen = SceneGenerator(0, size_wh=FRAME_WH)
    return np.stack([gen.generate(i, CONDITIONS[i % len(CONDITIONS)])[0] for i in range(count)])


def check_ort_cuda(model_path: str, count: int) -> bool:
    """Check the deployment graph on the CUDA provider against the CPU provider."""
    try:
        import onnxruntime as ort
        frames = scene_frames(count)
    except ImportError as exc:
        return line('FAIL', 'onnxruntime CUDA provider', '%s: install the wheels of '
                    'onnxruntime-gpu, onnx and opencv-python-headless' % exc)
    if 'CUDAExecutionProvider' not in ort.get_available_providers():
        return line('FAIL', 'onnxruntime CUDA provider',
                    'onnxruntime %s has no CUDAExecutionProvider (providers: %s); install the '
                    'onnxruntime-gpu wheel: pip install --no-deps onnxruntime_gpu-*.whl'
                    % (ort.__version__, ', '.join(ort.get_available_providers())))
    from fxseg_ros.model import deploy
    from fxseg_ros.runtime.ort_profile import cpu_session

    graph = deploy.ensure_deployment_graph(model_path)
    cpu = cpu_session(graph).run(None, {'frames': frames})[0]
    from fxseg_ros.runtime.session import make_session

    # TF32 off: the comparison is about the graph, not about TF32 convolutions.
    gpu_session = make_session(graph, providers=[
        ('CUDAExecutionProvider', {'device_id': 0, 'use_tf32': 0}), 'CPUExecutionProvider'])
    if gpu_session.get_providers()[0] != 'CUDAExecutionProvider':
        return line('FAIL', 'onnxruntime CUDA provider', 'the session fell back to %s'
                    % gpu_session.get_providers())
    gpu_session.run(None, {'frames': frames[:1]})
    start = time.perf_counter()
    gpu = gpu_session.run(None, {'frames': frames})[0]
    ms = (time.perf_counter() - start) * 1e3
    agreement = float((gpu == cpu).mean())
    ok = gpu.shape == cpu.shape and gpu.dtype == np.uint8 and agreement >= MIN_AGREEMENT
    return line('PASS' if ok else 'FAIL', 'onnxruntime CUDA vs CPU',
                'labels %s %s, agreement %.5f (need >= %.3f), %d frames in %.1f ms'
                % (gpu.dtype, gpu.shape, agreement, MIN_AGREEMENT, len(frames), ms))


def check_cuda_layer(device, frames: np.ndarray) -> bool:
    """Pinned -> device -> pinned on a stream, timed by events; bytes must survive."""
    stream = device.stream()
    events = [device.event() for _ in range(3)]
    host_in = device.pinned(frames.shape, np.uint8)
    host_out = device.pinned(frames.shape, np.uint8)
    buf = device.alloc(frames.nbytes)
    try:
        np.copyto(host_in, frames)
        host_out[...] = 0
        events[0].record(stream)
        device.copy_to_device(buf, host_in, stream)
        events[1].record(stream)
        device.copy_to_host(host_out, buf, stream)
        events[2].record(stream)
        events[2].synchronize()
        up, down = events[1].elapsed_ms(events[0]), events[2].elapsed_ms(events[1])
        ok = np.array_equal(host_out, frames) and up > 0 and down > 0
        return line('PASS' if ok else 'FAIL', 'cuda-python copies + events',
                    '%s on %s (sm_%d%d): %.1f MB up %.3f ms, down %.3f ms, identical: %s'
                    % (device.binding, device.name, device.compute_capability[0],
                       device.compute_capability[1], frames.nbytes / 1e6, up, down,
                       np.array_equal(host_out, frames)))
    finally:
        buf.free()
        device.free_pinned(host_in)
        device.free_pinned(host_out)
        for event in events:
            event.destroy()
        stream.destroy()


def check_cuda_graph(device, frames: np.ndarray) -> bool:
    """Capture upload + download once, replay it on other data."""
    from fxseg_ros.runtime import cuda_graph

    reason = cuda_graph.capture_unavailable()
    if reason:
        return line('FAIL', 'CUDA-graph capture', reason)
    stream = device.stream()
    host_in = device.pinned(frames.shape, np.uint8)
    host_out = device.pinned(frames.shape, np.uint8)
    buf = device.alloc(frames.nbytes)
    graph = None
    try:
        graph = cuda_graph.capture(stream, lambda: (device.copy_to_device(buf, host_in, stream),
                                                    device.copy_to_host(host_out, buf, stream)))
        results = []
        for k in range(3):
            np.copyto(host_in, np.roll(frames, k, axis=0))
            graph.launch(stream)
            stream.synchronize()
            results.append(np.array_equal(host_out, np.roll(frames, k, axis=0)))
        ok = all(results)
        return line('PASS' if ok else 'FAIL', 'CUDA-graph capture + replay',
                    'copies replayed 3 times on new frames, identical: %s' % results)
    finally:
        if graph is not None:
            graph.destroy()
        buf.free()
        device.free_pinned(host_in)
        device.free_pinned(host_out)
        stream.destroy()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--model', default=None,
                        help='ONNX model (bare network or deployment graph); default: the demo')
    parser.add_argument('--frames', type=int, default=4,
                        help='generated %dx%d frames (default %%(default)s)' % FRAME_WH)
    args = parser.parse_args(argv)
    device, reason = open_cuda()
    if device is None:
        print('no CUDA here: %s; this check needs a CUDA machine' % reason, flush=True)
        return 2
    from fxseg_ros import DEMO_MODEL

    count = max(1, args.frames)
    # The copies' checks need any bytes: a fixed pattern, no opencv.
    pattern = (np.arange(count * FRAME_WH[1] * FRAME_WH[0] * 3, dtype=np.uint32) * 2654435761
               >> 24).astype(np.uint8).reshape(count, FRAME_WH[1], FRAME_WH[0], 3)
    device.push()
    try:
        results = [check_cuda_layer(device, pattern), check_cuda_graph(device, pattern),
                   check_ort_cuda(args.model or str(DEMO_MODEL), count)]
    finally:
        device.pop()
    print('%d of %d checks passed' % (sum(results), len(results)), flush=True)
    return 0 if all(results) else 1


if __name__ == '__main__':
    sys.exit(main())
