# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The node benchmark (`fxseg bench --node`) on a short run: every frame answered, sane figures."""

from __future__ import annotations

import math

import pytest

pytest.importorskip('rclpy', reason='rclpy (ROS 2) is not installed')

from fxseg_ros.ros.bench_node import format_report, run_node_benchmark  # noqa: E402


@pytest.mark.ros
@pytest.mark.slow
def test_short_benchmark_of_two_cameras(demo_model, tmp_path, monkeypatch):
    monkeypatch.setenv('FXSEG_CACHE_DIR', str(tmp_path / 'cache'))
    # two cameras triggered together; the node waits for both frames: batches of two
    result = run_node_benchmark(model=str(demo_model), cameras=2, rate_hz=2.0, duration_s=2.5,
                                warmup_s=0.5, params={'batch_wait_ms': 200.0},
                                log_path=str(tmp_path / 'node.log'))
    assert len(result['cameras']) == 2
    for cam in result['cameras']:
        assert cam['sent'] >= 5
        assert 1 <= cam['masks_received'] <= cam['sent'], cam
        rt, node = cam['e2e_roundtrip_ms'], cam['node_e2e_ms']
        assert 0 < rt['p50'] <= rt['p95'] <= rt['max'] < 10000
        assert 0 < node['p50'] <= node['max']
        # (the node's window also holds warm-up frames, so its percentiles are not compared
        # with the round trip of the measured frames)
        assert math.isfinite(cam['node_overhead_p50_ms'])
        assert cam['node_stage_p50_ms']['inference'] > 0
    runner = result['runner']
    assert runner['backend'] == 'onnxruntime'
    # batches counted over the run only (the handshakes before it are single frames): every tick
    # sends two frames at once, so nearly every batch holds both
    batching = result['batching']
    assert batching['batches'] >= 3 and batching['frames'] >= 2 * 3, batching
    assert batching['mean_batch_size'] > 1.5, batching
    report = format_report(result)
    assert 'stamp -> mask back here' in report and '/fxseg_bench/cam1/image_raw' in report
