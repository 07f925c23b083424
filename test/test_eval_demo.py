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
    out.mkdir()
    # A run claims the step's outputs before it writes them, and is interrupted half way ...
    StepLedger(out).claim('bag', [bag])
    bag.mkdir()
    (bag / 'frames.mcap').write_bytes(b'half a bag')
    # ... so the next run knows the half bag for its own: it goes, and the step runs.
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
    # --force: a completed step runs again.
    bag.mkdir()
    (bag / 'frames.mcap').write_bytes(b'a whole bag')
    StepLedger(out).record('bag', {'frames': 24}, [bag])
    assert not StepLedger(out, force=True).completed('bag', {'frames': 24}, [bag])
    assert not bag.exists()


def test_the_ledger_deletes_only_what_the_demo_wrote(tmp_path):
    from fxseg_ros.data.atomic import partial_name
    from fxseg_ros.eval.demo_state import ForeignOutputError, StepLedger

    out = tmp_path / 'demo'
    (out / 'bag').mkdir(parents=True)
    mine = out / 'bag' / 'my_recording.mcap'
    mine.write_bytes(b'a recording of my own')
    cache = out / 'calibration.cache'
    cache.write_text('my calibration')
    ledger = StepLedger(out)
    ledger.claim('other', [out / 'report'])   # the folder holds a demo state
    # No entry names bag/ or calibration.cache: the step refuses instead of deleting them.
    for name, output in (('bag', out / 'bag'), ('calibration', cache)):
        with pytest.raises(ForeignOutputError, match=str(output)):
            StepLedger(out).completed(name, {'frames': 24}, [output])
    with pytest.raises(ForeignOutputError):
        StepLedger(out).refuse_foreign([out / 'bag', cache])
    assert mine.read_bytes() == b'a recording of my own'
    assert cache.read_text() == 'my calibration'
    # A state file this version did not write names nothing: nothing is reused or deleted.
    (out / 'demo_state.json').write_text('{"steps": {"bag": {"outputs": {"bag": null}}}}')
    with pytest.raises(ForeignOutputError):
        StepLedger(out).completed('bag', {'frames': 24}, [out / 'bag'])
    assert mine.is_file()
    # The previous version of the state recorded completed steps only: the outputs it wrote
    # unrecorded on every run are the demo's.
    report = out / 'report'
    report.mkdir()
    (out / 'demo_state.json').write_text(json.dumps(
        {'format': 'fxseg_ros.demo_state', 'version': 1, 'steps': {}}))
    with pytest.raises(ForeignOutputError):
        StepLedger(out).claim('report', [report])
    StepLedger(out, unrecorded={'report': [report]}).claim('report', [report])
    assert not report.exists() and mine.is_file()
    # What a killed writer left goes (temporary names of data.atomic), hidden files stay.
    left = partial_name(out / 'calib_day_entropy.json')
    left.write_text('{')
    (out / '.hidden').write_text('mine')
    StepLedger(out).remove_leftovers([out])
    assert not left.exists() and (out / '.hidden').is_file() and mine.is_file()
