# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Synthetic scene generator: determinism, frame/label consistency, classes, lighting."""

import cv2
from fxseg_ros.data.conditions import CONDITIONS
from fxseg_ros.data.labels import TRAIN_ID
from fxseg_ros.data.synth import generate_sequence, RENDERED_CLASSES, SceneGenerator
import numpy as np
import pytest

ROAD, SKY, PERSON = TRAIN_ID['road'], TRAIN_ID['sky'], TRAIN_ID['person']
REQUIRED = ('road', 'sidewalk', 'building', 'pole', 'traffic sign', 'vegetation', 'sky', 'person',
            'car', 'truck')


@pytest.fixture(scope='module')
def generator():
    return SceneGenerator(seed=11)


@pytest.fixture(scope='module')
def day_frames(generator):
    return [generator.generate(i, 'day') for i in range(8)]


def test_same_seed_gives_identical_frames_in_any_order():
    a = SceneGenerator(5)
    b = SceneGenerator(5)
    first = [a.generate(i, c) for i, c in ((0, 'day'), (1, 'night'), (2, 'dusk'))]
    # b renders in another order, with other frames in between
    b.generate(7, 'day')
    later = [b.generate(i, c) for i, c in ((2, 'dusk'), (1, 'night'), (0, 'day'))][::-1]
    for (img_a, lab_a), (img_b, lab_b) in zip(first, later):
        assert img_a.tobytes() == img_b.tobytes()
        assert lab_a.tobytes() == lab_b.tobytes()


@pytest.mark.parametrize('other', [
    {'seed': 6, 'index': 0, 'condition': 'day'},     # another seed
    {'seed': 5, 'index': 1, 'condition': 'day'},     # another scene
    {'seed': 5, 'index': 0, 'condition': 'night'},   # another condition
])
def test_different_inputs_give_different_frames(other):
    ref_img, ref_lab = SceneGenerator(5).generate(0, 'day')
    img, lab = SceneGenerator(other['seed']).generate(other['index'], other['condition'])
    assert not np.array_equal(img, ref_img)
    if other['condition'] == 'day':
        assert not np.array_equal(lab, ref_lab)


def test_frame_and_label_format(day_frames):
    img, lab = day_frames[0]
    assert img.shape == (720, 1280, 3) and img.dtype == np.uint8
    assert lab.shape == (720, 1280) and lab.dtype == np.uint8
    for _, labels in day_frames:
        assert set(np.unique(labels)) <= set(RENDERED_CLASSES)


def test_other_frame_size():
    img, lab = SceneGenerator(3, size_wh=(640, 360)).generate(0, 'dusk')
    assert img.shape == (360, 640, 3) and lab.shape == (360, 640)
    assert len(np.unique(lab)) >= 5


def test_required_classes_appear_over_a_few_frames(day_frames):
    seen = set()
    for _, labels in day_frames:
        seen |= set(np.unique(labels).tolist())
    missing = [name for name in REQUIRED if TRAIN_ID[name] not in seen]
    assert not missing


def test_day_sky_is_bright_blue_and_road_is_grey(day_frames):
    for img, lab in day_frames:
        sky = img[lab == SKY].astype(np.float32)
        if len(sky) > 2000:
            b, g, r = sky.mean(axis=0)
            assert b > r + 15 and b > 120, (b, g, r)
        road = img[lab == ROAD].astype(np.float32)
        b, g, r = np.median(road, axis=0)
        assert max(b, g, r) - min(b, g, r) < 20       # grey
        assert 40 < g < 170


def test_lane_markings_are_labelled_road(day_frames):
    """Bright painted pixels exist inside the road label (markings are road, not a class)."""
    for img, lab in day_frames:
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        road = lab == ROAD
        median = np.median(gray[road])
        bright = road & (gray > median + 60)
        assert bright.sum() > 500


def test_labels_match_image_edges(day_frames):
    """Label boundaries sit on image edges: the image changes across most label boundaries."""
    img, lab = day_frames[1]
    blurred = cv2.GaussianBlur(img, (0, 0), 1.0).astype(np.int16)
    h_boundary = lab[:, 1:] != lab[:, :-1]
    diff = np.abs(blurred[:, 1:] - blurred[:, :-1]).sum(axis=2)
    # two pixels to the side of a boundary vs the same over flat label areas
    across = np.abs(blurred[:, 3:] - blurred[:, :-3]).sum(axis=2)
    at_boundary = across[h_boundary[:, 1:-1]]
    flat = diff[~h_boundary]
    assert np.median(at_boundary) > 3 * np.median(flat) + 5


def test_small_distant_and_large_near_persons_exist(generator):
    heights = []
    for i in range(16):
        _, lab = generator.generate(i, 'day')
        count, _, stats, _ = cv2.connectedComponentsWithStats((lab == PERSON).astype(np.uint8))
        heights += [int(stats[k, cv2.CC_STAT_HEIGHT]) for k in range(1, count)]
    assert heights, 'no person rendered in 16 frames'
    assert min(heights) < 40          # distant pedestrians (< 20 px at 640x360)
    assert max(heights) > 150         # near ones


@pytest.mark.parametrize('condition, low, high', [
    ('day', 90, 200),
    ('dusk', 45, 130),
    ('night', 5, 60),
])
def test_condition_brightness(generator, condition, low, high):
    means = [generator.generate(i, condition)[0].mean() for i in range(4)]
    assert low < float(np.mean(means)) < high


def test_night_is_much_darker_and_flatter_than_day(generator):
    day = [generator.generate(i, 'day')[0] for i in range(3)]
    night = [generator.generate(i, 'night')[0] for i in range(3)]
    assert np.mean([f.mean() for f in night]) < 0.45 * np.mean([f.mean() for f in day])
    assert np.mean([np.percentile(f, 50) for f in night]) < 60
    # light sources: night frames still have bright pixels (lamps, car lights)
    assert np.mean([(f.max(axis=2) > 200).mean() for f in night]) > 1e-4


def test_conditions_draw_independent_scenes(generator):
    _, day = generator.generate(3, 'day')
    _, night = generator.generate(3, 'night')
    # (seed, index) renders a different street per condition, so a night set is not a
    # relit copy of the day set
    assert (day == night).mean() < 0.9


def test_unknown_condition_is_rejected(generator):
    with pytest.raises(ValueError, match='day, dusk, night'):
        generator.generate(0, 'fog')
    assert CONDITIONS == ('day', 'dusk', 'night')


def test_sequence_random_access_and_ego_motion():
    gen = SceneGenerator(2, size_wh=(640, 360))
    frames = list(gen.generate_sequence(0, 4, 'day', fps=10.0))
    assert len(frames) == 4
    again = list(generate_sequence(2, 2, 2, 'day', size_wh=(640, 360), fps=10.0))
    for (img_a, lab_a), (img_b, lab_b) in zip(frames[2:], again):
        assert img_a.tobytes() == img_b.tobytes() and lab_a.tobytes() == lab_b.tobytes()
    # consecutive frames show the same street, moved: labels agree mostly but not fully
    agree = [(frames[k][1] == frames[k + 1][1]).mean() for k in range(3)]
    assert all(0.6 < a < 0.999 for a in agree), agree
    other = next(gen.generate_sequence(1, 1, 'day'))[1]
    assert (other == frames[0][1]).mean() < min(agree)


#: SHA-256 of two frames (night index 5, day index 1000001) and two sequence frames (dusk, drive 2,
#: frames 3-4) of SceneGenerator(3, (160, 96), traffic_lights=True), image bytes then label bytes,
#: computed once with the generator as it was before it became a package. They depend on
#: OpenCV's rasteriser and blur, so they are pinned per OpenCV version.
PINNED_DIGESTS = {
    '5.0.0': ('7c5beed8051df79f32350460cd55a6d7047044fc4955f26ef993af417594d796',
              '455381b0981c7979055a538fdab9e1be0fed281ddb2c95e3bfe04a5b2f75e717'),
    '4.5.5': ('df0f8d3ced62a28d563744b7cd68b73aaca37d86fb33b3e526fdf8f3be39a3af',
              'ddf976c354319683a70fbcebea679daec4651b228358313679a6e3691110a40a'),
}


def _digest(pairs):
    import hashlib

    h = hashlib.sha256()
    for img, lab in pairs:
        h.update(img.tobytes())
        h.update(lab.tobytes())
    return h.hexdigest()


def test_frames_are_byte_identical_to_the_pinned_digests():
    if cv2.__version__ not in PINNED_DIGESTS:
        pytest.skip('no digest pinned for OpenCV %s (pinned: %s)'
                    % (cv2.__version__, ', '.join(sorted(PINNED_DIGESTS))))
    gen = SceneGenerator(3, (160, 96), traffic_lights=True)
    frames = _digest([gen.generate(5, 'night'), gen.generate(1000001, 'day')])
    sequence = _digest(list(gen.generate_sequence(2, 2, 'dusk', start=3)))
    assert (frames, sequence) == PINNED_DIGESTS[cv2.__version__]
