# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Fast DDS transport setups, their environment and the advice lines (no rclpy)."""


from pathlib import Path
import xml.etree.ElementTree as ET

from fxseg_ros.ros import transport as T
import pytest

PROFILE = Path(__file__).resolve().parents[1] / 'config' / T.PROFILE_FILE
NS = {'dds': 'http://www.eprosima.com'}


@pytest.mark.parametrize('mode, expected', [
    ('default', {}),
    # the socket size makes the shared-memory segment (2 x 4250 KiB) hold a 2.7 MB frame
    ('large_data', {'FASTDDS_BUILTIN_TRANSPORTS': 'LARGE_DATA?sockets_size=4250KiB'}),
    # Fast DDS 3 reads the first, Fast DDS 2 (Humble, Jazzy) the second
    ('shm', {'FASTDDS_DEFAULT_PROFILES_FILE': '/s/' + T.PROFILE_FILE,
             'FASTRTPS_DEFAULT_PROFILES_FILE': '/s/' + T.PROFILE_FILE}),
])
def test_transport_environment_round_trips(mode, expected):
    assert T.transport_environment(mode, '/s/' + T.PROFILE_FILE) == expected
    assert T.current_transport(expected) == mode


def test_unknown_transport_and_missing_profile_are_refused():
    with pytest.raises(ValueError, match='one of default, shm, large_data'):
        T.transport_environment('udp')
    with pytest.raises(ValueError, match=T.PROFILE_FILE):
        T.transport_environment('shm')


@pytest.mark.parametrize('environ, mode, words', [
    ({}, 'default', 'the default Fast DDS transports'),
    ({'FASTDDS_BUILTIN_TRANSPORTS': 'LARGE_DATA'}, 'large_data',
     'FASTDDS_BUILTIN_TRANSPORTS=LARGE_DATA'),
    ({'FASTDDS_BUILTIN_TRANSPORTS': 'large_data?max_msg_size=1MB'}, 'large_data', 'large_data'),
    ({'FASTDDS_BUILTIN_TRANSPORTS': 'UDPv4'}, 'default', 'default'),
    ({'FASTRTPS_DEFAULT_PROFILES_FILE': '/x/' + T.PROFILE_FILE}, 'shm', T.PROFILE_FILE),
    ({'FASTDDS_DEFAULT_PROFILES_FILE': '/x/mine.xml'}, 'profile', 'mine.xml'),
])
def test_current_transport_and_its_description(environ, mode, words):
    assert T.current_transport(environ) == mode
    assert words in T.describe_transport(environ)


@pytest.mark.parametrize('env, warns', [
    ({}, False),
    ({'FASTDDS_BUILTIN_TRANSPORTS': 'LARGE_DATA'}, False),
    ({'FASTDDS_BUILTIN_TRANSPORTS': 'LARGE_DATA', 'ROS_AUTOMATIC_DISCOVERY_RANGE': 'SUBNET'},
     False),
    ({'FASTDDS_BUILTIN_TRANSPORTS': 'LARGE_DATA', 'ROS_AUTOMATIC_DISCOVERY_RANGE': 'LOCALHOST'},
     True),
    ({'FASTDDS_BUILTIN_TRANSPORTS': 'large_data', 'ROS_LOCALHOST_ONLY': '1'}, True),
    ({'FASTDDS_BUILTIN_TRANSPORTS': 'LARGE_DATA?sockets_size=4250KiB',
      'ROS_AUTOMATIC_DISCOVERY_RANGE': 'LOCALHOST'}, True),
    ({'FASTDDS_BUILTIN_TRANSPORTS': 'LARGE_DATA?sockets_size=4250KiB'}, False),
    ({'FASTDDS_BUILTIN_TRANSPORTS': 'LARGE_DATA', 'ROS_LOCALHOST_ONLY': '0'}, False),
    ({'ROS_AUTOMATIC_DISCOVERY_RANGE': 'LOCALHOST'}, False),
])
def test_transport_warning_when_localhost_defeats_large_data(env, warns):
    message = T.transport_warning(env)
    assert (message is not None) == warns
    if warns:
        # names the value this process has, options included
        assert 'FASTDDS_BUILTIN_TRANSPORTS=%s is set' % env['FASTDDS_BUILTIN_TRANSPORTS'] \
            in message
        assert 'ROS_DOMAIN_ID' in message
        # the figures are the measured ones of the table, not typed into the message
        assert '~%.0f ms instead of ~%.0f ms' % (
            T.LOCALHOST_LARGE_DATA_MEDIAN_MS,
            T.TRANSPORT_MEDIAN_MS[('large_data', 'large_data')]) in message


@pytest.mark.parametrize('publishers, matched, environ, words', [
    (0, None, {'ROS_DOMAIN_ID': '7'}, ['no publisher found', 'ROS_DOMAIN_ID (here 7)',
                                       'camera_topics', 'LARGE_DATA reaches only']),
    (0, 0, {}, ['no publisher found', 'ROS_DOMAIN_ID (here 0 (unset))']),
    (2, 0, {}, ['2 publisher(s) found, none matched', 'qos:=sensor_data']),
    (2, None, {'FASTDDS_BUILTIN_TRANSPORTS': 'LARGE_DATA'},
     ['2 publisher(s) found', 'qos:=sensor_data', 'this node uses LARGE_DATA',
      'ros2 topic hz /cam/image_raw']),
    (1, 1, {}, ['with 1 publisher(s) matched', 'ros2 topic hz /cam/image_raw']),
])
def test_no_frames_advice(publishers, matched, environ, words):
    text = T.no_frames_advice('/cam/image_raw', publishers, 5.0, environ, matched=matched)
    assert text.startswith('/cam/image_raw: no frame received 5 s after activation')
    for word in words:
        assert word in text, (word, text)


def test_profile_has_shared_memory_that_holds_a_frame_and_udp():
    root = ET.parse(str(PROFILE)).getroot()
    descriptors = {d.findtext('dds:transport_id', namespaces=NS): d
                   for d in root.iter('{%s}transport_descriptor' % NS['dds'])}
    kinds = {d.findtext('dds:type', namespaces=NS) for d in descriptors.values()}
    assert kinds == {'SHM', 'UDPv4'}  # UDP keeps every default participant reachable
    shm = next(d for d in descriptors.values() if d.findtext('dds:type', namespaces=NS) == 'SHM')
    segment = int(shm.findtext('dds:segment_size', namespaces=NS))
    message = int(shm.findtext('dds:maxMessageSize', namespaces=NS))
    frame = 1280 * 720 * 3
    assert frame < message <= segment  # Fast DDS refuses a message size above the segment
    participant = root.find('.//dds:participant', NS)
    assert participant.get('is_default_profile') == 'true'
    used = [t.text for t in participant.iter('{%s}transport_id' % NS['dds'])]
    assert sorted(used) == sorted(descriptors)
    assert participant.findtext('.//dds:useBuiltinTransports', namespaces=NS) == 'false'


def test_speed_hint_only_on_the_default_transports():
    hint = T.speed_hint({})
    assert T.PROFILE_FILE in hint and 'transport:=shm' in hint
    assert '~%.0f ms instead of ~%.0f ms' % (
        T.TRANSPORT_MEDIAN_MS[('shm', 'default')],
        T.TRANSPORT_MEDIAN_MS[('default', 'default')]) in hint
    assert T.speed_hint({'FASTDDS_BUILTIN_TRANSPORTS': 'LARGE_DATA'}) is None
    assert T.speed_hint(T.transport_environment('shm', '/c/' + T.PROFILE_FILE)) is None


def test_large_data_sockets_size_makes_a_segment_that_holds_a_frame():
    # Fast DDS sizes the LARGE_DATA shared-memory segment at 2 x the socket buffer size
    value = T.transport_environment('large_data')['FASTDDS_BUILTIN_TRANSPORTS']
    name, _, options = value.partition('?')
    assert name == 'LARGE_DATA'
    key, _, size = options.partition('=')
    assert key == 'sockets_size' and size.endswith('KiB')
    segment_bytes = 2 * int(size[:-len('KiB')]) * 1024
    frame_bytes = 1280 * 720 * 3
    assert segment_bytes > frame_bytes and segment_bytes > 512 * 1024  # 2.14's default segment


def test_profile_path_finds_the_source_tree_profile():
    assert Path(T.profile_path()) == PROFILE
    # the launch files' default for their transport argument is the module's
    assert T.DEFAULT_TRANSPORT == 'default'
