# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The engine builder's decisions, without TensorRT.

Which builder settings a request gets on a platform, which requests cannot work (and what to do
instead), and the checked graph.

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

Before anything is handed to TensorRT, `prepare_build` turns the model into the graph that
version parses (`trt_graph.graph_for_tensorrt`) and runs the offline check (`trt_rules`) on it: a
graph TensorRT would reject stops the build in a second, naming the node and the fix, instead of
after minutes of parsing and tactic search.

The checks (`plan_build`, `prepare_build`) are pure functions of the request and a `Platform`,
so they are tested without a GPU; the TensorRT calls are in `trt_build`, and `builder` is the
public face of both.
"""


import logging
from typing import List, NamedTuple, Optional, Tuple

from fxseg_ros.runtime.metadata import Platform, PRECISIONS, version_tuple
from fxseg_ros.runtime.trt_support import (
    at_least, CALIBRATOR_NONE_CACHE, describe, dla_unavailable, has_uint8_io,
    IMPLICIT_EXPLICIT_BATCH, STRONGLY_TYPED_ONLY, UINT8_IO, unsupported_reason,
)

LOG = logging.getLogger(__name__)


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
    float_io: float32 frames / int32 labels; None picks by TensorRT version (float below
        trt_support.UINT8_IO).
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
    fixed_batch: optimization profiles with min = opt = max = max_batch (DLA takes no dynamic
        dimensions: release/10.3 include/NvInfer.h INetworkDefinition::addInput, "provided
        profile must have same minimum, optimum, and maximum dimensions").
    """

    network_flags: Tuple[str, ...]
    builder_flags: Tuple[str, ...]
    calibrate: str
    float_io: bool
    dla_core: Optional[int]
    warnings: Tuple[str, ...]
    fixed_batch: bool = False


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


def precision_for_model(kind: str, tensorrt_version) -> str:
    """
    Return the precision a model of this `model_kind` builds at on this TensorRT by default.

    For tools that build every model they are given (`fxseg bench`): 'qdq' -> 'int8' (a Q/DQ
    model builds as INT8 only), 'fp16' -> 'fp16', 'fp32' -> 'fp16' below 11 (the FP16 builder
    flag on an FP32 model) and 'fp32' from 11 on (strongly typed: the model's own precision).
    The result is a precision `plan_build` accepts for that kind and version.
    """
    if kind == 'qdq':
        return 'int8'
    if kind == 'fp32' and at_least(tensorrt_version, STRONGLY_TYPED_ONLY):
        return 'fp32'
    return 'fp16'


def needs_float_io(tensorrt_version: str) -> bool:
    """Return True below trt_support.UINT8_IO (8.5), where TensorRT has no UINT8 network I/O."""
    return not has_uint8_io(tensorrt_version)


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
    reason = unsupported_reason(platform.tensorrt_version)
    if reason:
        raise BuildError(reason)
    precision = options.precision
    gpu = '%s (compute capability %d.%d)' % (
        (platform.gpu_name,) + tuple(platform.compute_capability))
    warnings: List[str] = []

    float_io = needs_float_io(platform.tensorrt_version)
    if options.float_io is not None:
        if not options.float_io and float_io:
            raise BuildError('%s has no UINT8 network inputs (they need TensorRT %s); build with '
                             'float I/O (--float-io yes or auto): the runner then converts uint8 '
                             'frames to float on the GPU'
                             % (describe(platform.tensorrt_version),
                                '.'.join(str(p) for p in UINT8_IO)))
        float_io = bool(options.float_io)

    if precision == 'int8' and not platform.fast_int8:
        raise BuildError('%s has no fast INT8 (e.g. the Jetson TX2, sm_62, lacks DP4A INT8 '
                         'instructions), so an INT8 engine would be slower than FP16; build with '
                         '--precision fp16' % gpu)
    if precision == 'fp16' and not platform.fast_fp16:
        warnings.append('%s has no fast FP16; TensorRT will pick FP32 kernels where FP16 is '
                        'slower, so expect little gain over --precision fp32' % gpu)

    network_flags, builder_flags, calibrate = _precision_route(options, platform, kind,
                                                               cache_exists, warnings)
    dla = options.dla_core
    if dla is not None:
        _check_dla(options, platform, gpu, precision, warnings)
        builder_flags.append('GPU_FALLBACK')
    return BuildPlan(network_flags, tuple(builder_flags), calibrate, float_io, dla,
                     tuple(warnings), fixed_batch=dla is not None)


def _precision_route(options: BuildOptions, platform: Platform, kind: str, cache_exists: bool,
                     warnings: List[str]):
    """Pick network flags, builder flags and the calibration route for the precision asked."""
    version = version_tuple(platform.tensorrt_version)
    precision = options.precision
    implicit_int8_inputs = bool(options.calibration_cache or options.calib_data)
    network_flags: Tuple[str, ...] = ()
    builder_flags: List[str] = []
    calibrate = 'none'
    if at_least(version, STRONGLY_TYPED_ONLY):
        # Strongly typed: the model carries its precision.
        _check_strongly_typed(precision, platform, kind, implicit_int8_inputs, warnings)
    else:
        if not at_least(version, IMPLICIT_EXPLICIT_BATCH):
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
                if not at_least(version, CALIBRATOR_NONE_CACHE):
                    raise BuildError(
                        '%s cannot calibrate from frames through its Python calibrator (it '
                        'terminates when there is no cache yet); make the cache here with '
                        'fxseg calibrate --calib-data %s and build with --calibration-cache, or '
                        'build a Q/DQ model from fxseg quantize'
                        % (describe(platform.tensorrt_version), options.calib_data))
            else:
                if options.calibration_cache:
                    raise BuildError('the calibration cache %s does not exist; create it with '
                                     'fxseg calibrate, or give --calib-data to calibrate while '
                                     'building' % options.calibration_cache)
                raise BuildError('INT8 needs calibration: a calibration cache '
                                 '(--calibration-cache, from fxseg calibrate), calibration frames '
                                 '(--calib-data), or a Q/DQ model from fxseg quantize')
            if at_least(version, IMPLICIT_EXPLICIT_BATCH) and calibrate != 'none':
                warnings.append('implicit INT8 calibration is deprecated in TensorRT 10 and '
                                'removed in 11; the Q/DQ route (fxseg quantize) is the lasting '
                                'one')
        elif kind == 'fp16':
            builder_flags.append('FP16')
            warnings.append('the model has FP16 weights; building with the FP16 flag')

    return network_flags, builder_flags, calibrate


def _check_strongly_typed(precision: str, platform: Platform, kind: str,
                          implicit_int8_inputs: bool, warnings: List[str]) -> None:
    """Refuse a precision strongly typed TensorRT cannot give this model; warn of unused inputs."""
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


def _check_dla(options: BuildOptions, platform: Platform, gpu: str, precision: str,
               warnings: List[str]) -> None:
    dla = options.dla_core
    reason = dla_unavailable(platform.tensorrt_version)
    if reason:
        raise BuildError(reason)
    if platform.dla_cores == 0:
        raise BuildError('%s has no DLA (only Xavier and Orin do); drop --dla-core' % gpu)
    if dla < 0 or dla >= platform.dla_cores:
        raise BuildError('--dla-core %d does not exist: this device has %d DLA core(s), '
                         'numbered from 0' % (dla, platform.dla_cores))
    if precision == 'fp32':
        raise BuildError('DLA runs FP16 or INT8 only; build with --precision fp16 or int8')
    warnings.append('DLA core %d with GPU fallback: layers DLA cannot run (fxseg check --dla '
                    'lists them) run on the GPU' % dla)
    if options.max_batch > 1:
        warnings.append('DLA takes no dynamic shapes: the engine always runs batches of %d '
                        '(--max-batch); smaller batches are padded' % options.max_batch)


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


def prepare_build(source, options: BuildOptions, platform: Platform,
                  cache_exists: bool = False, label: str = 'MODEL'):
    """
    Plan a build and make the graph TensorRT will parse; check it first.

    source: ONNX ModelProto (bare network or deployment graph); label: its path, for messages.
    Returns (model, plan, kind).
    Raises BuildError for requests the platform cannot serve, and for graphs the offline check
    finds TensorRT would reject (each finding names the node and what to change).
    """
    from fxseg_ros.model import deploy
    from fxseg_ros.runtime.trt_graph import check_before_build, graph_for_tensorrt

    kind = model_kind(source)
    plan = plan_build(options, platform, kind, cache_exists=cache_exists)
    try:
        model, note = graph_for_tensorrt(source, platform.tensorrt_version,
                                         camera_hw=options.camera_hw, output=options.output,
                                         float_io=plan.float_io)
    except deploy.DeploymentGraphError as exc:
        raise BuildError(str(exc)) from exc
    LOG.info('graph for TensorRT %s: %s', platform.tensorrt_version, note)
    problems = check_before_build(model, platform.tensorrt_version,
                                  dla=plan.dla_core is not None)
    if problems:
        raise BuildError('TensorRT %s would reject this graph (fxseg check %s shows the same); '
                         'change these nodes:\n  %s'
                         % (platform.tensorrt_version, label, '\n  '.join(problems)))
    return model, plan, kind
