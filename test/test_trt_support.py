# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""TensorRT version facts without TensorRT: gates, JetPack table, dtype map, CUDA layer errors."""


import enum

from fxseg_ros.runtime import cuda_device, trt_support
from fxseg_ros.runtime.trt_support import (at_least, dla_unavailable, has_uint8_io, jetpack_of,
                                           normalized, numpy_dtype, unsupported_reason)
import numpy as np
import pytest


@pytest.mark.parametrize('version, jetpack', [
    ('8.0.1.6', '4.6'),            # L4T R32.6.1
    ('8.2.1.8', '4.6.1-4.6.6'),    # R32.7.x
    ('8.4.1.5', '5.0.2'),
    ('8.5.2.2', '5.1-5.1.5'),
    ('8.6.2.3', '6.0'),
    ('10.3.0.30', '6.1, 6.2'),
    ('10.14.1.48', None),
])
def test_jetpack_table(version, jetpack):
    assert jetpack_of(version) == jetpack


@pytest.mark.parametrize('version, gate, expected', [
    ('8.5.2.2', (8, 5), True), ('8.4.1.5', (8, 5), False), ('10', (10, 0), True),
    ('11', (11, 0, 0), True), ('9.1', (10, 0), False), ((8, 6), (8, 5), True),
])
def test_at_least(version, gate, expected):
    assert at_least(version, gate) is expected


def test_version_gates():
    assert normalized('10') == (10, 0, 0) and normalized('8.2.1.8') == (8, 2, 1, 8)
    assert [has_uint8_io(v) for v in ('8.0.1', '8.4.1', '8.5.1', '10.3')] == \
        [False, False, True, True]
    assert dla_unavailable('10.7.0') is None and dla_unavailable('11.4.1.0') is None
    for v in ('11.0.0.1', '11.3.0', '11.4.0'):
        assert 'has no DLA' in dla_unavailable(v)
    assert unsupported_reason('8.0.1.6') is None
    assert 'TensorRT 8.0 (JetPack 4.6)' in unsupported_reason('7.1.3.0')
    with pytest.raises(ValueError, match='not a version'):
        normalized('trt')


class DataType(enum.Enum):
    """The member names of tensorrt.DataType (pybind11 enums have .name like this)."""

    FLOAT = 0
    HALF = 1
    INT8 = 2
    INT32 = 3
    BOOL = 4
    UINT8 = 5
    FP8 = 6
    INT64 = 8


@pytest.mark.parametrize('member, expected', [
    (DataType.FLOAT, np.float32), (DataType.HALF, np.float16), (DataType.INT8, np.int8),
    (DataType.INT32, np.int32), (DataType.BOOL, np.bool_), (DataType.UINT8, np.uint8),
    (DataType.INT64, np.int64),
])
def test_dtype_map(member, expected):
    assert numpy_dtype(member) == np.dtype(expected)


def test_dtype_map_without_np_bool(monkeypatch):
    """trt.nptype <= 8.4 reads np.bool (gone in numpy 1.24 - 1.26); our map never does."""
    monkeypatch.delattr(np, 'bool', raising=False)

    class Printed:
        """An enum value that only prints as 'DataType.BOOL' (older pybind11)."""

        def __str__(self):
            return 'DataType.BOOL'

    assert numpy_dtype(Printed()) == np.dtype(np.bool_)
    with pytest.raises(TypeError, match='FP8 has no numpy equivalent'):
        numpy_dtype(DataType.FP8)


def test_tensorrt_missing_is_reported(monkeypatch):
    available, reason = trt_support.tensorrt_available()
    try:
        import tensorrt  # noqa: F401
        pytest.skip('TensorRT is installed here')
    except ImportError:
        pass
    assert available is False and 'tensorrt' in reason
    with pytest.raises(RuntimeError, match='TensorRT Python bindings are not installed'):
        trt_support.import_tensorrt()


def test_cuda_layer_without_a_device():
    """No CUDA here: open_device names what is missing instead of failing later."""
    found = cuda_device.available_bindings()
    try:
        device = cuda_device.open_device(0)
    except cuda_device.CudaError as exc:
        message = str(exc)
    else:
        pytest.skip('a CUDA device is usable here: %s' % device.name)
    if not found:
        assert 'neither cuda-python nor pycuda' in message
    else:
        assert 'failed with' in message or 'does not exist' in message
    with pytest.raises(cuda_device.CudaError, match='unknown CUDA binding'):
        cuda_device.open_device(0, binding='opencl')
