# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Run an ONNX graph with ONNX Runtime and hand back every intermediate float tensor.

One batch at a time, so calibration and analysis keep statistics instead of activations.

Intermediate tensors become graph outputs (their names unchanged, which are also the tensor
names TensorRT's ONNX parser gives the network, and so the names of the calibration cache).
"""

import logging
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Union

from fxseg_ros.runtime.session import make_session
import numpy as np

LOG = logging.getLogger(__name__)

#: A model path or an onnx.ModelProto.
ModelLike = Union[str, Path, object]

_FLOAT_TYPES = None


def _float_types():
    global _FLOAT_TYPES
    if _FLOAT_TYPES is None:
        from onnx import TensorProto

        _FLOAT_TYPES = (TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.BFLOAT16,
                        TensorProto.DOUBLE)
    return _FLOAT_TYPES


def load_model(model: ModelLike):
    """Return an onnx.ModelProto from a path or a model (returned as is)."""
    import onnx

    if isinstance(model, (str, Path)):
        return onnx.load(str(model))
    return model


def model_digest(model: ModelLike) -> str:
    """
    SHA-1 of a model's graph and weights (names, node list, initializer bytes), in hex.

    Ties a calibration to the model it was computed on: the same architecture with other
    weights has other activation ranges.
    """
    import hashlib

    from onnx import numpy_helper

    model = load_model(model)
    digest = hashlib.sha1()
    for node in model.graph.node:
        digest.update(('%s|%s|%s;' % (node.op_type, ','.join(node.input),
                                      ','.join(node.output))).encode())
    for init in model.graph.initializer:
        digest.update(init.name.encode())
        digest.update(numpy_helper.to_array(init).tobytes())
    return digest.hexdigest()


def tensor_types(model) -> Dict[str, int]:
    """Element type (onnx.TensorProto enum) of every typed value after shape inference."""
    import onnx

    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        LOG.warning('shape inference failed (%s); using the declared types only', exc)
        inferred = model
    types: Dict[str, int] = {}
    graph = inferred.graph
    for info in list(graph.input) + list(graph.value_info) + list(graph.output):
        if info.type.HasField('tensor_type'):
            types[info.name] = info.type.tensor_type.elem_type
    for init in graph.initializer:
        types[init.name] = init.data_type
    return types


def float_tensor_names(model: ModelLike, include_inputs: bool = True,
                       op_types: Optional[Sequence[str]] = None,
                       types: Optional[Dict[str, int]] = None) -> List[str]:
    """
    Names of the graph's float activation tensors in topological order (no initializers).

    include_inputs: also the graph inputs. op_types: only outputs of these op types.
    types: `tensor_types(model)` when already computed.
    """
    model = load_model(model)
    types = types if types is not None else tensor_types(model)
    initializers = {init.name for init in model.graph.initializer}
    names: List[str] = []
    seen = set()
    if include_inputs:
        for info in model.graph.input:
            if info.name not in initializers and types.get(info.name) in _float_types():
                names.append(info.name)
                seen.add(info.name)
    for node in model.graph.node:
        if op_types is not None and node.op_type not in op_types:
            continue
        if node.op_type == 'Constant':
            continue
        for out in node.output:
            if out and out not in seen and types.get(out) in _float_types():
                names.append(out)
                seen.add(out)
    return names


def add_graph_outputs(model, names: Sequence[str], types: Optional[Dict[str, int]] = None):
    """Return a copy of `model` with the tensors `names` as graph outputs too (types inferred)."""
    import onnx
    from onnx import helper

    model = load_model(model)
    out = onnx.ModelProto()
    out.CopyFrom(model)
    types = types if types is not None else tensor_types(out)
    existing = {o.name for o in out.graph.output}
    for name in names:
        if name in existing:
            continue
        if name not in types:
            raise ValueError('tensor %r has no known type; is it in the graph?' % name)
        out.graph.output.append(helper.make_tensor_value_info(name, types[name], None))
    return out


class ActivationCollector:
    """
    Runs a model and returns the values of chosen intermediate tensors for one feed.

    tensors: names to return (default: every float activation, graph inputs included).
    session_config: ONNX Runtime session config entries (e.g. `runtime.session.EXACT_INT8_CONFIG`
    for INT8 models computed with exact int32 accumulation on any x86 CPU).
    """

    def __init__(self, model: ModelLike, tensors: Optional[Iterable[str]] = None,
                 threads: int = 0, session_config: Optional[Dict[str, str]] = None):
        proto = load_model(model)
        types = tensor_types(proto)
        self.tensors: List[str] = (list(tensors) if tensors is not None
                                   else float_tensor_names(proto, types=types))
        self.input_names = [i.name for i in proto.graph.input
                            if i.name not in {x.name for x in proto.graph.initializer}]
        graph_inputs = set(self.input_names)
        augmented = add_graph_outputs(proto, [t for t in self.tensors if t not in graph_inputs],
                                      types)
        self.session = make_session(augmented, threads=threads, config=session_config)
        self._fetch = [t for t in self.tensors if t not in graph_inputs]

    def run(self, feed: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """Tensor name -> array for one feed {input name: array}."""
        values = self.session.run(self._fetch, feed)
        result = {name: feed[name] for name in self.tensors if name in feed}
        result.update(zip(self._fetch, values))
        return result


class ArrayReader:
    """
    A `get_next()` reader over in-memory input blobs (one feed per blob).

    blobs: iterable of float32 arrays shaped like the model input, e.g. from `preprocess`.
    """

    def __init__(self, blobs: Iterable[np.ndarray], input_name: str = 'input'):
        self._iter = iter(blobs)
        self.input_name = input_name

    def get_next(self) -> Optional[Dict[str, np.ndarray]]:
        blob = next(self._iter, None)
        if blob is None:
            return None
        blob = np.asarray(blob, dtype=np.float32)
        if blob.ndim == 3:
            blob = blob[None]
        return {self.input_name: blob}

    def __iter__(self) -> Iterator[Dict[str, np.ndarray]]:
        return iterate_feeds(self)


def iterate_feeds(reader) -> Iterator[Dict[str, np.ndarray]]:
    """Yield the feeds of a `get_next()` reader (until None) or of a plain iterable of dicts."""
    if hasattr(reader, 'get_next'):
        while True:
            feed = reader.get_next()
            if feed is None:
                return
            yield feed
    else:
        for feed in reader:
            yield feed


def open_calibration_reader(data: Union[str, Path], frames: Optional[int] = None,
                            topic: Optional[str] = None, split: str = 'train',
                            conditions: Optional[Sequence[str]] = None,
                            input_name: Optional[str] = None,
                            size_wh: Optional[Sequence[int]] = None):
    """
    Return a calibration reader for a Cityscapes-layout directory, an image folder or a rosbag2.

    Frames go through the deployment preprocessing (`fxseg_ros.data.readers`). frames: stop
    after this many. conditions: Cityscapes cities / bag lighting conditions to keep.
    input_name, size_wh: the network input the feeds are for (None: the readers' defaults).
    """
    from fxseg_ros.data import readers

    path = Path(data)
    if not path.exists():
        raise FileNotFoundError('calibration data %s does not exist' % path)
    sizing = {}
    if input_name is not None:
        sizing['input_name'] = input_name
    if size_wh is not None:
        sizing['size_wh'] = tuple(size_wh)
    if _is_bag(path):
        return readers.BagCalibrationReader(path, topic, max_frames=frames,
                                            conditions=conditions, **sizing)
    if (path / 'leftImg8bit').is_dir():
        return readers.CityscapesCalibrationReader(path, split=split, cities=conditions,
                                                   max_frames=frames, **sizing)
    return readers.ImageFolderCalibrationReader(path, max_frames=frames, **sizing)


def _is_bag(path: Path) -> bool:
    if path.is_dir():
        return (path / 'metadata.yaml').is_file()
    return path.suffix in ('.db3', '.mcap')
