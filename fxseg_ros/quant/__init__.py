# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
quant layer of fxseg_ros: post-training quantization of the bare network graph.

- `collect`: run a graph in ONNX Runtime and read every intermediate float tensor per frame.
- `calibrators`: streaming |x| histograms; amax by TensorRT's EntropyCalibration2, min-max or a
  percentile; `calibrate(model, reader, method)` -> `CalibrationResult` (calib.json).
- `cache`: TensorRT calibration cache (`TRT-<version>-EntropyCalibration2`, scale hex lines).
- `qdq`: INT8 Q/DQ graph with our ranges following TensorRT's rules, and a checker of them.
- `fp16`: FP16 graph with float32 I/O, and an FP16 emulation for accuracy on the CPU.
- `mac`: fixed-point reference of an INT8 convolution (dp4a accumulate, requantisation).
- `sensitivity`: per-layer SQNR / cosine ranking and the mixed-precision fallback loop.
- `coverage`: clip fraction and range use of a new data set under a calibration.
- `evalset`: labelled frames held in memory, the mIoU of any bare graph on them.
- `report`: the accuracy-drop report (variants, latency side by side, tables).

Sessions come from the runtime layer's leaf `fxseg_ros.runtime.session` (the one exception the
import contract allows); nothing here imports the rest of the runtime layer or the evaluation
layer.
"""
