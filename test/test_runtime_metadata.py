# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Engine metadata files and the load / build / rebuild / error decision (no GPU needed)."""


import json

from fxseg_ros.runtime import metadata
from fxseg_ros.runtime.metadata import Platform, TensorSpec
import pytest

TX2 = Platform('8.2.1.8', 'NVIDIA Tegra X2', (6, 2), fast_fp16=True, fast_int8=False)
PX2 = Platform('8.2.1.8', 'NVIDIA GeForce GTX 1060', (6, 1), fast_fp16=False, fast_int8=True)
ORIN = Platform('10.3.0.30', 'Orin', (8, 7), dla_cores=2)

INPUTS = [TensorSpec('frames', (-1, 720, 1280, 3), 'uint8')]
OUTPUTS = [TensorSpec('labels', (-1, 720, 1280), 'uint8')]


@pytest.fixture()
def built(tmp_path):
    """Return an 'engine' file with metadata describing a TX2 FP16 build from model.onnx."""
    onnx_path = tmp_path / 'model.onnx'
    onnx_path.write_bytes(b'onnx bytes v1')
    engine = tmp_path / 'model.engine'
    engine.write_bytes(b'serialized engine')
    meta = metadata.make_metadata(TX2, 'fp16', INPUTS, OUTPUTS, onnx_path, build_seconds=61.5,
                                  options={'camera_hw': [720, 1280], 'output': 'camera',
                                           'max_batch': 1, 'float_io': True})
    metadata.write_metadata(engine, meta)
    return engine, onnx_path


def test_metadata_round_trip(built):
    engine, onnx_path = built
    path = metadata.metadata_path(engine)
    assert path.name == 'model.engine.json' and path.is_file()
    meta = metadata.read_metadata(engine)
    assert meta['tensorrt_version'] == '8.2.1.8'
    assert meta['gpu'] == {'name': 'NVIDIA Tegra X2', 'compute_capability': [6, 2]}
    assert meta['precision'] == 'fp16'
    assert [TensorSpec.from_json(t) for t in meta['inputs']] == INPUTS
    assert meta['outputs'][0] == {'name': 'labels', 'shape': [-1, 720, 1280], 'dtype': 'uint8'}
    assert meta['source_onnx']['sha256'] == metadata.sha256_file(onnx_path)
    assert len(meta['source_onnx']['sha256']) == 64
    assert meta['calibration_cache'] is None
    assert meta['build_seconds'] == 61.5 and meta['build_time'].endswith('+00:00')


def test_sha256_file_matches_hashlib(tmp_path):
    import hashlib

    path = tmp_path / 'blob'
    data = bytes(range(256)) * 5000
    path.write_bytes(data)
    assert metadata.sha256_file(path, chunk=1000) == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize('content, message', [
    (None, 'no metadata file'),
    ('{not json', 'not valid JSON'),
    ('[1, 2]', 'does not hold a JSON object'),
    ('{"schema": 1, "precision": "fp16"}', 'lacks tensorrt_version, gpu, inputs, outputs'),
    ('{"schema": 9, "tensorrt_version": "8", "gpu": {}, "precision": "fp16", "inputs": [],'
     ' "outputs": []}', 'newer than this fxseg_ros'),
])
def test_read_metadata_errors(tmp_path, content, message):
    engine = tmp_path / 'e.engine'
    if content is not None:
        metadata.metadata_path(engine).write_text(content)
    with pytest.raises(metadata.MetadataError, match=message):
        metadata.read_metadata(engine)


def test_make_metadata_rejects_unknown_precision(tmp_path):
    with pytest.raises(ValueError, match='precision'):
        metadata.make_metadata(TX2, 'int4', INPUTS, OUTPUTS, None)


@pytest.mark.parametrize('platform, expected', [
    (TX2, []),
    (TX2._replace(tensorrt_version='8.2.3.0'),
     ['built with TensorRT 8.2.1.8, this machine has TensorRT 8.2.3.0']),
    (PX2, ['built for compute capability 6.2 (NVIDIA Tegra X2), this GPU is 6.1 '
           '(NVIDIA GeForce GTX 1060)']),
    (TX2._replace(gpu_name='NVIDIA Tegra X2 (4GB)'),
     ['built on a NVIDIA Tegra X2, this GPU is a NVIDIA Tegra X2 (4GB) (same compute '
      'capability, but TensorRT tunes engines per GPU model)']),
])
def test_compatibility_problems(built, platform, expected):
    engine, _ = built
    assert metadata.compatibility_problems(metadata.read_metadata(engine), platform) == expected


def test_changed_sources_are_detected(built, tmp_path):
    engine, onnx_path = built
    meta = metadata.read_metadata(engine)
    assert metadata.compatibility_problems(meta, TX2, onnx_path) == []
    onnx_path.write_bytes(b'onnx bytes v2')
    assert metadata.compatibility_problems(meta, TX2, onnx_path) == [
        'the ONNX model %s changed since the engine was built' % onnx_path]
    cache = tmp_path / 'calib.cache'
    cache.write_text('TRT-8201-EntropyCalibration2\n')
    problems = metadata.compatibility_problems(meta, TX2, None, cache)
    assert problems == ['built without the calibration cache %s' % cache]


def test_decide_load_when_everything_matches(built):
    engine, onnx_path = built
    decision = metadata.decide_engine_action(engine, TX2, onnx_path)
    assert decision.action == 'load' and decision.reasons == ()


def test_decide_missing_engine(tmp_path):
    onnx_path = tmp_path / 'model.onnx'
    onnx_path.write_bytes(b'x')
    engine = tmp_path / 'missing.engine'
    decision = metadata.decide_engine_action(engine, TX2, onnx_path, precision='fp16')
    assert decision.action == 'error'
    assert 'does not exist' in decision.message
    assert 'fxseg build --model %s --precision fp16 --out %s' % (onnx_path, engine) \
        in decision.message
    assert 'build_if_missing' in decision.message
    decision = metadata.decide_engine_action(engine, TX2, onnx_path, build_if_missing=True)
    assert decision.action == 'build' and 'can take minutes' in decision.message
    # build_if_missing without an ONNX model cannot build.
    decision = metadata.decide_engine_action(engine, TX2, tmp_path / 'gone.onnx',
                                             build_if_missing=True)
    assert decision.action == 'error' and 'gone.onnx is missing' in decision.message


def test_decide_mismatch_error_or_rebuild(built):
    engine, onnx_path = built
    upgraded = TX2._replace(tensorrt_version='10.3.0.30')
    decision = metadata.decide_engine_action(engine, upgraded, onnx_path)
    assert decision.action == 'error'
    assert decision.reasons == ('built with TensorRT 8.2.1.8, this machine has TensorRT '
                                '10.3.0.30',)
    # The rebuild command repeats the engine's own precision, not the default.
    assert '--precision fp16' in decision.message and 'rebuild_on_mismatch' in decision.message
    decision = metadata.decide_engine_action(engine, upgraded, onnx_path,
                                             rebuild_on_mismatch=True)
    assert decision.action == 'rebuild' and 'can take minutes' in decision.message
    decision = metadata.decide_engine_action(engine, upgraded, None, rebuild_on_mismatch=True)
    assert decision.action == 'error' and 'MODEL.onnx' in decision.message


def test_decide_wanted_options(built):
    engine, onnx_path = built
    decision = metadata.decide_engine_action(
        engine, TX2, onnx_path, options={'camera_hw': [1080, 1920], 'output': 'network',
                                         'max_batch': 4})
    assert decision.action == 'error'
    assert decision.reasons == ('built for 720x1280 camera frames, 1080x1920 wanted',
                                'built for camera-resolution labels, network wanted',
                                'built for batches up to 1, 4 wanted')
    assert '--camera-wh 1920x1080' in decision.message and '--max-batch 4' in decision.message


def test_decide_engine_without_metadata_loads_with_reason(tmp_path):
    engine = tmp_path / 'foreign.engine'
    engine.write_bytes(b'x')
    decision = metadata.decide_engine_action(engine, TX2)
    assert decision.action == 'load'
    assert decision.reasons and 'no metadata file' in decision.reasons[0]


def test_build_command_quotes_paths(tmp_path):
    command = metadata.build_command(tmp_path / 'my model.onnx', tmp_path / 'e.engine', 'int8',
                                     calibration_cache='c.cache', options={'dla_core': 0})
    assert "'%s'" % (tmp_path / 'my model.onnx') in command
    assert '--calibration-cache c.cache' in command and '--dla-core 0' in command


def test_version_tuple():
    assert metadata.version_tuple('8.2.1.8') == (8, 2, 1, 8)
    assert metadata.version_tuple('10.14.1.48.post1') == (10, 14, 1, 48)
    assert ORIN.tensorrt_major == 10
    with pytest.raises(ValueError):
        metadata.version_tuple('abc')


def test_metadata_file_is_plain_json(built):
    engine, _ = built
    data = json.loads(metadata.metadata_path(engine).read_text())
    assert data['schema'] == metadata.SCHEMA_VERSION
