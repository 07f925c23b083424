# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The TensorRT half of the engine builder: parse, configure, build, serialize, calibrate.

`build_engine` opens the CUDA device (cuda_device), makes it current, creates the trt.Builder
only then (it needs the context), asks `builder.prepare_build` for the checked graph and plan,
and writes the engine (temp file, then rename) and its metadata. API differences between
TensorRT 8.0 and 11 are gated with the facts in trt_support.
"""


import logging
import os
from pathlib import Path
import tempfile
import time
from typing import List, Tuple

from fxseg_ros.runtime.build_plan import (
    adapt_cache_header, BuildError, BuildOptions, BuildPlan, calibrator_class_name,
    CALIBRATOR_CLASSES, prepare_build,
)
from fxseg_ros.runtime.metadata import make_metadata, Platform, TensorSpec, write_metadata
from fxseg_ros.runtime.trt_support import (
    at_least, import_tensorrt, make_logger, MEMORY_POOL_API, numpy_dtype,
)

LOG = logging.getLogger(__name__)


def _open_device(device):
    """Return a cuda_device.Device for an index (or the Device itself)."""
    from fxseg_ros.runtime.cuda_device import CudaError, Device, open_device

    if isinstance(device, Device):
        return device
    try:
        return open_device(int(device))
    except CudaError as exc:
        raise BuildError(str(exc)) from exc


def current_platform(device=0) -> Platform:
    """Describe this machine's TensorRT and GPU, with the builder's capability flags."""
    trt = import_tensorrt(BuildError)
    dev = _open_device(device)
    dev.push()
    try:
        return _platform(trt, trt.Builder(make_logger(trt, LOG)), dev)
    finally:
        dev.pop()


def _platform(trt, builder, dev) -> Platform:
    # platform_has_fast_fp16 / _int8 are gone in TensorRT 11 (strongly typed): True there.
    return Platform(tensorrt_version=trt.__version__, gpu_name=dev.name,
                    compute_capability=tuple(dev.compute_capability),
                    fast_fp16=bool(getattr(builder, 'platform_has_fast_fp16', True)),
                    fast_int8=bool(getattr(builder, 'platform_has_fast_int8', True)),
                    dla_cores=int(getattr(builder, 'num_DLA_cores', 0)))


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
    if at_least(trt.__version__, MEMORY_POOL_API):
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(mib) << 20)
    else:
        config.max_workspace_size = int(mib) << 20


def _add_profiles(builder, config, network, max_batch: int, count: int, fixed: bool):
    """
    Add one optimization profile per concurrent execution context.

    Batch 1 .. max_batch, or max_batch only when `fixed` (DLA: min = opt = max, see
    BuildPlan.fixed_batch).
    """
    profiles = []
    low = max_batch if fixed else 1
    for _ in range(count):
        profile = builder.create_optimization_profile()
        dynamic = False
        for i in range(network.num_inputs):
            tensor = network.get_input(i)
            shape = tuple(tensor.shape)
            if shape and shape[0] == -1:
                dynamic = True
                rest = shape[1:]
                profile.set_shape(tensor.name, (low,) + rest, (max_batch,) + rest,
                                  (max_batch,) + rest)
        if not dynamic:
            return []
        config.add_optimization_profile(profile)
        profiles.append(profile)
    return profiles


def _tensor_specs(network) -> Tuple[List[TensorSpec], List[TensorSpec]]:
    def spec(t):
        return TensorSpec(t.name, tuple(int(d) for d in t.shape), numpy_dtype(t.dtype).name)

    return ([spec(network.get_input(i)) for i in range(network.num_inputs)],
            [spec(network.get_output(i)) for i in range(network.num_outputs)])


def _build_serialized(trt, builder, logger, model_bytes: bytes, plan: BuildPlan,
                      options: BuildOptions, calibrator=None, timing_cache=None,
                      profiles: int = 1):
    network, parser = _network_from_onnx(trt, builder, logger, model_bytes, plan.network_flags)
    config = builder.create_builder_config()
    _set_workspace(trt, config, options.workspace_mib)
    for flag in plan.builder_flags:
        config.set_flag(getattr(trt.BuilderFlag, flag))
    added = _add_profiles(builder, config, network, options.max_batch, profiles,
                          plan.fixed_batch)
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
    inputs, outputs = _tensor_specs(network)
    del parser
    return serialized, inputs, outputs, config


def _write_atomically(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=path.suffix + '.tmp', dir=str(path.parent))
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
        os.replace(tmp, str(path))
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def build_engine(onnx_path, engine_path, options: BuildOptions = BuildOptions(),
                 device=0) -> dict:
    """
    Build a TensorRT engine from a bare or deployment ONNX graph; write it and its metadata.

    device: CUDA device index or an open cuda_device.Device. Returns the metadata dict (also
    written to `metadata_path(engine_path)`). Raises BuildError with the fix for requests the
    platform cannot serve and for graphs the offline check rejects.
    """
    from fxseg_ros.model import deploy

    onnx_path, engine_path = Path(os.fspath(onnx_path)), Path(os.fspath(engine_path))
    if not onnx_path.is_file():
        raise BuildError('ONNX model %s does not exist' % onnx_path)
    trt = import_tensorrt(BuildError)
    try:
        source = deploy.load_model(onnx_path)
    except deploy.DeploymentGraphError as exc:
        raise BuildError(str(exc)) from exc
    dev = _open_device(device)
    dev.push()
    try:
        logger = make_logger(trt, LOG)
        builder = trt.Builder(logger)
        platform = _platform(trt, builder, dev)
        cache_path = Path(options.calibration_cache) if options.calibration_cache else None
        model, plan, kind = prepare_build(source, options, platform,
                                          cache_exists=bool(cache_path and cache_path.is_file()),
                                          label=str(onnx_path))
        for warning in plan.warnings:
            LOG.warning('%s', warning)
        if hasattr(trt, 'init_libnvinfer_plugins'):
            trt.init_libnvinfer_plugins(logger, '')
        start = time.perf_counter()
        serialized, inputs, outputs, cache_path = _build(trt, builder, logger, model, plan,
                                                         options, platform, dev, engine_path,
                                                         cache_path)
        seconds = time.perf_counter() - start
    finally:
        dev.pop()
    meta_options = {
        'camera_hw': list(options.camera_hw), 'output': options.output,
        'float_io': plan.float_io, 'max_batch': options.max_batch,
        'workspace_mib': options.workspace_mib, 'dla_core': plan.dla_core,
        'profiles': options.profiles, 'model_kind': kind, 'fixed_batch': plan.fixed_batch,
        'builder_flags': list(plan.builder_flags),
    }
    used_cache = cache_path if plan.calibrate in ('cache', 'data') else None
    meta = make_metadata(platform, options.precision, inputs, outputs, onnx_path,
                         calibration_cache=used_cache, build_seconds=seconds,
                         options=meta_options)
    write_metadata(engine_path, meta)
    LOG.warning('built %s in %.1f s', engine_path, seconds)
    return meta


def _build(trt, builder, logger, model, plan, options, platform, dev, engine_path, cache_path):
    """Calibrate if asked, build, write the engine and the timing cache."""
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
        _calibrate_bare_network(trt, builder, logger, model, plan, options, cache_path, dev)
    if plan.calibrate in ('cache', 'data'):
        from fxseg_ros.runtime.calibrator import make_calibrator

        text = adapt_cache_header(cache_path.read_text(), platform.tensorrt_version)
        calibrator = make_calibrator(calibrator_class_name(text), reader=None,
                                     cache_bytes=text.encode(), device=dev)
    LOG.warning('building the %s TensorRT engine %s; a first build can take minutes',
                options.precision.upper(), engine_path)
    serialized, inputs, outputs, config = _build_serialized(
        trt, builder, logger, model.SerializeToString(), plan, options, calibrator,
        timing_cache, options.profiles)
    _write_atomically(engine_path, serialized)
    if options.timing_cache:
        cache = config.get_timing_cache()
        if cache is not None:
            _write_atomically(Path(options.timing_cache), cache.serialize())
            LOG.info('saved timing cache %s', options.timing_cache)
    return serialized, inputs, outputs, cache_path


def calibration_input_shapes(bare) -> dict:
    """
    Return the bare network's inputs for the calibrator: name -> (1, C, H, W).

    Raises BuildError for inputs without a fixed C, H and W (TensorRT would read an unknown
    number of bytes per frame).
    """
    shapes = {}
    inits = {i.name for i in bare.graph.initializer}
    for vi in bare.graph.input:
        if vi.name in inits:
            continue
        dims = [d.dim_value for d in vi.type.tensor_type.shape.dim]
        if len(dims) != 4 or not all(dims[1:]):
            raise BuildError('calibration needs fixed (C, H, W) on input %r, got %s'
                             % (vi.name, dims))
        shapes[vi.name] = (1,) + tuple(int(d) for d in dims[1:])
    return shapes


def _calibrate_bare_network(trt, builder, logger, model, plan: BuildPlan, options: BuildOptions,
                            cache_path: Path, dev) -> None:
    """Run implicit INT8 calibration on the bare network and write the calibration cache."""
    from fxseg_ros.model import deploy
    from fxseg_ros.quant.collect import open_calibration_reader
    from fxseg_ros.runtime.calibrator import make_calibrator

    bare = deploy.bare_graph_of(model)
    shapes = calibration_input_shapes(bare)
    # The readers preprocess to what this network takes (its input's name and W x H); the
    # calibrator checks every frame's shape again.
    (name, shape), = shapes.items()
    try:
        reader = open_calibration_reader(options.calib_data, frames=options.calib_count,
                                         topic=options.calib_topic, input_name=name,
                                         size_wh=(shape[3], shape[2]))
    except (OSError, ValueError, ImportError) as exc:
        raise BuildError('cannot read calibration data %s: %s' % (options.calib_data, exc)) \
            from exc
    calibrator = make_calibrator(CALIBRATOR_CLASSES['EntropyCalibration2'], reader=reader,
                                 cache_path=cache_path, input_shapes=shapes, device=dev)
    LOG.warning('calibrating INT8 on up to %d frames from %s (this runs the network on each)',
                options.calib_count, options.calib_data)
    start = time.perf_counter()
    try:
        _build_serialized(trt, builder, logger, bare.SerializeToString(),
                          plan._replace(dla_core=None, fixed_batch=False),
                          options._replace(max_batch=1), calibrator, None, 1)
    finally:
        calibrator.free()
    core = calibrator.core
    if core.error is not None:
        raise BuildError('calibration failed: %s' % core.error)
    if core.batches == 0:
        raise BuildError('the calibration data %s provided no frames' % options.calib_data)
    if not cache_path.is_file():
        raise BuildError('TensorRT did not write the calibration cache %s' % cache_path)
    LOG.warning('calibrated on %d frames in %.1f s; cache %s', core.batches,
                time.perf_counter() - start, cache_path)
