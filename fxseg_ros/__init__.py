# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
fxseg_ros: real-time semantic segmentation of camera topics with FP16/INT8 engines.

Layers (imports point one way): data -> metrics -> model -> quant -> runtime -> pipeline -> ros,
with eval and cli on top. Only `ros` imports rclpy; only `model` (training, export) imports torch;
tensorrt, pycuda and onnxruntime are imported in `runtime` (sessions: `runtime.session`, the one
module of the runtime layer that quant and model may use). The repository's `.importlinter`
states these rules as contracts, and the test suite checks them.
"""

from pathlib import Path

__version__ = '0.1.0'

#: Folder of the files shipped with the package (the demo model and its model card).
ASSETS_DIR = Path(__file__).resolve().parent / 'assets'
#: The committed demo model: bare FCN-AlexNet x0.25 network graph, float NCHW 3x360x640 -> scores.
DEMO_MODEL = ASSETS_DIR / 'fcn_alexnet_w025_640x360.onnx'
