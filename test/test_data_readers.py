# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Calibration readers: get_next / end / rewind, batching, limits, preprocessing, errors."""

from __future__ import annotations

import cv2
from fxseg_ros.data.preprocess import preprocess
from fxseg_ros.data.readers import (CalibrationDataError, CityscapesCalibrationReader,
                                    FrameCalibrationReader, ImageFolderCalibrationReader)
from fxseg_ros.data.synth import write_cityscapes
import numpy as np
import pytest


def frames(n, size=(64, 48)):
    rng = np.random.default_rng(0)
    return [rng.integers(0, 255, (size[1], size[0], 3)).astype(np.uint8) for _ in range(n)]


def drain(reader):
    feeds = []
    while True:
        feed = reader.get_next()
        if feed is None:
            return feeds
        feeds.append(feed)


def test_feeds_are_the_deployment_preprocessing():
    data = frames(3)
    reader = FrameCalibrationReader(data)
    feeds = drain(reader)
    assert len(feeds) == 3 == len(reader)
    for frame, feed in zip(data, feeds):
        assert list(feed) == ['input']
        assert feed['input'].shape == (1, 3, 360, 640) and feed['input'].dtype == np.float32
        np.testing.assert_array_equal(feed['input'], preprocess(frame))
    assert reader.get_next() is None          # stays at the end
    reader.rewind()
    np.testing.assert_array_equal(reader.get_next()['input'], feeds[0]['input'])


@pytest.mark.parametrize('n, kwargs, batches', [
    (5, {}, [1, 1, 1, 1, 1]),
    (5, {'batch_size': 2}, [2, 2, 1]),
    (5, {'max_frames': 3}, [1, 1, 1]),
    (7, {'stride': 3}, [1, 1, 1]),                  # frames 0, 3, 6
    (7, {'stride': 2, 'max_frames': 2, 'batch_size': 4}, [2]),
])
def test_limits_and_batches(n, kwargs, batches):
    reader = FrameCalibrationReader(frames(n), **kwargs)
    assert [f['input'].shape[0] for f in drain(reader)] == batches
    assert len(reader) == len(batches)
    assert reader.frames_read == sum(batches)


def test_stride_picks_every_nth_frame():
    data = frames(7)
    feeds = drain(FrameCalibrationReader(data, stride=3))
    for k, feed in zip((0, 3, 6), feeds):
        np.testing.assert_array_equal(feed['input'], preprocess(data[k]))


def test_callable_source_rewinds_and_one_shot_iterator_does_not():
    data = frames(2)
    reader = FrameCalibrationReader(lambda: iter(data), input_name='x')
    with pytest.raises(TypeError):
        len(reader)
    assert len(drain(reader)) == 2
    reader.rewind()
    again = list(reader)
    assert len(again) == 2 and all(list(feed) == ['x'] for feed in again)
    one_shot = FrameCalibrationReader(iter(data))
    assert len(drain(one_shot)) == 2
    one_shot.rewind()
    with pytest.raises(CalibrationDataError, match='cannot rewind'):
        one_shot.get_next()


@pytest.mark.parametrize('kwargs, reason', [
    ({'max_frames': 0}, 'max_frames is 0'),
    ({'stride': 5}, 'stride'),
])
def test_empty_reader_says_why(kwargs, reason):
    source = [] if 'stride' in kwargs else frames(2)
    reader = FrameCalibrationReader(source, source='test frames', **kwargs)
    with pytest.raises(CalibrationDataError, match='test frames provided no frames') as info:
        reader.get_next()
    assert reason in str(info.value)


def test_bad_frame_is_rejected():
    reader = FrameCalibrationReader([np.zeros((4, 4), np.uint8)])
    with pytest.raises(CalibrationDataError, match='expected BGR uint8'):
        reader.get_next()


@pytest.fixture(scope='module')
def cs_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp('calib')
    write_cityscapes(root, 2, seed=3, split='train', conditions=('day', 'night'),
                     size_wh=(160, 96))
    return root


def test_cityscapes_reader_filters_by_condition(cs_tree):
    day = CityscapesCalibrationReader(cs_tree, cities=['day'])
    both = CityscapesCalibrationReader(cs_tree)
    assert len(day) == 2 and len(both) == 4
    day_feeds = drain(day)
    image = cv2.imread(str(cs_tree / 'leftImg8bit/train/day/day_000001_000000_leftImg8bit.png'))
    np.testing.assert_array_equal(day_feeds[1]['input'], preprocess(image))
    night = drain(CityscapesCalibrationReader(cs_tree, cities=['night'], max_frames=1))
    assert len(night) == 1
    assert night[0]['input'].mean() < day_feeds[0]['input'].mean()


@pytest.mark.parametrize('kwargs, match', [
    ({'split': 'val'}, 'wrong --split'),
    ({'cities': ['dusk']}, 'dusk'),
])
def test_cityscapes_reader_errors(cs_tree, kwargs, match):
    with pytest.raises(CalibrationDataError, match=match):
        CityscapesCalibrationReader(cs_tree, **kwargs)


def test_image_folder_reader(cs_tree, tmp_path):
    reader = ImageFolderCalibrationReader(cs_tree / 'leftImg8bit', batch_size=3)
    assert len(reader.paths) == 4 and len(reader) == 2
    assert [f['input'].shape[0] for f in drain(reader)] == [3, 1]
    (tmp_path / 'notes.txt').write_text('not an image')
    with pytest.raises(CalibrationDataError, match='no files ending in .png'):
        ImageFolderCalibrationReader(tmp_path)
    with pytest.raises(CalibrationDataError, match='not a directory'):
        ImageFolderCalibrationReader(tmp_path / 'missing')
    cv2.imwrite(str(tmp_path / 'a.jpg'), np.full((30, 40, 3), 200, np.uint8))
    feed = ImageFolderCalibrationReader(tmp_path).get_next()
    assert feed['input'].shape == (1, 3, 360, 640)


def test_bag_reader_over_a_real_rosbag(tmp_path):
    """Frames of a real rosbag2 (MCAP) camera topic, filtered by the logged condition."""
    from fxseg_ros.data.bag import BagWriter
    from fxseg_ros.data.readers import BagCalibrationReader

    data = frames(4, size=(96, 64))
    path = tmp_path / 'drive'
    with BagWriter(path) as writer:
        topic = writer.add_camera('camera', with_labels=False)
        for k, frame in enumerate(data):
            stamp = (k + 1) * 100_000_000
            writer.write_condition(stamp, 'day' if k < 3 else 'night')
            writer.write_frame('camera', stamp, frame)
    reader = BagCalibrationReader(path, topic)
    feeds = drain(reader)
    assert len(feeds) == 4
    for frame, feed in zip(data, feeds):
        np.testing.assert_array_equal(feed['input'], preprocess(frame))
    reader.rewind()
    assert len(drain(reader)) == 4
    assert len(drain(BagCalibrationReader(path, topic, conditions=['night']))) == 1
    with pytest.raises(CalibrationDataError, match='no frame was recorded under conditions'):
        BagCalibrationReader(path, topic, conditions=['dusk']).get_next()
