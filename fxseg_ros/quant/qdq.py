# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
INT8 Q/DQ ONNX models with our calibrated ranges, following TensorRT's rules.

TensorRT's explicit quantization accepts: symmetric quantization with zero point 0, per-tensor
activation scales (values in [-128, 127]), per-channel weight scales on the output-channel axis
(Conv axis 0, ConvTranspose axis 1) with weights in [-127, 127]. It is the only INT8 route of
TensorRT 11, and ONNX Runtime's CPU fuses DQ -> Conv -> Q into int8 `QLinearConv` kernels.

The graph is written by `onnxruntime.quantization.quantize_static` (options as NVIDIA ModelOpt
sets them); the ranges come from our calibrators through its calibration-cache argument, so ORT
computes no ranges of its own. quantize_static, given a path, writes `<model>-inferred.onnx`
beside it (onnxruntime quantization/quant_utils.py `load_model_with_shape_infer`): it gets a
copy of the model in a private temporary folder, so a model in a read-only folder quantizes and
two quantizations of one model do not race; the Q/DQ model appears under its name only once
complete (`fxseg_ros.data.atomic`).

ONNX Runtime on x86 (measured with ORT 1.32): it rewrites int8 activations to uint8 with zero
point 128 for its u8 x s8 kernels, but only for a Q -> DQ pair whose Q has one consumer; a
tensor read by two quantized layers (an FCN-8s skip branch) keeps int8, and the Conv reading it
then runs in float (int8 x int8 QLinearConv is off by default there). Between layers a
symmetric int8 Relu stays a float DequantizeLinear -> Relu -> QuantizeLinear. The `u8` variant
(ReLU folded into the uint8 range) has neither cost; TensorRT accepts only the `s8` model.
"""

from __future__ import annotations

import logging
from pathlib import Path
import shutil
import tempfile
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from fxseg_ros.data.atomic import atomic_file
import numpy as np

LOG = logging.getLogger(__name__)

#: Op types quantized by default. The full-resolution tail (Resize / ArgMax) stays in float:
#: quantizing it only adds a full-resolution DequantizeLinear.
DEFAULT_OP_TYPES = ('Conv', 'ConvTranspose', 'MaxPool', 'Relu')
#: Per-channel axis of the weights of each op type (the output channels).
PER_CHANNEL_AXIS = {'Conv': 0, 'ConvTranspose': 1}
#: quantize_static extra options producing TensorRT-compatible Q/DQ (as NVIDIA ModelOpt).
TENSORRT_EXTRA_OPTIONS = {
    'ActivationSymmetric': True,
    'WeightSymmetric': True,
    'QuantizeBias': False,
    'DedicatedQDQPair': False,
    'QDQOpTypePerChannelSupportToAxis': dict(PER_CHANNEL_AXIS),
}


def _tensors_data(amax: Mapping[str, float], ranges: Optional[Mapping[str, Tuple[float, float]]]):
    from onnxruntime.quantization.calibrate import CalibrationMethod, TensorsData

    data = {}
    for name, value in amax.items():
        if ranges is not None and name in ranges:
            lo, hi = ranges[name]
        else:
            lo, hi = -float(value), float(value)
        data[name] = (np.array(lo, dtype=np.float32), np.array(hi, dtype=np.float32))
    return TensorsData(CalibrationMethod.MinMax, data)


#: Ops that only move or select values: their output gets the input's range, so that Q/DQ
#: around them cancel (ORT then runs them on int8 data; TensorRT wants equal scales there too).
RANGE_PRESERVING_OPS = ('MaxPool', 'Transpose', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze',
                        'Slice', 'Pad')


def shared_ranges(model, amax: Mapping[str, float]) -> Dict[str, float]:
    """
    Return a copy of `amax` where outputs of range-preserving ops take their input's amax.

    A MaxPool's output never exceeds its input's range, so the shared scale loses nothing and
    lets the DQ -> MaxPool -> Q triple run as an int8 MaxPool.
    """
    from fxseg_ros.quant.collect import load_model

    model = load_model(model)
    out = dict(amax)
    for node in model.graph.node:
        if node.op_type in RANGE_PRESERVING_OPS and node.input and node.input[0] in out:
            for name in node.output[:1]:
                if name in out:
                    out[name] = out[node.input[0]]
    return out


def asymmetric_ranges(amax: Mapping[str, float],
                      stats: Mapping[str, Mapping[str, float]]) -> Dict[str, Tuple[float, float]]:
    """
    (low, high) ranges for uint8 activations: the observed [min, max] clipped to [-amax, amax].

    A tensor after a ReLU gets [0, amax] and so all 256 uint8 levels.
    """
    ranges = {}
    for name, value in amax.items():
        st = stats.get(name, {})
        lo = max(float(st.get('min', -value)), -float(value))
        hi = min(float(st.get('max', value)), float(value))
        ranges[name] = (min(lo, 0.0), max(hi, 0.0))
    return ranges


def quantize_qdq(model: Union[str, Path], amax: Mapping[str, float], out_path: Union[str, Path],
                 op_types: Optional[Sequence[str]] = None,
                 nodes_to_exclude: Optional[Iterable[str]] = None,
                 activations: str = 's8', weights_as_float: bool = False,
                 stats: Optional[Mapping[str, Mapping[str, float]]] = None,
                 reduce_range: bool = False) -> Path:
    """
    Write an INT8 Q/DQ model of the float `model` with activation ranges `amax`.

    amax: tensor name -> amax from a calibration (tensors missing from it are not quantized:
    ORT skips a node whose input has no range). nodes_to_exclude: node names kept in float
    (mixed precision). activations: 's8' symmetric int8, zero point 0 (TensorRT; default) or
    'u8' asymmetric uint8 from `stats` min/max (faster in ONNX Runtime on x86, not accepted by
    TensorRT). weights_as_float: keep float weights followed by Q -> DQ (ModelOpt's
    `AddQDQPairToWeight`) instead of stored int8 weights -> DQ. Stored int8 makes the file 4x
    smaller and is what TensorRT 10 / 11 and ONNX Runtime take; TensorRT 8.x rejects INT8 weight
    initializers ("invalid weights type of Int8"), so `fxseg build` turns them into float + Q/DQ
    there (fxseg_ros.runtime.trt_graph.int8_weights_as_float) and `fxseg check` reports them.
    reduce_range: 7-bit weights in [-64, 64], for x86
    CPUs without VNNI where ONNX Runtime's uint8 x int8 kernels add pairs of products in
    saturating int16 (see `fxseg_ros.quant.mac`); with 7-bit weights no pair can saturate.
    """
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, quantize_static, QuantType
    from onnxruntime.quantization.calibrate import save_tensors_data

    if activations not in ('s8', 'u8'):
        raise ValueError("activations must be 's8' or 'u8', got %r" % activations)
    amax = shared_ranges(model, amax)
    ranges = None
    if activations == 'u8':
        if stats is None:
            raise ValueError('u8 activations need the calibration statistics (min / max)')
        ranges = asymmetric_ranges(amax, stats)
    extra = dict(TENSORRT_EXTRA_OPTIONS)
    extra['AddQDQPairToWeight'] = bool(weights_as_float)
    if activations == 'u8':
        extra['ActivationSymmetric'] = False
    out_path = Path(out_path)
    with tempfile.TemporaryDirectory(prefix='fxseg_qdq_') as tmp, \
            atomic_file(out_path) as out_tmp:
        cache = Path(tmp) / 'ranges.json'
        save_tensors_data(_tensors_data(amax, ranges), cache)
        source = Path(tmp) / 'model.onnx'
        if isinstance(model, (str, Path)):
            shutil.copyfile(str(model), str(source))
        else:
            source.write_bytes(model.SerializeToString())
        # quantize_static logs a pre-processing hint as a warning; our graphs are already
        # shape-inferred and constant-folded by the exporter.
        root = logging.getLogger()
        level = root.level
        root.setLevel(max(level, logging.ERROR))
        try:
            quantize_static(
                str(source), str(out_tmp), calibration_data_reader=None,
                quant_format=QuantFormat.QDQ,
                op_types_to_quantize=list(op_types or DEFAULT_OP_TYPES),
                per_channel=True, reduce_range=bool(reduce_range),
                activation_type=QuantType.QUInt8 if activations == 'u8' else QuantType.QInt8,
                weight_type=QuantType.QInt8,
                nodes_to_exclude=list(nodes_to_exclude or []),
                calibrate_method=CalibrationMethod.MinMax,
                calibration_cache_path=str(cache),
                extra_options=extra)
        finally:
            root.setLevel(level)
    LOG.debug('wrote INT8 Q/DQ model %s (%s activations)', out_path, activations)
    return out_path


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------
def _initializers(model) -> Dict[str, np.ndarray]:
    from onnx import numpy_helper

    return {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}


def _const_values(model) -> Dict[str, np.ndarray]:
    from onnx import numpy_helper

    values = _initializers(model)
    for node in model.graph.node:
        if node.op_type == 'Constant':
            for attr in node.attribute:
                if attr.name == 'value':
                    values[node.output[0]] = numpy_helper.to_array(attr.t)
    return values


def check_tensorrt_rules(model) -> List[str]:
    """
    Violations of TensorRT's Q/DQ rules in a Q/DQ model (empty list: the model follows them).

    Checked: every QuantizeLinear / DequantizeLinear has a zero point of 0 in int8; activation
    scales are per tensor; weights feeding Conv / ConvTranspose are per channel on axis 0 / 1
    with one positive scale per output channel; stored int8 weights lie in [-127, 127].
    """
    from fxseg_ros.quant.collect import load_model

    model = load_model(model)
    consts = _const_values(model)
    consumers: Dict[str, List] = {}
    for node in model.graph.node:
        for i, name in enumerate(node.input):
            consumers.setdefault(name, []).append((node, i))
    problems: List[str] = []
    for node in model.graph.node:
        if node.op_type not in ('QuantizeLinear', 'DequantizeLinear'):
            continue
        label = '%s %r' % (node.op_type, node.name or node.output[0])
        if len(node.input) < 3 or not node.input[2]:
            problems.append('%s has no zero point (uint8 by default)' % label)
            continue
        zp = consts.get(node.input[2])
        scale = consts.get(node.input[1])
        if zp is None or scale is None:
            problems.append('%s has non-constant scale or zero point' % label)
            continue
        if zp.dtype != np.int8:
            problems.append('%s zero point is %s, not int8' % (label, zp.dtype))
        if np.any(zp != 0):
            problems.append('%s zero point is not 0' % label)
        if np.any(scale <= 0):
            problems.append('%s has a non-positive scale' % label)
        axis = None
        for attr in node.attribute:
            if attr.name == 'axis':
                axis = attr.i
        # Is this the weight path of a Conv / ConvTranspose?
        out_consumers = consumers.get(node.output[0], [])
        if node.op_type == 'QuantizeLinear' and out_consumers:
            # Float weight -> Q -> DQ: judge the pair at the DQ.
            continue
        weight_of = [(c, i) for c, i in out_consumers
                     if c.op_type in PER_CHANNEL_AXIS and i == 1]
        source = node.input[0]
        if weight_of:
            op = weight_of[0][0].op_type
            expected_axis = PER_CHANNEL_AXIS[op]
            if scale.ndim != 1:
                problems.append('%s on %s weights is per tensor, expected per channel axis %d'
                                % (label, op, expected_axis))
                continue
            if axis is None:
                axis = 1
            if axis != expected_axis:
                problems.append('%s on %s weights uses axis %d, expected %d'
                                % (label, op, axis, expected_axis))
            weights = consts.get(source)
            if weights is None:
                # Float weights through Q -> DQ: quantize them the way TensorRT will.
                producer = [n for n in model.graph.node if source in n.output]
                if producer and producer[0].op_type == 'QuantizeLinear':
                    float_w = consts.get(producer[0].input[0])
                    if float_w is not None:
                        shape = [1] * float_w.ndim
                        shape[axis] = -1
                        weights = np.clip(np.rint(float_w / scale.reshape(shape)), -128, 127)
            if weights is not None:
                if weights.shape[axis] != scale.size:
                    problems.append('%s has %d scales for %d output channels'
                                    % (label, scale.size, weights.shape[axis]))
                if weights.min() < -127 or weights.max() > 127:
                    problems.append('%s weights reach %d..%d, outside [-127, 127]'
                                    % (label, int(weights.min()), int(weights.max())))
        elif scale.ndim != 0 and scale.size != 1:
            problems.append('%s on an activation is per channel; TensorRT needs per tensor'
                            % label)
    return problems


def quantized_nodes(model, op_types: Sequence[str] = DEFAULT_OP_TYPES) -> List[str]:
    """
    Names of the nodes of a Q/DQ model that run in INT8.

    A Conv / ConvTranspose counts when its input and weight come from DequantizeLinear; a node
    of another quantized op type (`op_types`) when its input comes from a DequantizeLinear and
    its output goes into a QuantizeLinear (e.g. Relu, MaxPool). Float ops between Q/DQ pairs
    (LRN) and the float tail (the upscore Resize) do not count.
    """
    from fxseg_ros.quant.collect import load_model

    model = load_model(model)
    dq_outputs = {n.output[0] for n in model.graph.node if n.op_type == 'DequantizeLinear'}
    q_inputs = {n.input[0] for n in model.graph.node if n.op_type == 'QuantizeLinear'}
    names = []
    for node in model.graph.node:
        if node.op_type in ('QuantizeLinear', 'DequantizeLinear') or not node.input:
            continue
        if node.op_type in PER_CHANNEL_AXIS:
            if all(i in dq_outputs for i in node.input[:2] if i):
                names.append(node.name)
        elif (node.op_type in op_types and node.input[0] in dq_outputs
              and any(o in q_inputs for o in node.output)):
            names.append(node.name)
    return names


def weight_bytes(model) -> int:
    """Bytes of all initializers (weights, biases, scales) as stored in the model."""
    from fxseg_ros.quant.collect import load_model

    model = load_model(model)
    total = 0
    for init in model.graph.initializer:
        size = int(np.prod(init.dims)) if len(init.dims) else 1
        total += size * _itemsize(init.data_type)
    return total


def _itemsize(data_type: int) -> int:
    from onnx import helper

    return np.dtype(helper.tensor_dtype_to_np_dtype(data_type)).itemsize


def optimized_op_types(model_path: Union[str, Path], out_path: Union[str, Path],
                       threads: int = 1) -> List[str]:
    """Op types of the graph ONNX Runtime's CPU actually runs after its optimisations."""
    from fxseg_ros.runtime.session import make_session
    import onnx

    make_session(model_path, threads=threads, optimized_path=str(out_path))
    return [n.op_type for n in onnx.load(str(out_path)).graph.node]
