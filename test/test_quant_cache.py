# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""TensorRT calibration cache: version numbers, hex scales, round trip."""

import struct

from fxseg_ros.quant.cache import (decode_trt_version, encode_trt_version,
                                   format_calibration_cache, hex_to_scale, parse_calibration_cache,
                                   read_calibration_cache, scale_to_hex, write_calibration_cache)
import numpy as np
import pytest


@pytest.mark.parametrize('version, number', [
    ('8.2.1', 8201), ('8.2.3', 8203), ('8.6.1', 8601), ('8.5', 8500), ('10.0.1', 100001),
    ('10.14.1', 101401), ('11.0.0', 110000)])
def test_version_encoding(version, number):
    assert encode_trt_version(version) == number
    assert decode_trt_version(number) == '%s' % '.'.join((version.split('.') + ['0'])[:3])


@pytest.mark.parametrize('bad', ['', 'x.y', '8.10.1', '10.100.0'])
def test_version_encoding_rejects(bad):
    with pytest.raises(ValueError):
        encode_trt_version(bad)


@pytest.mark.parametrize('scale, text', [
    (1.0, '3f800000'), (0.5, '3f000000'), (2.0, '40000000'), (0.0, '0'),
    (1.0 / 127.0, '3c010204')])
def test_scale_hex(scale, text):
    assert scale_to_hex(scale) == text
    assert hex_to_scale(text) == pytest.approx(np.float32(scale), rel=0, abs=0)


def test_known_lines_and_header():
    text = format_calibration_cache({'input': 127.0, 'conv1/out': 63.5, 'dead': 0.0},
                                    trt_version='8.2.1', algorithm='EntropyCalibration2')
    assert text.splitlines() == ['TRT-8201-EntropyCalibration2', 'input: 3f800000',
                                 'conv1/out: 3f000000', 'dead: 0']
    text10 = format_calibration_cache({'x': 1.0}, trt_version='10.14.1',
                                      algorithm='MinMaxCalibration')
    assert text10.splitlines()[0] == 'TRT-101401-MinMaxCalibration'


def test_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    amax = {'t%d' % i: float(v) for i, v in enumerate(rng.uniform(0.01, 300, 20))}
    amax['zero'] = 0.0
    amax['name:with:colons'] = 5.0
    path = write_calibration_cache(tmp_path / 'calibration.cache', amax, trt_version='8.6.1')
    version, algorithm, back = read_calibration_cache(path)
    assert (version, algorithm) == ('8.6.1', 'EntropyCalibration2')
    assert list(back) == list(amax)
    for name, value in amax.items():
        # Stored as the float32 scale amax / 127: round trip within float32 precision.
        expected = struct.unpack('!f', struct.pack('!f', value / 127.0))[0] * 127.0
        assert back[name] == pytest.approx(expected, rel=1e-12)
        assert back[name] == pytest.approx(value, rel=1e-6)


def test_parses_a_cache_written_elsewhere():
    # Header and value styles seen in caches written by TensorRT itself.
    text = ('TRT-8203-EntropyCalibration2\ninput: 3c010a14\n'
            '(Unnamed Layer* 3) [Activation]_output: 0\n')
    version, algorithm, amax = parse_calibration_cache(text)
    assert version == '8.2.3' and algorithm == 'EntropyCalibration2'
    assert amax['input'] == pytest.approx(struct.unpack('!f', bytes.fromhex('3c010a14'))[0] * 127)
    assert amax['(Unnamed Layer* 3) [Activation]_output'] == 0.0


@pytest.mark.parametrize('text', ['', 'not a cache\n', 'TRT-x-EntropyCalibration2\n',
                                  'TRT-8201-EntropyCalibration2\nno separator\n'])
def test_bad_caches_raise(text):
    with pytest.raises(ValueError):
        parse_calibration_cache(text)


def test_negative_amax_and_unknown_algorithm_rejected():
    with pytest.raises(ValueError):
        format_calibration_cache({'x': -1.0})
    with pytest.raises(ValueError):
        format_calibration_cache({'x': 1.0}, algorithm='Entropy3')
