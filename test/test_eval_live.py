# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""`fxseg eval --live`: the real segmentation_node over DDS agrees with the offline replay."""

from __future__ import annotations

import json

from conftest import frame_source
from fxseg_ros.cli.main import main
from fxseg_ros.data.bag import BagSpec, write_synthetic_bag
import pytest

pytestmark = [pytest.mark.ros, pytest.mark.slow, pytest.mark.usefixtures('requires_rclpy')]


@pytest.mark.parametrize('compressed', [False, True])
def test_live_eval_matches_offline(tmp_path, tiny_net, compressed, capsys):
    spec = BagSpec(storage='sqlite3' if compressed else 'mcap', compressed=compressed,
                   frames_per_condition=3, conditions=('day', 'night'), size_wh=(160, 96),
                   seed=2)
    bag = write_synthetic_bag(tmp_path / 'drive', spec, frame_source=frame_source).path
    out = tmp_path / 'rep'
    rc = main(['eval', '--bag', str(bag), '--model', str(tiny_net), '--live', '--rate', 'max',
               '--report', str(out), '--no-progress', '--node-timeout', '60'])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    metrics = json.loads((out / 'metrics.json').read_text())
    offline, live = metrics['runs']
    assert offline['mode'] == 'offline' and live['mode'] == 'live'
    # Every frame answered by the node, matched by header stamp.
    assert live['published'] == 6 and live['received'] == 6 and live['dropped'] == 0
    assert live['unmatched_masks'] == 0 and live['node_exit_status'] == 0
    assert live['accuracy']['frames'] == 6
    assert abs(live['live_vs_offline_miou_points']) < 0.5
    for cond in ('day', 'night'):
        assert abs(live['accuracy']['conditions'][cond]['miou']
                   - offline['accuracy']['conditions'][cond]['miou']) * 100 < 0.5
    e2e = live['end_to_end_ms']
    assert 0 < e2e['p50'] <= e2e['max'] < 5000
    report = (out / 'report.md').read_text()
    assert '## Live through the ROS 2 node' in report
    assert 'tiny_net (live)' in captured.out


def test_a_node_that_cannot_start_is_reported_with_its_log(tmp_path, tiny_net):
    from fxseg_ros.ros.live import LiveEvalError, LiveOptions, run_live

    spec = BagSpec(frames_per_condition=1, conditions=('day',), size_wh=(160, 96), seed=2)
    bag = write_synthetic_bag(tmp_path / 'drive', spec, frame_source=frame_source).path
    # No TensorRT on this machine: the node refuses to start and says why.
    options = LiveOptions(bag=str(bag), model=str(tiny_net), params={'backend': 'tensorrt'},
                          progress=False, node_timeout_s=60)
    with pytest.raises(LiveEvalError) as err:
        run_live(options)
    text = str(err.value)
    assert 'exited with status 2 during start-up' in text
    assert 'cannot start' in text
