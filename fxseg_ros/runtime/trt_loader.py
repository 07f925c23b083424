# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Loading a TensorRT engine, kept apart from running it.

The engine decision (load, build, rebuild or refuse, from the metadata file) and deserialisation,
as Polygraphy's backend/trt/loader.py is apart from backend/trt/runner.py.

`load_engine(request, device)` returns a `LoadedEngine` (runtime, engine, its I/O described);
`engine_io` reads the I/O through the named-tensor API of TensorRT >= 8.5 or the binding API of
8.0 to 8.4, and the numpy dtypes from trt_support.numpy_dtype, not trt.nptype.
"""


import logging
import os
from pathlib import Path
from typing import NamedTuple, Optional, Tuple

from fxseg_ros.runtime.base import RunnerError
from fxseg_ros.runtime.metadata import Platform
from fxseg_ros.runtime.trt_support import (at_least, import_tensorrt, IO_TENSOR_API, make_logger,
                                           numpy_dtype)
import numpy as np

LOG = logging.getLogger(__name__)


def default_engine_path(onnx_path, precision: str, cache_dir=None) -> Path:
    """Where an engine built from an ONNX model is kept: CACHE/engines/STEM.PRECISION.engine."""
    from fxseg_ros.runtime.paths import default_cache_dir

    base = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return base / 'engines' / ('%s.%s.engine' % (Path(onnx_path).stem, precision))


class EngineRequest(NamedTuple):
    """What the runner wants: the engine, where to build it from, and what it must compute."""

    engine_path: Path
    onnx_path: Optional[Path]
    precision: str
    build_if_missing: bool
    rebuild_on_mismatch: bool
    calibration_cache: Optional[str]
    camera_hw: Tuple[int, int]
    output: str
    max_batch: int
    build_options: object  # fxseg_ros.runtime.builder.BuildOptions


class EngineIO(NamedTuple):
    """
    The deployment engine's one input (frames) and one output (labels).

    input_hw / output_hw: (H, W); dtypes: numpy; dynamic: batch dimension -1; profiles: number
    of optimization profiles; per_profile: bindings per profile (binding API); max_batch; fixed:
    a profile with min = opt = max (DLA), so every call runs max_batch frames; io_tensors: the
    named-tensor API (TensorRT >= 8.5).
    """

    input_name: str
    output_name: str
    input_index: int
    output_index: int
    input_dtype: np.dtype
    output_dtype: np.dtype
    input_hw: Tuple[int, int]
    output_hw: Tuple[int, int]
    dynamic: bool
    profiles: int
    per_profile: int
    max_batch: int
    fixed: bool
    io_tensors: bool


class LoadedEngine(NamedTuple):
    trt: object
    logger: object  # must outlive the runtime and engine
    runtime: object
    engine: object
    io: EngineIO
    platform: Platform
    metadata: Optional[dict]


def platform_of(trt, device) -> Platform:
    """Describe TensorRT and the GPU for the metadata check (no trt.Builder: fast start-up)."""
    return Platform(tensorrt_version=trt.__version__, gpu_name=device.name,
                    compute_capability=tuple(device.compute_capability))


def _decide(request: EngineRequest, platform: Platform, device) -> None:
    from fxseg_ros.runtime import builder, metadata

    decision = metadata.decide_engine_action(
        request.engine_path, platform, onnx_path=request.onnx_path,
        precision=request.precision, calibration_cache=request.calibration_cache,
        build_if_missing=request.build_if_missing,
        rebuild_on_mismatch=request.rebuild_on_mismatch,
        options={'camera_hw': list(request.camera_hw), 'output': request.output,
                 'max_batch': request.max_batch})
    if decision.action == 'error':
        raise RunnerError(decision.message)
    if decision.action in ('build', 'rebuild'):
        LOG.warning('%s', decision.message)
        try:
            builder.build_engine(request.onnx_path, request.engine_path, request.build_options,
                                 device=device)
        except builder.BuildError as exc:
            raise RunnerError('building %s failed: %s' % (request.engine_path, exc)) from exc
    elif decision.reasons:
        LOG.warning('%s', decision.message)


def engine_io(trt, engine, path) -> EngineIO:
    """Describe a deployment engine's I/O; RunnerError for engines of another layout."""
    v3 = at_least(trt.__version__, IO_TENSOR_API) and hasattr(engine, 'num_io_tensors')
    if v3:
        names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
        is_input = [engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT for n in names]
        shapes = [tuple(engine.get_tensor_shape(n)) for n in names]
        dtypes = [numpy_dtype(engine.get_tensor_dtype(n)) for n in names]
        per_profile = len(names)
    else:
        profiles = max(1, engine.num_optimization_profiles)
        per_profile = engine.num_bindings // profiles
        names = [engine.get_binding_name(i) for i in range(per_profile)]
        is_input = [engine.binding_is_input(i) for i in range(per_profile)]
        shapes = [tuple(engine.get_binding_shape(i)) for i in range(per_profile)]
        dtypes = [numpy_dtype(engine.get_binding_dtype(i)) for i in range(per_profile)]
    ins = [i for i, flag in enumerate(is_input) if flag]
    outs = [i for i, flag in enumerate(is_input) if not flag]
    if len(ins) != 1 or len(outs) != 1:
        raise RunnerError('engine %s has %d inputs and %d outputs; the runner takes a '
                          'deployment-graph engine (frames in, labels out) from fxseg build'
                          % (path, len(ins), len(outs)))
    i, o = ins[0], outs[0]
    in_shape, out_shape = shapes[i], shapes[o]
    if len(in_shape) != 4 or in_shape[3] != 3 or dtypes[i] not in (np.uint8, np.float32):
        raise RunnerError('engine input %r is %s %s; expected frames (N, H, W, 3) uint8 or '
                          'float32: build the engine from the deployment graph (fxseg build)'
                          % (names[i], dtypes[i], in_shape))
    if len(out_shape) != 3 or dtypes[o] not in (np.uint8, np.int32):
        raise RunnerError('engine output %r is %s %s; expected labels (N, h, w) uint8 or int32'
                          % (names[o], dtypes[o], out_shape))
    dynamic = in_shape[0] == -1
    profiles = engine.num_optimization_profiles if dynamic else 0
    fixed = not dynamic
    max_batch = int(in_shape[0])
    if dynamic:
        low, _, high = (engine.get_tensor_profile_shape(names[i], 0) if v3
                        else engine.get_profile_shape(0, i))
        max_batch, fixed = int(high[0]), int(low[0]) == int(high[0])
    return EngineIO(names[i], names[o], i, o, dtypes[i], dtypes[o],
                    (int(in_shape[1]), int(in_shape[2])), (int(out_shape[1]), int(out_shape[2])),
                    dynamic, profiles, per_profile, max_batch, fixed, v3)


def load_engine(request: EngineRequest, device) -> LoadedEngine:
    """
    Decide (load / build / rebuild / refuse) and deserialize the engine; the device is current.

    Raises RunnerError with the fxseg build command that fixes the problem.
    """
    from fxseg_ros.runtime import metadata

    trt = import_tensorrt(RunnerError)
    platform = platform_of(trt, device)
    _decide(request, platform, device)
    try:
        meta = metadata.read_metadata(request.engine_path)
    except metadata.MetadataError:
        meta = None
    logger = make_logger(trt, LOG)
    if hasattr(trt, 'init_libnvinfer_plugins'):
        trt.init_libnvinfer_plugins(logger, '')
    runtime = trt.Runtime(logger)
    engine = runtime.deserialize_cuda_engine(Path(os.fspath(request.engine_path)).read_bytes())
    if engine is None:
        command = metadata.build_command(request.onnx_path, request.engine_path,
                                         request.precision, request.calibration_cache)
        raise RunnerError('TensorRT %s could not load the engine %s (truncated, or built by '
                          'another TensorRT version or GPU); rebuild it on this machine: %s'
                          % (platform.tensorrt_version, request.engine_path, command))
    return LoadedEngine(trt, logger, runtime, engine, engine_io(trt, engine, request.engine_path),
                        platform, meta)
