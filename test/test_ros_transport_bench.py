# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The transport benchmark: its pairs, its table, and one real run between two processes.

The real run sends frames between two bare rclpy processes on the node's large_data setup
(LARGE_DATA with the socket size) and from a default process to a large_data one: the first
delivers every frame, the second none. That holds only where Fast DDS takes the sized value as
LARGE_DATA (a value it refused would leave both processes on the default transports, which
talk to each other), so it runs on every distro of the CI.
"""

import math
import subprocess
import sys

from fxseg_ros.ros import transport_bench as B
import pytest

BENCH = [sys.executable, '-m', 'fxseg_ros.ros.transport_bench']


def test_default_pairs_are_every_pair_of_the_node_setups_then_bare_large_data():
    assert len(B.DEFAULT_PAIRS) == 3 * 3 + 1
    assert B.DEFAULT_PAIRS[0] == ('default', 'default')
    assert B.DEFAULT_PAIRS[-1] == ('large_data_plain', 'large_data_plain')
    assert ('shm', 'default') in B.DEFAULT_PAIRS and ('large_data', 'shm') in B.DEFAULT_PAIRS


def test_setups_environment():
    assert B.setup_environment('large_data_plain', '') == {
        'FASTDDS_BUILTIN_TRANSPORTS': 'LARGE_DATA'}
    assert B.setup_environment('large_data', '') == {
        'FASTDDS_BUILTIN_TRANSPORTS': 'LARGE_DATA?sockets_size=4250KiB'}
    assert B.setup_environment('default', '') == {}


@pytest.mark.parametrize('texts, expected', [
    (['default:default'], [('default', 'default')]),
    (['shm:default', 'large_data_plain:large_data_plain'],
     [('shm', 'default'), ('large_data_plain', 'large_data_plain')]),
])
def test_parse_pairs(texts, expected):
    assert B.parse_pairs(texts) == expected


@pytest.mark.parametrize('text', ['default', 'udp:default', 'default:', 'shm:shm:shm'])
def test_parse_pairs_refuses_what_is_not_a_pair_of_setups(text):
    with pytest.raises(ValueError, match="--pairs: '%s' is not PUB:SUB" % text):
        B.parse_pairs([text])


def test_table_ratios_are_to_default_to_default():
    rows = [
        {'publisher': 'default', 'subscriber': 'default', 'sent': 10, 'delivered': 10,
         'p50': 20.0, 'p95': 30.0},
        {'publisher': 'shm', 'subscriber': 'default', 'sent': 10, 'delivered': 10,
         'p50': 5.0, 'p95': 6.0},
        {'publisher': 'default', 'subscriber': 'large_data', 'sent': 10, 'delivered': 0,
         'p50': float('nan'), 'p95': float('nan')},
    ]
    lines = B.format_table(rows, localhost=False).splitlines()
    assert lines[2].split()[-1] == '1.00'
    assert lines[3].split()[-4:] == ['10/10', '5.0', '6.0', '0.25']  # 5 ms / 20 ms
    assert lines[4].split()[3] == '0/10' and lines[4].split()[-1] == 'nan'


@pytest.mark.parametrize('args, name', [
    (['--frames', '0'], '--frames'),
    (['--rate', '0'], '--rate'),
    (['--match-timeout', '-1'], '--match-timeout'),
    (['--pairs', 'default:udp'], '--pairs'),
])
def test_bad_arguments_give_one_line_and_exit_2(args, name):
    proc = subprocess.run(BENCH + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=60)
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert proc.returncode == 2 and len(lines) == 1, lines
    assert name in lines[0] and 'Traceback' not in lines[0]


@pytest.mark.ros
@pytest.mark.slow
def test_large_data_setup_talks_to_large_data_only():
    try:
        import rclpy  # noqa: F401
    except ImportError as exc:
        pytest.skip('rclpy (ROS 2) is not installed: %s' % exc)
    frames = 3
    proc = subprocess.run(BENCH + ['--pairs', 'large_data:large_data', 'default:large_data',
                                   '--frames', str(frames), '--rate', '5',
                                   '--match-timeout', '8'],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines()
            if line.split() and line.split()[0] in B.SETUPS]
    assert [(r[0], r[2]) for r in rows] == [('large_data', 'large_data'),
                                            ('default', 'large_data')], proc.stdout
    assert rows[0][3] == '%d/%d' % (frames, frames), proc.stdout
    assert 0 < float(rows[0][4]) < 10000, proc.stdout
    assert rows[1][3] == '0/%d' % frames and math.isnan(float(rows[1][4])), proc.stdout
