# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
`fxseg train`: train FCN-AlexNet on the CPU, and measure a model's held-out mIoU.

Training frames come from the seeded synthetic scene generator (or a Cityscapes-layout directory
with --data), go through the one `preprocess()` at 640x360 and are cached under --cache so that a
restart is cheap. The checkpoint (model, optimizer, step, random state) is written every
--checkpoint-every steps; --resume continues from it. --evaluate-only measures the mIoU of a
checkpoint or bare ONNX graph on frames generated with another seed, per lighting condition.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
import time

from fxseg_ros.cli.argtypes import (condition_list, ListAction, non_negative_float,
                                    non_negative_int, number_in, positive_float, positive_int,
                                    size_wh)
from fxseg_ros.cli.errors import about, fail
from fxseg_ros.data.conditions import CONDITIONS
from fxseg_ros.data.sizes import NET_INPUT_WH
from fxseg_ros.data.synth.seeds import HELDOUT_SEED, TRAINING_FRAMES, TRAINING_SEED

NAME = 'train'
HELP = ('train FCN-AlexNet on synthetic day/dusk/night frames (CPU, resumable), or measure the '
        'held-out mIoU of a model with --evaluate-only')

LOG = logging.getLogger(__name__)


_width = number_in(0.0, 4.0, low_open=True, what='width multiplier')
_probability = number_in(0.0, 1.0, high_open=True, what='dropout')


def add_architecture_arguments(parser: argparse.ArgumentParser, width: float = 0.25,
                               conv1_pad: int = 0, upscore: str = 'deconv',
                               dropout: float = 0.1, output_stride: int = 32) -> None:
    """Add the FCN-AlexNet architecture options (shared by `train` and `export`)."""
    group = parser.add_argument_group('architecture')
    group.add_argument('--width', type=_width, default=width,
                       help='channel width multiplier (1.0 = the full FCN-AlexNet; default: %s)'
                       % width)
    group.add_argument('--conv1-pad', type=int, choices=(100, 0), default=conv1_pad,
                       help="conv1 zero padding: 100 = FCN's padding, 0 = none with fc6 padded "
                            'by 3 so the score map still covers the input (default: %d)'
                            % conv1_pad)
    group.add_argument('--no-lrn', dest='lrn', action='store_false',
                       help='leave out the two LRN layers')
    group.add_argument('--upscore', choices=('deconv', 'learned', 'resize'), default=upscore,
                       help="deconv = FCN's fixed bilinear ConvTranspose x32 + crop (exported "
                            'as Resize), learned = a trainable ConvTranspose x32 + crop, '
                            'resize = bilinear resize of the score map to the input size '
                            '(default: %s)' % upscore)
    group.add_argument('--upscore-kernel', type=int, choices=(63, 64), default=63,
                       help="kernel of the x32 upscore: 63 = Caffe's fcn-alexnet (exactly "
                            'aligned with crop 18), 64 = FCN-32s (default: %(default)s)')
    group.add_argument('--output-stride', type=int, choices=(32, 16, 8, 4),
                       default=output_stride,
                       help='32 = FCN-32s (Caffe fcn-alexnet); 16 / 8 / 4 add FCN-16s / 8s '
                            'style skips from pool2 / pool1 / conv1 (deconv upscore only; '
                            'default: %d)' % output_stride)
    group.add_argument('--groups', type=int, choices=(1, 2), default=2,
                       help="groups of conv2/conv4/conv5: 2 = AlexNet's two towers, 1 = one "
                            '(default: %(default)s)')
    group.add_argument('--dropout', type=_probability, default=dropout,
                       help='dropout after fc6 and fc7 while training (Caffe: 0.5; default: '
                            '%s)' % dropout)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--out', default='out/train',
                        help='folder for checkpoints (last.ckpt, model.ckpt) and the training '
                             'log (default: out/train)')
    parser.add_argument('--resume', action='store_true',
                        help='continue from OUT/last.ckpt (same model, optimizer, step and '
                             'random state)')
    add_architecture_arguments(parser)
    _data_arguments(parser.add_argument_group('training data'))
    _optimisation_arguments(parser.add_argument_group('optimisation'))
    _evaluation_arguments(parser.add_argument_group('held-out evaluation'))


def _data_arguments(data) -> None:
    data.add_argument('--data', default=None,
                      help='a Cityscapes-layout directory to train on instead of generated '
                           'synthetic frames')
    data.add_argument('--split', default='train',
                      help='split of the --data directory (default: %(default)s)')
    data.add_argument('--conditions', action=ListAction, default=list(CONDITIONS),
                      metavar='COND',
                      help='lighting conditions (synthetic) or cities (--data) to train on, '
                           'commas or spaces (default: %s)' % ','.join(CONDITIONS))
    data.add_argument('--train-count', type=positive_int, default=TRAINING_FRAMES,
                      help='synthetic training frames per condition (default: %(default)s)')
    data.add_argument('--data-seed', type=non_negative_int, default=TRAINING_SEED,
                      help='seed of the synthetic training frames (default: %(default)s)')
    data.add_argument('--input-wh', type=size_wh(), default=NET_INPUT_WH, metavar='WxH',
                      help='network input resolution to train at (default: %dx%d)'
                           % NET_INPUT_WH)
    data.add_argument('--cache', default=None,
                      help='cache file of the training frames (default: a name under '
                           'out/cache/ derived from the data options)')


def _optimisation_arguments(optim) -> None:
    optim.add_argument('--steps', type=positive_int, default=3000,
                       help='optimizer steps (default: %(default)s)')
    optim.add_argument('--batch-size', type=positive_int, default=8,
                       help='frames per step (default: %(default)s)')
    optim.add_argument('--lr', type=positive_float, default=1e-3,
                       help='peak learning rate of AdamW (default: %(default)s)')
    optim.add_argument('--weight-decay', type=non_negative_float, default=1e-4,
                       help='AdamW weight decay (default: %(default)s)')
    optim.add_argument('--warmup', type=non_negative_int, default=100,
                       help='linear warm-up steps before the cosine decay (default: %(default)s)')
    optim.add_argument('--class-weights', choices=('none', 'sqrt-inverse'),
                       default='sqrt-inverse',
                       help='cross-entropy class weights from the training label frequencies '
                            '(default: sqrt-inverse, capped at 10x)')
    optim.add_argument('--loss-stride', type=int, choices=(1, 2, 4), default=2,
                       help='evaluate the loss on every n-th pixel (rows and columns, random '
                            'offset per step) to save time (default: %(default)s)')
    optim.add_argument('--seed', type=non_negative_int, default=0,
                       help='seed of the initial weights, sampling and augmentation '
                            '(default: %(default)s)')
    optim.add_argument('--threads', type=positive_int, default=2,
                       help='torch CPU threads (default: %(default)s)')
    optim.add_argument('--checkpoint-every', type=positive_int, default=100,
                       help='write OUT/last.ckpt every N steps (default: %(default)s)')
    optim.add_argument('--init-from', default=None, metavar='CKPT',
                       help='start from the weights of this checkpoint, e.g. an 8s model for '
                            "a 4s one (FCN's staged training); new skip layers start at zero")
    optim.add_argument('--stop-after', type=positive_int, default=None, metavar='N',
                       help='pause after N steps of this run (OUT/last.ckpt; continue with '
                            '--resume); the schedule still spans --steps')
    optim.add_argument('--export', default=None, metavar='ONNX',
                       help='after training, export the bare network graph to this path')


def _evaluation_arguments(evaluation) -> None:
    evaluation.add_argument('--evaluate-only', action='store_true',
                            help='do not train: measure the mIoU of --model on held-out frames')
    evaluation.add_argument('--model', default=None,
                            help='checkpoint (.ckpt) or bare ONNX graph to evaluate (default: '
                                 'OUT/model.ckpt)')
    evaluation.add_argument('--eval-count', type=non_negative_int, default=60,
                            help='held-out frames per condition; 0 skips the evaluation after '
                                 'training (default: %(default)s)')
    evaluation.add_argument('--eval-seed', type=non_negative_int, default=HELDOUT_SEED,
                            help='seed of the held-out frames, different from --data-seed '
                                 '(default: %(default)s)')
    evaluation.add_argument('--eval-conditions', action=ListAction, type=condition_list,
                            default=list(CONDITIONS), metavar='COND',
                            help='conditions to evaluate, commas or spaces (default: %s)'
                                 % ','.join(CONDITIONS))
    evaluation.add_argument('--eval-json', default=None,
                            help='write the evaluation (mIoU per condition, IoU per class) as '
                                 'JSON to this path')


def _print_evaluation(result: dict) -> None:
    print('held-out mIoU (classes present), labels at %dx%d:'
          % tuple(result['resolution_wh']))
    for condition, metrics in result['conditions'].items():
        print('  %-6s mIoU %.4f  pixel acc %.4f  (%d frames)'
              % (condition, metrics['miou'], metrics['pixel_accuracy'], metrics['frames']))
    from fxseg_ros.eval.heldout import class_table

    print('  per-class IoU:')
    header = '    %-14s' % 'class' + ''.join('%8s' % c for c in result['conditions'])
    print(header)
    for name, values in class_table(result):
        row = '    %-14s' % name
        for value in values.values():
            row += '%8s' % ('-' if value is None else '%.3f' % value)
        print(row)


def _evaluate(model: str, args: argparse.Namespace) -> None:
    """Measure, print and (with --eval-json) write the held-out mIoU of a model."""
    from fxseg_ros.data.atomic import write_text
    from fxseg_ros.eval.heldout import evaluate_path

    started = time.perf_counter()
    result = evaluate_path(model, count=args.eval_count, seed=args.eval_seed,
                           conditions=args.eval_conditions, threads=args.threads)
    result['seconds'] = round(time.perf_counter() - started, 1)
    _print_evaluation(result)
    if args.eval_json:
        write_text(args.eval_json, json.dumps(result, indent=2))
        print('wrote %s' % args.eval_json)


def _needs_torch(argument: str, what: str) -> None:
    import importlib.util

    if importlib.util.find_spec('torch') is None:
        fail(argument, '%s needs torch, which is not installed' % what,
             'pip install .[train]')


def _check_model_to_evaluate(args) -> str:
    """Return the model of --evaluate-only: a bare ONNX graph, or a checkpoint (with torch)."""
    from fxseg_ros.cli.checks import existing_file, onnx_model

    if args.eval_count == 0:
        fail('--eval-count', '0 frames evaluate nothing', 'give at least 1 frame per condition')
    model = args.model
    if model is None:   # the checkpoint of a training run: torch evaluates it
        from fxseg_ros.model.config import default_model_path

        model = str(default_model_path(args.out))
        existing_file('--model', model, 'checkpoint',
                      'give --model (a checkpoint or a bare ONNX graph) or the --out folder '
                      'of a finished training run')
    if str(model).lower().endswith('.onnx'):
        from fxseg_ros.cli.checks import label_table_classes

        label_table_classes('--model', onnx_model('--model', model, bare=True), model)
    else:
        from fxseg_ros.cli.checks import checkpoint

        checkpoint('--model', model)
    return str(model)


def _check_training(args) -> None:
    """Training's inputs and outputs, before any frame is generated."""
    from fxseg_ros.cli.checks import existing_file, labelled_cityscapes, output_dir, output_file
    from fxseg_ros.model.config import LAST_CHECKPOINT

    if args.data:
        labelled_cityscapes('--data', args.data, '--split', args.split)
        from fxseg_ros.cli.checks import cityscapes_split

        cityscapes_split(Path(args.data), '--split', args.split, '--conditions',
                         args.conditions)
    else:
        unknown = [c for c in args.conditions if c not in CONDITIONS]
        if unknown:
            fail('--conditions', 'unknown condition(s) %s for synthetic frames'
                 % ','.join(unknown), 'choose from %s (cities need --data)'
                 % ','.join(CONDITIONS))
    out = output_dir('--out', args.out, inputs=[args.data, args.init_from])
    if args.resume:
        existing_file('--resume', out / LAST_CHECKPOINT, 'checkpoint to resume',
                      'train without --resume first (or give the --out of that run)')
    for flag in ('--export', '--eval-json', '--cache'):
        path = getattr(args, flag[2:].replace('-', '_'))
        if path:
            output_file(flag, path, inputs=[args.data, args.init_from])
    # torch last: every argument above is checked (and named) whether torch is installed or not
    if args.init_from:
        from fxseg_ros.cli.checks import checkpoint

        checkpoint('--init-from', args.init_from)
    _needs_torch('--out', 'training')


def run(args: argparse.Namespace) -> int:
    if args.evaluate_only:
        model = _check_model_to_evaluate(args)
        if args.eval_json:
            from fxseg_ros.cli.checks import output_file

            output_file('--eval-json', args.eval_json, inputs=[model])
        with about('--model'):
            _evaluate(model, args)
        return 0

    _check_training(args)
    from fxseg_ros.model import train as training

    options = training.TrainOptions.from_args(args)
    with about('--resume' if args.resume else '--out', *((ValueError,) if args.resume else ())):
        summary = training.train(options)
    if summary['model_path'] is None:
        print('paused at step %d of %d after %.1f min; continue with --resume'
              % (summary['step'], options.steps, summary['seconds'] / 60.0))
        return 0
    print('trained %d steps in %.1f min; checkpoint %s'
          % (summary['step'], summary['seconds'] / 60.0, summary['model_path']))
    if args.export:
        from fxseg_ros.data.atomic import atomic_file
        from fxseg_ros.model.export import export_checkpoint

        with atomic_file(args.export) as staged:
            export_checkpoint(summary['model_path'], staged)
        print('wrote %s' % args.export)
    if args.eval_count > 0:
        _evaluate(summary['model_path'], args)
    return 0
