# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Per-camera statistics and their diagnostics keys and levels (no DDS)."""


from fxseg_ros.ros.diagnostics import (CameraStats, ERROR, OK, STAGES, status_level, status_values,
                                       WARN)
import pytest


def feed(stats, count, rate_hz, e2e_ms, start_s=100.0, stamp0_s=50.0):
    """Publish `count` frames at `rate_hz` with the given end-to-end latency."""
    for i in range(count):
        t = start_s + i / rate_hz
        stats.on_received(t)
        stages = dict.fromkeys(STAGES, 1.0)
        stages['e2e'] = e2e_ms
        stats.on_published(t + e2e_ms / 1e3, stamp0_s + i / rate_hz, stages, 30.0)
    return start_s + count / rate_hz


def test_values_hold_every_stage_and_the_nitros_keys():
    stats = CameraStats('/cam/image_raw', window=50, reasons=('truncated', 'stale'))
    now = feed(stats, 60, 30.0, 12.0)
    stats.on_dropped()
    stats.on_rejected('truncated')
    stats.on_rejected('truncated')
    stats.on_lost(3)
    values = dict(status_values(stats.snapshot(now), 30.0, 40.0))
    for stage in STAGES:
        for p in ('p50', 'p95', 'p99', 'max'):
            assert '%s_ms_%s' % (stage, p) in values
    assert float(values['e2e_ms_p50']) == pytest.approx(12.0)
    assert values['frames_received'] == '60' and values['frames_published'] == '60'
    assert values['rejected_truncated'] == '2' and values['rejected_stale'] == '0'
    assert values['frames_dropped'] == '1' and values['frames_lost_middleware'] == '3'
    assert values['total_dropped_frames'] == '6'
    assert float(values['frame_rate_node']) == pytest.approx(30.0, rel=1e-3)
    assert float(values['frame_rate_msg']) == pytest.approx(30.0, rel=1e-3)
    assert float(values['output_fps']) == pytest.approx(30.0, rel=0.05)
    assert float(values['current_delay_from_realtime_ms']) == pytest.approx(12.0)
    assert int(values['mean_abs_jitter_msg']) < 5 and values['num_jitter_outliers_msg'] == '0'


def test_jitter_outliers_are_counted():
    stats = CameraStats('/cam/image_raw')
    for i, t in enumerate([0.0, 1 / 30, 2 / 30, 2 / 30 + 0.2, 2 / 30 + 0.2 + 1 / 30]):
        stats.on_published(10 + t, 5 + t, {'e2e': 5.0}, 30.0)
    snap = stats.snapshot(11.0)
    assert snap['num_jitter_outliers_msg'] == 1
    assert snap['max_abs_jitter_msg_us'] == pytest.approx((0.2 - 1 / 30) * 1e6, rel=1e-6)
    stats.on_published(12.0, 1.0, {'e2e': 5.0}, 30.0)  # stamp going backwards
    assert stats.snapshot(12.0)['num_non_increasing_msg'] == 1


@pytest.mark.parametrize('e2e_ms, budget, level, text', [
    (10.0, 40.0, OK, 'OK'),
    (50.0, 40.0, ERROR, 'median latency'),
])
def test_level_against_the_latency_budget(e2e_ms, budget, level, text):
    stats = CameraStats('/cam/image_raw')
    now = feed(stats, 60, 30.0, e2e_ms)
    got, message = status_level(stats.snapshot(now), 30.0, budget)
    assert got == level and text in message


def test_level_warns_on_p95_rejects_and_low_rate():
    stats = CameraStats('/cam/image_raw', window=100)
    now = feed(stats, 90, 30.0, 10.0)
    feed(stats, 10, 30.0, 60.0, start_s=now)  # 10 % slow frames: p95 over, p50 under
    level, message = status_level(stats.snapshot(now + 0.4), 30.0, 40.0)
    assert level == WARN and 'p95' in message
    stats.on_rejected('unknown_encoding')
    level, message = status_level(stats.snapshot(now + 0.5), 30.0, 1000.0)
    assert level == WARN and 'unknown_encoding 1' in message
    slow = CameraStats('/cam/image_raw')
    now = feed(slow, 20, 10.0, 5.0)
    level, message = status_level(slow.snapshot(now), 30.0, 40.0)
    assert level == WARN and 'below the expected' in message
    assert status_level(slow.snapshot(now), 0.0, 40.0)[0] == OK  # no rate expected


def test_level_errors_when_frames_arrive_but_nothing_is_published():
    stats = CameraStats('/cam/image_raw')
    assert status_level(stats.snapshot(1.0), 30.0, 40.0) == (WARN, 'no frames received yet')
    for i in range(5):
        stats.on_received(1.0 + i * 0.03)
    level, message = status_level(stats.snapshot(1.2), 30.0, 40.0)
    assert level == ERROR and 'no masks published' in message
    level, message = status_level(stats.snapshot(2.0), 30.0, 40.0)
    assert level == WARN and 'since the last report' in message
