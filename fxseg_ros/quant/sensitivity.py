# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Which layers suffer from INT8, and mixed precision that keeps the worst ones in float.

- `layer_errors`: SQNR and cosine similarity of every tensor of the fully quantized model
  against the float model on the same frames (errors accumulate along the network).
- `isolated_sensitivity`: quantize one layer at a time and measure the network output's SQNR;
  the ranking the fallback uses, since it separates a layer's own damage from its inputs'.
- `mixed_precision_search`: fall back the most sensitive layers to float, one at a time, until
  `evaluate(model_path)` (mIoU, 0..1) is within `max_drop` points of the float baseline. The
  evaluation is a callback so this module stays below the evaluation layer.
"""

from __future__ import annotations

import logging
from pathlib import Path
import time
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from fxseg_ros.quant.qdq import DEFAULT_OP_TYPES, PER_CHANNEL_AXIS, quantize_qdq
import numpy as np

LOG = logging.getLogger(__name__)

#: Ops that follow a weighted layer and fall back with it.
_TRAILING_OPS = ('Relu', 'LeakyRelu', 'Clip')


def sqnr_db(reference: np.ndarray, test: np.ndarray) -> float:
    """Signal-to-quantization-noise ratio in dB: 10 log10(sum ref^2 / sum (ref - test)^2)."""
    ref = np.asarray(reference, dtype=np.float64).ravel()
    err = ref - np.asarray(test, dtype=np.float64).ravel()
    noise = float(np.dot(err, err))
    signal = float(np.dot(ref, ref))
    if noise == 0.0:
        return float('inf')
    if signal == 0.0:
        return float('-inf')
    return 10.0 * np.log10(signal / noise)


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine of the angle between two tensors seen as vectors (1.0 = same direction)."""
    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    denom = float(np.linalg.norm(x) * np.linalg.norm(y))
    if denom == 0.0:
        return 1.0 if not x.any() and not y.any() else 0.0
    return float(np.dot(x, y) / denom)


class LayerError:
    """Error figures of one layer or tensor (higher SQNR / cosine = less damage)."""

    def __init__(self, name: str, tensor: str, op_type: str, sqnr: float, cosine: float):
        self.name = name
        self.tensor = tensor
        self.op_type = op_type
        self.sqnr = float(sqnr)
        self.cosine = float(cosine)

    def to_dict(self) -> Dict[str, object]:
        return {'name': self.name, 'tensor': self.tensor, 'op_type': self.op_type,
                'sqnr_db': self.sqnr, 'cosine': self.cosine}

    def __repr__(self) -> str:
        return 'LayerError(%r, sqnr=%.2f dB, cosine=%.5f)' % (self.name, self.sqnr, self.cosine)


class _Accumulator:

    def __init__(self):
        self.signal = 0.0
        self.noise = 0.0
        self.dot = 0.0
        self.norm_a = 0.0
        self.norm_b = 0.0

    def add(self, ref: np.ndarray, test: np.ndarray) -> None:
        r = np.asarray(ref, dtype=np.float64).ravel()
        t = np.asarray(test, dtype=np.float64).ravel()
        e = r - t
        self.signal += float(np.dot(r, r))
        self.noise += float(np.dot(e, e))
        self.dot += float(np.dot(r, t))
        self.norm_a += float(np.dot(r, r))
        self.norm_b += float(np.dot(t, t))

    def sqnr(self) -> float:
        if self.noise == 0.0:
            return float('inf')
        if self.signal == 0.0:
            return float('-inf')
        return 10.0 * np.log10(self.signal / self.noise)

    def cosine(self) -> float:
        denom = np.sqrt(self.norm_a) * np.sqrt(self.norm_b)
        return float(self.dot / denom) if denom else 1.0


def weighted_layers(model) -> List[Dict[str, object]]:
    """
    Return the network's weighted layers with the activation nodes that follow them.

    Returns [{'name': conv node name, 'op_type', 'nodes': [conv, trailing relu...],
    'output': tensor after the trailing activation}] in graph order.
    """
    from fxseg_ros.quant.collect import load_model

    model = load_model(model)
    consumers: Dict[str, List] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    layers = []
    for node in model.graph.node:
        if node.op_type not in PER_CHANNEL_AXIS:
            continue
        nodes = [node.name]
        output = node.output[0]
        nxt = consumers.get(output, [])
        if len(nxt) == 1 and nxt[0].op_type in _TRAILING_OPS:
            nodes.append(nxt[0].name)
            output = nxt[0].output[0]
        layers.append({'name': node.name, 'op_type': node.op_type, 'nodes': nodes,
                       'output': output})
    return layers


def layer_errors(float_model: Union[str, Path], qdq_model: Union[str, Path],
                 feeds: Sequence[Dict[str, np.ndarray]], threads: int = 0,
                 session_config: Optional[Dict[str, str]] = None) -> List[LayerError]:
    """
    SQNR / cosine of every weighted layer's output in the Q/DQ model against the float model.

    Tensors keep their names through quantization, so the same names are read from both.
    Sorted from the most damaged (lowest SQNR) to the least. session_config: for the Q/DQ
    model's session (see `ActivationCollector`).
    """
    from fxseg_ros.quant.collect import ActivationCollector, float_tensor_names

    layers = weighted_layers(float_model)
    qdq_names = set(float_tensor_names(qdq_model))
    tensors = [layer['output'] for layer in layers if layer['output'] in qdq_names]
    from fxseg_ros.quant.collect import load_model

    outputs = [o.name for o in load_model(float_model).graph.output]
    tensors += [o for o in outputs if o not in tensors]
    ref = ActivationCollector(float_model, tensors=tensors, threads=threads)
    test = ActivationCollector(qdq_model, tensors=tensors, threads=threads,
                               session_config=session_config)
    acc = {t: _Accumulator() for t in tensors}
    for feed in feeds:
        a = ref.run(feed)
        b = test.run(feed)
        for t in tensors:
            acc[t].add(a[t], b[t])
    by_output = {layer['output']: layer for layer in layers}
    result = []
    for t in tensors:
        layer = by_output.get(t)
        name = layer['name'] if layer else t
        op = layer['op_type'] if layer else 'output'
        result.append(LayerError(name, t, op, acc[t].sqnr(), acc[t].cosine()))
    result.sort(key=lambda e: e.sqnr)
    return result


def isolated_sensitivity(float_model: Union[str, Path], amax: Mapping[str, float],
                         feeds: Sequence[Dict[str, np.ndarray]], workdir: Union[str, Path],
                         layers: Optional[Iterable[str]] = None,
                         op_types: Optional[Sequence[str]] = None, threads: int = 0,
                         session_config: Optional[Dict[str, str]] = None,
                         **qdq_options) -> List[LayerError]:
    """
    Network-output SQNR / cosine with only one weighted layer quantized, for every layer.

    Sorted from the most sensitive (lowest SQNR) to the least. session_config: for the
    quantized models' sessions (see `ActivationCollector`).
    """
    from fxseg_ros.quant.collect import ActivationCollector, load_model

    proto = load_model(float_model)
    all_nodes = [n.name for n in proto.graph.node]
    output = proto.graph.output[0].name
    groups = weighted_layers(proto)
    if layers is not None:
        wanted = set(layers)
        groups = [g for g in groups if g['name'] in wanted]
    ref = ActivationCollector(float_model, tensors=[output], threads=threads)
    references = [ref.run(feed)[output] for feed in feeds]
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    result = []
    for group in groups:
        start = time.perf_counter()
        keep = set(group['nodes'])
        exclude = [n for n in all_nodes if n not in keep]
        path = workdir / ('only_%s.onnx' % _safe(group['name']))
        quantize_qdq(float_model, amax, path, op_types=op_types or DEFAULT_OP_TYPES,
                     nodes_to_exclude=exclude, **qdq_options)
        test = ActivationCollector(path, tensors=[output], threads=threads,
                                   session_config=session_config)
        acc = _Accumulator()
        for feed, reference in zip(feeds, references):
            acc.add(reference, test.run(feed)[output])
        result.append(LayerError(group['name'], group['output'], group['op_type'], acc.sqnr(),
                                 acc.cosine()))
        LOG.info('sensitivity of %s: %.2f dB (%.1f s)', group['name'], acc.sqnr(),
                 time.perf_counter() - start)
    result.sort(key=lambda e: e.sqnr)
    return result


def analyze_layers(float_model: Union[str, Path], calib, feeds: Sequence[Dict[str, np.ndarray]],
                   workdir: Union[str, Path], op_types: Optional[Sequence[str]] = None,
                   keep_float: Optional[Iterable[str]] = None, activations: str = 's8',
                   threads: int = 0):
    """
    Measure both sensitivity views of every weighted layer for one calibration.

    Returns (isolated, accumulated): `isolated_sensitivity` (most sensitive first) and
    {layer name: LayerError} of `layer_errors` on the model with every layer in INT8.
    """
    full = Path(workdir) / 'int8_all_layers.onnx'
    quantize_qdq(float_model, calib.amax, full, op_types=op_types,
                 nodes_to_exclude=keep_float, activations=activations, stats=calib.stats)
    accumulated = {e.name: e for e in layer_errors(float_model, full, feeds, threads=threads)}
    isolated = isolated_sensitivity(float_model, calib.amax, feeds, workdir, op_types=op_types,
                                    activations=activations, stats=calib.stats,
                                    threads=threads)
    return isolated, accumulated


def _safe(name: str) -> str:
    return ''.join(c if c.isalnum() or c in '-_.' else '_' for c in name) or 'node'


class MixedPrecisionResult:
    """Outcome of `mixed_precision_search`."""

    def __init__(self, model_path: Path, kept_float: List[str], score: float, baseline: float,
                 steps: List[Dict[str, object]], within_budget: bool):
        self.model_path = model_path
        self.kept_float = kept_float
        self.score = score
        self.baseline = baseline
        self.steps = steps
        self.within_budget = within_budget

    @property
    def drop_points(self) -> float:
        return 100.0 * (self.baseline - self.score)

    def to_dict(self) -> Dict[str, object]:
        return {'model': str(self.model_path), 'kept_float': list(self.kept_float),
                'miou': self.score, 'baseline_miou': self.baseline,
                'drop_points': self.drop_points, 'within_budget': self.within_budget,
                'steps': self.steps}


def mixed_precision_search(float_model: Union[str, Path], amax: Mapping[str, float],
                           evaluate: Callable[[str], float], ranking: Sequence[str],
                           max_drop: float, workdir: Union[str, Path],
                           baseline: Optional[float] = None, max_fallback: int = 8,
                           keep_float: Optional[Iterable[str]] = None,
                           op_types: Optional[Sequence[str]] = None,
                           **qdq_options) -> MixedPrecisionResult:
    """
    Fall back layers to float in `ranking` order until the mIoU drop is at most `max_drop`.

    evaluate(model_path) -> mIoU in 0..1; max_drop in points (0.5 = half a point of mIoU).
    ranking: weighted-layer names, most sensitive first (e.g. from `isolated_sensitivity`).
    keep_float: node names kept in float from the start. Returns the last model tried: within
    the budget, or with `max_fallback` layers in float when the budget was not reached.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if baseline is None:
        baseline = float(evaluate(str(float_model)))
    groups = {g['name']: g['nodes'] for g in weighted_layers(float_model)}
    excluded: List[str] = list(keep_float or [])
    fallen: List[str] = []
    steps: List[Dict[str, object]] = []
    order = [name for name in ranking if name in groups]
    step = 0
    while True:
        path = workdir / ('mixed_%d.onnx' % step)
        quantize_qdq(float_model, amax, path, op_types=op_types or DEFAULT_OP_TYPES,
                     nodes_to_exclude=excluded, **qdq_options)
        score = float(evaluate(str(path)))
        drop = 100.0 * (baseline - score)
        steps.append({'kept_float': list(fallen), 'miou': score, 'drop_points': drop})
        LOG.info('mixed precision: %d layer(s) in float %s -> mIoU %.4f (drop %.2f points)',
                 len(fallen), fallen, score, drop)
        if drop <= max_drop:
            return MixedPrecisionResult(path, list(excluded), score, baseline, steps, True)
        if step >= max_fallback or step >= len(order):
            LOG.warning('mixed precision: drop %.2f points still above %.2f with %d layers in '
                        'float', drop, max_drop, len(fallen))
            return MixedPrecisionResult(path, list(excluded), score, baseline, steps, False)
        layer = order[step]
        fallen.append(layer)
        excluded.extend(n for n in groups[layer] if n not in excluded)
        step += 1
