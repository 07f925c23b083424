# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Offline replay through the node's pipeline, the report and the `fxseg eval` command."""

from __future__ import annotations

import json
import re

from conftest import frame_source, make_tiny_net, session, smooth_frame
import cv2
from fxseg_ros.cli.main import build_parser, main
from fxseg_ros.data.bag import BagSpec, BagWriter, write_synthetic_bag
from fxseg_ros.data.labels import NUM_CLASSES
from fxseg_ros.data.preprocess import postprocess, preprocess
from fxseg_ros.eval import replay, sources
from fxseg_ros.eval.models import describe_model
from fxseg_ros.eval.report import article_table, format_bytes, write_report
import numpy as np
import pytest

SIZE_WH = (160, 96)


@pytest.fixture(scope='module')
def tiny_bag(tmp_path_factory):
    spec = BagSpec(storage='mcap', frames_per_condition=3, conditions=('day', 'night'),
                   size_wh=SIZE_WH, seed=5)
    return write_synthetic_bag(tmp_path_factory.mktemp('bag') / 'drive', spec,
                               frame_source=frame_source).path


@pytest.fixture(scope='module')
def tiny_net_b(tmp_path_factory):
    return make_tiny_net(tmp_path_factory.mktemp('tinyb') / 'tiny_b.onnx', seed=1)


def independent_miou(bag, model):
    """
    Return the mIoU overall and per condition, computed another way than the replay.

    rosbags messages grouped by stamp (no BagFrameReader), raw bytes reshaped with numpy (no
    pipeline.convert), the bare network on `preprocess()` blobs (no deployment graph, no runner),
    `postprocess()`, and IoU from a confusion matrix counted here with np.bincount (no
    ConfusionMatrix): classes present in the ground truth, 255 ignored, predictions outside the
    classes wrong.
    """
    from fxseg_ros.data.bag import get_typestore
    from rosbags.rosbag2 import Reader

    store = get_typestore()
    frames, labels, conditions = {}, {}, {}
    with Reader(bag) as reader:
        for conn, log_ns, raw in reader.messages():
            msg = store.deserialize_cdr(raw, conn.msgtype)
            if conn.topic == '/fxseg/condition':
                conditions[log_ns] = msg.data   # logged at the frame stamp
                continue
            stamp = msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec
            pixels = np.asarray(msg.data, np.uint8).reshape(msg.height, msg.step)
            if conn.topic.endswith('/labels'):
                labels[stamp] = pixels[:, :msg.width]
            else:
                frames[stamp] = pixels[:, :3 * msg.width].reshape(msg.height, msg.width, 3)
    bare = session(model)
    n = NUM_CLASSES
    counts = {}
    for stamp in sorted(frames):
        scores = bare.run(None, {'input': preprocess(frames[stamp])})[0]
        pred = postprocess(scores, (frames[stamp].shape[1], frames[stamp].shape[0]))[0]
        gt = labels[stamp]
        keep = gt != 255
        pairs = gt[keep].astype(np.int64) * (n + 1) + np.minimum(pred[keep], n)
        cm = np.bincount(pairs, minlength=n * (n + 1)).reshape(n, n + 1)
        for key in ('all', conditions[stamp]):
            counts[key] = counts.get(key, 0) + cm
    result = {}
    for key, cm in counts.items():
        tp = np.diag(cm[:, :n]).astype(np.float64)
        union = cm.sum(axis=1) + cm[:, :n].sum(axis=0) - tp
        present = cm.sum(axis=1) > 0
        result[key] = float(np.mean(tp[present] / union[present]))
    return result


@pytest.mark.slow
def test_replay_accuracy_equals_an_independent_computation(demo_model, tmp_path):
    """The demo model on synthetic scenes at its input size: the replay's mIoU, exactly."""
    spec = BagSpec(frames_per_condition=2, conditions=('day', 'night'), size_wh=(640, 360),
                   seed=3)
    bag = write_synthetic_bag(tmp_path / 'drive', spec).path
    ev = replay.evaluate(sources.bag_source(bag), replay.default_run_specs([str(demo_model)]),
                         progress=False, overlays=0)
    want = independent_miou(bag, demo_model)
    got = ev.runs[0].accuracy
    assert want['all'] > 0.3   # a real model on real-looking frames, not a degenerate case
    assert got.cm.miou() == pytest.approx(want['all'], abs=1e-9)
    for condition in ('day', 'night'):
        assert got.by_condition[condition].miou() == pytest.approx(want[condition], abs=1e-9)


def test_a_precision_label_the_model_is_not_is_refused(tiny_bag, tiny_net):
    specs = replay.default_run_specs([tiny_net], ['int8'])
    with pytest.raises(replay.EvalError, match='is FP32, not int8: it has float32 weights'):
        replay.evaluate(sources.bag_source(tiny_bag), specs, progress=False)


def test_replay_of_two_models_and_its_report(tiny_bag, tiny_net, tiny_net_b, tmp_path):
    # Two float networks: a label that says otherwise is refused (see the test below).
    specs = replay.default_run_specs([tiny_net, tiny_net_b], ['fp32', 'fp32'])
    ev = replay.evaluate(sources.bag_source(tiny_bag), specs, progress=False, overlays=2,
                         small_max_pixels=500)
    assert ev.reference == 'tiny_net'
    assert ev.dataset['frames'] == 6 and ev.dataset['frames_evaluated'] == 6
    for res in ev.runs:
        assert res.accuracy.frames == 6
        assert sorted(res.accuracy.frames_by_condition.items()) == [('day', 3), ('night', 3)]
        assert res.frames == 6 and res.latency.samples('total').size == 6
        assert (res.latency.samples('inference') > 0).all()
    # The two random networks disagree; the overlays are the frames where they disagree most.
    assert len(ev.overlays) == 2
    assert ev.overlays[0].disagreement >= ev.overlays[1].disagreement > 0

    paths = write_report(ev, tmp_path / 'report')
    metrics = json.loads(paths['metrics'].read_text())
    report = paths['report'].read_text()
    # Every number in the article's table comes from metrics.json.
    for run in metrics['runs']:
        row = next(line for line in report.splitlines()
                   if line.startswith('| %s |' % run['name']))
        cells = [c.strip() for c in row.strip('|').split('|')]
        assert cells[2] == {'fp32': 'FP32', 'int8': 'INT8'}[run['precision']] == 'FP32'
        assert cells[3] == format_bytes(run['weight_bytes'])
        assert cells[4] == '%.1f' % run['latency_ms']['total']['p50']
        assert cells[6] == '%.2f' % (100 * run['accuracy']['miou'])
    drop = 100 * (metrics['runs'][0]['accuracy']['miou'] - metrics['runs'][1]['accuracy']['miou'])
    assert metrics['runs'][1]['drop_vs_reference'] == pytest.approx(drop)
    assert '%+.2f' % drop in report
    assert set(metrics['runs'][0]['accuracy']['conditions']) == {'day', 'night'}
    assert metrics['runs'][0]['accuracy']['small_objects']['instances'] > 0
    cm = np.array(metrics['runs'][0]['accuracy']['confusion_matrix'])
    assert cm.sum() == metrics['runs'][0]['accuracy']['pixels']
    for name in ('confusion', 'per_class_iou', 'latency_hist', 'overlay_00', 'overlay_01'):
        img = cv2.imread(str(paths[name]))
        assert img is not None and img.shape[0] > 100, name
        assert 'plots/' in metrics['plots'][name]
        assert metrics['plots'][name] in report


def test_article_table_format():
    rows = [{'platform': 'CPU', 'precision': 'fp32', 'weight_bytes': 239.6e6,
             'latency_ms': 40.0, 'miou': 0.6123},
            {'platform': 'CPU', 'precision': 'int8', 'weight_bytes': 60e6, 'latency_ms': 12.5,
             'miou': 0.6021}]
    text = article_table(rows)
    lines = text.splitlines()
    assert lines[0] == ('| Platform | Precision | Weights | Latency p50 (ms) | FPS | mIoU (%) | '
                        'Drop vs FP32 (mIoU points) |')
    assert lines[2] == '| CPU | FP32 | 240 MB | 40.0 | 25 | 61.23 | baseline |'
    assert lines[3] == '| CPU | INT8 | 60.0 MB | 12.5 | 80 | 60.21 | +1.02 |'
    assert format_bytes(2310000) == '2.31 MB' and format_bytes(610) == '610 B'


def test_weight_bytes_follow_the_stored_precision(tiny_net):
    # tiny_net: conv1 8x3x3x3 + 8, conv2 16x8x3x3 + 16, score 19x16 + 19, scales 4, roi 0.
    params = 8 * 27 + 8 + 16 * 72 + 16 + 19 * 16 + 19 + 4
    fp32 = describe_model(tiny_net)
    assert fp32['precision'] == 'fp32' and fp32['weight_bytes'] == 4 * params
    fp16 = describe_model(tiny_net, 'fp16')
    assert fp16['weight_bytes'] == 2 * params


def test_frames_without_labels_are_counted_not_fatal(tiny_net, tmp_path):
    bag = tmp_path / 'partial'
    with BagWriter(bag, storage='sqlite3') as w:
        w.add_camera('/camera')
        for i in range(5):
            bgr, labels = smooth_frame(i, SIZE_WH)
            w.write_frame('/camera', 10**18 + i * 10**8, bgr, None if i in (0, 3) else labels)
    ev = replay.evaluate(sources.bag_source(bag), replay.default_run_specs([tiny_net]),
                         progress=False)
    assert ev.dataset['frames'] == 5
    assert ev.dataset['frames_evaluated'] == 3 and ev.dataset['frames_unlabelled'] == 2
    assert ev.dataset['frames_without_label'] == 2
    assert ev.runs[0].accuracy.frames == 3


@pytest.mark.parametrize('with_ms, without_ms, expected', [
    (150.0, 100.0, 50.0), (90.0, 100.0, -10.0), (100.0, 100.0, 0.0)])
def test_overhead_is_the_extra_time_over_the_bare_replay(with_ms, without_ms, expected):
    assert replay.overhead_pct(with_ms, without_ms) == pytest.approx(expected)


def test_a_bare_replay_scores_nothing(tiny_bag, tiny_net):
    bare = replay.evaluate(sources.bag_source(tiny_bag), replay.default_run_specs([tiny_net]),
                           progress=False, collect_metrics=False, overlays=0)
    run = bare.runs[0]
    assert run.frames == 6 and run.latency.samples('total').size == 6
    assert run.accuracy.frames == 0 and run.metrics_ms == 0.0
    assert bare.dataset['frames_evaluated'] == 0


def test_eval_cli_on_a_bag(tiny_bag, tiny_net, tmp_path, capsys):
    import time

    out = tmp_path / 'rep'
    started = time.perf_counter()
    rc = main(['eval', '--bag', str(tiny_bag), '--model', str(tiny_net), '--report', str(out),
               '--no-progress', '--max-frames', '4', '--measure-overhead'])
    elapsed_ms = (time.perf_counter() - started) * 1e3
    assert rc == 0
    printed = capsys.readouterr().out
    metrics = json.loads((out / 'metrics.json').read_text())
    assert metrics['dataset']['frames'] == 4
    timing = metrics['timing']
    # Two replays ran inside the command, one after the other, each longer than its pipeline.
    assert 0 < timing['bare_pipeline_ms'] <= timing['bare_wall_ms']
    assert 0 < timing['pipeline_ms'] <= timing['wall_ms']
    assert timing['wall_ms'] + timing['bare_wall_ms'] < elapsed_ms
    # What is printed is what metrics.json holds, the percentage of the printed times.
    line = re.search(r'replay with metrics took (\d+) ms, without (\d+) ms: ([+-]\d+\.\d) %',
                     printed)
    assert line is not None, printed
    with_ms, without_ms, pct = int(line.group(1)), int(line.group(2)), float(line.group(3))
    assert (with_ms, without_ms) == (round(timing['wall_ms']), round(timing['bare_wall_ms']))
    assert pct == round(timing['overhead_vs_bare_pct'], 1)
    # ... and that percentage is the with-metrics replay's wall time over the bare replay's wall
    # time (both stored), not over a pipeline-only time
    assert timing['overhead_vs_bare_pct'] == pytest.approx(
        100.0 * (timing['wall_ms'] / timing['bare_wall_ms'] - 1.0), abs=0.05)
    assert (pct > 0) == (timing['wall_ms'] > timing['bare_wall_ms'])
    miou = metrics['runs'][0]['accuracy']['miou']
    assert re.search(r'\| tiny_net \| .* \| FP32 \| .* \| %.2f \| baseline \|' % (100 * miou),
                     printed)
    assert '--max-frames 4' in (out / 'report.md').read_text()


def test_eval_cli_errors_list_the_topics(tiny_bag, tiny_net, capsys):
    rc = main(['eval', '--bag', str(tiny_bag), '--image-topic', '/front/image_raw',
               '--model', str(tiny_net), '--no-progress'])
    err = capsys.readouterr().err
    assert rc == 2
    assert '--image-topic' in err and 'no topic /front/image_raw' in err
    assert '/camera/labels' in err
    rc = main(['eval', '--bag', str(tiny_bag), '--model', str(tiny_net), str(tiny_net),
               '--precision', 'fp32', '--no-progress'])
    assert rc == 2 and 'one per --model' in capsys.readouterr().err


@pytest.mark.parametrize('argv,message', [
    (['eval', '--model', 'm.onnx'], 'one of the arguments --bag --data is required'),
    (['eval', '--bag', 'b', '--data', 'd', '--model', 'm.onnx'], 'not allowed with'),
    (['eval', '--bag', 'b', '--model', 'm.onnx', '--rate', 'fast'], "'recorded', 'max'"),
    (['make-bag', '--out', 'x', '--conditions', 'day,rain'],
     'unknown condition(s) rain; choose from day,dusk,night'),
    (['make-bag', '--out', 'x', '--size', '12x12'], 'too small'),
])
def test_parsers_reject_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(argv)
    assert message in capsys.readouterr().err


def test_parsers_accept_the_documented_arguments():
    args = build_parser().parse_args(
        ['eval', '--bag', 'b', '--model', 'a.onnx', 'b.onnx', '--precision', 'fp32,int8',
         '--live', '--rate', '15', '--report', 'r'])
    assert args.model == ['a.onnx', 'b.onnx'] and args.precision == ['fp32', 'int8']
    assert args.rate == 15.0 and args.live
    args = build_parser().parse_args(
        ['make-bag', '--out', 'o', '--storage', 'sqlite3', '--compressed', '--cameras', '2',
         '--frames-per-condition', '5', '--conditions', 'day,dusk,night', '--seed', '3'])
    assert (args.storage, args.compressed, args.cameras, args.frames_per_condition,
            args.conditions, args.seed) == ('sqlite3', True, 2, 5, ['day', 'dusk', 'night'], 3)
    assert build_parser().parse_args(['demo', '--out', 'd']).out == 'd'


def test_eval_cli_on_a_cityscapes_folder(tiny_net, tmp_path, capsys):
    from fxseg_ros.data.synth import write_cityscapes

    root = tmp_path / 'heldout'
    write_cityscapes(root, 2, seed=9, split='val', conditions=('day', 'night'),
                     size_wh=SIZE_WH, progress=False)
    out = tmp_path / 'rep'
    rc = main(['eval', '--data', str(root), '--model', str(tiny_net), '--report', str(out),
               '--no-progress'])
    assert rc == 0, capsys.readouterr().err
    metrics = json.loads((out / 'metrics.json').read_text())
    assert metrics['dataset']['source'] == 'cityscapes'
    assert metrics['dataset']['frames'] == 4 and metrics['dataset']['frames_evaluated'] == 4
    assert set(metrics['runs'][0]['accuracy']['conditions']) == {'day', 'night'}
    rc = main(['eval', '--data', str(tmp_path / 'nothing'), '--model', str(tiny_net),
               '--no-progress'])
    assert rc == 2 and 'does not exist' in capsys.readouterr().err
    (tmp_path / 'nothing').mkdir()
    rc = main(['eval', '--data', str(tmp_path / 'nothing'), '--model', str(tiny_net),
               '--no-progress'])
    assert rc == 2 and 'leftImg8bit' in capsys.readouterr().err


@pytest.mark.slow
def test_eval_cli_with_the_demo_model(demo_model, tmp_path, capsys):
    """The packaged model through the node's pipeline segments synthetic day frames sensibly."""
    bag = tmp_path / 'day'
    assert main(['make-bag', '--out', str(bag), '--frames-per-condition', '3', '--conditions',
                 'day', '--seed', '11']) == 0
    out = tmp_path / 'rep'
    rc = main(['eval', '--bag', str(bag), '--model', str(demo_model), '--report', str(out),
               '--no-progress', '--overlays', '0'])
    assert rc == 0, capsys.readouterr().err
    metrics = json.loads((out / 'metrics.json').read_text())
    run = metrics['runs'][0]
    assert metrics['dataset']['frame_hw'] == [720, 1280]
    # A partly trained checkpoint scored 0.37 (road 0.89) here; upside-down or misaligned
    # labels score about 0.1 (road 0.5).
    assert run['accuracy']['miou'] > 0.3
    assert run['accuracy']['iou']['road'] > 0.7
