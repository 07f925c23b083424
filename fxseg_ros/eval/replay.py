# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Offline replay: frames of a bag (or a Cityscapes-layout folder) through exactly the node's
pipeline, `fxseg_ros.pipeline.convert` -> `SegmentationPipeline(create_runner(...))`, for one or
more models in one pass over the data, with streaming accuracy and latency per stage.

One pass decodes each frame once and feeds every run, so the ground-truth work (small-object
extraction) is shared; only the few frames where the runs disagree most are kept (downscaled)
for the report's overlays.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from fxseg_ros.metrics.accumulate import AccuracyAccumulator, StageLatencies, joint_histogram
from fxseg_ros.eval.models import describe_model
from fxseg_ros.metrics.small_objects import (DEFAULT_MAX_PIXELS, DEFAULT_SMALL_CLASSES,
                                             class_presence)

LOG = logging.getLogger(__name__)

#: Size (width, height) of the frames kept for the overlays.
OVERLAY_WH = (640, 360)


class EvalError(RuntimeError):
    """An evaluation cannot run as asked; the message says what to change."""


@dataclass
class EvalFrame:
    """
    One frame to evaluate.

    load() returns the decoded BGR frame, shape (H, W, 3), uint8, and may raise
    `fxseg_ros.pipeline.convert.FrameRejected`. labels: shape (H, W), uint8, or None.
    """

    key: str
    load: Callable[[], np.ndarray]
    labels: Optional[np.ndarray] = None
    condition: Optional[str] = None
    stamp_ns: Optional[int] = None


@dataclass
class FrameSource:
    """Frames plus what the report says about where they came from."""

    frames: Iterable[EvalFrame]
    total: Optional[int]
    info: Dict[str, object] = field(default_factory=dict)
    #: Called after the pass; returns counts to merge into `info` (e.g. unmatched labels).
    finish: Optional[Callable[[], Dict[str, object]]] = None


@dataclass
class RunSpec:
    """One model / precision to evaluate."""

    name: str
    model: str
    precision: Optional[str] = None
    backend: str = 'auto'
    threads: int = 0
    engine_options: Dict[str, object] = field(default_factory=dict)


@dataclass
class RunResult:
    """Accumulated results of one run."""

    spec: RunSpec
    accuracy: AccuracyAccumulator
    latency: StageLatencies = field(default_factory=StageLatencies)
    model_info: Dict[str, object] = field(default_factory=dict)
    frames: int = 0
    pipeline_ms: float = 0.0
    metrics_ms: float = 0.0
    mode: str = 'offline'
    extra: Dict[str, object] = field(default_factory=dict)

    def to_json(self) -> Dict[str, object]:
        lat = self.latency.summary()
        total = lat.get('total', {})
        out = {
            'name': self.spec.name,
            'model': str(self.spec.model),
            'precision': self.model_info.get('precision', self.spec.precision),
            'backend': self.model_info.get('backend', self.spec.backend),
            'weight_bytes': self.model_info.get('weight_bytes'),
            'mode': self.mode,
            'frames': self.frames,
            'latency_ms': lat,
            'fps': (1000.0 / total['p50']) if total.get('p50') else None,
            'throughput_fps': (1000.0 * self.frames / self.pipeline_ms
                               if self.pipeline_ms > 0 else None),
            'metrics_overhead_pct': (100.0 * self.metrics_ms / self.pipeline_ms
                                     if self.pipeline_ms > 0 else None),
        }
        out['accuracy'] = self.accuracy.compute()
        out.update(self.extra)
        return out


@dataclass
class Overlay:
    """A frame where two runs disagree, downscaled to OVERLAY_WH."""

    key: str
    run: str
    reference: str
    disagreement: float
    condition: Optional[str]
    frame: np.ndarray
    labels: np.ndarray
    pred_reference: np.ndarray
    pred_run: np.ndarray


@dataclass
class Evaluation:
    """Everything the report needs."""

    runs: List[RunResult]
    dataset: Dict[str, object]
    reference: Optional[str]
    settings: Dict[str, object] = field(default_factory=dict)
    overlays: List[Overlay] = field(default_factory=list)
    timing: Dict[str, float] = field(default_factory=dict)

    def run(self, name: str) -> RunResult:
        for r in self.runs:
            if r.spec.name == name:
                return r
        raise KeyError(name)


# Sources ------------------------------------------------------------------------------------
def message_decoder(msgtype: str) -> Callable:
    """The node's conversion for a camera message type (fxseg_ros.pipeline.convert)."""
    from fxseg_ros.pipeline import convert

    if msgtype.endswith('CompressedImage'):
        return convert.compressed_to_bgr
    return convert.image_to_bgr


def bag_source(path, image_topic: Optional[str] = None, label_topic: Optional[str] = '',
               condition_topic: Optional[str] = None, max_frames: Optional[int] = None,
               decoder: Optional[Callable] = None) -> FrameSource:
    """Frames of a bag's camera topic with labels matched by stamp (see data.bag)."""
    from fxseg_ros.data.bag import CONDITION_TOPIC
    from fxseg_ros.data.bag_reader import BagFrameReader

    reader = BagFrameReader(path, image_topic=image_topic, label_topic=label_topic,
                            condition_topic=condition_topic or CONDITION_TOPIC,
                            max_frames=max_frames)
    decode = decoder or message_decoder(reader.topics[reader.image_topic][0])

    def frames() -> Iterator[EvalFrame]:
        for f in reader:
            yield EvalFrame(key=str(f.stamp_ns), load=(lambda m=f.msg: decode(m)),
                            labels=f.labels, condition=f.condition, stamp_ns=f.stamp_ns)

    def finish() -> Dict[str, object]:
        s = reader.stats
        return {'frames_read': s.frames, 'frames_without_label': s.frames_without_label,
                'labels_without_frame': s.labels_without_frame,
                'frames_without_condition': s.frames_without_condition}

    info = {'source': 'bag', 'path': str(path), 'image_topic': reader.image_topic,
            'image_type': reader.topics[reader.image_topic][0],
            'label_topic': reader.label_topic, 'condition_topic': reader.condition_topic}
    return FrameSource(frames=frames(), total=len(reader), info=info, finish=finish)


def cityscapes_source(root, split: str = 'val', max_frames: Optional[int] = None,
                      cities: Optional[Sequence[str]] = None) -> FrameSource:
    """
    Frames of a Cityscapes-layout folder (e.g. a held-out synthetic set); the condition is the
    city's lighting condition ('day' / 'dusk' / 'night' for synthetic data, the city otherwise).
    Frames without a label file are run and counted, not scored.
    """
    from fxseg_ros.data.cityscapes import CityscapesDataset

    ds = CityscapesDataset(root, split, cities=cities, require_labels=False)
    n = len(ds) if not max_frames else min(len(ds), max_frames)

    def frames() -> Iterator[EvalFrame]:
        for i in range(n):
            meta = ds.meta(i)
            yield EvalFrame(key=str(meta.get('name', i)), load=(lambda k=i: ds.load_image(k)),
                            labels=ds.load_labels(i),
                            condition=meta.get('condition') or meta.get('city'))

    info = {'source': 'cityscapes', 'path': str(root), 'split': split}
    return FrameSource(frames=frames(), total=n, info=info)


# The pass -----------------------------------------------------------------------------------
def _downscale(img: np.ndarray, nearest: bool) -> np.ndarray:
    if (img.shape[1], img.shape[0]) == OVERLAY_WH:
        return img.copy()
    return cv2.resize(img, OVERLAY_WH, interpolation=cv2.INTER_NEAREST if nearest
                      else cv2.INTER_AREA)


class _OverlayKeeper:
    """The k frames with the largest disagreement between a run and the reference run."""

    def __init__(self, k: int):
        self.k = k
        self._best: Dict[str, Overlay] = {}

    def wants(self, key: str, score: float) -> bool:
        if self.k <= 0 or score <= 0:
            return False
        if key in self._best:
            return score > self._best[key].disagreement
        return len(self._best) < self.k or score > min(
            o.disagreement for o in self._best.values())

    def add(self, overlay: Overlay) -> None:
        self._best[overlay.key] = overlay
        if len(self._best) > self.k:
            worst = min(self._best.values(), key=lambda o: o.disagreement)
            del self._best[worst.key]

    def result(self) -> List[Overlay]:
        return sorted(self._best.values(), key=lambda o: -o.disagreement)


class _MetricsWorker:
    """Runs scoring jobs in order on one thread, at most `depth` queued; errors re-raised."""

    def __init__(self, threaded: bool = True, depth: int = 2):
        self.depth = depth
        self._pending: 'collections.deque' = collections.deque()
        self._pool = None
        if threaded:
            from concurrent.futures import ThreadPoolExecutor
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix='fxseg_metrics')

    def submit(self, fn: Callable, *args) -> None:
        if self._pool is None:
            fn(*args)
            return
        while len(self._pending) >= self.depth:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(fn, *args))

    def drain(self) -> None:
        while self._pending:
            self._pending.popleft().result()

    def close(self) -> None:
        if self._pool is not None:
            for f in self._pending:
                f.cancel()
            self._pool.shutdown(wait=True)


def choose_reference(runs: Sequence[RunResult], reference: Optional[str]) -> Optional[str]:
    """The run drops are measured against: `reference`, else the first fp32 run, else first."""
    if not runs:
        return None
    if reference:
        names = [r.spec.name for r in runs]
        if reference not in names:
            raise EvalError('reference %r is not among the runs (%s)'
                            % (reference, ', '.join(names)))
        return reference
    for r in runs:
        if (r.model_info.get('precision') or r.spec.precision) == 'fp32':
            return r.spec.name
    return runs[0].spec.name


def evaluate(source: FrameSource, runs: Sequence[RunSpec], batch: int = 1,
             small_max_pixels: int = DEFAULT_MAX_PIXELS,
             small_classes: Sequence[int] = DEFAULT_SMALL_CLASSES, overlays: int = 4,
             reference: Optional[str] = None, progress: bool = True,
             collect_metrics: bool = True, camera_hw: Optional[Tuple[int, int]] = None,
             runner_factory: Optional[Callable] = None,
             async_metrics: bool = True) -> Evaluation:
    """
    Run every frame of `source` through every run's pipeline and accumulate the metrics.

    camera_hw: the size the runners' deployment graphs are built for (default: the first
    frame's). collect_metrics=False times the bare replay (for the overhead measurement).
    runner_factory(spec, camera_hw) -> Runner replaces create_runner (e.g. a TensorRT build).
    async_metrics: score frame i on a second thread while frame i + 1 is decoded and inferred
    (at most two frames queued, so memory stays flat).
    """
    from fxseg_ros.pipeline.convert import FrameRejected
    from fxseg_ros.pipeline.pipeline import SegmentationPipeline
    from fxseg_ros.runtime import create_runner

    if not runs:
        raise EvalError('nothing to evaluate: give at least one --model')
    names = [r.name for r in runs]
    dup = [n for n, c in collections.Counter(names).items() if c > 1]
    if dup:
        raise EvalError('run names must be unique, %s repeats; name them with --name' % dup)
    if batch < 1:
        raise EvalError('batch must be >= 1, got %d' % batch)

    frames_it = iter(source.frames)
    rejected: Dict[str, int] = collections.Counter()
    decode_ms: List[float] = []
    first = None
    # Peek at the first decodable frame: its size builds the deployment graphs.
    for frame in frames_it:
        t0 = time.perf_counter()
        try:
            bgr = frame.load()
        except FrameRejected as err:
            rejected[getattr(err, 'reason', 'rejected')] += 1
            continue
        decode_ms.append((time.perf_counter() - t0) * 1e3)
        first = (frame, bgr)
        break
    if first is None:
        raise EvalError('no decodable frame in %s (%s rejected: %s)'
                        % (source.info.get('path'), sum(rejected.values()), dict(rejected)))
    hw = tuple(camera_hw) if camera_hw else tuple(first[1].shape[:2])

    results = [RunResult(spec=s, accuracy=AccuracyAccumulator(
        small_max_pixels=small_max_pixels, small_classes=small_classes),
        model_info=describe_model(s.model, s.precision)) for s in runs]
    keeper = _OverlayKeeper(overlays if len(runs) > 1 else 0)
    ref_name = choose_reference(results, reference)
    ref_idx = [r.spec.name for r in results].index(ref_name)
    # Overlays show where the INT8 runs differ from the reference (any run when none is INT8).
    quantized = [i for i, r in enumerate(results) if i != ref_idx
                 and (r.model_info.get('precision') or r.spec.precision) in ('int8', 'mixed')]
    overlay_idx = quantized or [i for i in range(len(results)) if i != ref_idx]

    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=source.total, unit='frame', desc='eval', dynamic_ncols=True,
                   smoothing=0.1)
    wall0 = time.perf_counter()
    counts = collections.Counter()
    with contextlib.ExitStack() as stack:
        pipelines = []
        for res in results:
            spec = res.spec
            LOG.info('loading %s (%s)', spec.name, spec.model)
            if runner_factory is not None:
                runner = runner_factory(spec, hw)
            else:
                runner = create_runner(str(spec.model), backend=spec.backend, camera_hw=hw,
                                       threads=spec.threads, **spec.engine_options)
            stack.enter_context(runner)
            res.model_info.setdefault('backend', getattr(runner, 'backend', spec.backend))
            pipeline = SegmentationPipeline(runner)
            pipeline.process([first[1]])  # warm-up: the first call allocates (untimed)
            pipelines.append(pipeline)
        wall0 = time.perf_counter()

        def frames_with_first() -> Iterator[Tuple[EvalFrame, Optional[np.ndarray], float]]:
            yield first[0], first[1], decode_ms[0]
            for fr in frames_it:
                t0 = time.perf_counter()
                try:
                    img = fr.load()
                except FrameRejected as err:
                    rejected[getattr(err, 'reason', 'rejected')] += 1
                    if bar is not None:
                        bar.update(1)
                    continue
                yield fr, img, (time.perf_counter() - t0) * 1e3

        pending: List[Tuple[EvalFrame, np.ndarray, float]] = []

        def score_frame(fr: EvalFrame, img: np.ndarray, preds: List[np.ndarray]) -> None:
            """Accuracy of one frame for every run (on the metrics thread)."""
            t0 = time.perf_counter()
            gt = fr.labels
            hist0 = None
            if preds[0].shape == gt.shape:
                hist0 = joint_histogram(gt, preds[0])
                presence = hist0.sum(axis=1)  # ground-truth pixels per label
            else:
                presence = class_presence(gt)
            objects = results[0].accuracy.small.extract(gt, presence)
            for k, (res, pred) in enumerate(zip(results, preds)):
                res.accuracy.update(gt, pred, fr.condition, objects,
                                    hist=hist0 if k == 0 else None)
            _track_disagreement(keeper, fr, img, gt, results, preds, ref_idx, overlay_idx)
            share = (time.perf_counter() - t0) * 1e3 / len(results)
            for res in results:
                res.metrics_ms += share

        def flush() -> None:
            if not pending:
                return
            imgs = [p[1] for p in pending]
            preds = []
            counts['decode_us'] += int(1e3 * sum(p[2] for p in pending))
            for res, pipe in zip(results, pipelines):
                t0 = time.perf_counter()
                out = pipe.process(imgs)
                dt = (time.perf_counter() - t0) * 1e3
                dec = sum(p[2] for p in pending)
                res.pipeline_ms += dt + dec
                res.frames += len(imgs)
                timings = dict(out.timings_ms)
                timings['decode'] = dec
                timings['total'] = timings.get('total', dt) + dec
                res.latency.add(timings, frames=len(imgs))
                preds.append(out.labels)
            if collect_metrics:
                for j, (fr, img, _) in enumerate(pending):
                    if fr.labels is None:
                        counts['frames_without_label'] += 1
                        continue
                    counts['frames_evaluated'] += 1
                    # Copies: a runner may reuse its output buffer for the next frame.
                    worker.submit(score_frame, fr, img,
                                  [np.array(p[j], copy=True) if async_metrics else p[j]
                                   for p in preds])
            if bar is not None:
                bar.update(len(pending))
                ref = results[ref_idx]
                if ref.pipeline_ms > 0:
                    bar.set_postfix_str('%s %.1f ms/frame' % (ref.spec.name,
                                                              ref.pipeline_ms / ref.frames))
            pending.clear()

        worker = _MetricsWorker(threaded=async_metrics)
        try:
            for fr, img, dms in frames_with_first():
                if img.shape[:2] != first[1].shape[:2]:
                    counts['frames_other_size'] += 1
                pending.append((fr, img, dms))
                if len(pending) >= batch:
                    flush()
            flush()
            worker.drain()
        finally:
            worker.close()
            if bar is not None:
                bar.close()
    wall_ms = (time.perf_counter() - wall0) * 1e3

    dataset = dict(source.info)
    if source.finish is not None:
        dataset.update(source.finish())
    dataset['frames'] = results[0].frames
    dataset['frames_evaluated'] = counts['frames_evaluated']
    dataset['frames_unlabelled'] = counts['frames_without_label']
    dataset['frames_rejected'] = dict(rejected)
    dataset['frames_other_size'] = counts['frames_other_size']
    dataset['frame_hw'] = list(first[1].shape[:2])
    # Each run's pipeline time includes decoding (the node decodes too), done once per frame.
    pipeline_ms = sum(r.pipeline_ms for r in results) \
        - (len(results) - 1) * counts['decode_us'] * 1e-3
    metrics_ms = sum(r.metrics_ms for r in results)
    timing = {
        'wall_ms': wall_ms,
        'pipeline_ms': pipeline_ms,
        'metrics_ms': metrics_ms,
        'metrics_overhead_pct': 100.0 * metrics_ms / pipeline_ms if pipeline_ms else None,
        'replay_overhead_pct': (100.0 * (wall_ms - pipeline_ms) / pipeline_ms
                                if pipeline_ms else None),
    }
    settings = {'batch': batch, 'small_max_pixels': small_max_pixels,
                'small_classes': list(small_classes), 'camera_hw': list(hw)}
    return Evaluation(runs=results, dataset=dataset, reference=ref_name, settings=settings,
                      overlays=keeper.result(), timing=timing)


def _track_disagreement(keeper: _OverlayKeeper, fr: EvalFrame, img: np.ndarray,
                        gt: np.ndarray, results: Sequence[RunResult], preds,
                        ref_idx: int, others: Sequence[int]) -> None:
    if keeper.k == 0:
        return
    ref_pred = preds[ref_idx]
    valid = cv2.compare(gt, 255, cv2.CMP_NE)
    n_valid = max(cv2.countNonZero(valid), 1)
    for i in others:
        res = results[i]
        pred = preds[i]
        differ = cv2.compare(pred, ref_pred, cv2.CMP_NE)
        score = float(cv2.countNonZero(cv2.bitwise_and(differ, valid))) / n_valid
        if keeper.wants(fr.key, score):
            keeper.add(Overlay(key=fr.key, run=res.spec.name,
                               reference=results[ref_idx].spec.name, disagreement=score,
                               condition=fr.condition,
                               frame=_downscale(img, False), labels=_downscale(gt, True),
                               pred_reference=_downscale(ref_pred, True),
                               pred_run=_downscale(pred, True)))


def reference_drop(evaluation: Evaluation) -> Dict[str, Optional[float]]:
    """mIoU drop in points (x100) of each run against the reference run."""
    if evaluation.reference is None:
        return {}
    ref = evaluation.run(evaluation.reference).accuracy.cm.miou()
    return {r.spec.name: (100.0 * (ref - r.accuracy.cm.miou())
                          if not np.isnan(ref) else None) for r in evaluation.runs}


def default_run_specs(models: Sequence[str], precisions: Optional[Sequence[str]] = None,
                      names: Optional[Sequence[str]] = None, backend: str = 'auto',
                      threads: int = 0) -> List[RunSpec]:
    """
    Pair models with precisions and names.

    With one model and several precisions, the model is built at each precision (TensorRT
    only: an ONNX Runtime model has the precision it was quantized to).
    """
    models = [str(m) for m in models]
    for m in models:
        if not Path(m).exists():
            raise EvalError('model %s does not exist' % m)
    precisions = list(precisions or [])
    if len(models) == 1 and len(precisions) > 1:
        if backend != 'tensorrt' and not models[0].endswith(('.engine', '.plan')):
            raise EvalError(
                'one ONNX model with several precisions (%s) needs --backend tensorrt; for '
                'ONNX Runtime give one model per precision (fxseg quantize writes the INT8 and '
                'FP16 models)' % ','.join(precisions))
        specs = [RunSpec(name='%s-%s' % (Path(models[0]).stem, p), model=models[0],
                         precision=p, backend=backend, threads=threads,
                         engine_options={'precision': p}) for p in precisions]
    else:
        if precisions and len(precisions) != len(models):
            raise EvalError('--precision names %d precisions for %d models; give one per model'
                            % (len(precisions), len(models)))
        specs = [RunSpec(name=Path(m).stem, model=m,
                         precision=precisions[i] if precisions else None,
                         backend=backend, threads=threads) for i, m in enumerate(models)]
    if names:
        if len(names) != len(specs):
            raise EvalError('--name gives %d names for %d runs' % (len(names), len(specs)))
        for spec, n in zip(specs, names):
            spec.name = n
    seen = collections.Counter(s.name for s in specs)
    for spec in specs:
        if seen[spec.name] > 1:
            spec.name = '%s-%s' % (spec.name, spec.precision or len(seen))
    return specs
