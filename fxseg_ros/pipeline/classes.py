# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
A model's number of classes against the label table it is used with.

A model that scores 10 classes with the 19-class Cityscapes table (or the reverse) gives labels
whose names and colours are wrong, and metrics over classes that cannot occur. The node, the
evaluation and the benchmarks stop with the line of :func:`class_count_problem` instead.
"""


from typing import Optional, Sequence


def model_class_count(model) -> Optional[int]:
    """
    Classes the ONNX model scores, or None when the graph does not say.

    model: path or onnx.ModelProto of a bare network (scores (N, C, H, W)) or of a deployment
    graph (its recorded `classes`, else those of the network inside it).
    """
    from fxseg_ros.model import deploy

    loaded = deploy.load_model(model)
    info = deploy.deployment_info(loaded)
    if info is not None:
        if isinstance(info.get('classes'), int):
            return info['classes']
        scores = {vi.name: vi for vi in loaded.graph.value_info}.get(info.get('net_output'))
    else:
        outputs = list(loaded.graph.output)
        scores = outputs[0] if len(outputs) == 1 else None
    if scores is None:
        return None
    dims = scores.type.tensor_type.shape.dim
    if len(dims) != 4 or not dims[1].HasField('dim_value'):
        return None
    return int(dims[1].dim_value)


def class_count_problem(model_classes: Optional[int], label_names: Sequence[str],
                        model_name: str, labels_name: str) -> Optional[str]:
    """
    One line saying how the model and the label table disagree, or None when they agree.

    model_classes: classes the model scores (None: unknown, not checked). label_names: the
    table's names by label ID (its length is the number of IDs it describes).
    """
    if model_classes is None or model_classes == len(label_names):
        return None
    return ('the model %s scores %d classes but the label table %s has %d; use the label table '
            'the model was trained with (labels_file) or the model made for this table'
            % (model_name, model_classes, labels_name, len(label_names)))
