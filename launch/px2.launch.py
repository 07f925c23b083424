# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
segmentation_node on the px2 platform, over config/px2.yaml.

Drive PX2: TensorRT INT8 engine px2_int8.engine in engine_dir ($ROS_HOME/fxseg_ros/engines by
default). Build it on the target with `fxseg build --precision int8`, or let the first start
build it from calibration.cache (from `fxseg calibrate`) placed in engine_dir.

    ros2 launch fxseg_ros px2.launch.py camera_topics:='[/cam_front/image_raw]'

Takes the arguments of segmentation.launch.py except platform, which is fixed here (camera_topics,
model, engine, engine_dir, params_file, namespace, log_level, use_sim_time, autostart,
transport); platform:=... is refused.
"""

import importlib.util
import os

PLATFORM = 'px2'


def _segmentation_launch():
    """segmentation.launch.py beside this file, as a module."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'segmentation.launch.py')
    spec = importlib.util.spec_from_file_location('fxseg_segmentation_launch', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generate_launch_description():
    return _segmentation_launch().platform_launch_description(PLATFORM)
