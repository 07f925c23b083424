# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Shared argument types and the reproduce command written back from a parser."""

import argparse
import shlex

from fxseg_ros.cli import demo
from fxseg_ros.cli import eval as eval_cli
from fxseg_ros.cli.argtypes import condition_list, playback_rate, size_wh
from fxseg_ros.cli.command_line import reproduce_command
from fxseg_ros.cli.main import build_parser
import pytest


def _namespace(argv):
    args = vars(build_parser().parse_args(argv))
    return {k: v for k, v in args.items() if not callable(v)}


@pytest.mark.parametrize('argv', [
    # every option of `fxseg eval` away from its default
    ['eval', '--bag', 'drive bag', '--image-topic', '/cam0/image_raw', '--label-topic',
     '/cam0/labels', '--condition-topic', '/light', '--model', 'a.onnx', 'b.onnx',
     '--precision', 'fp32,int8', '--name', 'A,B', '--backend', 'onnxruntime', '--threads', '2',
     '--batch', '3', '--max-frames', '7', '--small-max-pixels', '500', '--small-classes',
     'person,car', '--reference', 'B', '--report', 'out/rep', '--overlays', '0',
     '--measure-overhead', '--no-progress', '--live', '--connect', '--rate', '12.5',
     '--params-file', 'p.yaml', '--mask-topic', '/m', '--node-timeout', '9'],
    ['eval', '--data', 'cs', '--split', 'train', '--model', 'm.onnx'],
    ['demo', '--out', 'd', '--model', 'm.onnx', '--frames-per-condition', '3', '--calib-frames',
     '2', '--seed', '1', '--heldout-frames', '1', '--max-drop', '0.25', '--max-fallback', '2',
     '--live-rate', 'recorded', '--threads', '1', '--skip-live', '--force'],
    ['synth', '--out', 'o', '--count', '2', '--size', '320x192', '--conditions', 'night,day',
     '--traffic-lights'],
    ['quantize', 'report', '--eval-frames', '2', '--keep-fp', 'conv1', 'conv2', '--max-drop', '1'],
    ['train', '--no-lrn', '--conditions', 'day', 'night', '--input-wh', '320x180'],
])
def test_the_reproduce_command_parses_back_to_the_same_arguments(argv):
    parser = build_parser()
    args = parser.parse_args(argv)
    command = reproduce_command(['fxseg'], parser, args)
    assert command.startswith('fxseg %s' % argv[0])
    assert _namespace(shlex.split(command)[1:]) == _namespace(argv)


def test_defaults_stay_out_of_the_command():
    parser = argparse.ArgumentParser()
    eval_cli.add_arguments(parser)
    args = parser.parse_args(['--bag', 'b', '--model', 'm.onnx'])
    assert (reproduce_command(['fxseg', 'eval'], parser, args)
            == 'fxseg eval --bag b --model m.onnx')
    parser = argparse.ArgumentParser()
    demo.add_arguments(parser)
    args = parser.parse_args(['--out', 'd'])
    assert reproduce_command(['fxseg', 'demo'], parser, args) == 'fxseg demo --out d'


@pytest.mark.parametrize('text, expected', [
    ('1280x720', (1280, 720)), ('640X360', (640, 360)), ('32x32', (32, 32))])
def test_sizes_are_width_first(text, expected):
    assert size_wh(32)(text) == expected


@pytest.mark.parametrize('text, message', [
    ('720', 'expected WIDTHxHEIGHT'), ('axb', 'expected WIDTHxHEIGHT'),
    ('1x2x3', 'expected WIDTHxHEIGHT'), ('16x720', 'too small (min 32x32)'),
    ('9000x720', 'too large (max 8192x8192)')])
def test_bad_sizes_say_what_is_expected(text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=message.replace('(', r'\(')
                       .replace(')', r'\)')):
        size_wh(32)(text)


def test_condition_lists_and_rates():
    assert condition_list('night, day') == ['night', 'day']
    with pytest.raises(argparse.ArgumentTypeError, match='unknown condition'):
        condition_list('day,fog')
    assert playback_rate('max') == 'max' and playback_rate('2.5') == 2.5
    with pytest.raises(argparse.ArgumentTypeError, match='> 0 Hz'):
        playback_rate('0')
