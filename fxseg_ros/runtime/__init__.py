# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Runtime layer: one runner interface for ONNX Runtime and TensorRT.

Also the engine builder and the engine metadata checks.

`create_runner` picks the runner from the model file: `.onnx` (bare or deployment graph) runs on
ONNX Runtime by default or, with backend='tensorrt', through an engine built from it;
`.engine` / `.plan` files run on TensorRT. tensorrt, cuda-python / pycuda and onnxruntime are
imported only when a runner of that kind is activated.
"""


import os
from pathlib import Path
from typing import Optional, Sequence, Tuple

from fxseg_ros.runtime.base import Runner, RunnerError

__all__ = ['BACKENDS', 'ENGINE_SUFFIXES', 'Runner', 'RunnerError', 'create_runner']

#: Backends `create_runner` accepts.
BACKENDS = ('auto', 'onnxruntime', 'tensorrt')
#: File suffixes of serialised TensorRT engines.
ENGINE_SUFFIXES = ('.engine', '.plan', '.trt')

_ORT_OPTIONS = ('cache_dir', 'use_cache', 'name')


def create_runner(model, backend: str = 'auto', camera_hw: Tuple[int, int] = (720, 1280),
                  providers: Optional[Sequence] = None, threads: int = 0,
                  output: str = 'camera', **engine_options) -> Runner:
    """
    Create (not yet activate) the runner for a model file.

    model: `.onnx` path (bare network or deployment graph) or onnx.ModelProto, or a TensorRT
        engine path (`.engine` / `.plan` / `.trt`).
    backend: 'auto' (ONNX Runtime for ONNX, TensorRT for engines), 'onnxruntime' or 'tensorrt'.
    camera_hw: (height, width) of the camera frames (used when a bare graph is wrapped or an
        engine is built).
    providers, threads: ONNX Runtime execution providers and intra-op threads.
    output: 'camera' or 'network' label resolution (see fxseg_ros.model.deploy).
    engine_options: ONNX Runtime: cache_dir, use_cache. TensorRT: engine_path, precision,
        build_if_missing, rebuild_on_mismatch, calibration_cache, workspace_mib, timing_cache,
        dla_core, max_batch, cuda_graph, float_io, cuda_binding, name (see TensorRtRunner).
    Raises RunnerError for an unknown backend, a missing file or a mismatched combination.
    """
    if backend not in BACKENDS:
        raise RunnerError('backend must be one of %s, got %r' % (', '.join(BACKENDS), backend))
    is_path = isinstance(model, (str, os.PathLike))
    suffix = Path(model).suffix.lower() if is_path else '.onnx'
    if suffix in ENGINE_SUFFIXES:
        if backend == 'onnxruntime':
            raise RunnerError('%s is a TensorRT engine; ONNX Runtime needs the .onnx model'
                              % model)
        engine_path = engine_options.pop('engine_path', None)
        if engine_path is not None and Path(engine_path) != Path(model):
            raise RunnerError('model %s is an engine, and engine_path %s names another one'
                              % (model, engine_path))
        from fxseg_ros.runtime.tensorrt import TensorRtRunner

        return TensorRtRunner(model, camera_hw=camera_hw, output=output, **engine_options)
    if backend == 'tensorrt':
        # A missing ONNX file only matters when the engine has to be built: the runner decides.
        from fxseg_ros.runtime.tensorrt import TensorRtRunner

        return TensorRtRunner.from_onnx(model, camera_hw=camera_hw, output=output,
                                        **engine_options)
    if is_path and not Path(model).is_file():
        raise RunnerError('model file %s does not exist' % model)
    unknown = sorted(set(engine_options) - set(_ORT_OPTIONS))
    if unknown:
        raise RunnerError('option(s) %s apply to TensorRT only; the ONNX Runtime runner takes %s'
                          % (', '.join(unknown), ', '.join(_ORT_OPTIONS)))
    from fxseg_ros.runtime.onnxrt import OnnxRuntimeRunner

    return OnnxRuntimeRunner(model, camera_hw=camera_hw, output=output, providers=providers,
                             threads=threads, **engine_options)
