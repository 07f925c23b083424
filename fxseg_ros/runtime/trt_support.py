# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
What fxseg_ros knows about TensorRT versions, in one place.

The version gates of the builder, runner and checker, the JetPack releases, the dtype map and
the lazy imports.

Every gate is a fact with its source next to it. The sources are NVIDIA/TensorRT (`include/`,
`python/src`, `python/packaging` per `release/X.Y` branch), onnx/onnx-tensorrt
(`docs/operators.md`, `builtin_op_importers.cpp`, `ModelImporter.cpp` per `X.Y-GA` branch) and
NVIDIA's release notes.

Supported: TensorRT 8.0 (JetPack 4.6) to 11.x. TensorRT 8.0 differs from 8.2 in one place the
product touches: its Python calibrator trampoline (release/8.0 `python/src/infer/pyInt8.cpp`
`readCalibrationCache`) converts the value of `read_calibration_cache` to a `py::buffer` inside a
noexcept method, so returning None (no cache yet) terminates the process, and it keeps no
reference to the returned buffer. Implicit calibration from frames therefore needs 8.2; on 8.0 the
calibration cache is made offline (`fxseg calibrate`) or the model is quantized explicitly (Q/DQ).
Everything else the builder and runner call (`build_serialized_network`, timing caches,
optimization profiles, `set_optimization_profile_async`, `execute_async_v2`,
`max_workspace_size`, DLA settings) exists in the release/8.0 bindings as in release/8.2.

Nothing here imports tensorrt at module level: the module loads on machines without it.
"""


import logging
from typing import Optional, Tuple

from fxseg_ros.runtime.metadata import version_tuple
import numpy as np

LOG = logging.getLogger(__name__)

Version = Tuple[int, ...]

#: The TensorRT versions `fxseg check --tensorrt` knows, and the version tuple each stands for.
#: '10' and '11' stand for the oldest release of the line (10.0, 11.0): the strictest rules.
CHECK_VERSIONS = (('8.0', (8, 0)), ('8.2', (8, 2)), ('8.5', (8, 5)), ('8.6', (8, 6)),
                  ('10', (10, 0)), ('11', (11, 0)))

#: Oldest TensorRT the builder and runner support: 8.0.1 of JetPack 4.6 (see the module docstring).
MIN_TENSORRT = (8, 0)
#: UINT8 network inputs and outputs: kUINT8 appears in release/8.5 include/NvInferRuntimeCommon.h
#: (absent from release/8.4); NVIDIA/TensorRT#1503 "UINT8 input is supported start TRT8.5".
UINT8_IO = (8, 5)
#: Named I/O tensors, set_tensor_address, execute_async_v3: release/8.5 python/src/infer/pyCore.cpp
#: (not in release/8.4).
IO_TENSOR_API = (8, 5)
#: set_memory_pool_limit replaces max_workspace_size: release/8.4 python/src/infer/pyCore.cpp.
MEMORY_POOL_API = (8, 4)
#: The binding API and EXPLICIT_BATCH are gone / ignored: release/10.0 pyCore.cpp.
IMPLICIT_EXPLICIT_BATCH = (10, 0)
#: INT8 weights (constants): release/10.0 include/NvInfer.h IConstantLayer::setWeights "the output
#: type is weights.type"; up to release/8.6 every non-INT32 constant is a real-valued tensor, and
#: INT8 initializers fail with "invalid weights type of Int8" (NVIDIA/TensorRT#2163 on 8.4.1,
#: microsoft/onnxruntime#11535 on 8.2).
INT8_WEIGHTS = (10, 0)
#: Strongly typed networks only, no FP16/INT8 builder flags, no calibrators: TensorRT 11.0 release
#: notes and the "Migrating from TensorRT 10.x to 11.x" guide.
STRONGLY_TYPED_ONLY = (11, 0)
#: read_calibration_cache may return None: release/8.2 pyInt8.cpp checks is_none() and keeps the
#: buffer in mCache; release/8.0 does neither.
CALIBRATOR_NONE_CACHE = (8, 2)
#: DLA absent: "TensorRT 10.7 was the last release that supported DLA" and "DLA is not supported
#: in TensorRT 11.3.0" (TensorRT 11.3.0 migration guide, Jetson page); 11.4.0 brings DLA back on
#: Windows on ARM only, 11.4.1 on Jetson AGX Orin with JetPack 7.2.2 or later (11.4.0 / 11.4.1
#: release notes).
NO_DLA = ((11, 0), (11, 4, 1))

#: JetPack release -> (L4T, TensorRT). NVIDIA JetPack archive and release notes: 4.6 ships
#: TensorRT 8.0.1, 4.6.1 to 4.6.6 ship 8.2.1, 5.0.2 ships 8.4.1, 5.1.x 8.5.2, 6.0 8.6.2,
#: 6.1 and 6.2 ship 10.3.
JETPACK_TENSORRT = (
    ('4.6', 'R32.6.1', '8.0.1'),
    ('4.6.1-4.6.6', 'R32.7.1-R32.7.6', '8.2.1'),
    ('5.0.2', 'R35.1', '8.4.1'),
    ('5.1-5.1.5', 'R35.2.1-R35.6.1', '8.5.2'),
    ('6.0', 'R36.3', '8.6.2'),
    ('6.1', 'R36.4', '10.3.0'),
    ('6.2', 'R36.4.3', '10.3.0'),
)


def normalized(version) -> Version:
    """Return a version as a tuple of 3+ parts: '10' -> (10, 0, 0), '8.2.1.8' unchanged."""
    v = version_tuple(version)
    return v + (0,) * (3 - len(v))


def at_least(version, gate: Version) -> bool:
    """Whether `version` (text or tuple) is at or past `gate`, compared component by component."""
    return normalized(version) >= normalized(gate)


def jetpack_of(tensorrt_version) -> Optional[str]:
    """Return the JetPack release(s) of this TensorRT major.minor ('4.6' for 8.0.1), or None."""
    want = version_tuple(tensorrt_version)[:2]
    names = [jp for jp, _, trt in JETPACK_TENSORRT if version_tuple(trt)[:2] == want]
    return ', '.join(names) if names else None


def describe(tensorrt_version) -> str:
    """Return 'TensorRT 8.0.1 (JetPack 4.6)' style text for messages."""
    jp = jetpack_of(tensorrt_version)
    return 'TensorRT %s%s' % (tensorrt_version, ' (JetPack %s)' % jp if jp else '')


def has_uint8_io(version) -> bool:
    """Return whether TensorRT `version` takes UINT8 network inputs and outputs (see UINT8_IO)."""
    return at_least(version, UINT8_IO)


def dla_unavailable(version) -> Optional[str]:
    """Why this TensorRT has no DLA, or None when it has one."""
    v = normalized(version)
    if normalized(NO_DLA[0]) <= v < normalized(NO_DLA[1]):
        return ('TensorRT %s has no DLA: 10.7 was the last release with it, and 11.4.1 brings it '
                'back on Jetson AGX Orin with JetPack 7.2.2 or later (11.4.0 on Windows on ARM '
                'only); build for the GPU (no --dla-core), or use TensorRT 10.x up to 10.7'
                % '.'.join(str(p) for p in version_tuple(version)))
    return None


def unsupported_reason(version) -> Optional[str]:
    """Why the builder and runner refuse this TensorRT, or None."""
    if not at_least(version, MIN_TENSORRT):
        return ('TensorRT %s is older than the oldest supported, %s; upgrade TensorRT (JetPack '
                '4.6 or newer)' % (version, describe('.'.join(str(p) for p in MIN_TENSORRT))))
    return None


# -------------------------------------------------------------------------------------------
# dtypes: our own map, because trt.nptype of release/8.0, 8.2 and 8.4 builds its table with
# `np.bool` (python/packaging/tensorrt/__init__.py), which numpy 1.24 removed: every call raises
# AttributeError there (NVIDIA/TensorRT#2557, #2701). release/8.5 already uses np.bool_.

#: TensorRT DataType member name -> numpy dtype (types numpy has; FP8/BF16/INT4 have none).
TRT_TO_NUMPY = {
    'FLOAT': np.dtype(np.float32),
    'HALF': np.dtype(np.float16),
    'INT8': np.dtype(np.int8),
    'INT32': np.dtype(np.int32),
    'INT64': np.dtype(np.int64),
    'BOOL': np.dtype(np.bool_),
    'UINT8': np.dtype(np.uint8),
}


def dtype_name(trt_dtype) -> str:
    """
    Return the member name of a tensorrt.DataType value ('FLOAT', 'HALF', ...).

    pybind11 enums have `.name`; older ones only print as 'DataType.FLOAT'.
    """
    name = getattr(trt_dtype, 'name', None)
    if not isinstance(name, str):
        name = str(trt_dtype)
    return name.split('.')[-1].upper()


def numpy_dtype(trt_dtype) -> np.dtype:
    """
    Return the numpy dtype of a tensorrt.DataType, without trt.nptype (see TRT_TO_NUMPY).

    Raises TypeError for types numpy cannot hold (FP8, BF16, INT4).
    """
    name = dtype_name(trt_dtype)
    if name not in TRT_TO_NUMPY:
        raise TypeError('TensorRT data type %s has no numpy equivalent (known: %s)'
                        % (name, ', '.join(sorted(TRT_TO_NUMPY))))
    return TRT_TO_NUMPY[name]


# -------------------------------------------------------------------------------------------
# Lazy imports and probing.

TENSORRT_HINT = ('the TensorRT Python bindings are not installed: on Jetson they come with '
                 'JetPack (python3-libnvinfer, system Python 3 only), on x86 pip install '
                 'tensorrt; '
                 'ONNX Runtime runs the .onnx model without them (backend onnxruntime)')


def import_tensorrt(error=RuntimeError):
    """Import tensorrt or raise `error` with the install hint."""
    try:
        import tensorrt as trt
    except ImportError as exc:
        raise error(TENSORRT_HINT) from exc
    return trt


def tensorrt_available() -> Tuple[bool, str]:
    """
    Whether TensorRT and a CUDA binding can be imported here, and what is missing.

    Returns (True, 'TensorRT X with cuda-python|pycuda') or (False, reason).
    """
    try:
        import tensorrt as trt
    except ImportError:
        return False, 'tensorrt is not importable'
    from fxseg_ros.runtime.cuda_device import available_bindings, CUDA_HINT

    bindings = available_bindings()
    if not bindings:
        return False, CUDA_HINT
    return True, 'TensorRT %s with %s' % (trt.__version__, bindings[0])


def make_logger(trt, logger: logging.Logger = LOG):
    """Return a trt.ILogger that forwards TensorRT messages to Python logging."""
    levels = {trt.ILogger.INTERNAL_ERROR: logging.ERROR, trt.ILogger.ERROR: logging.ERROR,
              trt.ILogger.WARNING: logging.WARNING, trt.ILogger.INFO: logging.DEBUG}

    class Forward(trt.ILogger):
        """Forwards each message at its severity's logging level."""

        def __init__(self):
            trt.ILogger.__init__(self)

        def log(self, severity, msg):
            logger.log(levels.get(severity, logging.DEBUG), 'TensorRT: %s', msg)

    return Forward()
