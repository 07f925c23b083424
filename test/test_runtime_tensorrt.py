# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
TensorRT runner and builder on a real GPU: a tiny engine compared with ONNX Runtime.

Marked `gpu`; skipped with the reason where TensorRT, a CUDA binding (cuda-python or pycuda) or
a CUDA device is missing. The last test runs everywhere: without TensorRT the runner says so.
"""


import json

from conftest import camera_frames
from fxseg_ros.runtime import create_runner, RunnerError
from fxseg_ros.runtime.metadata import metadata_path, read_metadata
from fxseg_ros.runtime.onnxrt import OnnxRuntimeRunner
import numpy as np
import pytest


@pytest.fixture(scope='module')
def cuda_stack():
    """(tensorrt, an open cuda_device.Device); skips naming what is missing."""
    from fxseg_ros.runtime.cuda_device import available_bindings, CudaError, open_device

    try:
        import tensorrt as trt
    except ImportError:
        pytest.skip('TensorRT Python bindings are not installed')
    if not available_bindings():
        pytest.skip('neither cuda-python nor pycuda is installed')
    try:
        device = open_device(0)
    except CudaError as exc:
        pytest.skip('CUDA is not usable here: %s' % exc)
    return trt, device


@pytest.fixture(scope='module')
def frames():
    return camera_frames(3, seed=21)


@pytest.fixture(scope='module')
def ort_labels(tiny_net, frames, tmp_path_factory):
    with OnnxRuntimeRunner(tiny_net, cache_dir=tmp_path_factory.mktemp('ort')) as runner:
        return runner.infer(frames)


@pytest.fixture(scope='module')
def fp32_engine(cuda_stack, tiny_net, tmp_path_factory):
    from fxseg_ros.runtime import builder

    engine = tmp_path_factory.mktemp('trt') / 'tiny.fp32.engine'
    options = builder.BuildOptions('fp32', max_batch=2, workspace_mib=256,
                                   timing_cache=str(engine.with_suffix('.timing')))
    builder.build_engine(tiny_net, engine, options)
    return engine


@pytest.mark.gpu
@pytest.mark.slow
def test_built_engine_has_metadata(fp32_engine, tiny_net, cuda_stack):
    trt, cuda = cuda_stack
    meta = read_metadata(fp32_engine)
    assert meta['tensorrt_version'] == trt.__version__
    assert meta['gpu']['name'] == cuda.name
    assert meta['precision'] == 'fp32' and meta['options']['max_batch'] == 2
    assert meta['inputs'][0]['name'] == 'frames' and meta['outputs'][0]['name'] == 'labels'
    assert meta['inputs'][0]['shape'][1:] == [720, 1280, 3]
    assert fp32_engine.with_suffix('.timing').stat().st_size > 0


@pytest.mark.gpu
@pytest.mark.slow
@pytest.mark.parametrize('batch', [1, 2])
def test_fp32_engine_matches_onnxruntime(fp32_engine, tiny_net, frames, ort_labels, batch):
    with create_runner(fp32_engine, onnx_path=tiny_net) as runner:
        assert runner.input_hw == (720, 1280) and runner.output_hw == (720, 1280)
        assert runner.max_batch == 2
        labels = runner.infer(frames[:batch])
        assert labels.dtype == np.uint8 and labels.shape == (batch, 720, 1280)
        assert (labels == ort_labels[:batch]).mean() >= 0.995
        t = runner.last_timings
        assert {'upload', 'inference', 'download', 'host_pre', 'host_post'} <= set(t)
        assert t['upload'] > 0 and t['inference'] > 0 and t['download'] > 0


@pytest.mark.gpu
@pytest.mark.slow
def test_pipelined_inference_equals_sequential(fp32_engine, tiny_net, frames):
    with create_runner(fp32_engine) as runner:
        sequential = [runner.infer(frames[i:i + 1]) for i in range(3)]
        pipelined = list(runner.infer_many(frames[i:i + 1] for i in range(3)))
        tickets = [runner.infer_async(frames[i:i + 1]) for i in range(3)]
        asynced = [runner.wait(t) for t in tickets]
    for a, b, c in zip(sequential, pipelined, asynced):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


@pytest.mark.gpu
@pytest.mark.slow
def test_float_io_engine_converts_on_the_gpu(cuda_stack, tiny_net, frames, ort_labels,
                                             tmp_path):
    from fxseg_ros.runtime import builder

    engine = tmp_path / 'tiny.float_io.engine'
    builder.build_engine(tiny_net, engine, builder.BuildOptions('fp32', float_io=True))
    meta = read_metadata(engine)
    assert meta['inputs'][0]['dtype'] == 'float32' and meta['outputs'][0]['dtype'] == 'int32'
    with create_runner(engine) as runner:
        labels = runner.infer(frames[:1])
        assert labels.dtype == np.uint8
    assert (labels == ort_labels[:1]).mean() >= 0.995


@pytest.mark.gpu
@pytest.mark.slow
def test_fp16_engine_close_to_fp32(cuda_stack, tiny_net, frames, ort_labels, tmp_path):
    trt, _ = cuda_stack
    if int(trt.__version__.split('.')[0]) >= 11:
        pytest.skip('TensorRT 11 builds FP16 from an FP16 model only')
    runner = create_runner(tiny_net, backend='tensorrt', precision='fp16', cache_dir=tmp_path)
    with runner:
        labels = runner.infer(frames[:1])
    assert runner.engine_path.is_file() and metadata_path(runner.engine_path).is_file()
    assert (labels == ort_labels[:1]).mean() >= 0.95


@pytest.mark.gpu
@pytest.mark.slow
def test_cuda_graph_replay_matches(cuda_stack, fp32_engine, frames):
    from fxseg_ros.runtime.cuda_graph import capture_unavailable
    from fxseg_ros.runtime.trt_support import at_least, IO_TENSOR_API

    trt, _ = cuda_stack
    if not at_least(trt.__version__, IO_TENSOR_API):
        pytest.skip('CUDA graphs are used with execute_async_v3, TensorRT >= 8.5')
    if capture_unavailable():
        pytest.skip(capture_unavailable())
    with create_runner(fp32_engine) as plain:
        expected = [plain.infer(frames[:1]), plain.infer(frames[1:3])]
    with create_runner(fp32_engine, cuda_graph=True) as runner:
        for _ in range(3):
            np.testing.assert_array_equal(runner.infer(frames[:1]), expected[0])
            np.testing.assert_array_equal(runner.infer(frames[1:3]), expected[1])
        assert sorted(k for slot in runner._slots for k in slot.graphs) == [1, 1, 2, 2]


@pytest.mark.gpu
@pytest.mark.slow
def test_mismatched_metadata_is_an_error_or_a_rebuild(fp32_engine, tiny_net, tmp_path):
    import shutil

    engine = tmp_path / 'copy.engine'
    shutil.copy(fp32_engine, engine)
    meta = json.loads(metadata_path(fp32_engine).read_text())
    meta['tensorrt_version'] = '7.0.0.11'
    metadata_path(engine).write_text(json.dumps(meta))
    with pytest.raises(RunnerError, match='built with TensorRT 7.0.0.11.*fxseg build'):
        create_runner(engine, onnx_path=tiny_net).activate()
    with create_runner(engine, onnx_path=tiny_net, precision='fp32',
                       rebuild_on_mismatch=True) as runner:
        assert runner.infer(camera_frames(1)).shape == (1, 720, 1280)
    assert read_metadata(engine)['tensorrt_version'] != '7.0.0.11'


@pytest.mark.gpu
def test_missing_engine_is_a_clear_error(cuda_stack, tmp_path):
    with pytest.raises(RunnerError, match='does not exist.*fxseg build'):
        create_runner(tmp_path / 'none.engine').activate()


@pytest.mark.gpu
def test_corrupt_engine_is_a_clear_error(cuda_stack, tmp_path):
    engine = tmp_path / 'corrupt.engine'
    engine.write_bytes(b'\0' * 1000)
    with pytest.raises(RunnerError, match='could not load the engine'):
        create_runner(engine).activate()


def test_runner_without_tensorrt_says_what_to_install(tmp_path, tiny_net):
    try:
        import tensorrt  # noqa: F401
        pytest.skip('TensorRT is installed here')
    except ImportError:
        pass
    for runner in (create_runner(tmp_path / 'e.engine'),
                   create_runner(tiny_net, backend='tensorrt', cache_dir=tmp_path)):
        with pytest.raises(RunnerError, match='TensorRT Python bindings are not installed.*'
                                              'ONNX Runtime runs the .onnx model'):
            runner.activate()
        assert not runner.is_active
    assert not list(tmp_path.rglob('*.engine'))
