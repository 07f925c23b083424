# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
FP16 models: a real FP16 graph for TensorRT, and an FP16 emulation for accuracy on the CPU.

- `convert_to_fp16`: FP16 weights and FP16 compute with the graph's float32 inputs and outputs
  kept (Casts at the edges), as strongly typed TensorRT 10 / 11 builds want it (no FP16 builder
  flag there). Uses onnxconverter-common's float16 converter; Resize and LRN are converted too
  (TensorRT runs both in FP16), with Resize's `scales` input kept float32 as ONNX requires.
- `emulate_fp16`: a float32 graph whose weights and every intermediate tensor are rounded to
  FP16 (Cast to FP16 and back after every node), because ONNX Runtime's CPU runs FP16 graphs
  through FP32 kernels and so cannot show FP16's accuracy. Accumulation inside an op stays
  float32, as in TensorRT's FP16 kernels that accumulate in FP32.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Union
import warnings

import numpy as np

LOG = logging.getLogger(__name__)

#: Ops kept in float32 by the converter besides onnxconverter-common's list: none of ours.
#: Resize is removed from its default block list because TensorRT runs it in FP16.
_ALLOWED_FP16 = ('Resize', 'Upsample')
#: Inputs that ONNX requires in float32 whatever the graph's precision: op -> input indices.
_FLOAT32_INPUTS = {'Resize': (2,), 'Upsample': (1,)}
#: Emulation: suffixes of the inserted tensors.
_F16_SUFFIX = '/fp16'
_F32_SUFFIX = '/fp16_rounded'


def convert_to_fp16(model, keep_io_types: bool = True):
    """
    Return an FP16 copy of a float32 model (onnx.ModelProto or path); I/O stay float32 by default.

    Returns onnx.ModelProto.
    """
    from fxseg_ros.quant.collect import load_model
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    from onnxconverter_common import float16

    src = load_model(model)
    block = [op for op in float16.DEFAULT_OP_BLOCK_LIST if op not in _ALLOWED_FP16]
    # The converter clamps weights into [min_positive_val, max_finite_val]: use FP16's own
    # limits (0: tiny values round to subnormals or zero as a GPU cast does; 65504: the largest
    # finite FP16) instead of its defaults 1e-7 / 1e4, which would alter weights.
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        fp16 = float16.convert_float_to_float16(src, keep_io_types=keep_io_types,
                                                op_block_list=block, max_finite_val=65504.0,
                                                min_positive_val=0.0)
    # Restore the float32 inputs ONNX demands (Resize scales).
    inits = {init.name: init for init in fp16.graph.initializer}
    for node in fp16.graph.node:
        for index in _FLOAT32_INPUTS.get(node.op_type, ()):
            if index >= len(node.input) or not node.input[index]:
                continue
            name = node.input[index]
            init = inits.get(name)
            if init is not None and init.data_type == TensorProto.FLOAT16:
                value = numpy_helper.to_array(init).astype(np.float32)
                init.CopyFrom(numpy_helper.from_array(value, name))
            elif init is None:
                cast_out = name + '/float32'
                fp16.graph.node.append(helper.make_node('Cast', [name], [cast_out],
                                                        name=node.name + '/scales_to_float32',
                                                        to=TensorProto.FLOAT))
                node.input[index] = cast_out
    fp16 = _topological(fp16)
    onnx.checker.check_model(fp16)
    return fp16


def _topological(model):
    """Re-order nodes so that every node comes after its inputs' producers."""
    produced = {i.name for i in model.graph.input} | {i.name for i in model.graph.initializer}
    pending = list(model.graph.node)
    ordered = []
    while pending:
        rest = []
        for node in pending:
            if all((not i) or i in produced for i in node.input):
                ordered.append(node)
                produced.update(node.output)
            else:
                rest.append(node)
        if len(rest) == len(pending):
            raise ValueError('graph has a cycle or a dangling input: %s'
                             % [n.name for n in rest][:5])
        pending = rest
    del model.graph.node[:]
    model.graph.node.extend(ordered)
    return model


def emulate_fp16(model):
    """
    Return a float32 copy of a model that rounds weights and every tensor to FP16 precision.

    Initializers are rounded in place (float32 -> float16 -> float32); after every node each
    float output goes through Cast(FLOAT16) -> Cast(FLOAT), keeping its name for the consumers.
    Values beyond FP16's range become +-inf exactly as on the GPU. Returns onnx.ModelProto.
    """
    from fxseg_ros.quant.collect import load_model, tensor_types
    import onnx
    from onnx import helper, numpy_helper, TensorProto

    src = load_model(model)
    out = onnx.ModelProto()
    out.CopyFrom(src)
    for init in out.graph.initializer:
        if init.data_type == TensorProto.FLOAT:
            value = numpy_helper.to_array(init)
            with np.errstate(over='ignore'):
                rounded = value.astype(np.float16).astype(np.float32)
            init.CopyFrom(numpy_helper.from_array(rounded, init.name))
    types = tensor_types(out)
    nodes = []
    graph_inputs = [i.name for i in out.graph.input]
    # Round the graph inputs too (the FP16 engine casts them to FP16 first).
    renames = {}
    for name in graph_inputs:
        if types.get(name) == TensorProto.FLOAT:
            renames[name] = name + _F32_SUFFIX
            nodes.append(helper.make_node('Cast', [name], [name + _F16_SUFFIX],
                                          name=name + '/to_fp16', to=TensorProto.FLOAT16))
            nodes.append(helper.make_node('Cast', [name + _F16_SUFFIX], [renames[name]],
                                          name=name + '/to_fp32', to=TensorProto.FLOAT))
    for node in out.graph.node:
        new = onnx.NodeProto()
        new.CopyFrom(node)
        for k, name in enumerate(new.input):
            if name in renames:
                new.input[k] = renames[name]
        nodes.append(new)
        if node.op_type in ('Constant', 'Shape', 'Cast'):
            continue
        for k, name in enumerate(node.output):
            if not name or types.get(name) != TensorProto.FLOAT:
                continue
            raw = name + '/fp32'
            new.output[k] = raw
            nodes.append(helper.make_node('Cast', [raw], [name + _F16_SUFFIX],
                                          name=(node.name or name) + '/to_fp16',
                                          to=TensorProto.FLOAT16))
            nodes.append(helper.make_node('Cast', [name + _F16_SUFFIX], [name],
                                          name=(node.name or name) + '/to_fp32',
                                          to=TensorProto.FLOAT))
    del out.graph.node[:]
    out.graph.node.extend(nodes)
    onnx.checker.check_model(out)
    return out


def save_model(model, path: Union[str, Path]) -> Path:
    """Write an onnx.ModelProto (under its name only once complete); returns the path."""
    from fxseg_ros.data.atomic import write_bytes

    return write_bytes(Path(path), model.SerializeToString())
