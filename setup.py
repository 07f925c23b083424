# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
from glob import glob
import os

from setuptools import find_packages, setup

package_name = 'fxseg_ros'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test', 'test.*']),
    package_data={package_name: ['assets/*.onnx', 'assets/*.md', 'assets/*.json']},
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
        (os.path.join('share', package_name, 'launch'), glob('launch/*.launch.py')),
        (os.path.join('share', package_name, 'config'),
         glob('config/*.yaml') + glob('config/*.xml')),
        (os.path.join('share', package_name, 'engines'), ['engines/README.md']),
    ],
    python_requires='>=3.8',
    install_requires=[
        'setuptools',
        'numpy>=1.17',
        'opencv-python-headless>=4.2',
        'pyyaml>=5.1',
        'onnx>=1.12',
        'onnxruntime>=1.12',
        'onnxconverter-common>=1.13',
        'rosbags>=0.9.15',
        'tqdm>=4.40',
        'matplotlib>=3.1',
    ],
    extras_require={
        'train': ['torch>=2.0'],
        'test': ['pytest>=6', 'onnxscript>=0.1', 'mcap-ros2-support>=0.5'],
        'ros': ['ros-rclpy', 'ros-sensor-msgs', 'ros-std-msgs', 'ros-diagnostic-msgs',
                'ros-rmw-fastrtps-cpp'],
    },
    zip_safe=True,
    maintainer='fxseg_ros maintainers',
    maintainer_email='fxseg-ros@example.org',
    description='Real-time semantic segmentation of camera topics with FP16/INT8 TensorRT engines',
    license='Apache-2.0',
    entry_points={
        'console_scripts': [
            'fxseg = fxseg_ros.cli.main:main',
            'segmentation_node = fxseg_ros.ros.node:main',
        ],
    },
)
