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
    # The node's runtime path runs on Python 3.6 (Jetson TX2, JetPack 4.6, Foxy); the
    # workstation tools (fxseg train / quantize / eval, bags) need Python 3.8.
    python_requires='>=3.6',
    # As ros2/demos lifecycle_py: the executables that setuptools < 47.2 writes (Foxy's 45.2,
    # Ubuntu 18.04's 39.0 on the TX2) resolve install_requires through pkg_resources at
    # start-up and fail on OpenCV / NumPy from apt (python3-opencv has no pip metadata).
    # package.xml lists the rosdep keys; the extras install the same with pip.
    install_requires=['setuptools'],
    extras_require={
        # segmentation_node on the CPU (TensorRT and pycuda come with JetPack / CUDA)
        'runtime': [
            'numpy>=1.17',
            'opencv-python-headless>=4.2',
            'pyyaml>=5.1',
            'onnx>=1.10',
            'onnxruntime>=1.10',
            'tqdm>=4.40',
        ],
        # the fxseg workstation tools: quantization, bags, evaluation reports
        'tools': [
            'onnxconverter-common>=1.13',
            'rosbags>=0.9.15; python_version >= "3.8"',
            'matplotlib>=3.1',
        ],
        'train': ['torch>=2.0'],
        'test': ['pytest>=6', 'onnxscript>=0.1', 'mcap-ros2-support>=0.5',
                 'import-linter>=2.1', 'vermin>=1.6', 'colcon-common-extensions>=0.3',
                 # the ament linters (test/test_flake8.py, test_pep257.py); the wheels do not
                 # declare flake8 and the plugins that ament_flake8's package.xml names
                 # (ament/ament_lint, ament_flake8/package.xml)
                 'ros-ament-flake8>=0.17.3', 'ros-ament-pep257>=0.17.3',
                 'flake8>=7.0', 'flake8-blind-except>=0.2.1', 'flake8-builtins>=2.1',
                 'flake8-class-newline>=1.6', 'flake8-comprehensions>=3.14',
                 'flake8-deprecated>=2.2.1', 'flake8-docstrings>=1.7',
                 'flake8-import-order>=0.18.2', 'flake8-quotes>=3.3.2', 'pydocstyle>=6.3'],
        'ros': ['ros-rclpy', 'ros-sensor-msgs', 'ros-std-msgs', 'ros-diagnostic-msgs',
                'ros-rmw-fastrtps-cpp', 'ros-lifecycle-msgs'],
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
