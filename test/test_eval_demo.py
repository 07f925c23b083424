# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""`fxseg demo` end to end on a tiny network: every step, the table, the warning, the report."""

from __future__ import annotations

import json

from fxseg_ros.cli.main import main
import pytest


@pytest.mark.ros
@pytest.mark.slow
@pytest.mark.usefixtures('requires_rclpy')   # the demo runs the node live
def test_demo_runs_every_step(tmp_path, tiny_net, capsys):
    out = tmp_path / 'demo'
    rc = main(['demo', '--out', str(out), '--model', str(tiny_net), '--frames-per-condition',
               '2', '--calib-frames', '2', '--heldout-frames', '1', '--max-fallback', '1'])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    for step in range(1, 9):
        assert '[%d/8]' % step in printed
    metrics = json.loads((out / 'report' / 'metrics.json').read_text())
    names = [r['name'] for r in metrics['runs']]
    assert names == ['FP32', 'FP16 (emulated)', 'INT8 entropy', 'INT8 mixed', 'INT8 entropy']
    fp32, fp16, int8, mixed, live = metrics['runs']
    assert [r['precision'] for r in metrics['runs']] == ['fp32', 'fp16', 'int8', 'mixed', 'int8']
    # The INT8 model stores int8 weights: about a quarter of the FP32 bytes.
    assert int8['weight_bytes'] < 0.4 * fp32['weight_bytes']
    assert fp16['weight_bytes'] == pytest.approx(fp32['weight_bytes'] / 2, rel=0.01)
    assert live['mode'] == 'live' and live['dropped'] == 0 and live['received'] == 4
    assert abs(live['live_vs_offline_miou_points']) < 0.5
    assert set(fp32['accuracy']['conditions']) == {'day', 'night'}
    # The table is printed, with the coverage check's verdict on the night frames.
    assert '| FP32 | ' in printed and 'baseline' in printed
    assert 'night frames' in printed
    assert metrics['coverage_night']['frames'] == 2
    assert (out / 'calibration.cache').read_text().startswith('TRT-')
    assert (out / 'report' / 'report.md').is_file()
    assert (out / 'models' / 'int8_entropy.onnx').is_file()


def test_a_step_is_reused_only_when_it_completed_with_the_same_inputs(tmp_path):
    from fxseg_ros.eval.demo_state import StepLedger

    out = tmp_path / 'demo'
    bag = out / 'bag'
    bag.mkdir(parents=True)
    (bag / 'frames.mcap').write_bytes(b'half a bag')
    # Outputs no completed step recorded (an interrupted run's) go, and the step runs.
    assert not StepLedger(out).completed('bag', {'frames': 24}, [bag])
    assert not bag.exists()
    bag.mkdir()
    (bag / 'frames.mcap').write_bytes(b'a whole bag')
    StepLedger(out).record('bag', {'frames': 24}, [bag])
    # A later run (a new ledger read from disk) with the same inputs reuses the step ...
    assert StepLedger(out).completed('bag', {'frames': 24}, [bag])
    assert (bag / 'frames.mcap').read_bytes() == b'a whole bag'
    # ... not with other inputs: the old output goes.
    assert not StepLedger(out).completed('bag', {'frames': 12}, [bag])
    assert not bag.exists()
    bag.mkdir()
    (bag / 'frames.mcap').write_bytes(b'a whole bag')
    StepLedger(out).record('bag', {'frames': 24}, [bag])
    # An output changed since it was recorded is not reused either.
    (bag / 'frames.mcap').write_bytes(b'another bag')
    assert not StepLedger(out).completed('bag', {'frames': 24}, [bag])
    # A state file this version did not write: nothing is reused.
    bag.mkdir()
    (bag / 'frames.mcap').write_bytes(b'a whole bag')
    StepLedger(out).record('bag', {'frames': 24}, [bag])
    (out / 'demo_state.json').write_text('{"steps": {"bag": {}}}')
    assert not StepLedger(out).completed('bag', {'frames': 24}, [bag])
