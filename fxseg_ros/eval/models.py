# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
What the report says about a model file: its precision and the bytes its weights take.

The precision labels are checked against what the graph is by fxseg_ros.runtime.precision
(`precision_problem`, shared with the node), whose names this module re-exports.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Dict, Optional

from fxseg_ros.runtime.precision import (
    engine_precision, graph_precision, LABELS_OF, onnx_weight_summary, PRECISION_KEY,
    precision_problem, PRECISIONS)

__all__ = ['describe_model', 'engine_precision', 'graph_precision', 'LABELS_OF',
           'onnx_weight_summary', 'PRECISION_KEY', 'PRECISION_LABELS', 'precision_problem',
           'PRECISIONS', 'run_label']

LOG = logging.getLogger(__name__)

#: How tables and plots name each precision.
PRECISION_LABELS = {'fp32': 'FP32', 'fp16': 'FP16', 'int8': 'INT8', 'mixed': 'INT8 mixed'}


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
