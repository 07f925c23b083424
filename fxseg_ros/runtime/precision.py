# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
What precision a model file is, from its graph: the one check behind every precision label.

A precision given by a person (`fxseg eval --precision`, a benchmark label, the node's
`precision` parameter) or stored in a model's metadata is checked against what the graph is
(`precision_problem`): Q/DQ nodes make an INT8 model, FP16 weights or FP16 rounding an FP16 one,
anything else FP32. A label that disagrees is refused, never printed in a table or published.

Plain Python with onnx imported where a model is read: the node's runtime path (Python 3.6).
"""


import os
from typing import Dict, Optional, Tuple

import numpy as np

#: Metadata key a model may carry to name its precision (fp32, fp16, int8, mixed).
PRECISION_KEY = 'fxseg.precision'
#: Every precision label (mixed: an INT8 model with some layers kept in float).
PRECISIONS = ('fp32', 'fp16', 'int8', 'mixed')
#: Labels each kind of graph may carry: mixed precision is an INT8 graph with some layers in
#: float.
LABELS_OF = {'int8': ('int8', 'mixed'), 'fp16': ('fp16',), 'fp32': ('fp32',)}
#: ONNX TensorProto.FLOAT16 (Cast(to=FLOAT16) marks the FP16 emulation).
_FLOAT16 = 10


def _tensor_bytes(tensor) -> int:
    if tensor.raw_data:
        return len(tensor.raw_data)
    from onnx import helper

    numel = int(np.prod(tensor.dims)) if len(tensor.dims) else 1
    if hasattr(helper, 'tensor_dtype_to_np_dtype'):  # onnx >= 1.13
        np_type = helper.tensor_dtype_to_np_dtype(tensor.data_type)
    else:  # onnx 1.10 - 1.12 (JetPack 4.6's Python 3.6)
        from onnx.mapping import TENSOR_TYPE_TO_NP_TYPE

        np_type = TENSOR_TYPE_TO_NP_TYPE[tensor.data_type]
    return numel * np.dtype(np_type).itemsize


def onnx_weight_summary(path) -> Dict[str, object]:
    """
    Bytes of an ONNX model's weights by element type, plus what its graph says of precision.

    Weights are the initializers and Constant tensors. Returns {'bytes_by_type': {...},
    'weight_bytes': int, 'has_qdq': bool, 'int8_weights': bool, 'fp16_weights': bool,
    'fp16_casts': bool, 'metadata_precision': str or None}.
    """
    import onnx
    from onnx import TensorProto

    model = onnx.load(str(path), load_external_data=False)
    by_type = {}  # type: Dict[str, int]
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


def graph_precision(summary: Dict[str, object]) -> Tuple[str, str]:
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
    path = str(path)
    if os.path.splitext(path)[1].lower() != '.onnx':
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


def installed_tensorrt_version() -> Optional[str]:
    """Return the TensorRT Python bindings' version, None where they are not installed."""
    import importlib.util

    if importlib.util.find_spec('tensorrt') is None:
        return None
    try:
        import tensorrt
    except ImportError:  # installed but broken: the runner reports it with the install hint
        return None
    return str(tensorrt.__version__)


def default_precision(graph: str, tensorrt: bool) -> str:
    """
    Return the precision a model runs at when none is named: what its graph is.

    graph: `graph_precision` of the model. For a TensorRT build of an FP32 graph: what that
    TensorRT builds it at without being told (build_plan.precision_for_model: FP16 below
    TensorRT 11, FP32 from 11 on, strongly typed); FP16 where TensorRT is not installed (the
    runner then says that it is missing).
    """
    if not tensorrt or graph != 'fp32':
        return graph
    version = installed_tensorrt_version()
    if version is None:
        return 'fp16'
    from fxseg_ros.runtime.build_plan import precision_for_model

    return precision_for_model('fp32', version)
