# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
`fxseg eval`'s checks of its arguments before the replay, and the argument its errors name.

Checked before any frame is read: the bag (its camera, label and condition topics) or the
Cityscapes-layout folder (its split), every model (an ONNX graph or an engine scoring the 19
Cityscapes classes), the precision of each model against what the model is, names, small-object
classes, the reference run, the live options, and the report folder.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
from typing import Sequence

from fxseg_ros.cli.errors import CommandError, describe, fail


def _check_bag(args) -> None:
    from fxseg_ros.cli.checks import data_source, is_bag
    from fxseg_ros.cli.errors import about
    from fxseg_ros.data.bag import CAMERA_TYPES, CONDITION_TOPIC, IMAGE_TYPE, STRING_TYPE
    from fxseg_ros.data.bag_reader import find_camera_topics, list_topics

    path = data_source('--bag', args.bag, 'a rosbag2 folder (or its .mcap / .db3 file)')
    if not is_bag(path):
        fail('--bag', '%s is not a rosbag2 (no metadata.yaml)' % path,
             'give a rosbag2 folder, e.g. from fxseg make-bag; a Cityscapes-layout folder '
             'goes to --data')
    with about('--bag', advice='give a complete rosbag2 (e.g. from fxseg make-bag)'):
        topics = list_topics(path)
    cameras = find_camera_topics(topics)
    listed = ', '.join(cameras) or 'none'
    wanted = ((args.image_topic, '--image-topic', CAMERA_TYPES),
              (args.label_topic, '--label-topic', (IMAGE_TYPE,)))
    for topic, flag, types in wanted:
        if topic is None:
            continue
        if topic not in topics:
            fail(flag, 'bag %s has no topic %s' % (path, topic), 'topics there: %s'
                 % ', '.join(sorted(topics)))
        if topics[topic][0] not in types:
            fail(flag, 'topic %s carries %s, expected %s'
                 % (topic, topics[topic][0], ' or '.join(types)))
    if args.image_topic is None and len(cameras) != 1:
        fail('--image-topic', 'bag %s has %s camera topics' % (path, len(cameras) or 'no'),
             'choose one with --image-topic (camera topics: %s)' % listed)
    condition = args.condition_topic
    if condition != CONDITION_TOPIC and condition not in topics:
        fail('--condition-topic', 'bag %s has no topic %s' % (path, condition))
    if condition in topics and topics[condition][0] != STRING_TYPE:
        fail('--condition-topic', 'topic %s carries %s, expected %s'
             % (condition, topics[condition][0], STRING_TYPE))


def _check_source(args) -> None:
    from fxseg_ros.cli.checks import existing_dir

    if args.bag:
        _check_bag(args)
        return
    path = existing_dir('--data', args.data, 'data folder')
    if not (path / 'leftImg8bit').is_dir():
        fail('--data', '%s has no leftImg8bit/ folder (Cityscapes layout)' % path,
             'give a Cityscapes-layout folder (fxseg synth writes one); a rosbag2 goes to --bag')
    from fxseg_ros.cli.checks import cityscapes_split

    cityscapes_split(path, '--split', args.split, None, None)
    for flag in ('--image-topic', '--label-topic'):
        if getattr(args, flag[2:].replace('-', '_')) is not None:
            fail(flag, 'applies to --bag only')


def _check_precisions(args) -> None:
    from fxseg_ros.cli.checks import precision_label
    from fxseg_ros.eval.models import PRECISIONS
    from fxseg_ros.runtime import ENGINE_SUFFIXES

    precisions = list(args.precision or [])
    unknown = [p for p in precisions if p not in PRECISIONS]
    if unknown:
        fail('--precision', 'unknown precision %s' % ','.join(unknown),
             'choose from %s' % ','.join(PRECISIONS))
    tensorrt = args.backend == 'tensorrt'
    if len(args.model) == 1 and len(precisions) > 1:
        if not tensorrt and not args.model[0].lower().endswith(ENGINE_SUFFIXES):
            fail('--precision', 'one ONNX model with %d precisions (%s) needs --backend '
                 'tensorrt' % (len(precisions), ','.join(precisions)),
                 'for ONNX Runtime give one model per precision (fxseg quantize writes the '
                 'INT8 and FP16 models)')
        for label in precisions:
            precision_label('--precision', args.model[0], label, built_by_tensorrt=True)
        return
    if precisions and len(precisions) != len(args.model):
        fail('--precision', 'names %d precision(s) for %d model(s)'
             % (len(precisions), len(args.model)), 'give one per --model, in order')
    for model, label in zip(args.model, precisions):
        precision_label('--precision', model, label, built_by_tensorrt=tensorrt)


def _check_runs(args):
    """Names, small-object classes and the reference run; returns the run specs."""
    from fxseg_ros.eval import replay
    from fxseg_ros.eval.cli_runner import parse_classes

    runs = max(len(args.model), len(args.precision or []))
    if args.name is not None and len(args.name) != runs:
        fail('--name', 'gives %d name(s) for %d run(s)' % (len(args.name), runs),
             'give one name per run')
    if args.name is not None and len(set(args.name)) != len(args.name):
        fail('--name', 'names must differ, got %s' % ','.join(args.name))
    try:
        parse_classes(args.small_classes)
    except ValueError as err:
        fail('--small-classes', str(err))
    try:
        specs = replay.default_run_specs(args.model, args.precision, args.name, args.backend,
                                         args.threads)
    except replay.EvalError as err:
        fail('--model', str(err))
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        fail('--name', 'the runs would share names (%s)' % ','.join(names),
             'name each run with --name')
    if args.reference is not None and args.reference not in names:
        fail('--reference', 'no run is named %r' % args.reference,
             'runs: %s (set names with --name)' % ', '.join(names))
    return specs


def _check_live(args, parser: argparse.ArgumentParser, live_options: Sequence[str]) -> None:
    from fxseg_ros.cli.checks import parameter_file

    defaults = {a.option_strings[-1]: a.default for a in parser._actions if a.option_strings}
    if not args.live:
        for flag in live_options:
            if getattr(args, flag[2:].replace('-', '_')) != defaults[flag]:
                fail(flag, 'applies to the live evaluation only', 'add --live')
        return
    if not args.bag:
        fail('--live', 'plays a bag into the node', 'give --bag')
    if importlib.util.find_spec('rclpy') is None:
        fail('--live', 'needs ROS 2 (rclpy), which is not installed',
             'pip install .[ros] or source a ROS 2 installation')
    if args.params_file is not None:
        parameter_file('--params-file', args.params_file)


def check_eval_arguments(args, parser: argparse.ArgumentParser,
                         live_options: Sequence[str]) -> None:
    """Every check of `fxseg eval` that can be made before the replay (CommandError)."""
    from fxseg_ros.cli.checks import inference_model, output_dir

    _check_source(args)
    for model in args.model:
        inference_model('--model', model)
    _check_precisions(args)
    _check_runs(args)
    _check_live(args, parser, live_options)
    if args.report:
        output_dir('--report', args.report, inputs=[args.bag or args.data] + list(args.model))


@contextlib.contextmanager
def run_errors_named(args):
    """Turn the replay's expected errors into one line naming the argument they are about."""
    from fxseg_ros.data.bag import BagError
    from fxseg_ros.data.cityscapes import CityscapesLayoutError
    from fxseg_ros.eval.replay import EvalError
    from fxseg_ros.model.deploy import DeploymentGraphError
    from fxseg_ros.runtime.base import RunnerError
    from fxseg_ros.runtime.metadata import MetadataError

    source = '--bag' if args.bag else '--data'
    try:
        yield
    except (BagError, CityscapesLayoutError) as err:
        raise CommandError(source, describe(err)) from err
    except (RunnerError, DeploymentGraphError, MetadataError) as err:
        raise CommandError('--model', describe(err)) from err
    except EvalError as err:
        raise CommandError(source, describe(err)) from err
