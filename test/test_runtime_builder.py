# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Engine builder: request checks per platform, model kinds, cache headers, CLI (no GPU)."""


from fxseg_ros.cli.main import build_parser
from fxseg_ros.runtime import builder
from fxseg_ros.runtime.builder import BuildError, BuildOptions, plan_build
from fxseg_ros.runtime.metadata import Platform
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto
import pytest

TX2 = Platform('8.2.1.8', 'NVIDIA Tegra X2', (6, 2), fast_fp16=True, fast_int8=False)
TX2_JP46 = TX2._replace(tensorrt_version='8.0.1.6')
PX2_80 = Platform('8.0.1.6', 'NVIDIA GeForce GTX 1060', (6, 1), fast_fp16=False, fast_int8=True)
ORIN11 = Platform('11.4.1.2', 'Orin', (8, 7), dla_cores=2)
PX2 = Platform('8.2.1.8', 'NVIDIA GeForce GTX 1060', (6, 1), fast_fp16=False, fast_int8=True)
XAVIER = Platform('8.5.2.2', 'Xavier', (7, 2), dla_cores=2)
ORIN10 = Platform('10.3.0.30', 'Orin', (8, 7), dla_cores=2)
DESKTOP11 = Platform('11.0.0.1', 'NVIDIA RTX 4090', (8, 9))


@pytest.mark.parametrize('options, platform, kind, cache, expected', [
    # TX2: FP16, float I/O (TensorRT 8.2 has no UINT8 inputs), explicit batch.
    (BuildOptions('fp16'), TX2, 'fp32', False,
     (('EXPLICIT_BATCH',), ('FP16',), 'none', True, None)),
    # PX2: INT8 from a cache; no FP16 next to INT8 since sm_61 has no fast FP16.
    (BuildOptions('int8', calibration_cache='c.cache'), PX2, 'fp32', True,
     (('EXPLICIT_BATCH',), ('INT8',), 'cache', True, None)),
    # PX2: INT8 calibrating from frames.
    (BuildOptions('int8', calib_data='frames/'), PX2, 'fp32', False,
     (('EXPLICIT_BATCH',), ('INT8',), 'data', True, None)),
    # Q/DQ model on TensorRT 8.5 (JetPack 5.1): explicit quantization, FP16 fallback, UINT8 I/O
    # (kUINT8 exists from release/8.5).
    (BuildOptions('int8'), XAVIER, 'qdq', False,
     (('EXPLICIT_BATCH',), ('INT8', 'FP16'), 'none', False, None)),
    # TX2 on JetPack 4.6 (TensorRT 8.0.1): FP16 with float I/O, as on 8.2.
    (BuildOptions('fp16'), TX2_JP46, 'fp32', False,
     (('EXPLICIT_BATCH',), ('FP16',), 'none', True, None)),
    # TensorRT 8.0: INT8 from an existing cache works (the cache is always returned as bytes).
    (BuildOptions('int8', calibration_cache='c.cache'), PX2_80, 'fp32', True,
     (('EXPLICIT_BATCH',), ('INT8',), 'cache', True, None)),
    # TensorRT 11.4.1 has DLA again (Jetson AGX Orin, JetPack 7.2.2+).
    (BuildOptions('fp16', dla_core=0), ORIN11, 'fp16', False,
     ((), ('GPU_FALLBACK',), 'none', False, 0)),
    # Orin DLA with GPU fallback, TensorRT 10: no EXPLICIT_BATCH flag.
    (BuildOptions('fp16', dla_core=1), ORIN10, 'fp32', False,
     ((), ('FP16', 'GPU_FALLBACK'), 'none', False, 1)),
    # TensorRT 11: strongly typed, precision from the model, no flags.
    (BuildOptions('int8'), DESKTOP11, 'qdq', False, ((), (), 'none', False, None)),
    (BuildOptions('fp16'), DESKTOP11, 'fp16', False, ((), (), 'none', False, None)),
    (BuildOptions('fp32'), DESKTOP11, 'fp32', False, ((), (), 'none', False, None)),
    # Float I/O can be asked for on new TensorRT too.
    (BuildOptions('fp32', float_io=True), ORIN10, 'fp32', False,
     ((), (), 'none', True, None)),
])
def test_plan_build(options, platform, kind, cache, expected):
    plan = plan_build(options, platform, kind, cache_exists=cache)
    assert (plan.network_flags, plan.builder_flags, plan.calibrate, plan.float_io,
            plan.dla_core) == expected


@pytest.mark.parametrize('options, platform, kind, cache, message', [
    (BuildOptions('int8', calibration_cache='c.cache'), TX2, 'fp32', True,
     r'no fast INT8 .*TX2, sm_62.*--precision fp16'),
    (BuildOptions('int8', calibration_cache='c.cache'), DESKTOP11, 'fp32', True,
     r'strongly typed.*implicit calibration.*fxseg quantize int8'),
    (BuildOptions('int8'), DESKTOP11, 'fp32', False,
     r'strongly typed.*FP32 model cannot be built as INT8.*fxseg quantize'),
    (BuildOptions('fp16'), DESKTOP11, 'fp32', False,
     r'FP16 needs an FP16 model \(fxseg quantize fp16'),
    (BuildOptions('fp32'), DESKTOP11, 'qdq', False, r'build it with --precision int8'),
    (BuildOptions('int8'), PX2, 'fp32', False,
     r'INT8 needs calibration.*--calibration-cache.*--calib-data.*Q/DQ'),
    (BuildOptions('int8', calibration_cache='missing.cache'), PX2, 'fp32', False,
     r'missing.cache does not exist; create it with fxseg calibrate'),
    (BuildOptions('fp16'), PX2, 'qdq', False, r'Q/DQ nodes.*--precision int8'),
    (BuildOptions('fp16', dla_core=0), TX2, 'fp32', False, r'no DLA \(only Xavier and Orin'),
    (BuildOptions('fp16', dla_core=2), XAVIER, 'fp32', False, r'--dla-core 2 does not exist'),
    (BuildOptions('fp32', dla_core=0), XAVIER, 'fp32', False, r'DLA runs FP16 or INT8 only'),
    (BuildOptions('fp16', float_io=False), TX2, 'fp32', False, r'no UINT8 network inputs'),
    (BuildOptions('fp16'), TX2._replace(tensorrt_version='7.1.3.0'), 'fp32', False,
     r'older than the oldest supported, TensorRT 8\.0 \(JetPack 4\.6\)'),
    # TensorRT 8.0's calibrator trampoline cannot say "no cache yet" (release/8.0 pyInt8.cpp).
    (BuildOptions('int8', calib_data='frames/'), PX2_80, 'fp32', False,
     r'TensorRT 8\.0\.1\.6 \(JetPack 4\.6\) cannot calibrate from frames.*fxseg calibrate'),
    (BuildOptions('fp16', dla_core=0), DESKTOP11._replace(dla_cores=2), 'fp16', False,
     r'TensorRT 11\.0\.0\.1 has no DLA: 10\.7 was the last.*11\.4\.1'),
    (BuildOptions('fp16', float_io=False), TX2_JP46, 'fp32', False,
     r'TensorRT 8\.0\.1\.6 \(JetPack 4\.6\) has no UINT8 network inputs \(they need TensorRT '
     r'8\.5\)'),
    (BuildOptions('int4'), TX2, 'fp32', False, r'precision must be one of'),
    (BuildOptions('fp16', max_batch=0), TX2, 'fp32', False, r'max_batch must be >= 1'),
    (BuildOptions('fp16', output='grid'), TX2, 'fp32', False, r"output must be 'camera'"),
])
def test_plan_build_refusals(options, platform, kind, cache, message):
    with pytest.raises(BuildError, match=message):
        plan_build(options, platform, kind, cache_exists=cache)


def test_plan_build_warnings():
    plan = plan_build(BuildOptions('fp16'), PX2, 'fp32')
    assert any('no fast FP16' in w for w in plan.warnings)
    plan = plan_build(BuildOptions('int8', calib_data='d', calibration_cache='c'), ORIN10,
                      'fp32', cache_exists=True)
    assert plan.calibrate == 'cache'
    assert any('--calib-data is not used' in w for w in plan.warnings)
    assert any('deprecated in TensorRT 10' in w for w in plan.warnings)


def _graph_with(nodes_extra, inits):
    nodes = [helper.make_node('Identity', ['input'], ['scores'])] + nodes_extra
    graph = helper.make_graph(nodes, 'g', [
        helper.make_tensor_value_info('input', TensorProto.FLOAT, [1, 3, 4, 4])],
        [helper.make_tensor_value_info('scores', TensorProto.FLOAT, [1, 3, 4, 4])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])


def test_model_kind(tiny_net):
    assert builder.model_kind(tiny_net) == 'fp32'
    half = numpy_helper.from_array(np.ones(3, np.float16), 'w16')
    assert builder.model_kind(_graph_with([], [half])) == 'fp16'
    qdq = [helper.make_node('QuantizeLinear', ['scores', 's'], ['q']),
           helper.make_node('DequantizeLinear', ['q', 's'], ['dq'])]
    assert builder.model_kind(_graph_with(qdq, [numpy_helper.from_array(
        np.float32(0.1), 's')])) == 'qdq'


@pytest.mark.parametrize('version, expected', [
    ('8.0.1.6', True), ('8.2.1.8', True), ('8.4.1.5', True), ('8.5.2.2', False),
    ('8.6.1.6', False), ('10.3.0.30', False),
])
def test_needs_float_io(version, expected):
    assert builder.needs_float_io(version) is expected


@pytest.mark.parametrize('kind, version, expected', [
    ('qdq', '8.2.1.8', 'int8'), ('qdq', '10.3.0', 'int8'), ('qdq', '11.0', 'int8'),
    ('fp16', '8.5.2', 'fp16'), ('fp16', '11.1', 'fp16'),
    ('fp32', '8.0.1', 'fp16'), ('fp32', '10.13', 'fp16'), ('fp32', '11.0.0', 'fp32'),
])
def test_precision_for_model(kind, version, expected):
    assert builder.precision_for_model(kind, version) == expected


@pytest.mark.parametrize('kind', ['qdq', 'fp16', 'fp32'])
@pytest.mark.parametrize('version', ['8.0.1', '8.2.1', '8.5.2', '8.6.2', '10.3.0', '11.0.0'])
def test_precision_for_model_is_one_plan_build_accepts(kind, version):
    """The bench builds every model it times: the chosen precision must never be refused."""
    platform = Platform(version, 'GPU', (8, 7), fast_fp16=True, fast_int8=True)
    plan_build(BuildOptions(builder.precision_for_model(kind, version)), platform, kind)


@pytest.mark.parametrize('kind, version', [('qdq', '8.2.1'), ('qdq', '10.3.0'),
                                           ('fp32', '11.0.0')])
def test_fp16_for_every_model_is_refused_for_some(kind, version):
    """Why the bench may not build every ONNX model as FP16."""
    platform = Platform(version, 'GPU', (8, 7), fast_fp16=True, fast_int8=True)
    with pytest.raises(BuildError):
        plan_build(BuildOptions('fp16'), platform, kind)


def test_dla_with_batches_gets_a_fixed_profile():
    """DLA takes no dynamic shapes (NvInfer.h addInput): min = opt = max = max_batch."""
    plan = plan_build(BuildOptions('fp16', dla_core=0, max_batch=3), ORIN10, 'fp32')
    assert plan.fixed_batch is True
    assert any('batches of 3' in w for w in plan.warnings)
    assert plan_build(BuildOptions('fp16', max_batch=3), ORIN10, 'fp32').fixed_batch is False


def test_calibration_cache_header_rewrite_and_calibrator_choice():
    text = 'TRT-8201-EntropyCalibration2\ninput: 3c010a14\nconv1: 0\n'
    assert builder.adapt_cache_header(text, '8.2.1.8') == text
    rewritten = builder.adapt_cache_header(text, '10.3.0.30')
    assert rewritten.splitlines() == ['TRT-100300-EntropyCalibration2', 'input: 3c010a14',
                                      'conv1: 0']
    assert builder.calibrator_class_name(text) == 'IInt8EntropyCalibrator2'
    assert builder.calibrator_class_name('TRT-8201-MinMaxCalibration\n') == \
        'IInt8MinMaxCalibrator'
    assert builder.calibrator_class_name(None) == 'IInt8EntropyCalibrator2'
    with pytest.raises(BuildError, match='no calibrator for'):
        builder.calibrator_class_name('TRT-8201-LegacyCalibration\n')
    with pytest.raises(BuildError, match='unreadable'):
        builder.adapt_cache_header('garbage\n', '8.2.1')


def test_build_cli_parser():
    args = build_parser().parse_args([
        'build', '--model', 'm.onnx', '--out', 'e.engine', '--precision', 'int8',
        '--calibration-cache', 'c.cache', '--calib-data', 'd', '--dla-core', '1',
        '--workspace', '2048', '--timing-cache', 't.cache', '--camera-wh', '1920x1080',
        '--max-batch', '2', '--float-io', 'yes'])
    assert (args.model, args.out, args.precision) == ('m.onnx', 'e.engine', 'int8')
    assert args.dla_core == 1 and args.workspace == 2048 and args.camera_wh == (1920, 1080)
    assert args.max_batch == 2 and args.float_io == 'yes' and args.timing_cache == 't.cache'
    defaults = build_parser().parse_args(['build', '--model', 'm.onnx', '--out', 'e.engine'])
    assert defaults.precision == 'fp16' and defaults.float_io == 'auto'
    for bad in (['--precision', 'int4'], ['--dla-core', '-1'], ['--workspace', '0'],
                ['--camera-wh', '1280'], ['--camera-hw', '720x1280']):
        with pytest.raises(SystemExit):
            build_parser().parse_args(['build', '--model', 'm', '--out', 'e'] + bad)


def test_build_without_tensorrt_is_a_clear_error(tiny_net, tmp_path, capsys):
    try:
        import tensorrt  # noqa: F401
        pytest.skip('TensorRT is installed here')
    except ImportError:
        pass
    from fxseg_ros.cli.main import main

    code = main(['build', '--model', str(tiny_net), '--out', str(tmp_path / 'e.engine')])
    assert code == 2
    err = capsys.readouterr().err
    assert 'TensorRT Python bindings are not installed' in err and len(err.splitlines()) == 1
    assert not (tmp_path / 'e.engine').exists()
    with pytest.raises(BuildError, match='does not exist'):
        builder.build_engine(tmp_path / 'missing.onnx', tmp_path / 'e.engine')
    onnx.checker.check_model(onnx.load(str(tiny_net)))
