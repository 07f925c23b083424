# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Streaming accuracy: confusion matrices by hand, small objects on constructed label maps."""

from __future__ import annotations

from fxseg_ros.data.labels import NUM_CLASSES
from fxseg_ros.metrics.accumulate import (AccuracyAccumulator, add_joint_histogram,
                                          joint_histogram, StageLatencies)
from fxseg_ros.metrics.confusion import ConfusionMatrix
from fxseg_ros.metrics.small_objects import extract_small_objects, SmallObjectMetric
import numpy as np
import pytest

ROAD, SIDEWALK, BUILDING, POLE, SKY, PERSON, CAR = 0, 1, 2, 5, 10, 11, 13


def hand_case():
    """
    Return a 4x4 ground truth / prediction pair.

    With an ignore pixel, a predicted class absent from ground truth (sky) and an out-of-range
    prediction (200).
    """
    gt = np.array([[0, 0, 0, 1],
                   [0, 0, 1, 1],
                   [2, 2, 255, 1],
                   [2, 2, 2, 2]], np.uint8)
    pred = np.array([[0, 0, 1, 1],
                     [0, 10, 1, 1],
                     [2, 2, 0, 1],
                     [2, 200, 2, 10]], np.uint8)
    # rows gt 0,1,2; columns pred 0,1,2,10, out-of-range
    expected = np.zeros((NUM_CLASSES, NUM_CLASSES + 1), np.int64)
    expected[0, 0], expected[0, 1], expected[0, 10] = 3, 1, 1
    expected[1, 1] = 4
    expected[2, 2], expected[2, 10], expected[2, NUM_CLASSES] = 4, 1, 1
    # IoU: road 3/(5+3-3)=0.6, sidewalk 4/(4+5-4)=0.8, building 4/(6+4-4)=2/3;
    # sky is predicted but absent from ground truth: IoU 0, not part of the mIoU.
    return gt, pred, expected, (0.6 + 0.8 + 2 / 3) / 3, 11 / 15


@pytest.mark.parametrize('path', ['update', 'joint_histogram'])
def test_confusion_matrix_by_hand(path):
    gt, pred, expected, miou, acc = hand_case()
    cm = ConfusionMatrix()
    if path == 'update':
        cm.update(gt, pred)
    else:
        add_joint_histogram(cm, joint_histogram(gt, pred))
    np.testing.assert_array_equal(cm.matrix, expected)
    iou = cm.iou()
    assert iou[0] == pytest.approx(0.6) and iou[1] == pytest.approx(0.8)
    assert iou[2] == pytest.approx(2 / 3) and iou[SKY] == 0.0
    assert np.isnan(iou[PERSON])
    assert cm.miou() == pytest.approx(miou)
    assert cm.pixel_accuracy() == pytest.approx(acc)


def test_joint_histogram_equals_confusion_update_on_random_frames():
    rng = np.random.default_rng(1)
    a, b = ConfusionMatrix(), ConfusionMatrix()
    for _ in range(3):
        gt = rng.integers(0, 22, (72, 128)).astype(np.uint8)
        gt[rng.random(gt.shape) < 0.1] = 255
        pred = rng.integers(0, 21, (72, 128)).astype(np.uint8)
        a.update(gt, pred)
        add_joint_histogram(b, joint_histogram(gt, pred))
    np.testing.assert_array_equal(a.matrix, b.matrix)


def test_accuracy_accumulator_per_condition_and_totals():
    gt, pred, expected, miou, _ = hand_case()
    acc = AccuracyAccumulator()
    acc.update(gt, pred, 'day')
    acc.update(gt, gt.copy(), 'night')  # perfect at night
    out = acc.compute()
    assert out['frames'] == 2
    assert out['conditions']['day']['miou'] == pytest.approx(miou)
    assert out['conditions']['night']['miou'] == pytest.approx(1.0)
    both = expected.copy()
    both[0, 0] += 5  # the perfect night frame adds every labelled pixel to the diagonal
    both[1, 1] += 4
    both[2, 2] += 6
    np.testing.assert_array_equal(np.array(out['confusion_matrix']), both)
    # over both frames: road 8/10, sidewalk 8/(8+9-8), building 10/12
    assert out['miou'] == pytest.approx((0.8 + 8 / 9 + 10 / 12) / 3)


def small_scene():
    """
    Return 12x12 labels with small objects.

    A 13-pixel person (a 3x3 block and a 2x2 block touching diagonally, one 8-connected
    component), a 1-pixel person, a 30-pixel car, one ignore pixel.
    """
    gt = np.zeros((12, 12), np.uint8)
    gt[2:5, 2:5] = PERSON
    gt[5:7, 5:7] = PERSON
    gt[0, 11] = PERSON
    gt[7:12, 0:6] = CAR
    gt[3, 5] = 255
    pred = np.zeros_like(gt)
    pred[2:5, 2:5] = PERSON     # 9 of the 13 pixels found
    pred[2, 5] = PERSON         # next to the object: false positive in its ring
    pred[2, 7] = PERSON         # 3 px away: outside a 1 px ring, not a small-object error
    pred[3, 5] = PERSON         # ground truth ignore: never counted
    pred[7, 5] = PERSON         # car pixel next to the object: false positive in its ring
    pred[0, 10] = PERSON        # next to the 1-pixel person, which itself is missed
    pred[9:11, 1:3] = PERSON    # inside the (large) car: not near a small person
    return gt, pred


@pytest.mark.parametrize('max_pixels,expected', [
    (14, [(PERSON, 13), (PERSON, 1)]),
    (13, [(PERSON, 1)]),                       # strictly below the threshold
    (31, [(PERSON, 13), (PERSON, 1), (CAR, 30)]),
    (1, []),
])
def test_extract_small_objects(max_pixels, expected):
    gt, _ = small_scene()
    per_class = extract_small_objects(gt, max_pixels=max_pixels, margin=1)
    found = [(c.class_id, int(a)) for c in per_class for a in c.areas]
    assert sorted(found) == sorted(expected)
    for c in per_class:
        x, y, w, h = c.window
        assert c.ids.shape == c.ring.shape == (h, w)
        for k, area in enumerate(c.areas, start=1):
            assert int(np.count_nonzero(c.ids == k)) == area
            assert np.all(gt[y:y + h, x:x + w][c.ids == k] == c.class_id)
        # The ring never holds the class itself or ignore pixels.
        assert not np.any(np.isin(gt[y:y + h, x:x + w][c.ring], [c.class_id, 255]))


def test_small_object_iou_by_hand():
    gt, pred = small_scene()
    m = SmallObjectMetric(max_pixels=20, margin=1)
    m.update(gt, pred)
    # object A (13 px): TP 9, FN 4, ring FP (2,5) and (7,5); object B (1 px): TP 0, FN 1,
    # ring FP (0,10).
    assert (m.tp[PERSON], m.fn[PERSON], m.fp[PERSON]) == (9, 5, 3)
    assert m.iou()[PERSON] == pytest.approx(9 / 17)
    out = m.compute()
    person = out['per_class']['person']
    assert person['instances'] == 2 and person['instance_recall'] == 0.5
    assert person['pixel_recall'] == pytest.approx(9 / 14)
    assert out['miou'] == pytest.approx(9 / 17)
    assert 'car' not in out['per_class']
    # Without a ring only misses count.
    m0 = SmallObjectMetric(max_pixels=20, margin=0)
    m0.update(gt, pred)
    assert m0.iou()[PERSON] == pytest.approx(9 / 14)


def test_small_objects_perfect_and_absent():
    gt, _ = small_scene()
    m = SmallObjectMetric(max_pixels=20, margin=2)
    m.update(gt, gt.copy())
    assert m.miou() == 1.0 and m.compute()['instance_recall'] == 1.0
    empty = SmallObjectMetric(max_pixels=20)
    empty.update(np.zeros((8, 8), np.uint8), np.zeros((8, 8), np.uint8))
    assert empty.compute()['miou'] is None and empty.compute()['instances'] == 0


def test_stage_latencies_percentiles_and_batches():
    lat = StageLatencies()
    for ms in range(1, 101):
        lat.add({'inference': float(ms), 'total': 2.0 * ms})
    lat.add({'inference': 40.0, 'total': 80.0}, frames=4)  # a batch of 4: 10 / 20 ms per frame
    s = lat.summary()
    assert list(s) == ['inference', 'total']
    assert s['inference']['count'] == 101
    assert s['inference']['max'] == 100.0
    expected = np.percentile(np.r_[np.arange(1, 101), 10.0], [50, 95])
    assert s['inference']['p50'] == pytest.approx(expected[0])
    assert s['total']['p95'] == pytest.approx(2 * expected[1])


def reference_small_objects(gt, max_pixels, classes):
    """Return the straightforward definition: per-class labelling of the whole frame."""
    import cv2
    found = []
    for c in classes:
        n, lab, stats, _ = cv2.connectedComponentsWithStats((gt == c).astype(np.uint8), 8)
        for k in range(1, n):
            if stats[k, cv2.CC_STAT_AREA] < max_pixels:
                ys, xs = np.nonzero(lab == k)
                found.append((c, int(stats[k, cv2.CC_STAT_AREA]),
                              tuple(sorted(zip(ys.tolist(), xs.tolist())))))
    return sorted(found)


def extracted(gt, max_pixels, classes):
    out = []
    for obj in extract_small_objects(gt, max_pixels=max_pixels, classes=classes, margin=2):
        x, y, _, _ = obj.window
        for k, area in enumerate(obj.areas, start=1):
            ys, xs = np.nonzero(obj.ids == k)
            out.append((obj.class_id, int(area),
                        tuple(sorted(zip((ys + y).tolist(), (xs + x).tolist())))))
    return sorted(out)


@pytest.mark.parametrize('seed', range(6))
def test_extraction_equals_per_class_labelling(seed):
    """Random blobs, rings with holes and islands, thin diagonals, frame borders."""
    import cv2
    rng = np.random.default_rng(seed)
    gt = np.zeros((120, 160), np.uint8)
    for _ in range(40):
        c = int(rng.choice([PERSON, CAR, POLE]))
        kind = rng.integers(0, 4)
        x, y = int(rng.integers(-5, 160)), int(rng.integers(-5, 120))
        if kind == 0:
            cv2.circle(gt, (x, y), int(rng.integers(1, 14)), c, -1)
        elif kind == 1:
            cv2.line(gt, (x, y), (x + int(rng.integers(-60, 60)), y + int(rng.integers(-60, 60))),
                     c, 1)
        elif kind == 2:
            r = int(rng.integers(6, 25))
            cv2.circle(gt, (x, y), r, c, 2)            # a ring: a component with a hole
            cv2.circle(gt, (x, y), max(r // 4, 1), c, -1)  # and an island inside it
        else:
            gt[y:y + int(rng.integers(1, 30)), x:x + int(rng.integers(1, 30))] = c
    gt[rng.random(gt.shape) < 0.01] = 255
    for max_pixels in (1, 8, 50, 300, 5000):
        ref = reference_small_objects(gt, max_pixels, (PERSON, CAR, POLE))
        assert extracted(gt, max_pixels, (PERSON, CAR, POLE)) == ref


def test_extraction_equals_per_class_labelling_on_synthetic_frames():
    from fxseg_ros.data.synth import SceneGenerator
    from fxseg_ros.metrics.small_objects import DEFAULT_SMALL_CLASSES

    gen = SceneGenerator(3, size_wh=(640, 360))
    for cond in ('day', 'night'):
        _, gt = gen.generate(1, cond)
        ref = reference_small_objects(gt, 400, DEFAULT_SMALL_CLASSES)
        assert ref, 'the synthetic frame should have small objects'
        assert extracted(gt, 400, DEFAULT_SMALL_CLASSES) == ref
