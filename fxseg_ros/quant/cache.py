# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
TensorRT calibration cache: the text file `IInt8Calibrator.read_calibration_cache` consumes.

Format (TensorRT 8.x / 10.x)::

    TRT-8201-EntropyCalibration2
    input: 3c010a14
    conv1_out: 3d6b5c7e

Line 1 names the TensorRT version (major*1000 + minor*100 + patch before 10, major*10000 +
minor*100 + patch from 10 on) and the calibration algorithm. Each further line is a tensor name
and the big-endian IEEE-754 float32 bits of its *scale*, scale = amax / 127; a value may be `0`.
"""

import logging
from pathlib import Path
import struct
from typing import Dict, Mapping, Tuple, Union

LOG = logging.getLogger(__name__)

#: Algorithm names TensorRT writes into the cache header.
CACHE_ALGORITHMS = ('EntropyCalibration2', 'EntropyCalibration', 'MinMaxCalibration',
                    'LegacyCalibration')
#: The symmetric INT8 range TensorRT maps amax onto.
INT8_MAX = 127.0


def encode_trt_version(version: str) -> int:
    """
    Turn a dotted TensorRT version into the number of the cache header.

    '8.2.1' -> 8201, '8.6.1' -> 8601, '10.14.1' -> 101401 (from 10 on: major * 10000).
    """
    parts = [int(p) for p in str(version).strip().split('.')]
    if not parts or len(parts) > 4:
        raise ValueError('expected a TensorRT version like 8.2.1 or 10.14.1, got %r' % version)
    major, minor, patch = (parts + [0, 0])[:3]
    if minor > 99 or patch > 99:
        raise ValueError('minor and patch of a TensorRT version are below 100, got %r' % version)
    if major >= 10:
        return major * 10000 + minor * 100 + patch
    if minor > 9:
        raise ValueError('TensorRT %d.x minor versions are below 10, got %r' % (major, version))
    return major * 1000 + minor * 100 + patch


def decode_trt_version(number: int) -> str:
    """Inverse of `encode_trt_version`: 8201 -> '8.2.1', 101401 -> '10.14.1'."""
    number = int(number)
    if number >= 100000:
        major, rest = divmod(number, 10000)
        minor, patch = divmod(rest, 100)
    else:
        major, rest = divmod(number, 1000)
        minor, patch = divmod(rest, 100)
    return '%d.%d.%d' % (major, minor, patch)


def scale_to_hex(scale: float) -> str:
    """Big-endian IEEE-754 float32 bits of `scale` as 8 lower-case hex digits ('0' for 0)."""
    if scale == 0.0:
        return '0'
    return struct.pack('!f', float(scale)).hex()


def hex_to_scale(text: str) -> float:
    """Parse one cache value: 8 hex digits of a big-endian float32, or `0`."""
    text = text.strip()
    if text in ('0', ''):
        return 0.0
    if len(text) > 8:
        raise ValueError('cache value %r has more than 8 hex digits' % text)
    return struct.unpack('!f', bytes.fromhex(text.rjust(8, '0')))[0]


def format_calibration_cache(amax: Mapping[str, float], trt_version: str = '8.2.1',
                             algorithm: str = 'EntropyCalibration2') -> str:
    """
    Return the cache text for dynamic ranges `amax` (tensor name -> amax, float).

    Scales are written as float32 amax / 127, names in the given order.
    """
    if algorithm not in CACHE_ALGORITHMS:
        raise ValueError('unknown calibration algorithm %r; one of %s'
                         % (algorithm, ', '.join(CACHE_ALGORITHMS)))
    lines = ['TRT-%d-%s' % (encode_trt_version(trt_version), algorithm)]
    for name, value in amax.items():
        # A name may contain ':' (lines are split at the last colon); a newline cannot be read.
        if '\n' in name:
            raise ValueError('tensor name %r contains a newline' % name)
        value = float(value)
        if not value >= 0.0:
            raise ValueError('amax of %r must be >= 0, got %r' % (name, value))
        lines.append('%s: %s' % (name, scale_to_hex(value / INT8_MAX)))
    return '\n'.join(lines) + '\n'


def write_calibration_cache(path: Union[str, Path], amax: Mapping[str, float],
                            trt_version: str = '8.2.1',
                            algorithm: str = 'EntropyCalibration2') -> Path:
    """Write `format_calibration_cache(...)` to `path` (complete or not at all); returns it."""
    from fxseg_ros.data.atomic import write_text

    path = Path(path)
    write_text(path, format_calibration_cache(amax, trt_version, algorithm))
    LOG.info('wrote calibration cache %s (%d tensors)', path, len(amax))
    return path


def parse_calibration_cache(text: str) -> Tuple[str, str, Dict[str, float]]:
    """
    Parse cache text into (trt_version like '8.2.1', algorithm, {tensor name: amax}).

    amax = scale * 127 computed in float64 from the stored float32 scale.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError('empty calibration cache')
    header = lines[0].strip()
    parts = header.split('-', 2)
    if len(parts) != 3 or parts[0] != 'TRT' or not parts[1].isdigit():
        raise ValueError('not a TensorRT calibration cache: first line %r, expected '
                         'TRT-<version>-<algorithm>' % header)
    version = decode_trt_version(int(parts[1]))
    algorithm = parts[2]
    if algorithm not in CACHE_ALGORITHMS:
        LOG.warning('calibration cache names an unknown algorithm %r', algorithm)
    amax: Dict[str, float] = {}
    for number, line in enumerate(lines[1:], start=2):
        name, sep, value = line.rpartition(':')
        if not sep or not name:
            raise ValueError('line %d of the calibration cache is not `name: hex`: %r'
                             % (number, line))
        amax[name.strip()] = hex_to_scale(value) * INT8_MAX
    return version, algorithm, amax


def read_calibration_cache(path: Union[str, Path]) -> Tuple[str, str, Dict[str, float]]:
    """Read a cache file; see `parse_calibration_cache`."""
    return parse_calibration_cache(Path(path).read_text())
