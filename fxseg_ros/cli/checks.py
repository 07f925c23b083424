# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Checks of the `fxseg` subcommands' inputs and outputs, made before any work starts.

Each check raises `fxseg_ros.cli.errors.CommandError` naming the argument, what is wrong and
what to do. An output's folder is created here (or its failure reported), so a command never
fails on its output after minutes of work; outputs inside the installed package, outputs that
would overwrite an input and outputs inside an input folder (a data set, a bag) are refused.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Iterable, Optional, Sequence

from fxseg_ros.cli.errors import about, fail

#: File name suffixes of TensorRT engines and of ONNX models.
ONNX_SUFFIX = '.onnx'


def _package_root() -> Path:
    import fxseg_ros

    return Path(fxseg_ros.__file__).resolve().parent


def _given(argument: str, path, what: str, advice: Optional[str] = None) -> Path:
    """Return `path` as a Path; None, or an empty path (the current folder), fails."""
    if path is None:
        fail(argument, 'no %s given' % what, advice)
    if not str(path).strip():
        fail(argument, 'empty path given for the %s' % what,
             advice or 'give a path (`.` for the current folder)')
    return Path(path)


def existing_file(argument: str, path, what: str = 'file', advice: Optional[str] = None) -> Path:
    """Return a readable file: else the line says it is missing, a folder or unreadable."""
    path = _given(argument, path, what, advice)
    if not path.exists():
        fail(argument, '%s %s does not exist' % (what, path), advice)
    if path.is_dir():
        fail(argument, '%s is a folder, expected a %s' % (path, what), advice)
    if not os.access(str(path), os.R_OK):
        fail(argument, '%s %s cannot be read (permission denied)' % (what, path), advice)
    return path


def existing_dir(argument: str, path, what: str = 'folder', advice: Optional[str] = None) -> Path:
    """Return a readable folder: else the line says it is missing, a file or unreadable."""
    path = _given(argument, path, what, advice)
    if not path.exists():
        fail(argument, '%s %s does not exist' % (what, path), advice)
    if not path.is_dir():
        fail(argument, '%s is a file, expected a %s' % (path, what), advice)
    if not os.access(str(path), os.R_OK | os.X_OK):
        fail(argument, '%s %s cannot be read (permission denied)' % (what, path), advice)
    return path


def onnx_model(argument: str, path, bare: bool = False):
    """
    Load the ONNX model `path` (an onnx.ModelProto); bare: it must be a bare network graph.

    A file that is not ONNX, or a graph of the wrong kind, is a one-line error.
    """
    from fxseg_ros.model import deploy

    path = existing_file(argument, path, 'ONNX model',
                         'give a .onnx file written by fxseg export or fxseg quantize')
    if path.suffix.lower() != ONNX_SUFFIX:
        fail(argument, '%s is not an ONNX model (no .onnx suffix)' % path,
             'give the .onnx file; TensorRT engines are built from it with fxseg build')
    try:
        model = deploy.load_model(str(path))
    except deploy.DeploymentGraphError:
        fail(argument, '%s is not an ONNX model (it cannot be parsed as one)' % path,
             'give a complete .onnx file (fxseg export writes one)')
    if not model.graph.node or not model.graph.output:
        fail(argument, '%s holds no graph (no nodes or no outputs)' % path,
             'give a complete .onnx file (fxseg export writes one)')
    if bare:
        bare_network(argument, model, path)
    return model


def bare_network(argument: str, model, path) -> None:
    """Check the bare-network contract: one float32 input (N, 3, H, W), one output (N, C, H, W)."""
    from onnx import TensorProto

    from fxseg_ros.model import deploy

    advice = 'give the bare network graph (fxseg export --out)'
    if deploy.is_deployment_graph(model):
        fail(argument, '%s is a deployment graph (frames in, labels out)' % path, advice)
    initializers = {init.name for init in model.graph.initializer}
    inputs = [vi for vi in model.graph.input if vi.name not in initializers]
    if len(inputs) != 1 or len(model.graph.output) != 1:
        fail(argument, '%s has %d inputs and %d outputs, a bare network has one of each'
             % (path, len(inputs), len(model.graph.output)), advice)
    tensor = inputs[0].type.tensor_type
    dims = [d.dim_value if d.HasField('dim_value') else None for d in tensor.shape.dim]
    if tensor.elem_type != TensorProto.FLOAT or len(dims) != 4 or dims[1] != 3:
        fail(argument, 'input %r of %s is not float32 (N, 3, H, W)' % (inputs[0].name, path),
             advice)
    if len(model.graph.output[0].type.tensor_type.shape.dim) != 4:
        fail(argument, 'output %r of %s is not (N, C, H, W) scores'
             % (model.graph.output[0].name, path), advice)


def data_source(argument: str, path, kinds: str = 'a Cityscapes-layout folder, an image '
                'folder or a rosbag2') -> Path:
    """Return an existing input data set: a folder, or a rosbag2 .mcap / .db3 file."""
    path = _given(argument, path, 'data', 'give %s' % kinds)
    if not path.exists():
        fail(argument, '%s does not exist' % path, 'give %s' % kinds)
    if path.is_file() and path.suffix not in ('.mcap', '.db3'):
        fail(argument, '%s is a file, not a data set' % path, 'give %s' % kinds)
    if not os.access(str(path), os.R_OK):
        fail(argument, '%s cannot be read (permission denied)' % path)
    return path


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == Path(b).resolve()
    except OSError:
        return False


def _writable_folder(argument: str, folder: Path, what: str) -> None:
    """Create `folder` (and its parents) or fail; it must be writable."""
    existing = next(p for p in [folder] + list(folder.parents) if p.exists() or p == Path('/'))
    if not existing.is_dir():
        fail(argument, '%s is a file, so the %s cannot be created below it' % (existing, what),
             'give a path whose folders are folders')
    if not os.access(str(existing), os.W_OK | os.X_OK):
        fail(argument, 'folder %s is not writable (read-only or permission denied)' % existing,
             'give a writable location')
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        fail(argument, 'cannot create the folder %s for the %s (%s)'
             % (folder, what, err.strerror or err), 'give a writable location')


def _outside_package(argument: str, path: Path) -> None:
    root = _package_root()
    resolved = path.resolve()
    if resolved == root or root in resolved.parents:
        fail(argument, '%s lies inside the installed fxseg_ros package (%s)' % (path, root),
             'write outputs outside the package, e.g. under out/')


def _not_an_input(argument: str, path: Path, inputs: Iterable) -> None:
    """Refuse an output that is an input or lies in an input folder (a data set, a bag)."""
    for item in inputs:
        if item is None or not str(item).strip():
            continue
        if _same(path, Path(item)):
            fail(argument, '%s is also an input of this command and would be overwritten'
                 % path, 'give another output path')
        try:
            folder, resolved = Path(item).resolve(), path.resolve()
        except OSError:
            continue
        if folder.is_dir() and folder in resolved.parents:
            fail(argument, '%s lies inside %s, an input of this command' % (path, item),
                 'write outputs outside the input folders')


def output_file(argument: str, path, inputs: Sequence = (), what: str = 'output file') -> Path:
    """
    Return a file the command will write: not a folder, its folder created and writable.

    inputs: paths the command reads; the output may not be one of them.
    """
    path = _given(argument, path, what)
    if path.is_dir():
        fail(argument, '%s is a folder, expected a file name' % path,
             'give a file path, e.g. %s' % (path / ('out' + (path.suffix or ''))))
    if str(path).endswith(os.sep):
        fail(argument, '%s names a folder, expected a file name' % path)
    _outside_package(argument, path)
    _not_an_input(argument, path, inputs)
    _writable_folder(argument, path.parent if str(path.parent) else Path('.'), what)
    if path.exists() and not os.access(str(path), os.W_OK) and \
            not os.access(str(path.parent), os.W_OK):
        fail(argument, '%s is read-only' % path, 'give another output path')
    return path


def output_dir(argument: str, path, new: bool = False, inputs: Sequence = (),
               what: str = 'output folder', create: bool = True) -> Path:
    """
    Return a folder the command will write into (created here unless new=True or create=False).

    new: the folder must not exist (the command creates it whole, e.g. a rosbag2); only its
    parent is created and checked. create=False: the folder may exist; if it does not, only
    its parent is created and checked (the command renames a complete folder into place).
    """
    path = _given(argument, path, what)
    if path.exists() and not path.is_dir():
        fail(argument, '%s is a file, expected a folder' % path, 'give a folder path')
    _outside_package(argument, path)
    _not_an_input(argument, path, inputs)
    if new:
        if path.exists():
            fail(argument, '%s exists already' % path,
                 'give a new folder name or delete the old one')
        _writable_folder(argument, path.parent if str(path.parent) else Path('.'), what)
    elif not create and not path.exists():
        _writable_folder(argument, path.parent if str(path.parent) else Path('.'), what)
    else:
        _writable_folder(argument, path, what)
    return path


def is_bag(path: Path) -> bool:
    """Return whether `path` is a rosbag2: a folder with metadata.yaml, or a .mcap / .db3 file."""
    if path.is_dir():
        return (path / 'metadata.yaml').is_file()
    return path.suffix in ('.mcap', '.db3')


def _bag_camera_topic(path: Path, data_arg: str, topic_arg: str, topic: Optional[str]) -> None:
    from fxseg_ros.data.bag import CAMERA_TYPES
    from fxseg_ros.data.bag_reader import find_camera_topics, list_topics

    with about(data_arg, advice='give a complete rosbag2 (e.g. from fxseg make-bag)'):
        topics = list_topics(path)
    cameras = find_camera_topics(topics)
    listed = ', '.join(cameras) or 'none'
    if topic is None:
        if len(cameras) != 1:
            fail(topic_arg, 'bag %s has %s camera topics' % (path, len(cameras) or 'no'),
                 'choose one with %s (camera topics: %s)' % (topic_arg, listed))
        return
    if topic not in topics:
        fail(topic_arg, 'bag %s has no topic %s' % (path, topic),
             'camera topics there: %s' % listed)
    if topics[topic][0] not in CAMERA_TYPES:
        fail(topic_arg, 'topic %s carries %s, not camera images' % (topic, topics[topic][0]),
             'camera topics there: %s' % listed)


def cityscapes_split(path: Path, split_arg: str, split: str, cities_arg: Optional[str],
                     cities: Optional[Sequence[str]]) -> None:
    """Check the split folder of a Cityscapes-layout tree, and the cities asked for in it."""
    images = path / 'leftImg8bit'
    splits = sorted(p.name for p in images.iterdir() if p.is_dir())
    if split not in splits:
        fail(split_arg, 'no split %r in %s' % (split, images),
             'splits there: %s' % (', '.join(splits) or 'none'))
    available = sorted(p.name for p in (images / split).iterdir() if p.is_dir())
    missing = [c for c in (cities or ()) if c not in available]
    if missing and cities_arg:
        fail(cities_arg, '%s not in %s' % (', '.join(missing), images / split),
             'cities / conditions there: %s' % (', '.join(available) or 'none'))


def frame_data(data_arg: str, data, topic_arg: str = '--topic', topic: Optional[str] = None,
               split_arg: str = '--split', split: str = 'train',
               cities_arg: Optional[str] = None, cities: Optional[Sequence[str]] = None) -> Path:
    """
    Check the frames to read; returns their path.

    A rosbag2 (with its camera topic), a Cityscapes-layout folder (with the split and cities
    asked for) or a folder of images.
    """
    from fxseg_ros.data.readers import IMAGE_EXTENSIONS, list_images

    path = data_source(data_arg, data)
    if is_bag(path):
        _bag_camera_topic(path, data_arg, topic_arg, topic)
        return path
    if topic is not None:
        fail(topic_arg, 'applies to a rosbag2 only, and %s is not one' % path,
             'leave it out, or give a rosbag2 folder (with metadata.yaml)')
    if (path / 'leftImg8bit').is_dir():
        cityscapes_split(path, split_arg, split, cities_arg, cities)
        return path
    if path.is_dir() and not list_images(path):
        fail(data_arg, '%s holds no images (%s), no Cityscapes layout (leftImg8bit/) and no '
             'rosbag2 (metadata.yaml)' % (path, ', '.join(IMAGE_EXTENSIONS)),
             'give a folder of frames or a rosbag2')
    return path


def labelled_cityscapes(data_arg: str, data, split_arg: str, split: str) -> Path:
    """Return a Cityscapes-layout folder of labelled `split` frames (gtFine beside leftImg8bit)."""
    path = existing_dir(data_arg, data, 'data folder')
    for sub in ('leftImg8bit', 'gtFine'):
        if not (path / sub).is_dir():
            fail(data_arg, '%s has no %s/ folder' % (path, sub),
                 'give a labelled Cityscapes-layout folder (fxseg synth writes one)')
    cityscapes_split(path, split_arg, split, None, None)
    return path


def not_text(error: UnicodeDecodeError) -> str:
    """Say why a file is no text file, in words (no codec jargon)."""
    return 'binary data, not %s text: byte 0x%02x at offset %d' % (
        error.encoding.upper(), error.object[error.start], error.start)


def _parameters_problem(tree, where: str) -> Optional[str]:
    """Return what is wrong with a parameter file's mapping of node names (None: nothing)."""
    if not isinstance(tree, dict) or not tree:
        return '%s is not a mapping of node names' % where
    for key, value in tree.items():
        here = '%s%s' % (where + ' > ' if where != 'the file' else '', key)
        if not isinstance(key, str) or not isinstance(value, dict):
            return ('%s: expected a node name with a mapping below it (ros__parameters:), got '
                    '%s' % (here, type(value).__name__ if isinstance(key, str)
                            else type(key).__name__ + ' key'))
        if 'ros__parameters' in value:
            if not isinstance(value['ros__parameters'], dict):
                return '%s > ros__parameters is not a mapping of parameter names' % here
        else:
            problem = _parameters_problem(value, here)  # a namespace holding nodes
            if problem:
                return problem
    return None


def parameter_file(argument: str, path) -> Path:
    """
    Check a ROS 2 parameter file: YAML mapping node names (or their namespaces) to parameters.

    rcl reports a malformed file in raw text from its C parser, or not at all; this says what
    is wrong in one line before the node starts. An empty file holds no parameters (rcl
    accepts it).
    """
    import yaml

    advice = ('give a ROS 2 parameter file (`/**:` then `ros__parameters:` and the values, as '
              "the package's config/cpu.yaml)")
    path = existing_file(argument, path, 'parameter file', advice)
    try:
        tree = yaml.safe_load(path.read_text(encoding='utf-8'))
    except UnicodeDecodeError as err:
        fail(argument, '%s is not a parameter file (%s)' % (path, not_text(err)), advice)
    except yaml.YAMLError as err:
        mark = getattr(err, 'problem_mark', None)
        fail(argument, '%s is not YAML (%s%s)' % (
            path, getattr(err, 'problem', None) or type(err).__name__,
            ' at line %d' % (mark.line + 1) if mark is not None else ''), advice)
    if tree is not None:
        problem = _parameters_problem(tree, 'the file')
        if problem:
            fail(argument, '%s is not a ROS 2 parameter file: %s' % (path, problem), advice)
    return path


def calibration_file(argument: str, path):
    """Return a calib.json or TensorRT calibration cache given on the command line, loaded."""
    from fxseg_ros.quant.calibrators import CalibrationResult

    advice = 'give a calib.json written by fxseg calibrate or a TensorRT calibration cache'
    existing_file(argument, path, 'calibration file', advice)
    try:
        calib = CalibrationResult.load(path)
    except UnicodeDecodeError as err:
        fail(argument, '%s is not a calibration file (%s)' % (path, not_text(err)), advice)
    except (ValueError, TypeError) as err:
        fail(argument, '%s is not a calibration file (%s)' % (path, err), advice)
    if not calib.amax:
        fail(argument, '%s holds no tensor ranges' % path, advice)
    # 0 is a range too: a tensor that was zero on every calibration frame (TensorRT's cache
    # writes it as `0`); a negative or non-finite amax has no INT8 scale.
    bad = sorted(name for name, amax in calib.amax.items()
                 if not (math.isfinite(amax) and amax >= 0.0))
    if bad:
        shown = ', '.join('%s = %g' % (name, calib.amax[name]) for name in bad[:3])
        fail(argument, '%s has an amax that is not a finite number >= 0 (%s%s)'
             % (path, shown, ', ...' if len(bad) > 3 else ''),
             'calibrate again with fxseg calibrate')
    return calib


def inference_model(argument: str, path) -> Path:
    """
    Check a model a runner will run; returns its path.

    An ONNX model (bare or deployment graph) scoring as many classes as the Cityscapes label
    table has, or a TensorRT engine.
    """
    from fxseg_ros.runtime import ENGINE_SUFFIXES

    path = existing_file(argument, path, 'model')
    suffix = path.suffix.lower()
    if suffix in ENGINE_SUFFIXES:
        return path
    if suffix != ONNX_SUFFIX:
        fail(argument, '%s is neither an ONNX model (.onnx) nor a TensorRT engine (%s)'
             % (path, ', '.join(ENGINE_SUFFIXES)), 'give a .onnx model or an engine')
    label_table_classes(argument, onnx_model(argument, path), path)
    return path


def label_table_classes(argument: str, model, path) -> None:
    """Check that the ONNX model (an onnx.ModelProto) scores the classes of the label table."""
    from fxseg_ros.data.labels import CLASS_NAMES
    from fxseg_ros.pipeline.classes import class_count_problem, model_class_count

    classes = model_class_count(model)
    if class_count_problem(classes, CLASS_NAMES, str(path), 'Cityscapes'):
        fail(argument, '%s scores %d classes, but the labels and metrics here are the %d '
             'Cityscapes train IDs' % (path, classes, len(CLASS_NAMES)),
             'give a model that scores the Cityscapes train IDs (its output has %d channels)'
             % len(CLASS_NAMES))


def float32_model(argument: str, path) -> None:
    """Check that a model to quantize is FP32: an INT8 (Q/DQ) or FP16 graph is refused."""
    from fxseg_ros.eval.models import graph_precision, onnx_weight_summary

    actual, evidence = graph_precision(onnx_weight_summary(path))
    if actual != 'fp32':
        fail(argument, '%s is already %s: %s' % (
            path, 'INT8 (Q/DQ)' if actual == 'int8' else actual.upper(), evidence),
            'give the FP32 model it was made from')


def precision_label(argument: str, path, label: Optional[str],
                    built_by_tensorrt: bool = False) -> None:
    """Check that a precision label given for a model is what the model is."""
    from fxseg_ros.eval.models import precision_problem

    problem = precision_problem(path, label, built_by_tensorrt)
    if problem:
        fail(argument, problem)


def checkpoint(argument: str, path):
    """
    Load a checkpoint written by `fxseg train` (an FCNAlexNet; needs torch).

    Anything torch's unpickler raises on a file that is not such a checkpoint (its errors vary:
    UnpicklingError, IndexError, RuntimeError, ...) is a one-line error here: the file is the
    user's input, not our state.
    """
    import importlib.util

    advice = 'give model.ckpt or last.ckpt written by fxseg train'
    existing_file(argument, path, 'checkpoint', advice)
    if importlib.util.find_spec('torch') is None:
        fail(argument, 'reading a checkpoint needs torch, which is not installed',
             'pip install .[train]')
    from fxseg_ros.model.fcn_alexnet import load_checkpoint

    try:
        return load_checkpoint(path)
    except Exception as err:  # a foreign file: see the docstring
        fail(argument, '%s is not a checkpoint fxseg train wrote (%s: %s)'
             % (path, type(err).__name__, err), advice)
