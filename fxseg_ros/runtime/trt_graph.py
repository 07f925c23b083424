# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The ONNX graph `fxseg build` hands to a TensorRT version, and the check run on it before a build.

- A bare network becomes the TensorRT deployment graph (`model.deploy`, for_tensorrt), with float
  I/O where the version has no UINT8 network I/O (< 8.5, trt_support.UINT8_IO).
- Q/DQ weights stored as INT8 initializers become float weights followed by QuantizeLinear where
  the version takes no INT8 weights (< 10, trt_support.INT8_WEIGHTS): QuantizeLinear of
  `(w_int8 - zero_point) * scale` gives w_int8 back exactly, so the engine's weights are the same.

Pure onnx + numpy (Python 3.6): the builder runs it on the target.
"""


import logging
from typing import List, Optional, Tuple

from fxseg_ros.runtime.trt_support import at_least, CHECK_VERSIONS, has_uint8_io, INT8_WEIGHTS
import numpy as np

LOG = logging.getLogger(__name__)


def _check_tuple(version):
    return dict(CHECK_VERSIONS).get(version, version)


def int8_weights_as_float(model):
    """
    Replace the int8 weights of DequantizeLinear nodes by float weights and a QuantizeLinear.

    `DequantizeLinear(int8 initializer W, s, z)` becomes `DequantizeLinear(QuantizeLinear(
    (W - z) * s, s, z), s, z)` (float weights, as ModelOpt's AddQDQPairToWeight writes them).

    Returns (new ModelProto, number of weights converted); the input model is not changed.
    """
    import onnx
    from onnx import helper, numpy_helper, TensorProto

    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    inits = {i.name: i for i in graph.initializer}
    converted = []
    new_nodes = []
    for node in graph.node:
        w = inits.get(node.input[0]) if node.op_type == 'DequantizeLinear' else None
        if w is None or w.data_type != TensorProto.INT8 or len(node.input) < 2:
            new_nodes.append(node)
            continue
        scale = numpy_helper.to_array(inits[node.input[1]]) if node.input[1] in inits else None
        if scale is None:
            new_nodes.append(node)
            continue
        zp = (numpy_helper.to_array(inits[node.input[2]])
              if len(node.input) > 2 and node.input[2] in inits else np.zeros((), np.int8))
        values = numpy_helper.to_array(w).astype(np.float32)
        axis = next((a.i for a in node.attribute if a.name == 'axis'), 1)
        shape = [1] * values.ndim
        if scale.size > 1:
            shape[axis] = -1
        real = (values - zp.astype(np.float32).reshape(shape if zp.size > 1 else ())) * \
            scale.astype(np.float32).reshape(shape if scale.size > 1 else ())
        float_name = w.name + '/float'
        graph.initializer.append(numpy_helper.from_array(real.astype(np.float32), float_name))
        requant = w.name + '/quantized'
        attrs = {'axis': axis} if scale.size > 1 else {}
        new_nodes.append(helper.make_node('QuantizeLinear', [float_name] + list(node.input[1:]),
                                          [requant], name=(node.name or w.name) + '/quantize',
                                          **attrs))
        node.input[0] = requant
        new_nodes.append(node)
        converted.append(w.name)
    del graph.node[:]
    graph.node.extend(new_nodes)
    still_used = {i for n in graph.node for i in n.input}
    kept = [i for i in graph.initializer if i.name not in converted or i.name in still_used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    return out, len(converted)


def graph_for_tensorrt(model, version, camera_hw: Optional[Tuple[int, int]] = None,
                       output: str = 'camera', float_io: Optional[bool] = None):
    """
    Return the graph `fxseg build` would parse on TensorRT `version` ('8.2', '10', '8.6.1.6', ...).

    model: ModelProto (bare network or deployment graph). float_io None picks by version.
    Returns (ModelProto, a short note of what was done).
    """
    from fxseg_ros.model import deploy

    v = _check_tuple(version)
    notes: List[str] = []
    if float_io is None:
        float_io = not has_uint8_io(v)
    kwargs = {'output': output, 'float_io': float_io, 'for_tensorrt': True}
    if camera_hw is not None:
        kwargs['camera_hw'] = camera_hw
    elif deploy.is_deployment_graph(model) and deploy.deployment_info(model):
        kwargs['camera_hw'] = deploy.deployment_info(model)['camera_hw']
    graph = deploy.ensure_deployment_graph(model, **kwargs)
    notes.append('TensorRT deployment graph, %s I/O' % ('float' if float_io else 'uint8'))
    if not at_least(v, INT8_WEIGHTS):
        graph, count = int8_weights_as_float(graph)
        if count:
            notes.append('%d INT8 weight(s) stored as float + QuantizeLinear' % count)
    return graph, ', '.join(notes)


def check_before_build(model, tensorrt_version, dla: bool = False) -> List[str]:
    """
    Return the check's errors for the graph about to be parsed, as lines naming node and fix.

    Empty list: nothing stops the build. Warnings (DLA fallbacks, limits a newer release may have
    lifted, a failed shape inference) are logged. Runs in well under a second on the demo model.
    """
    from fxseg_ros.runtime import trt_rules

    findings = trt_rules.check_model(model, [tensorrt_version], dla=dla)
    for finding in findings:
        if finding.severity != 'error':
            LOG.warning('%s', finding.text())
    return [f.text() for f in trt_rules.errors(findings)]
