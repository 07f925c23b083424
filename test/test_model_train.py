# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Training: the cached data set, class weights, augmentation, resumable checkpoints, mIoU."""

from __future__ import annotations

import json

import cv2
from fxseg_ros.cli.main import build_parser, main
from fxseg_ros.data.labels import TRAIN_ID
from fxseg_ros.data.preprocess import preprocess
from fxseg_ros.data.synth import SceneGenerator
from fxseg_ros.eval import heldout
from fxseg_ros.model.config import FCNConfig
import numpy as np
import pytest

try:  # the train extra; without it every test here skips (requires_torch)
    import torch
except ModuleNotFoundError as missing:
    if missing.name != 'torch':
        raise
else:
    from fxseg_ros.model import train as training
    from fxseg_ros.model.fcn_alexnet import load_checkpoint, torch_load

#: Tests that train, cache or load checkpoints (torch).
needs_torch = pytest.mark.usefixtures('requires_torch')

TINY = FCNConfig(width=0.125, conv1_pad=0, dropout=0.5)
#: Train the tiny tests at 160x96: the network is fully convolutional, and 15x cheaper there.
TINY_WH = (160, 96)


def _options(tmp_path, **kwargs):
    values = {'config': TINY, 'out_dir': str(tmp_path / 'run'), 'conditions': ('day',),
              'train_count': 2, 'data_seed': 7, 'cache': str(tmp_path / 'cache'),
              'input_wh': TINY_WH, 'steps': 4,
              'batch_size': 2, 'lr': 1e-3, 'warmup': 1, 'checkpoint_every': 2, 'threads': 2,
              'progress': False}
    values.update(kwargs)
    return training.TrainOptions(**values)


@pytest.fixture(scope='module')
def tiny_set(tmp_path_factory):
    """Two generated day frames (seed 7), cached at 160x96."""
    tmp = tmp_path_factory.mktemp('trainset')
    return training.build_training_set(_options(tmp)), tmp


@needs_torch
def test_cached_frames_equal_preprocess_and_nearest_labels(tiny_set):
    dataset, _ = tiny_set
    assert len(dataset) == 2 and dataset.conditions == ['day', 'day']
    bgr, labels = SceneGenerator(7).generate(1, 'day')
    blob = training.normalize(dataset.images[1:2].astype(np.float32))
    # float16 storage: exact for a 2x downscale, within float16 rounding for this 8x one.
    np.testing.assert_allclose(blob, preprocess(bgr, TINY_WH), atol=0.02)
    np.testing.assert_array_equal(dataset.labels[1], cv2.resize(labels, TINY_WH,
                                                                interpolation=cv2.INTER_NEAREST))
    freq = dataset.class_frequencies()
    assert freq.sum() == pytest.approx(1.0) and freq[TRAIN_ID['road']] > 0.1


@needs_torch
def test_a_complete_cache_is_reused(tiny_set, monkeypatch):
    dataset, tmp = tiny_set

    def no_generation(*args, **kwargs):
        raise AssertionError('the cache should have been reused')
    monkeypatch.setattr(training, '_synthetic_source', no_generation)
    again = training.build_training_set(_options(tmp))
    np.testing.assert_array_equal(again.labels[:], dataset.labels[:])
    # Other data options are another cache.
    assert not training.TrainingSet.is_complete(tmp / 'cache',
                                                _options(tmp, train_count=3).data_key())


@needs_torch
@pytest.mark.parametrize('freq, kind, expected', [
    ([0.5, 0.25, 0.25, 0.0], 'sqrt-inverse', [0.8284, 1.1716, 1.1716, 0.0]),
    ([0.5, 0.25, 0.25, 0.0], 'none', [1, 1, 1, 1]),
    ([0.999999, 1e-6], 'sqrt-inverse', [0.999, 10.0]),
])
def test_class_weights(freq, kind, expected):
    np.testing.assert_allclose(training.class_weights(np.array(freq), kind), expected,
                               atol=1e-3)


@needs_torch
def test_class_weights_reject_an_unknown_kind():
    with pytest.raises(ValueError):
        training.class_weights(np.ones(3) / 3, 'median')


@needs_torch
def test_augmentation_flips_image_and_labels_together(tiny_set):
    dataset, _ = tiny_set
    sampler = training.Sampler(dataset, batch_size=2, seed=0)
    seen_flip = seen_plain = False
    for _ in range(6):
        blob, labels = sampler.next_batch()
        pixels = blob.transpose(0, 2, 3, 1) * training.STD_BGR + training.MEAN_BGR
        for k, index in enumerate(sampler.last_indices):
            original = dataset.images[index].astype(np.float32)
            flipped = np.array_equal(labels[k], dataset.labels[index][:, ::-1])
            if not flipped:
                np.testing.assert_array_equal(labels[k], dataset.labels[index])
            source = original[:, ::-1] if flipped else original
            mask = (source > 5) & (source < 150)   # not clipped for any gain in range
            gain = float(np.median(pixels[k][mask] / source[mask]))
            assert training.BRIGHTNESS_RANGE[0] <= gain <= training.BRIGHTNESS_RANGE[1]
            np.testing.assert_allclose(pixels[k][mask], source[mask] * gain, rtol=2e-3,
                                       atol=0.05)
            seen_flip |= flipped
            seen_plain |= not flipped
    assert seen_flip and seen_plain


@needs_torch
def test_resume_continues_the_identical_run(tiny_set, tmp_path):
    dataset, _ = tiny_set
    straight = training.train(_options(tmp_path / 'a'), dataset)
    paused = training.train(_options(tmp_path / 'b', stop_after=2), dataset)
    assert paused['model_path'] is None and paused['step'] == 2
    state = torch_load(tmp_path / 'b' / 'run' / training.LAST_CHECKPOINT)
    assert state['step'] == 2 and set(state) >= {
        'optimizer', 'scheduler', 'sampler', 'torch_rng', 'config', 'state_dict'}
    resumed = training.train(_options(tmp_path / 'b', resume=True), dataset)
    assert resumed['step'] == straight['step'] == 4
    a = load_checkpoint(straight['model_path']).state_dict()
    b = load_checkpoint(resumed['model_path']).state_dict()
    assert all(torch.allclose(a[k], b[k], atol=1e-6, rtol=0) for k in a)
    # ... and differs from the initial weights: the steps did train.
    start = training.build_model(TINY, seed=0).state_dict()
    assert not torch.allclose(a['fc6.weight'], start['fc6.weight'])


@needs_torch
def test_resume_refuses_another_architecture(tiny_set, tmp_path):
    dataset, _ = tiny_set
    training.train(_options(tmp_path, stop_after=2), dataset)
    other = FCNConfig(width=0.125, conv1_pad=0, lrn=False)
    with pytest.raises(ValueError, match='cannot resume'):
        training.train(_options(tmp_path, config=other, resume=True), dataset)
    with pytest.raises(FileNotFoundError):
        training.train(_options(tmp_path / 'none', resume=True), dataset)


@needs_torch
def test_init_from_a_coarser_model_keeps_its_layers(tmp_path):
    from fxseg_ros.model.fcn_alexnet import build_model, save_checkpoint

    coarse = build_model(FCNConfig(width=0.125, conv1_pad=0, output_stride=8), seed=1)
    with torch.no_grad():
        coarse.score_pool1.weight.fill_(0.5)
    path = save_checkpoint(coarse, tmp_path / 'coarse.ckpt')
    fine = build_model(FCNConfig(width=0.125, conv1_pad=0, output_stride=4), seed=2)
    new = training.init_from_checkpoint(fine, path)
    assert new == ['score_conv1.bias', 'score_conv1.weight']
    state = fine.state_dict()
    for name, value in coarse.state_dict().items():
        assert torch.equal(state[name], value), name
    assert not state['score_conv1.weight'].any()
    with pytest.raises(ValueError, match='cannot start from'):
        training.init_from_checkpoint(build_model(FCNConfig(width=0.25, conv1_pad=0)), path)
    with pytest.raises(ValueError, match='not in this model'):
        training.init_from_checkpoint(build_model(FCNConfig(width=0.125, conv1_pad=0)), path)


def test_evaluate_counts_iou_over_classes_present():
    # A predictor that says "road" everywhere: IoU(road) = road pixels / all pixels, every other
    # present class 0, mIoU their mean.
    def all_road(blob):
        scores = np.zeros((blob.shape[0], 19) + blob.shape[2:], np.float32)
        scores[:, TRAIN_ID['road']] = 1.0
        return scores
    result = heldout.evaluate(all_road, count=2, seed=11, conditions=('night',),
                              progress=False)
    labels = np.stack([SceneGenerator(11).generate(i, 'night')[1] for i in range(2)])
    present = np.unique(labels[labels != 255])
    road = (labels == TRAIN_ID['road']).sum() / float((labels != 255).sum())
    metrics = result['conditions']['night']
    assert result['resolution_wh'] == [1280, 720]
    assert metrics['iou']['road'] == pytest.approx(road)
    assert metrics['miou'] == pytest.approx(road / len(present))
    assert len(metrics['iou']) == len(present)


def test_cli_evaluate_only_on_a_bare_onnx_graph(tiny_net, tmp_path, capsys):
    out = tmp_path / 'eval.json'
    code = main(['train', '--evaluate-only', '--model', str(tiny_net), '--eval-count', '1',
                 '--eval-conditions', 'day', '--eval-json', str(out)])
    assert code == 0
    result = json.loads(out.read_text())
    assert set(result['conditions']) == {'day'}
    assert 0.0 <= result['conditions']['day']['miou'] <= 1.0
    assert 'held-out mIoU' in capsys.readouterr().out


@needs_torch
def test_cli_evaluate_only_without_a_model_says_so(tmp_path, capsys):
    assert main(['train', '--evaluate-only', '--out', str(tmp_path), '--eval-count', '1']) == 2
    err = capsys.readouterr().err
    assert err.startswith('fxseg train: error: --model: checkpoint ') and 'does not exist' in err


def test_evaluate_only_runs_a_model_at_its_own_input_size(tmp_path, capsys):
    """A 320x192 bare graph: frames resized to its input, labels scored at 1280x720."""
    from conftest import make_tiny_net, session
    from fxseg_ros.data.preprocess import postprocess
    from fxseg_ros.metrics.confusion import ConfusionMatrix

    model = make_tiny_net(tmp_path / 'small.onnx', input_wh=(320, 192))
    out = tmp_path / 'eval.json'
    assert main(['train', '--evaluate-only', '--model', str(model), '--eval-count', '2',
                 '--eval-conditions', 'night', '--eval-seed', '7', '--eval-json',
                 str(out)]) == 0, capsys.readouterr().err
    result = json.loads(out.read_text())
    assert result['input_wh'] == [320, 192] and result['resolution_wh'] == [1280, 720]
    # The same frames through ONNX Runtime directly, scored with a confusion matrix.
    reference, net = ConfusionMatrix(), session(model)
    for index in range(2):
        bgr, labels = SceneGenerator(7).generate(index, 'night')
        scores = net.run(None, {'input': preprocess(bgr, (320, 192))})[0]
        reference.update(labels, postprocess(scores, (1280, 720))[0])
    assert result['conditions']['night']['miou'] == pytest.approx(reference.miou(), abs=1e-9)


@needs_torch
def test_train_parser_values_and_defaults():
    args = build_parser().parse_args([
        'train', '--width', '0.5', '--conv1-pad', '100', '--no-lrn', '--upscore', 'resize',
        '--steps', '10', '--batch-size', '2', '--conditions', 'day', 'night', '--resume',
        '--stop-after', '3'])
    options = training.TrainOptions.from_args(args)
    assert options.config == FCNConfig(width=0.5, conv1_pad=100, lrn=False, upscore='resize',
                                       dropout=0.1)
    assert (options.steps, options.batch_size, options.conditions) == (10, 2, ('day', 'night'))
    assert options.resume and options.stop_after == 3
    defaults = training.TrainOptions.from_args(build_parser().parse_args(['train']))
    assert defaults.config == FCNConfig(width=0.25, conv1_pad=0, upscore='deconv', dropout=0.1)
    assert (defaults.threads, defaults.loss_stride, defaults.seed) == (2, 2, 0)


@pytest.mark.parametrize('argv', [
    ['train', '--width', '0'], ['train', '--steps', '0'], ['train', '--conv1-pad', '50'],
    ['train', '--upscore', 'nearest'], ['train', '--dropout', '1.5'],
    ['train', '--loss-stride', '3'],
    ['export', '--out', 'x.onnx'],                                    # no source
    ['export', '--checkpoint', 'c.ckpt', '--random-init', '--out', 'x.onnx'],
    ['export', '--random-init'],                                      # no --out
    ['export', '--random-init', '--out', 'x.onnx', '--input-wh', '8x8'],
])
def test_parsers_reject_bad_arguments(argv):
    with pytest.raises(SystemExit):
        build_parser().parse_args(argv)


def test_export_parser_defaults_are_the_caffe_network():
    args = build_parser().parse_args(['export', '--random-init', '--out', 'x.onnx'])
    assert (args.width, args.conv1_pad, args.lrn, args.upscore, args.upscore_kernel,
            args.groups) == (1.0, 100, True, 'deconv', 63, 2)
    assert (args.opset, args.upscore_op, args.input_wh, args.check) == (13, 'resize',
                                                                        (640, 360), True)
    assert args.deploy is None and args.deploy_output == 'camera' and not args.float_io


@needs_torch
def test_cli_export_random_init_with_deployment_graph(tmp_path, capsys):
    import onnx

    bare, deploy = tmp_path / 'bare.onnx', tmp_path / 'deploy.onnx'
    code = main(['export', '--random-init', '--width', '0.125', '--conv1-pad', '0',
                 '--out', str(bare), '--deploy', str(deploy)])
    assert code == 0
    printed = capsys.readouterr().out
    assert 'ONNX Runtime vs PyTorch' in printed
    graph = onnx.load(str(deploy)).graph
    assert graph.input[0].name == 'frames'
    assert graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.UINT8
    assert graph.output[0].name == 'labels'
    assert 'LRN' in [n.op_type for n in onnx.load(str(bare)).graph.node]
