# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
What the report says about a model file: its precision and the bytes its weights take.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Dict, Optional

import numpy as np

LOG = logging.getLogger(__name__)

#: Metadata key a model may carry to name its precision (fp32, fp16, int8, mixed).
PRECISION_KEY = 'fxseg.precision'
PRECISIONS = ('fp32', 'fp16', 'int8', 'mixed')


def _tensor_bytes(tensor) -> int:
    from onnx import helper

    if tensor.raw_data:
        return len(tensor.raw_data)
    numel = int(np.prod(tensor.dims)) if len(tensor.dims) else 1
    np_type = helper.tensor_dtype_to_np_dtype(tensor.data_type)
    return numel * np.dtype(np_type).itemsize


def onnx_weight_summary(path) -> Dict[str, object]:
    """
    Bytes of an ONNX model's weights by element type, plus what its graph says of precision.

    Weights are the initializers and Constant tensors. Returns {'bytes_by_type': {...},
    'weight_bytes': int, 'has_qdq': bool, 'int8_weights': bool, 'fp16_weights': bool,
    'metadata_precision': str or None}.
    """
    import onnx
    from onnx import TensorProto

    model = onnx.load(str(path), load_external_data=False)
    by_type: Dict[str, int] = {}
    tensors = list(model.graph.initializer)
    for node in model.graph.node:
        if node.op_type == 'Constant':
            tensors.extend(a.t for a in node.attribute if a.type == onnx.AttributeProto.TENSOR)
    for t in tensors:
        name = TensorProto.DataType.Name(t.data_type).lower()
        by_type[name] = by_type.get(name, 0) + _tensor_bytes(t)
    ops = {n.op_type for n in model.graph.node}
    meta = {p.key: p.value for p in model.metadata_props}
    return {
        'bytes_by_type': by_type,
        'weight_bytes': int(sum(by_type.values())),
        'has_qdq': bool(ops & {'QuantizeLinear', 'DequantizeLinear'}),
        'int8_weights': by_type.get('int8', 0) + by_type.get('uint8', 0) > 0,
        'fp16_weights': by_type.get('float16', 0) > 0,
        'metadata_precision': meta.get(PRECISION_KEY),
    }


def describe_model(path, precision: Optional[str] = None) -> Dict[str, object]:
    """
    Precision and weight bytes of a model as the report's table shows them.

    precision: what the caller says the model is; otherwise the model's metadata
    (`fxseg.precision`), else its graph (Q/DQ with int8 weights: int8; float16 weights: fp16;
    else fp32). An ONNX model named fp16 whose weights are stored as float32 (the CPU FP16
    emulation) has its float32 weights counted at 2 bytes, as an FP16 engine stores them.
    """
    path = Path(path)
    info: Dict[str, object] = {'file_bytes': path.stat().st_size if path.exists() else None}
    if path.suffix != '.onnx':
        info.update(precision=precision, weight_bytes=info['file_bytes'],
                    weight_note='engine file size')
        return info
    summary = onnx_weight_summary(path)
    if precision is None:
        precision = summary['metadata_precision']
    if precision is None:
        if summary['has_qdq'] and summary['int8_weights']:
            precision = 'int8'
        elif summary['fp16_weights']:
            precision = 'fp16'
        else:
            precision = 'fp32'
    weight_bytes = summary['weight_bytes']
    note = 'initializer bytes'
    if precision == 'fp16':
        f32 = summary['bytes_by_type'].get('float', 0)
        if f32:
            weight_bytes -= f32 // 2
            note = 'float32 initializers counted as float16 (FP16 storage)'
    info.update(precision=precision, weight_bytes=int(weight_bytes), weight_note=note,
                bytes_by_type=summary['bytes_by_type'])
    return info
