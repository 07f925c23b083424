# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
segmentation_node on the px2 platform, over config/px2.yaml.

Drive PX2: TensorRT INT8 engine <share>/fxseg_ros/engines/px2_int8.engine
(build it on the target with `fxseg build --precision int8`, or let the first start build it
with the calibration cache calibration.cache from `fxseg calibrate`).

    ros2 launch fxseg_ros px2.launch.py camera_topics:='[/cam_front/image_raw]'

Takes the arguments of segmentation.launch.py except platform (camera_topics, model, engine,
params_file, namespace, log_level, use_sim_time, large_data).
"""

from launch import LaunchDescription
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import PathJoinSubstitution
from launch_ros.substitutions import FindPackageShare


def generate_launch_description():
    segmentation = PathJoinSubstitution(
        [FindPackageShare('fxseg_ros'), 'launch', 'segmentation.launch.py'])
    return LaunchDescription([
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(segmentation),
            launch_arguments={'platform': 'px2'}.items()),
    ])
