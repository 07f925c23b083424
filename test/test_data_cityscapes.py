# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Cityscapes layout: synthetic writer, reader (train IDs and label IDs), errors, CLI."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
from fxseg_ros.cli.main import build_parser
from fxseg_ros.data.cityscapes import (CITYSCAPES_ID_TO_TRAIN_ID, CityscapesDataset,
                                       CityscapesLayoutError, label_ids_to_train_ids)
from fxseg_ros.data.synth import SceneGenerator, write_cityscapes
import numpy as np
import pytest

SIZE = (320, 180)


def tree_digest(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob('*.png'))}


@pytest.fixture(scope='module')
def tiny_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp('cs')
    write_cityscapes(root, 2, seed=4, split='val', conditions=('day', 'night'), size_wh=SIZE)
    return root


def test_writer_layout_and_names(tiny_tree):
    names = sorted(str(p.relative_to(tiny_tree)) for p in tiny_tree.rglob('*.png'))
    assert names == sorted(
        ['leftImg8bit/val/%s/%s_%06d_000000_leftImg8bit.png' % (c, c, i)
         for c in ('day', 'night') for i in range(2)]
        + ['gtFine/val/%s/%s_%06d_000000_gtFine_labelTrainIds.png' % (c, c, i)
           for c in ('day', 'night') for i in range(2)])


def test_writer_is_deterministic_and_seeded(tmp_path, tiny_tree):
    again = tmp_path / 'again'
    write_cityscapes(again, 2, seed=4, split='val', conditions=('day', 'night'), size_wh=SIZE)
    assert tree_digest(again) == tree_digest(tiny_tree)
    other = tmp_path / 'other'
    write_cityscapes(other, 2, seed=5, split='val', conditions=('day', 'night'), size_wh=SIZE)
    digest, ref = tree_digest(other), tree_digest(tiny_tree)
    assert digest.keys() == ref.keys()
    assert all(digest[k] != ref[k] for k in ref)


def test_splits_hold_different_scenes(tmp_path):
    write_cityscapes(tmp_path, 1, seed=4, split='train', conditions=('day',), size_wh=SIZE)
    write_cityscapes(tmp_path, 1, seed=4, split='test', conditions=('day',), size_wh=SIZE)
    train = CityscapesDataset(tmp_path, 'train')[0][1]
    test = CityscapesDataset(tmp_path, 'test')[0][1]
    assert not np.array_equal(train, test)


def test_reader_returns_what_the_generator_made(tiny_tree):
    data = CityscapesDataset(tiny_tree, 'val')
    assert len(data) == 4
    bgr, labels, meta = data[3]
    assert meta['city'] == meta['condition'] == 'night'
    assert meta['name'] == 'night_000001_000000'
    expected_bgr, expected_labels = SceneGenerator(4, SIZE).generate(1000000 + 1, 'night')
    np.testing.assert_array_equal(bgr, expected_bgr)
    np.testing.assert_array_equal(labels, expected_labels)
    assert [m['condition'] for m in (data.meta(i) for i in range(4))] == \
        ['day', 'day', 'night', 'night']


def test_city_filter(tiny_tree):
    data = CityscapesDataset(tiny_tree, 'val', cities=['night'])
    assert len(data) == 2 and {data.meta(i)['city'] for i in range(2)} == {'night'}


@pytest.mark.parametrize('label_id, train_id', [
    (0, 255), (1, 255), (6, 255), (7, 0), (8, 1), (9, 255), (11, 2), (12, 3), (13, 4), (14, 255),
    (17, 5), (18, 255), (19, 6), (20, 7), (21, 8), (22, 9), (23, 10), (24, 11), (25, 12),
    (26, 13), (27, 14), (28, 15), (29, 255), (30, 255), (31, 16), (32, 17), (33, 18), (34, 255),
    (255, 255),
])
def test_label_id_table(label_id, train_id):
    assert label_ids_to_train_ids(np.array([[label_id]], np.uint8))[0, 0] == train_id


def test_table_covers_19_train_ids():
    assert sorted(CITYSCAPES_ID_TO_TRAIN_ID.values()) == list(range(19))


def test_real_cityscapes_label_ids_are_mapped(tmp_path):
    """A tree as the Cityscapes release ships it: only *_gtFine_labelIds.png."""
    stem = 'aachen_000000_000019'
    img_dir = tmp_path / 'leftImg8bit' / 'val' / 'aachen'
    gt_dir = tmp_path / 'gtFine' / 'val' / 'aachen'
    img_dir.mkdir(parents=True)
    gt_dir.mkdir(parents=True)
    image = np.full((8, 16, 3), 90, np.uint8)
    label_ids = np.array([[7, 26, 0, 24] * 4] * 8, np.uint8)
    cv2.imwrite(str(img_dir / (stem + '_leftImg8bit.png')), image)
    cv2.imwrite(str(gt_dir / (stem + '_gtFine_labelIds.png')), label_ids)
    bgr, labels, meta = CityscapesDataset(tmp_path, 'val')[0]
    assert labels.tolist()[0][:4] == [0, 13, 255, 11]
    assert meta['city'] == 'aachen' and meta['condition'] == 'day'
    # a labelTrainIds file, where present, wins over labelIds
    cv2.imwrite(str(gt_dir / (stem + '_gtFine_labelTrainIds.png')), np.full((8, 16), 8, np.uint8))
    assert set(np.unique(CityscapesDataset(tmp_path, 'val')[0][1])) == {8}


@pytest.mark.parametrize('kwargs, message', [
    ({'split': 'train'}, 'no split directory'),
    ({'split': 'val', 'cities': ['dawn']}, 'dawn'),
])
def test_errors_name_the_problem_and_the_layout(tiny_tree, kwargs, message):
    with pytest.raises(CityscapesLayoutError, match=message) as info:
        CityscapesDataset(tiny_tree, **kwargs)
    assert 'leftImg8bit/<split>/<city>' in str(info.value)


def test_empty_root_and_missing_labels(tmp_path):
    with pytest.raises(CityscapesLayoutError, match='expected the Cityscapes layout'):
        CityscapesDataset(tmp_path, 'val')
    img_dir = tmp_path / 'leftImg8bit' / 'val' / 'day'
    img_dir.mkdir(parents=True)
    with pytest.raises(CityscapesLayoutError, match='no \\*_leftImg8bit.png frames'):
        CityscapesDataset(tmp_path, 'val')
    cv2.imwrite(str(img_dir / 'day_000000_000000_leftImg8bit.png'), np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(CityscapesLayoutError, match='no label file'):
        CityscapesDataset(tmp_path, 'val')
    data = CityscapesDataset(tmp_path, 'val', require_labels=False)
    assert data[0][1] is None


def test_cli_synth_parser():
    args = build_parser().parse_args(['synth', '--out', 'D', '--count', '8', '--seed', '1'])
    assert (args.out, args.count, args.seed, args.split) == ('D', 8, 1, 'train')
    assert tuple(args.conditions) == ('day', 'dusk', 'night') and args.size == (1280, 720)
    args = build_parser().parse_args(['synth', '--out', 'D', '--count', '2', '--split', 'val',
                                      '--conditions', 'night,day', '--size', '640x360'])
    assert args.conditions == ['night', 'day'] and args.size == (640, 360)


@pytest.mark.parametrize('argv', [
    ['synth', '--count', '8'],                                     # no --out
    ['synth', '--out', 'D', '--count', '0'],
    ['synth', '--out', 'D', '--count', '2', '--conditions', 'day,fog'],
    ['synth', '--out', 'D', '--count', '2', '--conditions', ''],
    ['synth', '--out', 'D', '--count', '2', '--size', '1280'],
    ['synth', '--out', 'D', '--count', '2', '--split', 'holdout'],
])
def test_cli_synth_parser_rejects(argv):
    with pytest.raises(SystemExit):
        build_parser().parse_args(argv)


def test_cli_synth_writes_identical_trees(tmp_path, capsys):
    from fxseg_ros.cli.main import main

    argv = ['--count', '1', '--seed', '1', '--size', '160x96', '--conditions', 'dusk']
    assert main(['synth', '--out', str(tmp_path / 'a')] + argv) == 0
    assert main(['synth', '--out', str(tmp_path / 'b')] + argv) == 0
    assert 'wrote 1 frames' in capsys.readouterr().out
    assert tree_digest(tmp_path / 'a') == tree_digest(tmp_path / 'b')
    assert len(tree_digest(tmp_path / 'a')) == 2
