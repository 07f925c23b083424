# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Start segmentation_node for one platform over config/<platform>.yaml.

    ros2 launch fxseg_ros segmentation.launch.py platform:=cpu \
        camera_topics:='[/cam_front/image_raw, /cam_left/image_raw]'

Arguments: platform (cpu | tx2 | px2), camera_topics (a YAML list or comma-separated; empty: the
config's), model, engine (a name is looked up in engine_dir), engine_dir (empty:
$ROS_HOME/fxseg_ros/engines), params_file (replaces config/<platform>.yaml), namespace,
log_level, use_sim_time (true when replaying a bag with --clock), autostart (false: the node
stays unconfigured for a lifecycle manager), transport (see below).
cpu.launch.py, tx2.launch.py and px2.launch.py take the same arguments with the platform fixed.

Transports (fxseg_ros.ros.transport): `transport:=default` (the default) leaves Fast DDS on its
builtin transports, so every ROS 2 process started normally reaches the node (camera driver,
`ros2 topic echo`, RViz, rosbag2). `transport:=shm` gives the node the XML profile
config/fastdds_large_images.xml (shared memory with 32 MiB segments besides UDP): it still talks
to default processes both ways, and its own outputs travel in one piece; start the camera driver
with the same profile (FASTDDS_DEFAULT_PROFILES_FILE, FASTRTPS_DEFAULT_PROFILES_FILE before
Fast DDS 3) to have its frames travel that way too. `transport:=large_data` sets
FASTDDS_BUILTIN_TRANSPORTS to LARGE_DATA with a socket size whose shared-memory segment holds a
frame (transport.LARGE_DATA_TRANSPORTS) for the node: only processes that set the same can
talk to it then (Fast DDS 2.14 / 3.x; Humble's Fast DDS 2.6 refuses the socket size and stays
on its default transports).

Bad arguments stop the launch with one line naming the argument.
"""

import importlib.util
import os
import sys

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, LogInfo, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
import yaml

PACKAGE = 'fxseg_ros'
PLATFORMS = ('cpu', 'tx2', 'px2')
#: share/fxseg_ros when installed, the source tree otherwise: launch/ and config/ are siblings.
SHARE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class LaunchArgumentError(ValueError):
    """A launch argument the node cannot start with; the message names it."""


def _transport_module():
    """fxseg_ros.ros.transport (rclpy-free), from the installed package or the source tree."""
    try:
        from fxseg_ros.ros import transport
        return transport
    except ImportError:
        path = os.path.join(SHARE_DIR, 'fxseg_ros', 'ros', 'transport.py')
        spec = importlib.util.spec_from_file_location('fxseg_transport', path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module


def camera_topics(text):
    """'[/a/image_raw, /b/image_raw]' or '/a/image_raw,/b/image_raw' -> list of topics."""
    text = text.strip()
    if not text:
        return []
    if not text.startswith('['):
        return [t.strip() for t in text.split(',') if t.strip()]
    try:
        topics = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem = str(getattr(exc, 'problem', None) or exc).strip()
        raise LaunchArgumentError(
            'launch argument camera_topics: %r is not a YAML list (%s); write '
            "camera_topics:='[/cam_front/image_raw, /cam_left/image_raw]'" % (text, problem)) \
            from None
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise LaunchArgumentError('launch argument camera_topics: %r is not a list of topic '
                                  'names' % text)
    return topics


def _params_file(context, platform):
    path = LaunchConfiguration('params_file').perform(context)
    if not path:
        return os.path.join(SHARE_DIR, 'config', platform + '.yaml')
    path = os.path.abspath(os.path.expanduser(path))
    if not os.path.isfile(path):
        raise LaunchArgumentError('launch argument params_file: %s does not exist; give an '
                                  'existing parameter file, or leave params_file out for '
                                  'config/%s.yaml' % (path, platform))
    return path


def _overrides(context):
    def arg(name):
        return LaunchConfiguration(name).perform(context)

    overrides = {'use_sim_time': arg('use_sim_time') == 'true',
                 'autostart': arg('autostart') == 'true'}
    topics = camera_topics(arg('camera_topics'))
    if topics:
        overrides['camera_topics'] = topics
    model, engine, engine_dir = arg('model'), arg('engine'), arg('engine_dir')
    for name, value in (('model', model), ('engine', engine), ('engine_dir', engine_dir)):
        if value:
            overrides[name] = value
    return overrides


def _executable():
    """(package, executable, leading arguments) of the node: lib/fxseg_ros, or this Python."""
    try:
        from ament_index_python.packages import get_package_prefix, PackageNotFoundError
    except ImportError:
        return None, sys.executable, ['-m', 'fxseg_ros.ros.node']
    try:
        prefix = get_package_prefix(PACKAGE)
    except (PackageNotFoundError, LookupError, ValueError, OSError):
        prefix = None
    if prefix and os.path.isfile(os.path.join(prefix, 'lib', PACKAGE, 'segmentation_node')):
        return PACKAGE, 'segmentation_node', []
    # not installed with colcon (pip / source tree): the same node through this interpreter
    return None, sys.executable, ['-m', 'fxseg_ros.ros.node']


def _node(context, fixed_platform=None):
    platform = LaunchConfiguration('platform').perform(context) if fixed_platform is None \
        else fixed_platform
    given = context.launch_configurations.get('platform')
    if fixed_platform is not None and given not in (None, fixed_platform):
        raise LaunchArgumentError(
            'launch argument platform:=%s: %s.launch.py always runs the %s platform; use '
            '%s.launch.py or segmentation.launch.py platform:=%s'
            % (given, fixed_platform, fixed_platform, given, given))
    params_file = _params_file(context, platform)
    overrides = _overrides(context)
    transport = _transport_module()
    mode = LaunchConfiguration('transport').perform(context)
    env = transport.transport_environment(
        mode, os.path.join(SHARE_DIR, 'config', transport.PROFILE_FILE))
    package, executable, leading = _executable()
    node = Node(
        package=package,
        executable=executable,
        exec_name='segmentation_node',
        name='segmentation_node',
        namespace=LaunchConfiguration('namespace'),
        parameters=[params_file, overrides],
        arguments=leading + ['--ros-args', '--log-level', LaunchConfiguration('log_level')],
        additional_env=env,
        output='screen',
        emulate_tty=True,
    )
    return [
        LogInfo(msg='fxseg_ros: platform %s, parameters %s, overrides %s, transport %s%s'
                % (platform, params_file, overrides, mode,
                   ' (%s)' % ', '.join('%s=%s' % kv for kv in sorted(env.items()))
                   if env else '')),
        node,
    ]


def launch_arguments(fixed_platform=None):
    """Return the DeclareLaunchArgument actions; `platform` only where it is not fixed."""
    transport = _transport_module()
    declared = []
    if fixed_platform is None:
        declared.append(DeclareLaunchArgument(
            'platform', default_value='cpu', choices=list(PLATFORMS),
            description='Target: cpu (ONNX Runtime, demo model), tx2 (TensorRT FP16) or px2 '
                        '(TensorRT INT8); picks config/<platform>.yaml'))
    declared += [
        DeclareLaunchArgument(
            'camera_topics', default_value='',
            description='Image topics, e.g. "[/cam_front/image_raw, /cam_left/image_raw]"; '
                        "empty: the config's camera_topics"),
        DeclareLaunchArgument(
            'model', default_value='', description="ONNX model; empty: the config's"),
        DeclareLaunchArgument(
            'engine', default_value='',
            description='TensorRT engine (a name is looked up in engine_dir); empty: the '
                        "config's"),
        DeclareLaunchArgument(
            'engine_dir', default_value='',
            description="Folder of the TensorRT engines; empty: the config's, else "
                        '$ROS_HOME/fxseg_ros/engines (ROS_HOME defaults to ~/.ros)'),
        DeclareLaunchArgument(
            'params_file', default_value='',
            description='Parameter file replacing config/<platform>.yaml'),
        DeclareLaunchArgument(
            'namespace', default_value='', description='Namespace of the node'),
        DeclareLaunchArgument(
            'log_level', default_value='info',
            choices=['debug', 'info', 'warn', 'error', 'fatal'], description='Log level'),
        DeclareLaunchArgument(
            'use_sim_time', default_value='false', choices=['true', 'false'],
            description='Use /clock (bag replay with --clock)'),
        DeclareLaunchArgument(
            'autostart', default_value='true', choices=['true', 'false'],
            description='Configure and activate the node at start-up; false: leave it '
                        'unconfigured for a lifecycle manager'),
        DeclareLaunchArgument(
            'transport', default_value=transport.DEFAULT_TRANSPORT,
            choices=list(transport.TRANSPORTS),
            description='Fast DDS setup of the node: default (reachable by every ROS 2 '
                        'process), shm (config/%s: shared memory for big frames, still '
                        'reachable by default processes), large_data '
                        '(FASTDDS_BUILTIN_TRANSPORTS=%s: only peers with the same)'
                        % (transport.PROFILE_FILE, transport.LARGE_DATA_TRANSPORTS)),
    ]
    return declared


def platform_launch_description(fixed_platform=None):
    """Return the launch description; fixed_platform: the platform of cpu/tx2/px2.launch.py."""
    return LaunchDescription(launch_arguments(fixed_platform) + [
        OpaqueFunction(function=_node, kwargs={'fixed_platform': fixed_platform}),
    ])


def generate_launch_description():
    return platform_launch_description()
