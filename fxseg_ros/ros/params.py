# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The segmentation node's parameters: one table, read by the node, the launch checks and the docs.

This module does not import rclpy: the table and :func:`validate` are plain Python, so the
configuration files can be checked on a machine without ROS. The node turns every entry into a
`rcl_interfaces/ParameterDescriptor` (description, range, read_only) in `fxseg_ros.ros.node_core`.
"""


import os
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

from fxseg_ros.runtime import BACKENDS, ENGINE_SUFFIXES
from fxseg_ros.runtime.metadata import PRECISIONS

#: Parameter types, named as rclpy's `Parameter.Type` members.
STRING, BOOL, INTEGER, DOUBLE, STRING_ARRAY = (
    'STRING', 'BOOL', 'INTEGER', 'DOUBLE', 'STRING_ARRAY')


class ParamSpec(NamedTuple):
    """One declared parameter of the segmentation node."""

    # `type` and `range` name the ParameterDescriptor fields they fill (rcl_interfaces); as
    # attributes of a tuple they shadow no builtin in any scope
    name: str
    type: str                                   # noqa: A003 - STRING, BOOL, INTEGER, DOUBLE, ...
    default: Any
    description: str
    read_only: bool = True                      # False: can be changed while the node runs
    choices: Tuple[str, ...] = ()               # allowed values of a STRING parameter
    range: Optional[Tuple[float, float]] = None  # noqa: A003 - inclusive bounds (INTEGER, DOUBLE)
    constraints: str = ''                       # the rules in words (ParameterDescriptor)


INPUT_TYPES = ('raw', 'compressed')
QOS_PROFILES = ('sensor_data', 'reliable')

PARAMETERS: Tuple[ParamSpec, ...] = (
    # The model ---------------------------------------------------------------------------------
    ParamSpec('model', STRING, '',
              'ONNX model: a bare network graph (wrapped into the deployment graph at start-up) '
              'or a deployment graph; empty: the demo model shipped with the package. With '
              'backend tensorrt an engine is built from it when `engine` does not exist.',
              constraints='empty or an existing .onnx file'),
    ParamSpec('engine', STRING, '',
              'TensorRT engine file (.engine / .plan); a name without a folder is looked up in '
              '`engine_dir`. Loaded when it exists; built from `model` when missing and '
              'build_if_missing is true. Empty with backend tensorrt: '
              '<engine_dir>/<model name>.<precision>.engine.',
              constraints='empty or a path ending in .engine, .plan or .trt'),
    ParamSpec('engine_dir', STRING, '',
              'Folder of the TensorRT engines (and of calibration_cache / timing_cache names '
              'given without a folder); created when an engine is built. Empty: '
              '$ROS_HOME/fxseg_ros/engines, ROS_HOME defaulting to ~/.ros.',
              constraints='empty or a folder this user can write'),
    ParamSpec('backend', STRING, 'auto',
              'Inference backend. auto: TensorRT when `engine` is set, ONNX Runtime otherwise.',
              choices=BACKENDS),
    ParamSpec('precision', STRING, 'fp16',
              'Precision of an engine built here (TensorRT); ONNX Runtime runs the model file as '
              'it is (an INT8 Q/DQ model is INT8).', choices=PRECISIONS),
    ParamSpec('providers', STRING_ARRAY, [],
              'ONNX Runtime execution providers in order of preference, e.g. '
              '[CUDAExecutionProvider, CPUExecutionProvider]; empty: CPUExecutionProvider.',
              constraints='names of execution providers'),
    ParamSpec('threads', INTEGER, 0,
              'ONNX Runtime intra-op threads; 0: one per core.', range=(0, 256)),
    ParamSpec('camera_width', INTEGER, 1280,
              'Frame width the deployment graph is built for; frames of another size are resized '
              "on the host, masks come back at each frame's own size.", range=(16, 16384)),
    ParamSpec('camera_height', INTEGER, 720,
              'Frame height the deployment graph is built for.', range=(16, 16384)),
    ParamSpec('max_batch', INTEGER, 0,
              'Most frames (cameras) per inference call; 0: every camera with a fresh frame in '
              'one call. A TensorRT engine also limits it to the batch it was built for.',
              range=(0, 64)),
    ParamSpec('batch_wait_ms', DOUBLE, 0.0,
              "After the first fresh frame, wait up to this long for the other cameras' frames "
              'so that they go into one batch (cameras triggered together); 0: no waiting.',
              read_only=False, range=(0.0, 1000.0)),
    # Engine building (TensorRT) -----------------------------------------------------------------
    ParamSpec('build_if_missing', BOOL, True,
              'Build the TensorRT engine from `model` when `engine` does not exist (minutes on a '
              'Jetson; progress is logged). false: fail at start-up instead.'),
    ParamSpec('rebuild_on_mismatch', BOOL, False,
              'Rebuild the engine when it was built by another TensorRT version or for another '
              'GPU. false: fail at start-up with a message saying how to rebuild.'),
    ParamSpec('calibration_cache', STRING, '',
              'INT8 calibration cache (from `fxseg calibrate`) for an INT8 engine build; a name '
              'without a folder is looked up in `engine_dir`. Needed only when the engine is '
              'built.', constraints='empty, or a file when an INT8 engine is built'),
    ParamSpec('timing_cache', STRING, '',
              'TensorRT timing cache file (a name without a folder: in `engine_dir`): loaded '
              'when present, saved after a build.'),
    ParamSpec('workspace_mib', INTEGER, 1024,
              'TensorRT builder workspace limit in MiB.', range=(16, 65536)),
    ParamSpec('dla_core', INTEGER, -1,
              'DLA core to build for (Xavier / Orin) with GPU fallback; -1: the GPU.',
              range=(-1, 7)),
    # Lifecycle ------------------------------------------------------------------------------
    ParamSpec('autostart', BOOL, True,
              'Configure and activate the node at start-up. false: the node stays unconfigured '
              'until a lifecycle manager (or `ros2 lifecycle set`) configures and activates it.'),
    ParamSpec('build_only', BOOL, False,
              'Configure (validate the parameters, load or build the engine, prepare the ONNX '
              'Runtime graph cache), then exit with status 0 without subscribing: builds '
              'engines ahead of time.'),
    # Inputs ---------------------------------------------------------------------------------
    ParamSpec('camera_topics', STRING_ARRAY, ['camera/image_raw'],
              "Image topics, one per camera (relative names resolve in the node's namespace). "
              'Outputs go to the namespace of each topic: /cam_front/image_raw gives '
              '/cam_front/segmentation/mask (for compressed input a trailing /compressed is '
              'dropped first).',
              constraints='at least one, no duplicates, distinct namespaces'),
    ParamSpec('input_type', STRING, 'raw',
              'raw: sensor_msgs/Image; compressed: sensor_msgs/CompressedImage (JPEG / PNG).',
              choices=INPUT_TYPES),
    ParamSpec('qos', STRING, 'reliable',
              'Subscription QoS: reliable, or sensor_data (best effort, also matches best-effort '
              'camera drivers). Best effort over UDP loses most 1280x720 frames (they travel '
              'as ~40 fragments); it is fine over shared memory (Fast DDS LARGE_DATA on one '
              'host). A reliable subscription gets nothing from a best-effort publisher: the '
              'node logs an error naming this parameter then.', choices=QOS_PROFILES),
    ParamSpec('qos_depth', INTEGER, 2,
              'History depth of subscriptions and publishers (the node keeps only the newest '
              'frame per camera anyway).', range=(1, 100)),
    ParamSpec('max_stamp_age_s', DOUBLE, 5.0,
              "Reject frames whose header stamp is older than this (seconds before the node's "
              'clock; with use_sim_time the bag clock); 0: accept any age.',
              read_only=False, range=(0.0, 1e6)),
    ParamSpec('max_stamp_future_s', DOUBLE, 1.0,
              'Reject frames stamped further than this in the future (clock skew between '
              'machines); 0: accept any.', read_only=False, range=(0.0, 1e6)),
    ParamSpec('camera_match_timeout_s', DOUBLE, 5.0,
              'After activation, warn (once per camera) when a camera topic has delivered no '
              'frame within this time, naming what to check (topic, domain, QoS, Fast DDS '
              'transports); 0: no warning.', range=(0.0, 3600.0)),
    # Outputs ----------------------------------------------------------------------------------
    ParamSpec('publish_color_mask', BOOL, True,
              'Publish segmentation/color_mask (rgb8) while it has subscribers.',
              read_only=False),
    ParamSpec('publish_overlay', BOOL, True,
              'Publish segmentation/overlay (the frame blended with the colour mask; bgr8 for '
              'bgr8 input, rgb8 otherwise) while it has subscribers.', read_only=False),
    ParamSpec('overlay_alpha', DOUBLE, 0.5,
              'Weight of the colour mask in segmentation/overlay: 0 shows the frame, 1 the '
              'colour mask.', read_only=False, range=(0.0, 1.0)),
    ParamSpec('labels_file', STRING, '',
              'YAML label table: a list of {id, name, color: [r, g, b]}; empty: the 19 '
              'Cityscapes train IDs. Published at segmentation/labels (latched) and as the '
              'label_names / label_colors parameters.',
              constraints='empty or an existing YAML file'),
    # Diagnostics -------------------------------------------------------------------------------
    ParamSpec('latency_budget_ms', DOUBLE, 50.0,
              'End-to-end latency budget (header stamp to publish): p95 above it is WARN, p50 '
              'above it is ERROR.', read_only=False, range=(0.1, 60000.0)),
    ParamSpec('expected_rate_hz', DOUBLE, 30.0,
              'Expected frame rate per camera: output below 80 % of it is WARN, no output for '
              'a diagnostics period is ERROR; 0: no rate check.',
              read_only=False, range=(0.0, 1000.0)),
    ParamSpec('diagnostics_period_s', DOUBLE, 1.0,
              'Period of the /diagnostics messages.', range=(0.05, 60.0)),
    ParamSpec('stats_window', INTEGER, 300,
              'Samples in the sliding windows of the latency percentiles.',
              range=(10, 100000)),
)

#: Parameters the node sets itself (outputs for consumers); configuration files leave them out.
#: Set when the node is configured; a change from outside is refused.
OUTPUT_PARAMETERS: Tuple[ParamSpec, ...] = (
    ParamSpec('label_names', STRING_ARRAY, [],
              'Class names by label ID (set by the node from the label table when it is '
              'configured).', read_only=False),
    ParamSpec('label_colors', STRING_ARRAY, [],
              'Display colours by label ID as #rrggbb (set by the node from the label table '
              'when it is configured).', read_only=False),
)

BY_NAME: Dict[str, ParamSpec] = {p.name: p for p in PARAMETERS}


class ParameterError(ValueError):
    """A parameter value the node cannot run with; `name` says which one."""

    def __init__(self, name: str, message: str):
        super().__init__('parameter %r: %s' % (name, message))
        self.name = name


def check_type(spec: ParamSpec, value: Any) -> None:
    """Raise ParameterError when `value` is not of the parameter's type."""
    ok = {
        STRING: lambda v: isinstance(v, str),
        BOOL: lambda v: isinstance(v, bool),
        INTEGER: lambda v: isinstance(v, int) and not isinstance(v, bool),
        DOUBLE: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        STRING_ARRAY: lambda v: (isinstance(v, (list, tuple))
                                 and all(isinstance(x, str) for x in v)),
    }[spec.type](value)
    if not ok:
        raise ParameterError(spec.name, 'expected %s, got %r' % (spec.type.lower(), value))


def check_value(spec: ParamSpec, value: Any) -> Any:
    """Check one value's type, choice and range; return it normalised (ParameterError)."""
    if value is None and spec.type == STRING_ARRAY:
        value = []  # an empty YAML list arrives without a type
    check_type(spec, value)
    if spec.choices and value not in spec.choices:
        raise ParameterError(spec.name, '%r is not one of %s' % (value, ', '.join(spec.choices)))
    if spec.range is not None and not spec.range[0] <= value <= spec.range[1]:
        raise ParameterError(spec.name, '%r is outside [%s, %s]'
                             % (value, spec.range[0], spec.range[1]))
    if spec.type == STRING_ARRAY:
        return [str(v) for v in value]
    return value


def camera_namespace(topic: str, input_type: str = 'raw') -> str:
    """
    Return the namespace a camera's outputs go to: the image topic without its last name.

    '/cam_front/image_raw' -> '/cam_front'; 'image_raw' -> '' (the node's namespace);
    compressed: '/cam/image_raw/compressed' -> '/cam'.
    """
    name = topic.rstrip('/')
    if input_type == 'compressed' and name.endswith('/compressed'):
        name = name[:-len('/compressed')]
    return name.rsplit('/', 1)[0] if '/' in name else ''


def output_topic(camera_ns: str, leaf: str) -> str:
    """'/cam_front' + 'mask' -> '/cam_front/segmentation/mask'; '' -> 'segmentation/mask'."""
    base = 'segmentation/' + leaf
    return camera_ns + '/' + base if camera_ns else base


def validate(values: Dict[str, Any]) -> Dict[str, Any]:
    """
    Check parameter values beyond their declared type and range; return them normalised.

    values: name -> value for (a subset of) :data:`PARAMETERS`; missing ones take the default.
    Raises ParameterError naming the first bad parameter.
    """
    out = {p.name: values.get(p.name, p.default) for p in PARAMETERS}
    unknown = sorted(set(values) - set(out))
    if unknown:
        raise ParameterError(unknown[0], 'not a parameter of the segmentation node (known: %s)'
                             % ', '.join(sorted(out)))
    for spec in PARAMETERS:
        out[spec.name] = check_value(spec, out[spec.name])
    for name in ('model', 'labels_file'):
        path = out[name]
        if path and not os.path.isfile(os.path.expanduser(path)):
            raise ParameterError(name, 'file %r does not exist' % path)
    if out['model'] and not out['model'].endswith('.onnx'):
        raise ParameterError('model', '%r is not an .onnx file (engines go to `engine`)'
                             % out['model'])
    if out['engine'] and not out['engine'].endswith(ENGINE_SUFFIXES):
        raise ParameterError('engine', '%r does not end in %s'
                             % (out['engine'], ' / '.join(ENGINE_SUFFIXES)))
    if out['engine'] and out['backend'] == 'onnxruntime':
        raise ParameterError('backend', 'onnxruntime cannot run the TensorRT engine %r; use '
                             'backend auto or tensorrt, or leave engine empty'
                             % out['engine'])
    if any(not p.strip() for p in out['providers']):
        raise ParameterError('providers', 'empty provider name in %r' % (out['providers'],))
    _validate_topics(out['camera_topics'], out['input_type'])
    return out


def _validate_topics(topics: Sequence[str], input_type: str) -> None:
    if not topics:
        raise ParameterError('camera_topics', 'needs at least one image topic')
    seen: Dict[str, str] = {}
    for topic in topics:
        if not topic or topic.endswith('/') or '//' in topic or ' ' in topic:
            raise ParameterError('camera_topics', '%r is not a topic name' % topic)
        if topic in seen.values():
            raise ParameterError('camera_topics', '%r is listed twice' % topic)
        ns = camera_namespace(topic, input_type)
        if ns in seen:
            raise ParameterError('camera_topics', '%r and %r share the output namespace %r; '
                                 'give each camera its own namespace (or remap)'
                                 % (seen[ns], topic, ns or '(node namespace)'))
        seen[ns] = topic


def spec_rows() -> List[Tuple[str, str, str, str, str]]:
    """(name, type, default, constraints, live) per parameter: the README's table."""
    rows = []
    for p in PARAMETERS:
        rule = p.constraints
        if p.choices:
            rule = ', '.join(p.choices)
        elif p.range is not None:
            rule = '%s .. %s' % p.range
        rows.append((p.name, p.type.lower(), repr(p.default), rule,
                     'no' if p.read_only else 'yes'))
    return rows


# Engine files --------------------------------------------------------------------------------
class EnginePaths(NamedTuple):
    """Where the node looks for and writes TensorRT files (absolute paths, '' when unset)."""

    engine_dir: str
    engine: str
    calibration_cache: str
    timing_cache: str


def default_engine_dir(environ=None) -> str:
    """
    $ROS_HOME/fxseg_ros/engines, ROS_HOME defaulting to ~/.ros (as rcl's logging directory).

    Outside the install tree, which is often read-only (/opt/ros, a colcon install).
    """
    env = os.environ if environ is None else environ
    ros_home = env.get('ROS_HOME') or os.path.join(os.path.expanduser('~'), '.ros')
    return os.path.join(os.path.expanduser(ros_home), 'fxseg_ros', 'engines')


def in_engine_dir(name: str, engine_dir: str) -> str:
    """Resolve a name: without a folder it goes into engine_dir; a path stays ('~' expanded)."""
    if not name:
        return ''
    if os.path.dirname(name):
        return os.path.abspath(os.path.expanduser(name))
    return os.path.join(engine_dir, name)


def engine_paths(cfg: Dict[str, Any], model_path: str, environ=None) -> EnginePaths:
    """
    Return the engine, calibration and timing cache files of a validated configuration.

    With backend tensorrt and no `engine`, the engine is <engine_dir>/<model stem>.<precision>
    .engine, the name `fxseg build` suggests too.
    """
    engine_dir = os.path.abspath(os.path.expanduser(
        cfg['engine_dir'] or default_engine_dir(environ)))
    engine = in_engine_dir(cfg['engine'], engine_dir)
    if not engine and cfg['backend'] == 'tensorrt':
        stem = os.path.splitext(os.path.basename(model_path))[0]
        engine = os.path.join(engine_dir, '%s.%s.engine' % (stem, cfg['precision']))
    return EnginePaths(engine_dir, engine, in_engine_dir(cfg['calibration_cache'], engine_dir),
                       in_engine_dir(cfg['timing_cache'], engine_dir))
