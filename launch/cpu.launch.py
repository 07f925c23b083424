# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
segmentation_node on the cpu platform, over config/cpu.yaml.

ONNX Runtime on the CPU with the demo model shipped with the package: the embedded
default (no GPU needed).

    ros2 launch fxseg_ros cpu.launch.py camera_topics:='[/cam_front/image_raw]'

Takes the arguments of segmentation.launch.py except platform, which is fixed here (camera_topics,
model, engine, engine_dir, params_file, namespace, log_level, use_sim_time, autostart,
transport); platform:=... is refused.
"""

import importlib.util
import os

PLATFORM = 'cpu'


def _segmentation_launch():
    """segmentation.launch.py beside this file, as a module."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'segmentation.launch.py')
    spec = importlib.util.spec_from_file_location('fxseg_segmentation_launch', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generate_launch_description():
    return _segmentation_launch().platform_launch_description(PLATFORM)
