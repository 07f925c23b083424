# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
A model whose input is not 640x360: every command feeds it frames at its own input size.

The node, `fxseg eval`, `fxseg bench` and `fxseg train` resize frames to the network input; the
calibration, the coverage check, the quantization tools and the demo do the same
(`fxseg_ros.model.deploy.network_input_wh`). Real ONNX Runtime on a 96x64 network and 160x96
frames.
"""

import json

from fxseg_ros.cli.main import main
import numpy as np
import pytest

#: The network input (W, H) and the frame size (W, H) of these tests: neither is 640x360.
NET_WH = (96, 64)
FRAME_WH = (160, 96)


@pytest.fixture(scope='module')
def inputs(tmp_path_factory):
    from conftest import make_tiny_net

    from fxseg_ros.data.synth import write_cityscapes

    root = tmp_path_factory.mktemp('sizes')
    write_cityscapes(root / 'cs', 2, seed=3, conditions=('day', 'night'), size_wh=FRAME_WH,
                     progress=False)
    return {'model': make_tiny_net(root / 'tiny.onnx', input_wh=NET_WH), 'cs': root / 'cs'}


def test_the_input_size_is_read_from_the_graph(inputs):
    from fxseg_ros.model.deploy import network_input_wh

    assert network_input_wh(inputs['model']) == NET_WH


def test_calibrate_check_and_quantize_run_a_model_of_another_size(inputs, tmp_path, capsys):
    from fxseg_ros.data.readers import CityscapesCalibrationReader
    from fxseg_ros.quant.calibrators import calibrate, CalibrationResult
    from fxseg_ros.quant.collect import iterate_feeds

    model, cs = str(inputs['model']), str(inputs['cs'])
    calib = tmp_path / 'c.json'
    assert main(['calibrate', '--data', cs, '--model', model, '--out', str(calib),
                 '--method', 'minmax', '--frames', '4']) == 0, capsys.readouterr()
    # The ranges are those of the frames resized to the network input: the same frames read
    # here at NET_WH and calibrated in this process give the ranges the command wrote.
    reader = CityscapesCalibrationReader(cs, split='train', size_wh=NET_WH, max_frames=4)
    feeds = list(iterate_feeds(reader))
    assert [f['input'].shape for f in feeds] == [(1, 3, NET_WH[1], NET_WH[0])] * 4
    expected = calibrate(model, feeds, method='minmax')
    written = CalibrationResult.load(calib)
    assert written.amax['input'] == pytest.approx(
        float(np.abs(np.concatenate([f['input'] for f in feeds])).max()), rel=1e-6)
    assert written.amax == pytest.approx(expected.amax, rel=1e-6)
    capsys.readouterr()
    for argv in (['calibrate', '--data', cs, '--model', model, '--check', str(calib)],
                 ['quantize', 'analyze', '--model', model, '--calib', str(calib), '--data', cs,
                  '--analyze-frames', '2'],
                 ['quantize', 'mixed', '--model', model, '--calib', str(calib), '--eval-data',
                  cs, '--eval-split', 'train', '--eval-frames', '1', '--max-drop', '100',
                  '--max-fallback', '1', '--out', str(tmp_path / 'm.onnx')]):
        code = main(argv)
        printed = capsys.readouterr()
        assert code in (0, 3), (argv, printed)   # 3: --check flags the data set
        assert 'internal error' not in printed.err, printed.err
    assert (tmp_path / 'm.onnx').is_file()


@pytest.mark.slow
def test_the_demo_runs_a_model_of_another_size(inputs, tmp_path, capsys):
    out = tmp_path / 'demo'
    code = main(['demo', '--out', str(out), '--model', str(inputs['model']),
                 '--frames-per-condition', '2', '--calib-frames', '2', '--heldout-frames', '1',
                 '--max-fallback', '1', '--skip-live'])
    printed = capsys.readouterr()
    assert code == 0, printed.err[-2000:]
    metrics = json.loads((out / 'report' / 'metrics.json').read_text())
    assert [r['name'] for r in metrics['runs']] == ['FP32', 'FP16 (emulated)', 'INT8 entropy',
                                                    'INT8 mixed']
    assert metrics['coverage_night']['frames'] == 2
