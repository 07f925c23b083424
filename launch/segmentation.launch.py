# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Start segmentation_node for one platform over config/<platform>.yaml.

    ros2 launch fxseg_ros segmentation.launch.py platform:=cpu \
        camera_topics:='[/cam_front/image_raw, /cam_left/image_raw]'

Arguments: platform (cpu | tx2 | px2), camera_topics (a YAML list or comma-separated; empty: the
config's), model, engine (empty: the platform's engine under <share>/fxseg_ros/engines/),
namespace, log_level, use_sim_time (true when replaying a bag with --clock), large_data.
cpu.launch.py, tx2.launch.py and px2.launch.py include this file with the platform fixed.

Fast DDS and 2.7 MB frames: with its default transports Fast DDS moves a 1280x720 bgr8 image
between two processes in ~26 ms (median, reliable, 30 Hz, measured on a 2-core x86 host); with
`FASTDDS_BUILTIN_TRANSPORTS=LARGE_DATA` (shared memory on the host, TCP between hosts, UDP only
for discovery) in ~5 ms. This file sets it for the node (large_data:=true, the default); set it in
the environment of the camera driver as well, since a participant picks its transports when it
starts. Fast DDS releases before LARGE_DATA existed (Humble's 2.6) and other RMWs ignore it.
"""

from __future__ import annotations

import os

import yaml
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, LogInfo, OpaqueFunction, SetEnvironmentVariable
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

PACKAGE = 'fxseg_ros'
PLATFORMS = ('cpu', 'tx2', 'px2')
#: Engine file per platform under <share>/fxseg_ros/engines/ (built on the target at first start
#: when missing: build_if_missing in the platform's config), and the INT8 calibration cache.
PLATFORM_ENGINES = {
    'cpu': '',
    'tx2': 'tx2_fp16.engine',
    'px2': 'px2_int8.engine',
}
PLATFORM_CALIBRATION = {'px2': 'calibration.cache'}


def _camera_topics(text: str):
    """'[/a/image_raw, /b/image_raw]' or '/a/image_raw,/b/image_raw' -> list of topics."""
    text = text.strip()
    if not text:
        return []
    if text.startswith('['):
        topics = yaml.safe_load(text)
        if not isinstance(topics, list):
            raise ValueError('camera_topics must be a list, got %r' % text)
        return [str(t) for t in topics]
    return [t.strip() for t in text.split(',') if t.strip()]


def _node(context, *args, **kwargs):
    platform = LaunchConfiguration('platform').perform(context)
    share = FindPackageShare(PACKAGE).perform(context)
    config = PathJoinSubstitution([share, 'config', platform + '.yaml']).perform(context)
    params_file = LaunchConfiguration('params_file').perform(context) or config
    overrides = {'use_sim_time': LaunchConfiguration('use_sim_time').perform(context) == 'true'}
    topics = _camera_topics(LaunchConfiguration('camera_topics').perform(context))
    if topics:
        overrides['camera_topics'] = topics
    model = LaunchConfiguration('model').perform(context)
    if model:
        overrides['model'] = model
    engine = LaunchConfiguration('engine').perform(context)
    if not engine and PLATFORM_ENGINES[platform]:
        engine = PathJoinSubstitution([share, 'engines', PLATFORM_ENGINES[platform]]).perform(
            context)
        calibration = PLATFORM_CALIBRATION.get(platform)
        if calibration:
            path = PathJoinSubstitution([share, 'engines', calibration]).perform(context)
            if os.path.isfile(path):  # only needed to build the INT8 engine on the target
                overrides['calibration_cache'] = path
    if engine:
        overrides['engine'] = engine
    node = Node(
        package=PACKAGE,
        executable='segmentation_node',
        name='segmentation_node',
        namespace=LaunchConfiguration('namespace'),
        parameters=[params_file, overrides],
        arguments=['--ros-args', '--log-level', LaunchConfiguration('log_level')],
        output='screen',
        emulate_tty=True,
    )
    return [
        LogInfo(msg='fxseg_ros: platform %s, parameters %s, overrides %s'
                % (platform, params_file, overrides)),
        node,
    ]


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument(
            'platform', default_value='cpu', choices=list(PLATFORMS),
            description='Target: cpu (ONNX Runtime, demo model), tx2 (TensorRT FP16) or px2 '
                        '(TensorRT INT8); picks config/<platform>.yaml'),
        DeclareLaunchArgument(
            'camera_topics', default_value='',
            description='Image topics, e.g. "[/cam_front/image_raw, /cam_left/image_raw]"; '
                        'empty: the config\'s camera_topics'),
        DeclareLaunchArgument(
            'model', default_value='',
            description='ONNX model; empty: the config\'s (the demo model)'),
        DeclareLaunchArgument(
            'engine', default_value='',
            description='TensorRT engine file; empty: the platform\'s engine in '
                        '<share>/fxseg_ros/engines/ (built from the model when missing)'),
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
            'large_data', default_value='true', choices=['true', 'false'],
            description='Set FASTDDS_BUILTIN_TRANSPORTS=LARGE_DATA for the node'),
        # Shared memory for the 2.7 MB frames on this host (see the module docstring)
        SetEnvironmentVariable('FASTDDS_BUILTIN_TRANSPORTS', 'LARGE_DATA',
                               condition=IfCondition(LaunchConfiguration('large_data'))),
        OpaqueFunction(function=_node),
    ])
