# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
segmentation_node on the tx2 platform, over config/tx2.yaml.

Jetson TX2 (JetPack 4.6, Foxy, Python 3.6): TensorRT FP16 engine tx2_fp16.engine in engine_dir
($ROS_HOME/fxseg_ros/engines by default), built from the demo model on the first start when
missing (several minutes, progress logged).

    ros2 launch fxseg_ros tx2.launch.py camera_topics:='[/cam_front/image_raw]'

Takes the arguments of segmentation.launch.py except platform, which is fixed here (camera_topics,
model, engine, engine_dir, params_file, namespace, log_level, use_sim_time, autostart,
transport); platform:=... is refused.
"""

import importlib.util
import os

PLATFORM = 'tx2'


def _segmentation_launch():
    """segmentation.launch.py beside this file, as a module."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'segmentation.launch.py')
    spec = importlib.util.spec_from_file_location('fxseg_segmentation_launch', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generate_launch_description():
    return _segmentation_launch().platform_launch_description(PLATFORM)
