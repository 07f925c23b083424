# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""ONNX Runtime runner and the runner factory."""


import logging

from conftest import camera_frames, reference_labels
from fxseg_ros.model import deploy
from fxseg_ros.runtime import create_runner, onnxrt, RunnerError
from fxseg_ros.runtime.onnxrt import OnnxRuntimeRunner
import numpy as np
import onnx
import pytest

ort = pytest.importorskip('onnxruntime')


@pytest.fixture(scope='module')
def frames():
    return camera_frames(4, seed=5)


@pytest.fixture(scope='module')
def reference(tiny_net, frames):
    return reference_labels(tiny_net, frames, (1280, 720))


@pytest.mark.parametrize('batch', [1, 2, 3, 4])
def test_runner_matches_reference_pipeline(tiny_net, frames, reference, batch, tmp_path):
    with OnnxRuntimeRunner(tiny_net, threads=2, cache_dir=tmp_path) as runner:
        assert runner.input_hw == (720, 1280) and runner.output_hw == (720, 1280)
        assert runner.max_batch is None
        labels = runner.infer(frames[:batch])
        assert labels.dtype == np.uint8 and labels.shape == (batch, 720, 1280)
        assert (labels == reference[:batch]).mean() >= 0.999
        assert set(runner.last_timings) == {'upload', 'inference', 'download'}
        assert runner.last_timings['inference'] > 0.0
        assert runner.last_inference_ms >= runner.last_timings['inference']


def test_runner_takes_a_deployment_graph_file_and_network_output(tiny_net, frames, tmp_path):
    path = tmp_path / 'deploy_net.onnx'
    onnx.save(deploy.build_deployment_graph(tiny_net, output='network'), str(path))
    with OnnxRuntimeRunner(path, output='network', cache_dir=tmp_path) as runner:
        assert runner.output_hw == (360, 640)
        labels = runner.infer(frames[:2])
    ref = reference_labels(tiny_net, frames[:2], None)
    assert (labels == ref).mean() >= 0.999
    # The runner's output setting wins: the same file re-wrapped for camera-size labels.
    with OnnxRuntimeRunner(path, output='camera', cache_dir=tmp_path) as runner:
        assert runner.output_hw == (720, 1280)


def test_runner_casts_for_a_float_io_graph(tiny_net, frames, reference, tmp_path):
    model = deploy.build_deployment_graph(tiny_net, float_io=True, for_tensorrt=True)
    # A graph of ours is re-wrapped with uint8 I/O (float I/O only exists for old TensorRT).
    with OnnxRuntimeRunner(model, cache_dir=tmp_path) as runner:
        assert not runner.float_input
        np.testing.assert_array_equal(runner.infer(frames[:1]), reference[:1])
    # A float-input graph from elsewhere (no recorded settings) runs as it is.
    del model.metadata_props[:]
    with OnnxRuntimeRunner(model, cache_dir=tmp_path) as runner:
        assert runner.float_input
        labels = runner.infer(frames[:1])
        assert labels.dtype == np.uint8
        assert {'host_pre', 'host_post'} <= set(runner.last_timings)
    assert (labels == reference[:1]).mean() >= 0.999


@pytest.mark.parametrize('threads', [1, 2])
def test_thread_settings_reach_the_session(tiny_net, frames, reference, threads, tmp_path):
    with OnnxRuntimeRunner(tiny_net, threads=threads, cache_dir=tmp_path) as runner:
        options = runner.session.get_session_options()
        assert options.intra_op_num_threads == threads
        assert options.inter_op_num_threads == 1
        assert options.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL
        assert options.enable_cpu_mem_arena
        np.testing.assert_array_equal(runner.infer(frames[:1]), reference[:1])


def test_negative_threads_refused(tiny_net):
    with pytest.raises(ValueError, match='threads must be >= 0'):
        OnnxRuntimeRunner(tiny_net, threads=-1)


def test_optimised_graph_cache_is_written_and_reused(tiny_net, frames, tmp_path, caplog):
    cache = tmp_path / 'cache'
    with OnnxRuntimeRunner(tiny_net, cache_dir=cache) as first:
        assert not first.cache_hit
        path = first.cached_model_path
        assert path is not None and path.is_file() and path.parent == cache / 'ort'
        expected = first.infer(frames[:2])
    optimised = onnx.load(str(path))
    # The cached graph is the optimised one (fused / re-laid-out nodes), not a copy of the input.
    assert [n.op_type for n in optimised.graph.node] != \
        [n.op_type for n in deploy.build_deployment_graph(tiny_net).graph.node]
    with OnnxRuntimeRunner(tiny_net, cache_dir=cache) as second:
        assert second.cache_hit and second.cached_model_path == path
        np.testing.assert_array_equal(second.infer(frames[:2]), expected)
    # A different model gets a different key.
    with OnnxRuntimeRunner(tiny_net, output='network', cache_dir=cache) as other:
        assert not other.cache_hit and other.cached_model_path != path
    # A damaged cache file is replaced, not fatal.
    path.write_bytes(b'not an onnx file')
    with caplog.at_level(logging.WARNING, logger='fxseg_ros.runtime.onnxrt'):
        with OnnxRuntimeRunner(tiny_net, cache_dir=cache) as third:
            assert not third.cache_hit
            np.testing.assert_array_equal(third.infer(frames[:2]), expected)
    assert 'ignoring the unreadable cached graph' in caplog.text
    assert onnx.load(str(path)).graph.node


def test_cache_off_and_unwritable_cache(tiny_net, tmp_path):
    with OnnxRuntimeRunner(tiny_net, use_cache=False, cache_dir=tmp_path) as runner:
        assert runner.cached_model_path is None
    assert not (tmp_path / 'ort').exists()
    blocker = tmp_path / 'file'
    blocker.write_text('a file where the cache directory should be')
    with OnnxRuntimeRunner(tiny_net, cache_dir=blocker) as runner:
        assert runner.cached_model_path is None and runner.session is not None


def test_cache_key_depends_on_model_version_and_providers():
    a = onnxrt.cache_key(b'model', ['CPUExecutionProvider'], '1.32.0')
    assert a == onnxrt.cache_key(b'model', ['CPUExecutionProvider'], '1.32.0')
    assert a != onnxrt.cache_key(b'model2', ['CPUExecutionProvider'], '1.32.0')
    assert a != onnxrt.cache_key(b'model', ['CPUExecutionProvider'], '1.31.0')
    assert a != onnxrt.cache_key(b'model', ['CUDAExecutionProvider'], '1.32.0')


@pytest.mark.parametrize('providers, missing', [
    (['CUDAExecutionProvider'], 'CUDAExecutionProvider'),
    (['tensorrt', 'cuda', 'cpu'], 'TensorrtExecutionProvider, CUDAExecutionProvider'),
    ([('CUDAExecutionProvider', {'device_id': 0})], 'CUDAExecutionProvider'),
    (['NoSuchExecutionProvider'], 'NoSuchExecutionProvider'),
])
def test_missing_provider_is_a_clear_error(tiny_net, providers, missing):
    if any(p in ort.get_available_providers() for p in missing.split(', ')):
        pytest.skip('%s is installed here' % missing)
    runner = OnnxRuntimeRunner(tiny_net, providers=providers)
    with pytest.raises(RunnerError) as info:
        runner.activate()
    message = str(info.value)
    assert missing in message and 'CPUExecutionProvider' in message
    if 'CUDA' in missing or 'Tensorrt' in missing:
        assert 'onnxruntime-gpu' in message
    assert not runner.is_active


def test_provider_aliases():
    assert onnxrt.normalize_providers(None) == ['CPUExecutionProvider']
    assert onnxrt.normalize_providers('cuda,cpu') == ['CUDAExecutionProvider',
                                                      'CPUExecutionProvider']
    assert onnxrt.normalize_providers([('trt', {'a': 1})]) == [
        ('TensorrtExecutionProvider', {'a': 1})]
    with pytest.raises(RunnerError, match='empty'):
        onnxrt.normalize_providers([])


def test_bad_path_and_corrupt_file_are_clear_errors(tiny_net, tmp_path):
    with pytest.raises(RunnerError, match='does not exist'):
        OnnxRuntimeRunner(tmp_path / 'missing.onnx').activate()
    corrupt = tmp_path / 'corrupt.onnx'
    corrupt.write_bytes(tiny_net.read_bytes()[:500])
    with pytest.raises(RunnerError, match='cannot read ONNX model .*corrupt.onnx'):
        OnnxRuntimeRunner(corrupt).activate()
    with pytest.raises(RunnerError, match='does not exist'):
        create_runner(tmp_path / 'missing.onnx')


def test_infer_checks_state_and_frames(tiny_net, tmp_path):
    runner = OnnxRuntimeRunner(tiny_net, cache_dir=tmp_path)
    with pytest.raises(RunnerError, match='not active'):
        runner.infer(np.zeros((1, 720, 1280, 3), np.uint8))
    with runner:
        with pytest.raises(ValueError, match='480x640 but'):
            runner.infer(np.zeros((1, 480, 640, 3), np.uint8))
        with pytest.raises(ValueError, match='expected uint8'):
            runner.infer(np.zeros((1, 720, 1280, 3), np.float32))
    assert runner.session is None


def test_create_runner_dispatch(tiny_net, tmp_path):
    runner = create_runner(tiny_net, threads=1, cache_dir=tmp_path)
    assert isinstance(runner, OnnxRuntimeRunner) and runner.threads == 1
    runner = create_runner(str(tiny_net), backend='onnxruntime', output='network',
                           use_cache=False)
    assert isinstance(runner, OnnxRuntimeRunner) and runner.output == 'network'
    with pytest.raises(RunnerError, match='backend must be one of'):
        create_runner(tiny_net, backend='openvino')
    with pytest.raises(RunnerError, match='apply to TensorRT only'):
        create_runner(tiny_net, precision='fp16')
    engine = tmp_path / 'model.engine'
    with pytest.raises(RunnerError, match='ONNX Runtime needs the .onnx'):
        create_runner(engine, backend='onnxruntime')


def test_create_runner_tensorrt_routes(tiny_net, tmp_path):
    from fxseg_ros.runtime.tensorrt import default_engine_path, TensorRtRunner

    runner = create_runner(tiny_net, backend='tensorrt', precision='int8',
                           calibration_cache='c.cache', cache_dir=tmp_path, max_batch=2)
    assert isinstance(runner, TensorRtRunner)
    assert runner.engine_path == default_engine_path(tiny_net, 'int8', tmp_path)
    assert runner.engine_path == tmp_path / 'engines' / 'tiny_net.int8.engine'
    assert runner.build_if_missing and runner.rebuild_on_mismatch and runner.wanted_batch == 2
    engine = tmp_path / 'given.engine'
    runner = create_runner(tiny_net, backend='tensorrt', engine_path=engine,
                           build_if_missing=False)
    assert runner.engine_path == engine and not runner.build_if_missing
    runner = create_runner(engine, engine_path=engine, onnx_path=tiny_net)
    assert isinstance(runner, TensorRtRunner) and runner.onnx_path == tiny_net
    with pytest.raises(RunnerError, match='names another one'):
        create_runner(engine, engine_path=tmp_path / 'other.engine')
    with pytest.raises(RunnerError, match='saves? the model first|ONNX file'):
        create_runner(onnx.load(str(tiny_net)), backend='tensorrt')


def test_tensorrt_runner_without_tensorrt_is_a_clear_error(tmp_path):
    try:
        import tensorrt  # noqa: F401
        pytest.skip('TensorRT is installed here')
    except ImportError:
        pass
    runner = create_runner(tmp_path / 'model.engine')
    with pytest.raises(RunnerError, match='TensorRT Python bindings are not installed.*'
                                          'ONNX Runtime'):
        runner.activate()
    assert not runner.is_active
