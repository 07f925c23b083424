# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Real rosbag2 files (MCAP and sqlite3) written and read back with rosbags."""

from __future__ import annotations

from conftest import frame_seed, frame_source, smooth_frame, SMOOTH_WH
from fxseg_ros.data.bag import (BAG_VERSIONS, BagError, BagSpec, BagWriter, camera_namespace_of,
                                CONDITION_TOPIC, DEFAULT_BAG_VERSION, label_topic_for,
                                write_synthetic_bag)
from fxseg_ros.data.bag_reader import BagFrameReader, iter_bag_images, list_topics
from fxseg_ros.data.stamps import stamp_to_ns
import numpy as np
import pytest

SIZE_WH = SMOOTH_WH


def write(tmp_path, storage='mcap', compressed=False, cameras=1, frames=3,
          conditions=('day', 'night'), version=DEFAULT_BAG_VERSION):
    spec = BagSpec(storage=storage, compressed=compressed, cameras=cameras,
                   frames_per_condition=frames, conditions=conditions, seed=3, size_wh=SIZE_WH,
                   rate_hz=20.0, version=version)
    return write_synthetic_bag(tmp_path / ('bag_%s_%d_v%d' % (storage, compressed, version)),
                               spec, frame_source=frame_source)


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
@pytest.mark.parametrize('compressed', [False, True])
def test_round_trip_frames_labels_stamps_conditions(tmp_path, storage, compressed):
    summary = write(tmp_path, storage, compressed, cameras=2)
    suffix = '.mcap' if storage == 'mcap' else '.db3'
    assert list(summary.path.glob('*' + suffix)), 'no %s storage file written' % suffix
    assert (summary.path / 'metadata.yaml').is_file()
    topics = list_topics(summary.path)
    img_type = 'sensor_msgs/msg/CompressedImage' if compressed else 'sensor_msgs/msg/Image'
    for ns in ('/cam0', '/cam1'):
        img_topic = ns + ('/image_raw/compressed' if compressed else '/image_raw')
        assert topics[img_topic] == (img_type, 6)
        assert topics[ns + '/labels'] == ('sensor_msgs/msg/Image', 6)
    assert topics[CONDITION_TOPIC] == ('std_msgs/msg/String', 6)

    cam = 1
    reader = BagFrameReader(summary.path, image_topic=summary.image_topics[cam])
    frames = list(reader)
    assert len(frames) == 6
    # Same stamps as written: 20 Hz from the spec's start, day then night.
    period = int(1e9 / 20)
    assert [f.stamp_ns for f in frames] == [BagSpec().start_ns + i * period for i in range(6)]
    assert [f.condition for f in frames] == ['day'] * 3 + ['night'] * 3
    assert reader.stats.frames_without_label == 0 and reader.stats.labels_without_frame == 0
    expected = [smooth_frame(frame_seed(3, cam, cond, i))
                for cond in ('day', 'night') for i in range(3)]
    for f, (bgr, labels) in zip(frames, expected):
        np.testing.assert_array_equal(f.labels, labels)
        got = f.bgr()
        assert got.shape == bgr.shape and got.dtype == np.uint8
        if compressed:
            err = np.abs(got.astype(np.int16) - bgr.astype(np.int16))
            assert err.mean() < 3.0 and np.percentile(err, 99) < 40
            assert not np.array_equal(got, bgr)  # it really went through JPEG
        else:
            np.testing.assert_array_equal(got, bgr)


@pytest.mark.parametrize('compressed', [False, True])
def test_node_converter_reads_written_messages(tmp_path, compressed):
    from fxseg_ros.pipeline import convert

    summary = write(tmp_path, 'mcap', compressed, frames=2, conditions=('day',))
    frames = list(BagFrameReader(summary.path))
    decode = convert.compressed_to_bgr if compressed else convert.image_to_bgr
    for f in frames:
        np.testing.assert_array_equal(decode(f.msg), f.bgr())


def test_topic_naming():
    assert camera_namespace_of('/cam0/image_raw/compressed') == '/cam0'
    assert camera_namespace_of('/camera/image_raw') == '/camera'
    assert label_topic_for('/front/image_raw') == '/front/labels'


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
def test_missing_topic_lists_topics_present(tmp_path, storage):
    summary = write(tmp_path, storage, frames=1)
    with pytest.raises(BagError) as err:
        BagFrameReader(summary.path, image_topic='/front/image_raw')
    text = str(err.value)
    assert 'no camera topic /front/image_raw' in text
    for topic in ('/camera/image_raw', '/camera/labels', CONDITION_TOPIC):
        assert topic in text
    with pytest.raises(BagError, match='label topic /camera/gt'):
        BagFrameReader(summary.path, label_topic='/camera/gt')
    with pytest.raises(BagError, match='carries std_msgs/msg/String'):
        BagFrameReader(summary.path, image_topic=CONDITION_TOPIC)


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
@pytest.mark.parametrize('damage', ['truncated', 'overwritten'])
def test_corrupt_bag_is_a_clear_error(tmp_path, storage, damage):
    summary = write(tmp_path, storage, frames=2)
    data = next(p for p in summary.path.iterdir() if p.suffix in ('.mcap', '.db3'))
    raw = bytearray(data.read_bytes())
    if damage == 'truncated':
        raw = raw[:len(raw) // 3]  # a recording cut off mid-file
    else:
        third = len(raw) // 3  # damaged records, intact start and end (mcap: index intact)
        raw[third:2 * third] = b'\xff' * third
    data.write_bytes(bytes(raw))
    with pytest.raises(BagError) as err:
        list(BagFrameReader(summary.path, image_topic='/camera/image_raw'))
    text = str(err.value)
    assert str(summary.path) in text
    assert '/camera/image_raw' in text and '/camera/labels' in text


def test_missing_bag_and_ambiguous_camera(tmp_path):
    with pytest.raises(BagError, match='does not exist'):
        BagFrameReader(tmp_path / 'nope')
    summary = write(tmp_path, 'mcap', cameras=2, frames=1)
    with pytest.raises(BagError, match='2 camera topics; choose one'):
        BagFrameReader(summary.path)


def test_frames_without_labels_are_counted(tmp_path):
    path = tmp_path / 'partial'
    t0 = 10**18
    with BagWriter(path, storage='mcap') as bag:
        bag.add_camera('/camera')
        for i in range(6):
            bgr, labels = smooth_frame(i)
            stamp = t0 + i * 10**8
            # Frames 1 and 4 lose their label; an extra label has no frame.
            bag.write_frame('/camera', stamp, bgr, None if i in (1, 4) else labels)
        bag.write_labels('/camera', t0 + 50 * 10**8, labels)
    reader = BagFrameReader(path)
    frames = list(reader)
    assert [f.labels is None for f in frames] == [False, True, False, False, True, False]
    assert reader.stats.frames_without_label == 2
    assert reader.stats.labels_without_frame == 1
    assert reader.condition_topic is None and frames[0].condition is None


def test_labels_logged_before_or_after_their_frame_are_matched(tmp_path):
    """Matching is by header stamp, not by log order."""
    path = tmp_path / 'order'
    t0 = 10**18
    frames = [smooth_frame(i) for i in range(4)]
    with BagWriter(path, storage='sqlite3') as bag:
        bag.add_camera('/camera')
        for i, (bgr, labels) in enumerate(frames):
            stamp = t0 + i * 10**8
            log_img = stamp + 2 * 10**7
            log_lbl = stamp + (-3 if i % 2 else 5) * 10**7  # before or after the frame
            bag.write_image('/camera', stamp, bgr, log_ns=log_img)
            bag.write_labels('/camera', stamp, labels, log_ns=log_lbl)
    got = list(BagFrameReader(path))
    assert [f.stamp_ns for f in got] == [t0 + i * 10**8 for i in range(4)]
    for f, (_, labels) in zip(got, frames):
        np.testing.assert_array_equal(f.labels, labels)


def test_iter_bag_images_by_condition_stride_and_count(tmp_path):
    summary = write(tmp_path, 'mcap', frames=3)
    night = list(iter_bag_images(summary.path, conditions=['night']))
    assert len(night) == 3
    for got, i in zip(night, range(3)):
        np.testing.assert_array_equal(got, smooth_frame(frame_seed(3, 0, 'night', i))[0])
    every_other = list(iter_bag_images(summary.path, stride=2))
    assert len(every_other) == 3  # frames 0, 2, 4 of 6
    np.testing.assert_array_equal(every_other[1], smooth_frame(frame_seed(3, 0, 'day', 2))[0])
    assert len(list(iter_bag_images(summary.path, max_frames=4))) == 4
    assert list(iter_bag_images(summary.path, conditions=['dusk'])) == []


def test_the_log_names_the_bag_by_its_final_name(tmp_path, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger='fxseg_ros.data.bag'):
        summary = write(tmp_path, frames=1)
    lines = [r.getMessage() for r in caplog.records if r.name == 'fxseg_ros.data.bag']
    assert any(line.startswith('wrote %s: 2 frames' % summary.path) for line in lines), lines
    assert not any('.partial-' in line for line in lines), lines


def test_make_bag_cli_writes_synthetic_drives(tmp_path, capsys):
    from fxseg_ros.cli.main import main

    out = tmp_path / 'drive'
    rc = main(['make-bag', '--out', str(out), '--storage', 'sqlite3', '--compressed',
               '--cameras', '2', '--frames-per-condition', '2', '--conditions', 'day,night',
               '--size', '160x96', '--seed', '4'])
    assert rc == 0
    printed = capsys.readouterr().out
    assert '/cam1/image_raw/compressed' in printed
    topics = list_topics(out)
    assert topics['/cam0/image_raw/compressed'] == ('sensor_msgs/msg/CompressedImage', 4)
    assert topics['/cam1/labels'] == ('sensor_msgs/msg/Image', 4)
    frames = list(BagFrameReader(out, image_topic='/cam0/image_raw/compressed'))
    assert [f.condition for f in frames] == ['day', 'day', 'night', 'night']
    from fxseg_ros.data.synth import SceneGenerator
    expected = list(SceneGenerator(4, size_wh=(160, 96)).generate_sequence(
        0, 2, 'night', fps=10.0))
    for f, (bgr, labels) in zip(frames[2:], expected):
        np.testing.assert_array_equal(f.labels, labels)
        assert np.abs(f.bgr().astype(np.int16) - bgr).mean() < 8  # JPEG of a noisy render
    # Night frames are darker than day frames: the condition is in the pixels too.
    assert frames[0].bgr().mean() > frames[2].bgr().mean() + 20


def test_mcap_decodes_with_an_independent_ros2_reader(tmp_path):
    """What rosbag2's MCAP plugin reads: ros2 profile, ros2msg schemas, CDR messages."""
    pytest.importorskip('mcap_ros2', reason='needs mcap-ros2-support (pip install .[test])')
    from mcap.reader import make_reader
    from mcap_ros2.decoder import DecoderFactory

    summary = write(tmp_path, 'mcap', frames=2)
    data = next(summary.path.glob('*.mcap'))
    ours = {f.stamp_ns: f for f in BagFrameReader(summary.path)}
    seen = {'/camera/image_raw': 0, '/camera/labels': 0, CONDITION_TOPIC: 0}
    with open(data, 'rb') as fh:
        reader = make_reader(fh, decoder_factories=[DecoderFactory()])
        assert reader.get_header().profile == 'ros2'
        stats = reader.get_summary().statistics
        assert stats.message_count == 12
        for schema, channel, message, decoded in reader.iter_decoded_messages():
            assert schema.encoding == 'ros2msg' and channel.message_encoding == 'cdr'
            seen[channel.topic] += 1
            if channel.topic == CONDITION_TOPIC:
                assert decoded.data in ('day', 'night')
                continue
            stamp = stamp_to_ns(decoded.header.stamp)
            assert stamp == message.log_time
            frame = ours[stamp]
            if channel.topic == '/camera/labels':
                assert decoded.encoding == 'mono8'
                np.testing.assert_array_equal(
                    np.frombuffer(bytes(decoded.data), np.uint8).reshape(frame.labels.shape),
                    frame.labels)
            else:
                assert (decoded.encoding, decoded.step) == ('bgr8', SIZE_WH[0] * 3)
                np.testing.assert_array_equal(
                    np.frombuffer(bytes(decoded.data), np.uint8).reshape(SIZE_WH[1], -1, 3),
                    frame.bgr())
    assert seen == {'/camera/image_raw': 4, '/camera/labels': 4, CONDITION_TOPIC: 4}


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
def test_type_hashes_match_the_installed_ros_messages(tmp_path, storage):
    """`ros2 bag play` checks the recorded type hash against the installed message types."""
    import json
    from pathlib import Path
    import sys

    import yaml

    summary = write(tmp_path, storage, compressed=True, frames=1)
    meta = yaml.safe_load((summary.path / 'metadata.yaml').read_text())
    info = meta['rosbag2_bagfile_information']
    assert info['version'] == DEFAULT_BAG_VERSION and info['storage_identifier'] == storage
    checked = 0
    for entry in info['topics_with_message_count']:
        msgtype = entry['topic_metadata']['type']
        pkg, _, name = msgtype.split('/')
        described = Path(sys.prefix) / 'share' / pkg / 'msg' / (name + '.json')
        if not described.is_file():
            continue
        expected = json.loads(described.read_text())['type_hashes'][0]['hash_string']
        assert entry['topic_metadata']['type_description_hash'] == expected, msgtype
        checked += 1
    if checked == 0:
        pytest.skip('no ROS 2 message packages installed in %s' % sys.prefix)


def _metadata(bag_path):
    import yaml

    return yaml.safe_load((bag_path / 'metadata.yaml').read_text())['rosbag2_bagfile_information']


def test_default_version_is_one_humble_reads():
    # Humble's rosbag2 writes version 5 and reads offered_qos_profiles as a YAML string: 8 is
    # the newest version with that layout (github:ros2/rosbag2 humble metadata_io.cpp)
    assert DEFAULT_BAG_VERSION == 8 and set(BAG_VERSIONS) == {8, 9}


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
@pytest.mark.parametrize('version', [8, 9])
def test_each_version_reads_back_with_rosbags(tmp_path, storage, version):
    """Every message back through rosbags' reader; metadata in the layout of its version."""
    from rosbags.rosbag2 import Reader
    import yaml

    summary = write(tmp_path, storage, frames=2, version=version)
    info = _metadata(summary.path)
    assert info['version'] == version and info['storage_identifier'] == storage
    for entry in info['topics_with_message_count']:
        qos = entry['topic_metadata']['offered_qos_profiles']
        # no QoS recorded (a player offers its default profile): version 8 has it as one
        # YAML string, what Humble's decoder reads; version 9 as a list of mappings
        if version == 8:
            assert isinstance(qos, str) and yaml.safe_load(qos) in (None, [])
        else:
            assert qos == []
    with Reader(summary.path) as reader:
        counts = {}
        for conn, _, raw in reader.messages():
            assert raw
            counts[conn.topic] = counts.get(conn.topic, 0) + 1
    assert counts == {'/camera/image_raw': 4, '/camera/labels': 4, CONDITION_TOPIC: 4}
    frames = list(BagFrameReader(summary.path))
    assert [f.condition for f in frames] == ['day', 'day', 'night', 'night']
    np.testing.assert_array_equal(frames[1].labels, smooth_frame(frame_seed(3, 0, 'day', 1))[1])


def test_make_bag_cli_version_option(tmp_path, capsys):
    from fxseg_ros.cli.main import main

    for version in BAG_VERSIONS:
        out = tmp_path / ('v%d' % version)
        rc = main(['make-bag', '--out', str(out), '--frames-per-condition', '1',
                   '--conditions', 'day', '--size', '64x48', '--bag-version', str(version)])
        assert rc == 0
        assert _metadata(out)['version'] == version
        assert 'rosbag2 version %d' % version in capsys.readouterr().out
    default = tmp_path / 'default'
    assert main(['make-bag', '--out', str(default), '--frames-per-condition', '1',
                 '--conditions', 'day', '--size', '64x48']) == 0
    assert _metadata(default)['version'] == DEFAULT_BAG_VERSION
    with pytest.raises(ValueError, match='version'):
        BagWriter(tmp_path / 'v5', version=5)
