# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The overlay blend and the model / label table class-count check (no ROS)."""


from fxseg_ros.data.labels import NUM_CLASSES, palette_rgb
from fxseg_ros.pipeline.classes import class_count_problem, model_class_count
from fxseg_ros.pipeline.overlay import blend_overlay
import numpy as np
import pytest

RNG = np.random.default_rng(11)


def reference_blend(frame_bgr, labels, palette, alpha):
    """(1 - a) x frame + a x colour in float64, rounded half up: BGR, (H, W, 3) uint8."""
    colors_bgr = palette[labels][..., ::-1].astype(np.float64)
    mixed = (1.0 - alpha) * frame_bgr.astype(np.float64) + alpha * colors_bgr
    return np.floor(mixed + 0.5).clip(0, 255).astype(np.uint8)


@pytest.mark.parametrize('alpha', [0.0, 0.25, 0.5, 0.8, 1.0])
@pytest.mark.parametrize('rgb', [False, True])
def test_blend_matches_an_independent_float_blend(alpha, rgb):
    frame = RNG.integers(0, 256, (9, 14, 3), dtype=np.uint8)
    labels = RNG.integers(0, NUM_CLASSES, (9, 14), dtype=np.uint8)
    labels[0, 0] = 255  # ignore label: black in the palette
    palette = palette_rgb()
    out = blend_overlay(frame, labels, palette, alpha, rgb=rgb)
    expected = reference_blend(frame, labels, palette, alpha)
    if rgb:
        expected = expected[..., ::-1]
    assert out.dtype == np.uint8 and out.shape == (9, 14, 3)
    # OpenCV rounds in single precision: one step apart at most where a value ends in .5
    assert np.abs(out.astype(int) - expected.astype(int)).max() <= 1
    if alpha == 0.0:
        np.testing.assert_array_equal(out, frame[..., ::-1] if rgb else frame)
    if alpha == 1.0:
        colors = palette[labels]
        np.testing.assert_array_equal(out, colors if rgb else colors[..., ::-1])


def test_blend_of_known_pixels():
    frame = np.array([[[0, 0, 0], [200, 100, 50]]], np.uint8)  # BGR
    labels = np.array([[13, 0]], np.uint8)  # car (0, 0, 142) and road (128, 64, 128), RGB
    out = blend_overlay(frame, labels, palette_rgb(), 0.5)
    # by hand: 0.5 x (0, 0, 0) + 0.5 x BGR(142, 0, 0); 0.5 x (200, 100, 50) + 0.5 x (128, 64, 128)
    np.testing.assert_array_equal(out, [[[71, 0, 0], [164, 82, 89]]])


@pytest.mark.parametrize('frame_shape, labels_shape, alpha', [
    ((4, 5, 3), (4, 6), 0.5), ((4, 5, 3), (4, 5), 1.5), ((4, 5, 3), (4, 5), -0.1)])
def test_blend_refuses_bad_input(frame_shape, labels_shape, alpha):
    with pytest.raises(ValueError):
        blend_overlay(np.zeros(frame_shape, np.uint8), np.zeros(labels_shape, np.uint8),
                      palette_rgb(), alpha)


def test_class_count_of_bare_and_deployment_graphs(tmp_path):
    from conftest import make_tiny_net
    from fxseg_ros.model import deploy

    for classes in (NUM_CLASSES, 10):
        bare = make_tiny_net(tmp_path / ('net%d.onnx' % classes), num_classes=classes)
        assert model_class_count(str(bare)) == classes
        wrapped = deploy.build_deployment_graph(str(bare), camera_hw=(72, 128))
        assert model_class_count(wrapped) == classes


@pytest.mark.parametrize('classes, names, problem', [
    (19, ['c%d' % i for i in range(19)], None),
    (None, ['a'], None),  # unknown: not checked
    (10, ['c%d' % i for i in range(19)], 'scores 10 classes but the label table T has 19'),
    (19, ['free', '', 'obstacle'], 'scores 19 classes but the label table T has 3'),
])
def test_class_count_problem(classes, names, problem):
    text = class_count_problem(classes, names, 'M', 'T')
    if problem is None:
        assert text is None
    else:
        assert problem in text and 'labels_file' in text and text.startswith('the model M')
