# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""`fxseg calibrate` and `fxseg quantize`: parsers and end-to-end runs on a tiny network."""

from __future__ import annotations

import json

from fxseg_ros.cli.main import build_parser, main
from fxseg_ros.quant.cache import read_calibration_cache
import onnx
import pytest


@pytest.mark.parametrize('argv, expected', [
    (['calibrate', '--data', 'd', '--out', 'c.json'],
     {'method': 'entropy', 'frames': 500, 'percentile': 99.99, 'trt_version': '8.2.1',
      'check': None}),
    (['calibrate', '--data', 'd', '--method', 'percentile', '--percentile', '99.999',
      '--frames', '20', '--out', 'c.json', '--cache', 'x.cache', '--trt-version', '10.14.1'],
     {'method': 'percentile', 'percentile': 99.999, 'frames': 20, 'cache': 'x.cache',
      'trt_version': '10.14.1'}),
    (['calibrate', '--check', 'c.json', '--data', 'night', '--max-clip', '0.01'],
     {'check': 'c.json', 'max_clip': 0.01}),
    (['quantize', 'int8', '--calib', 'c.json', '--out', 'q.onnx', '--keep-fp', 'conv1',
      'conv2'],
     {'mode': 'int8', 'activations': 's8', 'keep_fp': ['conv1', 'conv2']}),
    (['quantize', 'report', '--eval-frames', '6', '--calib-frames', '12', '--max-drop', '0.25'],
     {'mode': 'report', 'eval_frames': 6, 'calib_frames': 12, 'max_drop': 0.25}),
    (['quantize', 'report'], {'max_drop': 0.5, 'latency_runs': 10}),
    (['quantize', 'analyze', '--calib', 'c.json', '--analyze-frames', '2'],
     {'mode': 'analyze', 'analyze_frames': 2, 'data': None}),
    (['quantize', 'fp16', '--emulated', '--out', 'f.onnx'], {'mode': 'fp16', 'emulated': True}),
    (['quantize', 'mixed', '--calib', 'c.json', '--max-drop', '0.5', '--out', 'm.onnx'],
     {'mode': 'mixed', 'max_drop': 0.5, 'max_fallback': 8, 'eval_frames': 24}),
])
def test_parsers(argv, expected):
    args = build_parser().parse_args(argv)
    for key, value in expected.items():
        assert getattr(args, key) == value


@pytest.mark.parametrize('argv, message', [
    (['calibrate', '--method', 'kl'], 'invalid choice'),
    (['calibrate', '--percentile', '101'], 'percentile must be in'),
    (['calibrate', '--frames', '0'], 'expected an integer >= 1'),
    (['quantize', 'mixed', '--calib', 'c', '--out', 'o', '--max-drop', '-1'],
     'expected a number >= 0'),
    (['quantize', 'int4'], "invalid choice: 'int4'"),
    (['quantize', 'int8', '--calib', 'c', '--out', 'o', '--activations', 'fp8'],
     'invalid choice'),
    (['quantize'], 'the following arguments are required: MODE'),
    # One mode at a time: the report has no --out, the converter no --report.
    (['quantize', 'analyze', '--calib', 'c', 'report'], 'unrecognized arguments: report'),
    (['quantize', 'report', '--out', 'x.onnx'], 'unrecognized arguments: --out'),
    (['quantize', 'int8', '--out', 'q.onnx'], 'the following arguments are required: --calib'),
    (['quantize', 'mixed', '--calib', 'c', '--out', 'o'],
     'the following arguments are required: --max-drop'),
])
def test_parsers_reject(argv, message, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(argv)
    assert message in capsys.readouterr().err


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    from fxseg_ros.data.synth import write_cityscapes

    root = tmp_path_factory.mktemp('cs')
    write_cityscapes(root, 3, seed=5, split='train', conditions=('day', 'night'),
                     size_wh=(320, 180), progress=False)
    return root


@pytest.mark.slow
def test_calibrate_quantize_check_end_to_end(tmp_path, dataset, tiny_net, capsys):
    calib = tmp_path / 'calib.json'
    cache = tmp_path / 'calibration.cache'
    assert main(['calibrate', '--model', str(tiny_net), '--data', str(dataset),
                 '--conditions', 'day', '--frames', '3', '--out', str(calib), '--cache',
                 str(cache), '--trt-version', '10.14.1']) == 0
    data = json.loads(calib.read_text())
    assert data['method'] == 'entropy' and data['frames'] == 3
    version, algorithm, amax = read_calibration_cache(cache)
    assert (version, algorithm) == ('10.14.1', 'EntropyCalibration2')
    assert set(amax) == set(data['amax'])
    for name, value in data['amax'].items():
        assert amax[name] == pytest.approx(value, rel=1e-6)

    # Same day frames: covered. Night frames under the day calibration: flagged.
    assert main(['calibrate', '--check', str(calib), '--model', str(tiny_net), '--data',
                 str(dataset), '--conditions', 'day', '--frames', '3']) == 0
    assert 'OK: data set' in capsys.readouterr().out
    code = main(['calibrate', '--check', str(calib), '--model', str(tiny_net), '--data',
                 str(dataset), '--conditions', 'night', '--frames', '3',
                 '--json', str(tmp_path / 'cov.json')])
    out = capsys.readouterr().out
    assert code == 3
    assert 'WARNING: data set' in out and 'falls outside the calibration' in out
    assert json.loads((tmp_path / 'cov.json').read_text())['flagged'] is True

    int8 = tmp_path / 'int8.onnx'
    assert main(['quantize', 'int8', '--model', str(tiny_net), '--calib', str(calib), '--out',
                 str(int8)]) == 0
    out = capsys.readouterr().out
    assert 'TensorRT Q/DQ rules: OK' in out
    ops = [n.op_type for n in onnx.load(str(int8)).graph.node]
    assert ops.count('DequantizeLinear') > 3
    # The TensorRT cache is a calibration too.
    assert main(['quantize', 'int8', '--model', str(tiny_net), '--calib', str(cache), '--out',
                 str(tmp_path / 'from_cache.onnx')]) == 0
    fp16 = tmp_path / 'fp16.onnx'
    assert main(['quantize', 'fp16', '--model', str(tiny_net), '--out', str(fp16)]) == 0
    assert onnx.load(str(fp16)).graph.input[0].type.tensor_type.elem_type == 1
    capsys.readouterr()
    assert main(['quantize', 'analyze', '--model', str(tiny_net), '--calib', str(calib),
                 '--data', str(dataset), '--analyze-frames', '1']) == 0
    out = capsys.readouterr().out
    assert 'Per-layer INT8 sensitivity on 1 frames' in out
    rows = [line.split() for line in out.splitlines() if line[:1].isdigit()]
    assert [row[0] for row in rows] == ['1', '2', '3']
    assert sorted(row[1] for row in rows) == ['conv1', 'conv2', 'score']
    # Ranked by the isolated SQNR, most sensitive (lowest) first.
    sqnr = [float(row[3]) for row in rows]
    assert sqnr == sorted(sqnr)


def test_calibrate_needs_data_and_output(tiny_net, capsys):
    assert main(['calibrate', '--model', str(tiny_net)]) == 2
    assert main(['calibrate', '--model', str(tiny_net), '--data', '.']) == 2


@pytest.mark.slow
def test_report_and_mixed_precision_on_tiny_net(tmp_path, tiny_net, capsys):
    md = tmp_path / 'report.md'
    js = tmp_path / 'report.json'
    assert main(['quantize', 'report', '--model', str(tiny_net), '--calib-frames', '3',
                 '--eval-frames', '1', '--analyze-frames', '1', '--latency-runs', '1',
                 '--max-fallback', '1', '--threads', '1', '--markdown', str(md),
                 '--json', str(js)]) == 0
    out = capsys.readouterr().out
    assert '| Precision | Calibration | Weights (MB)' in out
    # The small-object threshold printed is the one the metric used.
    from fxseg_ros.metrics.defaults import DEFAULT_MAX_PIXELS
    assert 'Small objects (components < %d px' % DEFAULT_MAX_PIXELS in out
    report = json.loads(js.read_text())
    rows = {r['model']: r for r in report['rows']}
    assert set(rows) == {'fp32', 'fp16', 'int8_entropy', 'int8_minmax', 'int8_percentile',
                         'int8_entropy_day', 'int8_entropy_u8', 'int8_mixed'}
    assert rows['fp32']['drop'] == 0.0 and rows['fp32']['weights_ratio'] == 1.0
    assert rows['int8_entropy']['weights_ratio'] < 0.35
    assert 0.45 < rows['fp16']['weights_ratio'] <= 0.55
    assert set(report['conditions']) == {'day', 'dusk', 'night'}
    assert 'miou_night' in rows['int8_entropy_day']
    assert report['frames'] == 3
    assert md.read_text().startswith('Accuracy-drop report')

    calib = tmp_path / 'calib.json'
    assert main(['calibrate', '--model', str(tiny_net), '--data', str(_folder(tmp_path)),
                 '--frames', '2', '--method', 'minmax', '--out', str(calib)]) == 0
    mixed = tmp_path / 'mixed.onnx'
    code = main(['quantize', 'mixed', '--model', str(tiny_net), '--calib', str(calib),
                 '--max-drop', '100', '--out', str(mixed), '--eval-frames', '1',
                 '--analyze-frames', '1'])
    assert code == 0 and mixed.is_file()
    assert 'OK: ' in capsys.readouterr().out


def _folder(tmp_path):
    """Return an image folder of two synthetic frames."""
    import cv2
    from fxseg_ros.data.synth import SceneGenerator

    folder = tmp_path / 'images'
    folder.mkdir()
    generator = SceneGenerator(9, size_wh=(320, 180))
    for i, condition in enumerate(('day', 'night')):
        cv2.imwrite(str(folder / ('%d.png' % i)), generator.generate(i, condition)[0])
    return folder


def test_calibrate_from_a_rosbag_condition(tmp_path, tiny_net):
    from fxseg_ros.data.bag import BagSpec, write_synthetic_bag

    bag = tmp_path / 'drive'
    write_synthetic_bag(bag, BagSpec(frames_per_condition=2, size_wh=(320, 180)))
    out = tmp_path / 'night.json'
    assert main(['calibrate', '--model', str(tiny_net), '--data', str(bag), '--conditions',
                 'night', '--frames', '5', '--method', 'minmax', '--out', str(out)]) == 0
    data = json.loads(out.read_text())
    assert data['frames'] == 2 and data['meta']['conditions'] == ['night']
    assert data['meta']['model_digest']
