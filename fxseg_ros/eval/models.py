# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
What the report says about a model file: its precision and the bytes its weights take.

A precision given by a person (`fxseg eval --precision`, a benchmark label) or stored in a
model's metadata is checked against what the graph is (`precision_problem`): Q/DQ nodes make an
INT8 model, FP16 weights or FP16 rounding an FP16 one, anything else FP32. A label that
disagrees is refused, never printed in a table.
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
#: How tables and plots name each precision.
PRECISION_LABELS = {'fp32': 'FP32', 'fp16': 'FP16', 'int8': 'INT8', 'mixed': 'INT8 mixed'}
#: Labels each kind of graph may carry: mixed precision is an INT8 graph with some layers in
#: float.
LABELS_OF = {'int8': ('int8', 'mixed'), 'fp16': ('fp16',), 'fp32': ('fp32',)}
#: ONNX TensorProto.FLOAT16 (Cast(to=FLOAT16) marks the FP16 emulation).
_FLOAT16 = 10


def run_label(name: str, precision: Optional[str]) -> str:
    """
    Return a run's name with its precision where the name does not already say it.

    ('FP32', 'fp32') -> 'FP32'; ('INT8 mixed', 'mixed') -> 'INT8 mixed'; ('a', 'int8') ->
    'a (INT8)'.
    """
    if not precision:
        return name
    shown = PRECISION_LABELS.get(precision, precision)
    if shown.lower() in name.lower() or precision.lower() in name.lower():
        return name
    return '%s (%s)' % (name, shown)


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
    fp16_casts = any(n.op_type == 'Cast' and any(a.name == 'to' and a.i == _FLOAT16
                                                 for a in n.attribute)
                     for n in model.graph.node)
    return {
        'bytes_by_type': by_type,
        'weight_bytes': int(sum(by_type.values())),
        'has_qdq': bool(ops & {'QuantizeLinear', 'DequantizeLinear'}),
        'int8_weights': by_type.get('int8', 0) + by_type.get('uint8', 0) > 0,
        'fp16_weights': by_type.get('float16', 0) > 0,
        'fp16_casts': fp16_casts,
        'metadata_precision': meta.get(PRECISION_KEY),
    }


def graph_precision(summary: Dict[str, object]):
    """
    (precision, evidence) of an ONNX graph from `onnx_weight_summary`.

    Q/DQ nodes: int8; float16 initializers or Casts to float16 (the CPU emulation): fp16;
    otherwise fp32.
    """
    if summary['has_qdq']:
        return 'int8', 'it has QuantizeLinear / DequantizeLinear nodes'
    if summary['fp16_weights']:
        return 'fp16', 'its weights are float16'
    if summary['fp16_casts']:
        return 'fp16', 'it rounds its tensors to float16 (the FP16 emulation)'
    return 'fp32', 'it has float32 weights and no Q/DQ nodes'


def engine_precision(path) -> Optional[str]:
    """Return the precision a TensorRT engine was built at (its metadata file), None if unknown."""
    from fxseg_ros.runtime.metadata import MetadataError, read_metadata

    try:
        return str(read_metadata(path).get('precision')) or None
    except (MetadataError, OSError):
        return None


def precision_problem(path, label: Optional[str], built_by_tensorrt: bool = False
                      ) -> Optional[str]:
    """
    Why `label` is not the precision of the model `path` (None when it is, or no label).

    built_by_tensorrt: an FP32 ONNX model that TensorRT builds may take any precision (the
    build's); Q/DQ and FP16 graphs keep theirs. Engines are checked against their metadata.
    """
    if label is None:
        return None
    if label not in PRECISIONS:
        return 'unknown precision %r; choose from %s' % (label, ', '.join(PRECISIONS))
    path = Path(path)
    if path.suffix.lower() != '.onnx':
        built = engine_precision(path)
        if built is not None and label not in LABELS_OF.get(built, (built,)):
            return ('%s was built at %s (its metadata), not %s' % (path, built, label))
        return None
    actual, evidence = graph_precision(onnx_weight_summary(path))
    if actual == 'fp32' and built_by_tensorrt:
        return None
    if label not in LABELS_OF[actual]:
        return ('%s is %s, not %s: %s; give %s, or make a %s model with fxseg quantize'
                % (path, actual.upper(), label, evidence, ' or '.join(LABELS_OF[actual]),
                   label))
    return None


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
    stored = summary['metadata_precision']
    if precision is None and stored is not None and precision_problem(path, stored) is None:
        precision = stored
    elif precision is None and stored is not None:
        LOG.warning('%s: metadata %s=%s ignored: %s', path, PRECISION_KEY, stored,
                    precision_problem(path, stored))
    if precision is None:
        precision = graph_precision(summary)[0]
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
