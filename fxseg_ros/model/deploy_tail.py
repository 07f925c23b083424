# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The deployment graph's upscore fold.

Find a network's edge-replicated, asymmetric x s upsample plus crop (the demo model's upscore
tail), and take it out of the graph (kept for restoring).

Pure onnx + numpy (Python 3.6), used by fxseg_ros.model.deploy.
"""


from typing import NamedTuple, Optional, Tuple

import numpy as np


def _dims(value_info):
    return [d.dim_value if d.HasField('dim_value') else (d.dim_param or None)
            for d in value_info.type.tensor_type.shape.dim]


class Tail(NamedTuple):
    """
    A bare network's upscore tail that the deployment graph folds (see `match_upscore_tail`).

    source: the coarse scores (N, C, h, w) the tail starts from; scale: the integer upsample
    factors (sh, sw); upsampled_hw: (sh*h, sw*w); offset: (dh, dw), output row j of the bare
    network equals upsampled row clamp(j - dh); nodes: the tail's nodes, removed.
    """

    source: str
    scale: Tuple[int, int]
    upsampled_hw: Tuple[int, int]
    offset: Tuple[int, int]
    nodes: tuple


def _edge_extend(g, tensor, axis):
    """
    Match `Concat([head] * h + [x] + [tail] * t, axis)` (edge replication).

    head = Slice(x, [0], [1], [axis]) and tail = Slice(x, [-1], [INT_MAX], [axis]); return
    (x, h, its nodes).

    Anything else returns (tensor, 0, []).
    """
    none = (tensor, 0, [])
    node = g['producer'].get(tensor)
    if node is None or node.op_type != 'Concat' or _attr(node, 'axis') != axis:
        return none
    kinds = {}
    for name in set(node.input):
        s = g['producer'].get(name)
        if s is None or s.op_type != 'Slice' or len(s.input) != 4:
            continue
        start, end, axes = (g['consts'].get(i) for i in s.input[1:4])
        if start is None or end is None or axes is None or axes.tolist() != [axis]:
            continue
        if start.tolist() == [0] and end.tolist() == [1]:
            kinds[name] = ('head', s)
        elif start.tolist() == [-1] and int(end[0]) >= 2 ** 31 - 1:
            kinds[name] = ('tail', s)
    body = [i for i in node.input if i not in kinds]
    if len(set(body)) != 1:
        return none
    x = body[0]
    k = list(node.input).index(x)
    before, after = list(node.input[:k]), list(node.input[k + 1:])
    if any(kinds[i][0] != 'head' or kinds[i][1].input[0] != x for i in before) or \
            any(kinds[i][0] != 'tail' or kinds[i][1].input[0] != x for i in after):
        return none
    slices = {id(kinds[i][1]): kinds[i][1] for i in before + after}
    return x, len(before), [node] + list(slices.values())


def match_upscore_tail(model) -> Optional[Tail]:
    """
    Find `scores = Slice_crop(Resize_asymmetric_linear(edge_extend(x)))` at the network's end.

    That tail (the demo model's: 5 + 1 replicated border cells, x4 upsample, crop 3 px) writes
    the full-resolution scores twice (Resize, then the cropping Slice). Upsampling x itself gives
    the same values on the interior: with asymmetric coordinates, cropped row j samples the
    extended grid at (j + c) / s, i.e. x at (j - d) / s with d = s * h - c, and outside x's extent
    the replicated border and Resize's own edge clamping give the border values. So the
    deployment graph upsamples x (fewer pixels), takes the ArgMax there, and shifts / extends the
    one-channel labels by d instead. Returns None when the network ends otherwise.
    """
    graph = model.graph
    g = {'producer': {o: n for n in graph.node for o in n.output},
         'consts': _const_values(model)}
    out = graph.output[0].name
    crop = g['producer'].get(out)
    if crop is None or crop.op_type != 'Slice' or len(crop.input) < 4:
        return None
    starts, ends, axes = (g['consts'].get(i) for i in crop.input[1:4])
    if starts is None or ends is None or axes is None or sorted(axes.tolist()) != [2, 3] or \
            (len(crop.input) > 4 and crop.input[4]) or np.any(starts < 0):
        return None
    order = np.argsort(axes)
    starts, ends = starts[order], ends[order]
    resize = g['producer'].get(crop.input[0])
    if resize is None or resize.op_type != 'Resize' or len(resize.input) != 3 or \
            _attr(resize, 'mode') != 'linear' or \
            _attr(resize, 'coordinate_transformation_mode') != 'asymmetric':
        return None
    scales = g['consts'].get(resize.input[2])
    if scales is None or scales.size != 4 or list(scales[:2]) != [1, 1] or \
            np.any(scales[2:] != np.round(scales[2:])) or np.any(scales[2:] < 1):
        return None
    s = (int(scales[2]), int(scales[3]))
    cols_x, wc, cols_nodes = _edge_extend(g, resize.input[0], 3)
    rows_x, hr, rows_nodes = _edge_extend(g, cols_x, 2)
    dims = _dims_of(model, rows_x)
    out_dims = _dims(graph.output[0])
    if dims is None or len(dims) != 4 or not all(isinstance(d, int) for d in dims[2:]) or \
            not all(isinstance(d, int) for d in out_dims[2:]):
        return None
    if any(int(e) < 2 ** 31 - 1 and int(e) - int(b) != d
           for b, e, d in zip(starts, ends, out_dims[2:])):
        return None
    tail = [crop, resize] + cols_nodes + rows_nodes
    internal = {o for n in tail for o in n.output} - {out}
    if any(c not in tail for n in internal for c in _consumers(graph, n)):
        return None
    offset = (s[0] * hr - int(starts[0]), s[1] * wc - int(starts[1]))
    return Tail(rows_x, s, (s[0] * dims[2], s[1] * dims[3]), offset, tuple(tail))


def _attr(node, name):
    from onnx import helper

    for a in node.attribute:
        if a.name == name:
            value = helper.get_attribute_value(a)
            return value.decode() if isinstance(value, bytes) else value
    return None


def _const_values(model):
    from onnx import numpy_helper

    values = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == 'Constant' and node.attribute and node.attribute[0].name == 'value':
            values[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    return values


def _consumers(graph, tensor):
    return [n for n in graph.node if tensor in n.input]


def _dims_of(model, tensor):
    import onnx

    for vi in model.graph.value_info:
        if vi.name == tensor:
            return _dims(vi)
    inferred = onnx.shape_inference.infer_shapes(model)
    for vi in inferred.graph.value_info:
        if vi.name == tensor:
            return _dims(vi)
    return None


def remove_tail(model, tail) -> str:
    """
    Take the tail's nodes (and initializers only they use) out of the graph.

    Returns them as a base64 serialized GraphProto, so that `bare_graph_of` restores the network.
    """
    import base64

    import onnx

    graph = model.graph
    removed = {id(n) for n in tail.nodes}
    keep = [n for n in graph.node if id(n) not in removed]
    used = {i for n in keep for i in n.input}
    tail_inputs = {i for n in tail.nodes for i in n.input}
    saved = onnx.GraphProto()
    saved.node.extend(n for n in graph.node if id(n) in removed)
    saved.initializer.extend(i for i in graph.initializer if i.name in tail_inputs)
    inits = [i for i in graph.initializer if i.name in used or i.name not in tail_inputs]
    del graph.node[:], graph.initializer[:]
    graph.node.extend(keep)
    graph.initializer.extend(inits)
    return base64.b64encode(saved.SerializeToString()).decode('ascii')
