# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The ONNX graph as the offline TensorRT check reads it.

Shape-inferred, with every tensor's type, producer, consumers and constant value, and which
nodes only compute shapes.

Shared by the parser and builder rules (`trt_rules`) and the DLA rules (`trt_dla`). Pure onnx +
numpy, Python 3.6.
"""


from typing import Dict, List, Optional, Set

#: Longest shape-inference error kept for the finding (the first line of onnx's message).
MAX_REASON_CHARS = 300


def node_label(node) -> str:
    """Return the name a finding gives a node: its name, else first output, else op type."""
    return node.name or (node.output[0] if node.output else node.op_type)


def _infer(model):
    """
    (shape-inferred model, None) or (best model available, why strict inference failed).

    Strict mode first, so that a node whose types cannot be inferred is reported; then the
    lenient mode for whatever it can still infer. onnx raises InferenceError for a node, ValueError
    for a model over 2 GiB and RuntimeError from its C++ checks.
    """
    import onnx
    from onnx.shape_inference import InferenceError

    errors = (InferenceError, ValueError, RuntimeError)
    try:
        return onnx.shape_inference.infer_shapes(model, strict_mode=True), None
    except errors as exc:
        reason = ' '.join(str(exc).split())[:MAX_REASON_CHARS] or type(exc).__name__
    try:
        return onnx.shape_inference.infer_shapes(model), reason
    except errors:
        return model, reason


class CheckGraph:
    """
    A shape-inferred model with its tensor types, producers, consumers and constants.

    inference_error: why ONNX shape inference failed (None when it succeeded); the types of the
    tensors after the failing node are then those the file declares, often none.
    shape_tensors: tensors computed from Shape / Size outputs and constants only (TensorRT
    evaluates them as shape tensors, not as layers on the data).
    """

    def __init__(self, model):
        from onnx import numpy_helper

        model, self.inference_error = _infer(model)
        self.model = model
        graph = model.graph
        self.opset = 0
        for entry in model.opset_import:
            if entry.domain in ('', 'ai.onnx'):
                self.opset = entry.version
        self.consts = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
        self.init_types = {i.name: i.data_type for i in graph.initializer}
        self.types: Dict[str, int] = dict(self.init_types)
        for vi in list(graph.input) + list(graph.value_info) + list(graph.output):
            if vi.type.HasField('tensor_type'):
                self.types[vi.name] = vi.type.tensor_type.elem_type
        self.producer = {}
        self.consumers: Dict[str, List] = {}
        for node in graph.node:
            if node.op_type == 'Constant':
                for attr in node.attribute:
                    if attr.name == 'value':
                        self.consts[node.output[0]] = numpy_helper.to_array(attr.t)
                        self.types.setdefault(node.output[0], attr.t.data_type)
            for out in node.output:
                self.producer[out] = node
            for i, name in enumerate(node.input):
                if name:
                    self.consumers.setdefault(name, []).append((node, i))
        self.inputs = [vi.name for vi in graph.input if vi.name not in self.init_types]
        self.outputs = [vi.name for vi in graph.output]
        self.dims = {}
        for vi in list(graph.input) + list(graph.value_info) + list(graph.output):
            shape = vi.type.tensor_type.shape
            self.dims[vi.name] = [d.dim_value if d.HasField('dim_value') else None
                                  for d in shape.dim]
        self.shape_tensors = self._shape_tensors()

    def _shape_tensors(self) -> Set[str]:
        found: Set[str] = set()
        for node in self.model.graph.node:  # ONNX nodes are in topological order
            if node.op_type == 'Constant':
                continue
            data = [name for name in node.input if name and name not in self.consts]
            if node.op_type in ('Shape', 'Size') or (data and all(d in found for d in data)):
                found.update(name for name in node.output if name)
        return found

    def computes_shape(self, node) -> bool:
        """Whether the node only computes shape tensors (see shape_tensors)."""
        outputs = [name for name in node.output if name]
        return bool(outputs) and all(name in self.shape_tensors for name in outputs)

    def type_name(self, tensor: str) -> Optional[str]:
        from onnx import TensorProto

        t = self.types.get(tensor)
        return TensorProto.DataType.Name(t) if t else None

    @staticmethod
    def attrs(node) -> dict:
        from onnx import helper

        out = {}
        for attr in node.attribute:
            value = helper.get_attribute_value(attr)
            out[attr.name] = value.decode() if isinstance(value, bytes) else value
        return out
