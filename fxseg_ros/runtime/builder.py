# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
TensorRT engine builder: deployment graph -> serialized engine + metadata file.

Precision routes, by TensorRT version:
- 8.x / 10.x (weakly typed): FP16 = the FP16 builder flag on an FP32 model; INT8 = the INT8 flag
  with either a Q/DQ model (explicit quantization, `fxseg quantize`) or implicit calibration: a
  calibration cache (`fxseg calibrate` or an earlier build) and/or calibration frames fed through
  an IInt8EntropyCalibrator2. FP16 is enabled next to INT8 where the GPU has fast FP16, so layers
  without INT8 kernels (the float pre/post-processing) run in FP16 rather than FP32.
- 11.x: strongly typed only; the precision comes from the model itself: FP16 needs an FP16 ONNX
  (`fxseg quantize fp16`), INT8 a Q/DQ ONNX (`fxseg quantize int8`).
  There are no builder precision flags and no calibrators.

Implicit calibration runs on the *bare* network (input `input`, float32 N x 3 x 360 x 640, exactly
what the calibration readers yield) and writes the cache; the deployment engine is then built from
that cache. The deployment graph keeps the bare network's tensor names, so the cache's entries
apply unchanged, and the `pre/` and `post/` tensors, which have no entry, stay in float.

The checks (`plan_build`) are pure functions of the request and a `Platform`, so they are tested
without a GPU; `build_engine` is the only part that imports tensorrt.
"""


import logging
import os
import tempfile
import time
from pathlib import Path
from typing import List, NamedTuple, Optional, Tuple

from fxseg_ros.runtime.metadata import (
    make_metadata, metadata_path, Platform, PRECISIONS, TensorSpec, version_tuple,
    write_metadata,
)

LOG = logging.getLogger(__name__)

__all__ = ['BuildError', 'BuildOptions', 'BuildPlan', 'build_engine', 'metadata_path',
           'model_kind', 'plan_build']

#: Oldest TensorRT the builder and runner are written for (JetPack 4.6 on the TX2).
MIN_TENSORRT = (8, 2)
#: First TensorRT with UINT8 network inputs and outputs.
UINT8_IO_TENSORRT = (8, 6)
#: Calibrator class per algorithm named in a calibration cache header.
CALIBRATOR_CLASSES = {
    'EntropyCalibration2': 'IInt8EntropyCalibrator2',
    'EntropyCalibration': 'IInt8EntropyCalibrator',
    'MinMaxCalibration': 'IInt8MinMaxCalibrator',
}


class BuildError(RuntimeError):
    """An engine cannot be built as asked; the message says what to do instead."""


class BuildOptions(NamedTuple):
    """
    What `fxseg build` (or a runner's build_if_missing) asks for.

    precision: 'fp32', 'fp16' or 'int8'.
    calibration_cache: cache file; read when it exists, written by implicit calibration.
    calib_data: calibration frames (Cityscapes-layout directory, image folder or rosbag2).
    calib_topic: image topic when calib_data is a rosbag2.
    calib_count: how many calibration frames to use.
    dla_core: DLA core index (Xavier / Orin), with GPU fallback; None for the GPU.
    workspace_mib: builder workspace limit.
    timing_cache: timing cache file, loaded when present and saved after the build.
    camera_hw: camera frame size (height, width) of the deployment graph.
    output: 'camera' or 'network' label resolution.
    max_batch: largest batch (cameras per call).
    float_io: float32 frames / int32 labels; None picks by TensorRT version (< 8.6: float).
    profiles: optimization profiles (one per concurrent execution context of the runner).
    """

    precision: str = 'fp16'
    calibration_cache: Optional[str] = None
    calib_data: Optional[str] = None
    calib_topic: Optional[str] = None
    calib_count: int = 200
    dla_core: Optional[int] = None
    workspace_mib: int = 1024
    timing_cache: Optional[str] = None
    camera_hw: Tuple[int, int] = (720, 1280)
    output: str = 'camera'
    max_batch: int = 1
    float_io: Optional[bool] = None
    profiles: int = 2


class BuildPlan(NamedTuple):
    """
    The builder settings `plan_build` derived from a request and a platform.

    network_flags: names of NetworkDefinitionCreationFlag members to set.
    builder_flags: names of BuilderFlag members to set (FP16, INT8, GPU_FALLBACK).
    calibrate: 'none', 'cache' (implicit INT8 from an existing cache) or 'data' (run the
        calibrator on calibration frames first, then build from the written cache).
    float_io: whether the deployment graph gets float32 frames / int32 labels.
    warnings: things worth a log line.
    """

    network_flags: Tuple[str, ...]
    builder_flags: Tuple[str, ...]
    calibrate: str
    float_io: bool
    dla_core: Optional[int]
    warnings: Tuple[str, ...]


def model_kind(path_or_model) -> str:
    """
    Classify an ONNX model by how its precision is expressed.

    Returns 'qdq' (has QuantizeLinear / DequantizeLinear nodes), 'fp16' (float16 weights) or
    'fp32'.
    """
    from onnx import TensorProto

    from fxseg_ros.model.deploy import load_model

    model = load_model(path_or_model)
    ops = {n.op_type for n in model.graph.node}
    if ops & {'QuantizeLinear', 'DequantizeLinear'}:
        return 'qdq'
    if any(init.data_type == TensorProto.FLOAT16 for init in model.graph.initializer):
        return 'fp16'
    return 'fp32'


def needs_float_io(tensorrt_version: str) -> bool:
    """True for TensorRT < 8.6, which has no UINT8 network inputs or outputs."""
    return version_tuple(tensorrt_version)[:2] < UINT8_IO_TENSORRT


def plan_build(options: BuildOptions, platform: Platform, kind: str,
               cache_exists: bool = False) -> BuildPlan:
    """
    Check a build request against the platform and derive the builder settings.

    kind: `model_kind` of the model. cache_exists: whether options.calibration_cache exists.
    Raises BuildError with the fix for requests that cannot work.
    """
    if options.precision not in PRECISIONS:
        raise BuildError('precision must be one of %s, got %r'
                         % (', '.join(PRECISIONS), options.precision))
    if options.max_batch < 1:
        raise BuildError('max_batch must be >= 1, got %d' % options.max_batch)
    if options.workspace_mib < 1:
        raise BuildError('the workspace must be >= 1 MiB, got %d' % options.workspace_mib)
    if options.profiles < 1:
        raise BuildError('profiles must be >= 1, got %d' % options.profiles)
    if options.output not in ('camera', 'network'):
        raise BuildError("output must be 'camera' or 'network', got %r" % options.output)
    version = version_tuple(platform.tensorrt_version)
    if version[:2] < MIN_TENSORRT:
        raise BuildError('TensorRT %s is older than the oldest supported (8.2, JetPack 4.6); '
                         'upgrade TensorRT' % platform.tensorrt_version)
    precision = options.precision
    gpu = '%s (compute capability %d.%d)' % ((platform.gpu_name,)
                                              + tuple(platform.compute_capability))
    warnings: List[str] = []

    float_io = needs_float_io(platform.tensorrt_version)
    if options.float_io is not None:
        if not options.float_io and float_io:
            raise BuildError('TensorRT %s has no UINT8 network inputs (they need 8.6); build '
                             'with float I/O (--float-io yes or auto): the runner then converts '
                             'uint8 frames to float on the GPU' % platform.tensorrt_version)
        float_io = bool(options.float_io)

    if precision == 'int8' and not platform.fast_int8:
        raise BuildError('%s has no fast INT8 (e.g. the Jetson TX2, sm_62, lacks DP4A INT8 '
                         'instructions), so an INT8 engine would be slower than FP16; build with '
                         '--precision fp16' % gpu)
    if precision == 'fp16' and not platform.fast_fp16:
        warnings.append('%s has no fast FP16; TensorRT will pick FP32 kernels where FP16 is '
                        'slower, so expect little gain over --precision fp32' % gpu)

    implicit_int8_inputs = bool(options.calibration_cache or options.calib_data)
    network_flags: Tuple[str, ...] = ()
    builder_flags: List[str] = []
    calibrate = 'none'
    if version[0] >= 11:
        # Strongly typed: the model carries its precision.
        if precision == 'int8':
            if kind != 'qdq':
                raise BuildError(
                    'TensorRT %s builds strongly typed networks only and has no INT8 '
                    'calibrators; %s. Quantize the model explicitly instead: fxseg quantize '
                    'int8 --calib CALIB.json --out MODEL_qdq.onnx, then build that '
                    'Q/DQ model' % (platform.tensorrt_version,
                                    'implicit calibration (--calibration-cache / --calib-data) '
                                    'is not available' if implicit_int8_inputs
                                    else 'an FP32 model cannot be built as INT8'))
        elif precision == 'fp16' and kind != 'fp16':
            raise BuildError('TensorRT %s builds strongly typed networks only: FP16 needs an '
                             'FP16 model (fxseg quantize fp16 --out MODEL_fp16.onnx)'
                             % platform.tensorrt_version)
        elif precision == 'fp32' and kind != 'fp32':
            raise BuildError('the model is %s; on TensorRT %s its precision is what the engine '
                             'gets: build it with --precision %s'
                             % (kind.upper(), platform.tensorrt_version,
                                'int8' if kind == 'qdq' else 'fp16'))
        if implicit_int8_inputs:
            warnings.append('calibration inputs are ignored for a Q/DQ model: its scales are '
                            'in the graph')
    else:
        if version[0] < 10:
            network_flags = ('EXPLICIT_BATCH',)
        if kind == 'qdq' and precision != 'int8':
            raise BuildError('the model holds Q/DQ nodes (an INT8 model); build it with '
                             '--precision int8')
        if precision == 'fp16':
            builder_flags.append('FP16')
        elif precision == 'int8':
            builder_flags.append('INT8')
            if platform.fast_fp16:
                builder_flags.append('FP16')
            if kind == 'qdq':
                if implicit_int8_inputs:
                    warnings.append('calibration inputs are ignored for a Q/DQ model: its '
                                    'scales are in the graph')
            elif cache_exists:
                calibrate = 'cache'
                if options.calib_data:
                    warnings.append('the calibration cache %s exists, so --calib-data is not '
                                    'used; delete the cache to recalibrate'
                                    % options.calibration_cache)
            elif options.calib_data:
                calibrate = 'data'
            else:
                if options.calibration_cache:
                    raise BuildError('the calibration cache %s does not exist; create it with '
                                     'fxseg calibrate, or give --calib-data to calibrate while '
                                     'building' % options.calibration_cache)
                raise BuildError('INT8 needs calibration: a calibration cache '
                                 '(--calibration-cache, from fxseg calibrate), calibration frames '
                                 '(--calib-data), or a Q/DQ model from fxseg quantize')
            if version[0] >= 10 and calibrate != 'none':
                warnings.append('implicit INT8 calibration is deprecated in TensorRT 10 and '
                                'removed in 11; the Q/DQ route (fxseg quantize) is the lasting '
                                'one')
        elif kind == 'fp16':
            builder_flags.append('FP16')
            warnings.append('the model has FP16 weights; building with the FP16 flag')

    dla = options.dla_core
    if dla is not None:
        if platform.dla_cores == 0:
            raise BuildError('%s has no DLA (only Xavier and Orin do); drop --dla-core' % gpu)
        if dla < 0 or dla >= platform.dla_cores:
            raise BuildError('--dla-core %d does not exist: this device has %d DLA core(s), '
                             'numbered from 0' % (dla, platform.dla_cores))
        if precision == 'fp32':
            raise BuildError('DLA runs FP16 or INT8 only; build with --precision fp16 or int8')
        builder_flags.append('GPU_FALLBACK')
        warnings.append('DLA core %d with GPU fallback: layers DLA cannot run (dynamic shapes, '
                        'Resize modes, ArgMax) run on the GPU' % dla)
    return BuildPlan(network_flags, tuple(builder_flags), calibrate, float_io, dla,
                     tuple(warnings))


def calibrator_class_name(cache_text: Optional[str]) -> str:
    """
    Pick the TensorRT calibrator class that reads a cache with this header.

    TensorRT only accepts a cache whose header names its own calibrator's algorithm.
    """
    if not cache_text:
        return CALIBRATOR_CLASSES['EntropyCalibration2']
    header = cache_text.splitlines()[0].strip()
    algorithm = header.split('-', 2)[-1]
    if algorithm not in CALIBRATOR_CLASSES:
        raise BuildError('calibration cache header %r names an algorithm this builder has no '
                         'calibrator for (%s)' % (header, ', '.join(CALIBRATOR_CLASSES)))
    return CALIBRATOR_CLASSES[algorithm]


def adapt_cache_header(cache_text: str, tensorrt_version: str) -> str:
    """
    Rewrite a calibration cache's header to the installed TensorRT version.

    TensorRT skips a cache whose header names another version and recalibrates silently (which
    fails without calibration data). The per-tensor scales do not depend on the version, so the
    header is rewritten; e.g. a cache from `fxseg calibrate` with TRT-8201 used on 8.2.3.
    """
    from fxseg_ros.quant.cache import encode_trt_version, parse_calibration_cache

    try:
        cached_version, algorithm, _ = parse_calibration_cache(cache_text)
    except ValueError as exc:
        raise BuildError('calibration cache is unreadable: %s' % exc) from exc
    installed = '.'.join(str(v) for v in version_tuple(tensorrt_version)[:3])
    if cached_version == installed:
        return cache_text
    LOG.info('calibration cache written for TensorRT %s; rewriting its header for %s',
             cached_version, installed)
    lines = cache_text.splitlines()
    lines[0] = 'TRT-%d-%s' % (encode_trt_version(installed), algorithm)
    return '\n'.join(lines) + '\n'


# --------------------------------------------------------------------------------------------
# The TensorRT part.

def _trt():
    try:
        import tensorrt as trt
    except ImportError as exc:
        raise BuildError('the TensorRT Python bindings are not installed: on Jetson they come '
                         'with JetPack (python3-libnvinfer), on x86 pip install tensorrt; ONNX '
                         'Runtime runs the .onnx model without them') from exc
    return trt


def _network_from_onnx(trt, builder, logger, model_bytes: bytes, flags: Tuple[str, ...]):
    bits = 0
    for name in flags:
        bits |= 1 << int(getattr(trt.NetworkDefinitionCreationFlag, name))
    network = builder.create_network(bits)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(model_bytes):
        errors = [str(parser.get_error(i)) for i in range(parser.num_errors)]
        raise BuildError('TensorRT could not parse the ONNX model:\n  %s' % '\n  '.join(errors))
    return network, parser


def _set_workspace(trt, config, mib: int) -> None:
    if hasattr(config, 'set_memory_pool_limit'):  # 8.4+
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(mib) << 20)
    else:
        config.max_workspace_size = int(mib) << 20


def _add_profiles(builder, config, network, max_batch: int, count: int):
    """One optimization profile per concurrent execution context (1 .. max_batch frames)."""
    profiles = []
    for _ in range(count):
        profile = builder.create_optimization_profile()
        dynamic = False
        for i in range(network.num_inputs):
            tensor = network.get_input(i)
            shape = tuple(tensor.shape)
            if shape and shape[0] == -1:
                dynamic = True
                rest = shape[1:]
                profile.set_shape(tensor.name, (1,) + rest, (max_batch,) + rest,
                                  (max_batch,) + rest)
        if not dynamic:
            return []
        config.add_optimization_profile(profile)
        profiles.append(profile)
    return profiles


def _tensor_specs(trt, network) -> Tuple[List[TensorSpec], List[TensorSpec]]:
    import numpy as np

    def spec(t):
        return TensorSpec(t.name, tuple(int(d) for d in t.shape),
                          np.dtype(trt.nptype(t.dtype)).name)

    return ([spec(network.get_input(i)) for i in range(network.num_inputs)],
            [spec(network.get_output(i)) for i in range(network.num_outputs)])


def current_platform(device: int = 0) -> Platform:
    """Describe this machine's TensorRT and GPU (imports tensorrt and pycuda)."""
    trt = _trt()
    try:
        import pycuda.driver as cuda
    except ImportError as exc:
        raise BuildError('pycuda is not installed (pip install pycuda; on Jetson it builds '
                         'against the JetPack CUDA)') from exc
    cuda.init()
    dev = cuda.Device(device)
    builder = trt.Builder(trt.Logger(trt.Logger.ERROR))
    return Platform(tensorrt_version=trt.__version__, gpu_name=dev.name(),
                    compute_capability=tuple(dev.compute_capability()),
                    fast_fp16=bool(getattr(builder, 'platform_has_fast_fp16', True)),
                    fast_int8=bool(getattr(builder, 'platform_has_fast_int8', True)),
                    dla_cores=int(getattr(builder, 'num_DLA_cores', 0)))


class _Logger:
    """TensorRT logger that forwards to Python logging (built on first use)."""

    @staticmethod
    def create(trt):
        class Forward(trt.ILogger):
            def __init__(self):
                trt.ILogger.__init__(self)

            def log(self, severity, msg):
                level = {trt.ILogger.INTERNAL_ERROR: logging.ERROR,
                         trt.ILogger.ERROR: logging.ERROR,
                         trt.ILogger.WARNING: logging.WARNING,
                         trt.ILogger.INFO: logging.DEBUG}.get(severity, logging.DEBUG)
                LOG.log(level, 'TensorRT: %s', msg)

        return Forward()


def _build_serialized(trt, builder, logger, model_bytes: bytes, plan: BuildPlan,
                      options: BuildOptions, calibrator=None, timing_cache=None,
                      profiles: int = 1):
    network, parser = _network_from_onnx(trt, builder, logger, model_bytes, plan.network_flags)
    config = builder.create_builder_config()
    _set_workspace(trt, config, options.workspace_mib)
    for flag in plan.builder_flags:
        config.set_flag(getattr(trt.BuilderFlag, flag))
    added = _add_profiles(builder, config, network, options.max_batch, profiles)
    if calibrator is not None:
        config.int8_calibrator = calibrator
        if added and hasattr(config, 'set_calibration_profile'):
            config.set_calibration_profile(added[0])
    if plan.dla_core is not None:
        config.default_device_type = trt.DeviceType.DLA
        config.DLA_core = int(plan.dla_core)
    if timing_cache is not None:
        config.set_timing_cache(timing_cache, False)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise BuildError('TensorRT failed to build the engine; the TensorRT messages above say '
                         'why (run with -v for all of them)')
    inputs, outputs = _tensor_specs(trt, network)
    del parser
    return serialized, inputs, outputs, config


def build_engine(onnx_path, engine_path, options: BuildOptions = BuildOptions(),
                 device: int = 0) -> dict:
    """
    Build a TensorRT engine from a bare or deployment ONNX graph; write it and its metadata.

    Returns the metadata dict (also written to `metadata_path(engine_path)`).
    Raises BuildError with the fix for requests the platform cannot serve.
    """
    from fxseg_ros.model import deploy

    onnx_path = Path(os.fspath(onnx_path))
    engine_path = Path(os.fspath(engine_path))
    if not onnx_path.is_file():
        raise BuildError('ONNX model %s does not exist' % onnx_path)
    trt = _trt()
    platform = current_platform(device)
    try:
        source = deploy.load_model(onnx_path)
    except deploy.DeploymentGraphError as exc:
        raise BuildError(str(exc)) from exc
    kind = model_kind(source)
    cache_path = Path(options.calibration_cache) if options.calibration_cache else None
    plan = plan_build(options, platform, kind, cache_exists=bool(cache_path and
                                                                   cache_path.is_file()))
    for warning in plan.warnings:
        LOG.warning('%s', warning)
    try:
        model = deploy.ensure_deployment_graph(source, camera_hw=options.camera_hw,
                                               output=options.output, float_io=plan.float_io,
                                               for_tensorrt=True)
    except deploy.DeploymentGraphError as exc:
        raise BuildError(str(exc)) from exc
    logger = _Logger.create(trt)
    builder = trt.Builder(logger)
    if hasattr(trt, 'init_libnvinfer_plugins'):
        trt.init_libnvinfer_plugins(logger, '')

    import pycuda.driver as cuda

    cuda.init()
    ctx = cuda.Device(device).retain_primary_context()
    ctx.push()
    start = time.perf_counter()
    try:
        timing_cache = None
        if options.timing_cache:
            data = b''
            if os.path.isfile(options.timing_cache):
                with open(options.timing_cache, 'rb') as f:
                    data = f.read()
                LOG.info('loaded timing cache %s (%d bytes)', options.timing_cache, len(data))
            timing_cache = builder.create_builder_config().create_timing_cache(data)

        calibrator = None
        if plan.calibrate == 'data':
            cache_path = cache_path or engine_path.with_suffix('.calib')
            _calibrate_bare_network(trt, builder, logger, model, plan, options, cache_path)
        if plan.calibrate in ('cache', 'data'):
            from fxseg_ros.runtime.calibrator import make_calibrator

            text = adapt_cache_header(cache_path.read_text(), platform.tensorrt_version)
            calibrator = make_calibrator(calibrator_class_name(text), reader=None,
                                         cache_bytes=text.encode())
        LOG.warning('building the %s TensorRT engine %s; a first build can take minutes',
                    options.precision.upper(), engine_path)
        serialized, inputs, outputs, config = _build_serialized(
            trt, builder, logger, model.SerializeToString(), plan, options, calibrator,
            timing_cache, options.profiles)
        seconds = time.perf_counter() - start
        engine_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix='.engine', dir=str(engine_path.parent))
        with os.fdopen(fd, 'wb') as f:
            f.write(serialized)
        os.replace(tmp, str(engine_path))
        if options.timing_cache:
            cache = config.get_timing_cache()
            if cache is not None:
                with open(options.timing_cache, 'wb') as f:
                    f.write(cache.serialize())
                LOG.info('saved timing cache %s', options.timing_cache)
    finally:
        ctx.pop()
    meta_options = {
        'camera_hw': list(options.camera_hw), 'output': options.output,
        'float_io': plan.float_io, 'max_batch': options.max_batch,
        'workspace_mib': options.workspace_mib, 'dla_core': plan.dla_core,
        'profiles': options.profiles, 'model_kind': kind,
        'builder_flags': list(plan.builder_flags),
    }
    used_cache = cache_path if plan.calibrate in ('cache', 'data') else None
    meta = make_metadata(platform, options.precision, inputs, outputs, onnx_path,
                         calibration_cache=used_cache, build_seconds=seconds,
                         options=meta_options)
    write_metadata(engine_path, meta)
    LOG.warning('built %s in %.1f s', engine_path, seconds)
    return meta


def _calibrate_bare_network(trt, builder, logger, model, plan: BuildPlan, options: BuildOptions,
                            cache_path: Path) -> None:
    """Run implicit INT8 calibration on the bare network and write the calibration cache."""
    from fxseg_ros.model import deploy
    from fxseg_ros.quant.collect import open_calibration_reader
    from fxseg_ros.runtime.calibrator import make_calibrator

    bare = deploy.bare_graph_of(model)
    try:
        reader = open_calibration_reader(options.calib_data, frames=options.calib_count,
                                         topic=options.calib_topic)
    except (OSError, ValueError, ImportError) as exc:
        raise BuildError('cannot read calibration data %s: %s' % (options.calib_data, exc)) \
            from exc
    calibrator = make_calibrator(CALIBRATOR_CLASSES['EntropyCalibration2'], reader=reader,
                                 cache_path=cache_path)
    calib_plan = plan._replace(dla_core=None)
    calib_options = options._replace(max_batch=1)
    LOG.warning('calibrating INT8 on up to %d frames from %s (this runs the network on each)',
                options.calib_count, options.calib_data)
    start = time.perf_counter()
    try:
        _build_serialized(trt, builder, logger, bare.SerializeToString(), calib_plan,
                          calib_options, calibrator, None, 1)
    finally:
        calibrator.free()
    if calibrator.error is not None:
        raise BuildError('calibration failed: %s' % calibrator.error)
    if calibrator.batches == 0:
        raise BuildError('the calibration data %s provided no frames' % options.calib_data)
    if not cache_path.is_file():
        raise BuildError('TensorRT did not write the calibration cache %s' % cache_path)
    LOG.warning('calibrated on %d frames in %.1f s; cache %s', calibrator.batches,
                time.perf_counter() - start, cache_path)
