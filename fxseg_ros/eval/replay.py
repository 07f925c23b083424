# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Offline replay: a bag (or a Cityscapes-layout folder) through exactly the node's pipeline.

`fxseg_ros.pipeline.convert` -> `SegmentationPipeline(create_runner(...))`, for one or more
models in one pass over the data (`fxseg_ros.eval.sources`), with streaming accuracy and latency
per stage.

One pass decodes each frame once and feeds every run, so the ground-truth work (small-object
extraction) is shared; only the few frames where the runs disagree most are kept (downscaled)
for the report's overlays.
"""

from __future__ import annotations

import collections
import contextlib
from dataclasses import dataclass, field
import itertools
import logging
from pathlib import Path
import time
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import cv2
from fxseg_ros.eval.models import describe_model, precision_problem
from fxseg_ros.eval.sources import EvalFrame, FrameSource
from fxseg_ros.metrics.accumulate import AccuracyAccumulator, joint_histogram, StageLatencies
from fxseg_ros.metrics.defaults import DEFAULT_MAX_PIXELS, DEFAULT_SMALL_CLASSES
from fxseg_ros.metrics.small_objects import class_presence
from fxseg_ros.runtime import ENGINE_SUFFIXES
import numpy as np

LOG = logging.getLogger(__name__)

#: Size (width, height) of the frames kept for the overlays.
OVERLAY_WH = (640, 360)


class EvalError(RuntimeError):
    """An evaluation cannot run as asked; the message says what to change."""


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
    """Pick the run drops are measured against: `reference`, else the first fp32 run, or first."""
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


class Replay:
    """
    One pass over a frame source through every run's pipeline, accumulating the metrics.

    See `evaluate` for the arguments. The first decodable frame builds the deployment graphs
    (its size, unless camera_hw is given) and is the first frame scored; frames go through the
    pipelines `batch` at a time and are scored on a second thread (async_metrics) while the next
    batch is decoded and inferred.
    """

    def __init__(self, source: FrameSource, runs: Sequence[RunSpec], batch: int = 1,
                 small_max_pixels: int = DEFAULT_MAX_PIXELS,
                 small_classes: Sequence[int] = DEFAULT_SMALL_CLASSES, overlays: int = 4,
                 reference: Optional[str] = None, progress: bool = True,
                 collect_metrics: bool = True, camera_hw: Optional[Tuple[int, int]] = None,
                 runner_factory: Optional[Callable] = None, async_metrics: bool = True):
        _check_runs(runs, batch)
        self.source = source
        self.progress = progress
        self.batch = batch
        self.collect_metrics = collect_metrics
        self.camera_hw = camera_hw
        self.runner_factory = runner_factory
        self.async_metrics = async_metrics
        self.settings = {'batch': batch, 'small_max_pixels': small_max_pixels,
                         'small_classes': list(small_classes)}
        self.results = [RunResult(spec=s, accuracy=AccuracyAccumulator(
            small_max_pixels=small_max_pixels, small_classes=small_classes),
            model_info=describe_model(s.model, s.precision)) for s in runs]
        self.keeper = _OverlayKeeper(overlays if len(runs) > 1 else 0)
        self.reference = choose_reference(self.results, reference)
        names = [r.spec.name for r in self.results]
        self.ref_idx = names.index(self.reference)
        # Overlays show where the INT8 runs differ from the reference (any run when none is).
        quantized = [i for i, r in enumerate(self.results) if i != self.ref_idx
                     and (r.model_info.get('precision') or r.spec.precision) in ('int8', 'mixed')]
        self.overlay_idx = quantized or [i for i in range(len(runs)) if i != self.ref_idx]
        self.rejected: Dict[str, int] = collections.Counter()
        self.counts: Dict[str, int] = collections.Counter()
        self.pending: List[Tuple[EvalFrame, np.ndarray, float]] = []
        self.pipelines: list = []
        self.bar = None
        self.worker = None

    # Frames --------------------------------------------------------------------------------
    def _decoded(self) -> Iterator[Tuple[EvalFrame, np.ndarray, float]]:
        """Yield (frame, BGR image, decode ms) of every frame that decodes; count the rest."""
        from fxseg_ros.pipeline.convert import FrameRejected

        for frame in self.source.frames:
            t0 = time.perf_counter()
            try:
                img = frame.load()
            except FrameRejected as err:
                self.rejected[getattr(err, 'reason', 'rejected')] += 1
                if self.bar is not None:
                    self.bar.update(1)
                continue
            yield frame, img, (time.perf_counter() - t0) * 1e3

    # Pipelines -----------------------------------------------------------------------------
    def _open_pipelines(self, stack: contextlib.ExitStack, hw: Tuple[int, int],
                        warmup: np.ndarray) -> None:
        from fxseg_ros.pipeline.pipeline import SegmentationPipeline
        from fxseg_ros.runtime import create_runner

        for res in self.results:
            spec = res.spec
            LOG.info('loading %s (%s)', spec.name, spec.model)
            if self.bar is not None:
                self.bar.set_postfix_str('loading %s' % spec.name)
            if self.runner_factory is not None:
                runner = self.runner_factory(spec, hw)
            else:
                runner = create_runner(str(spec.model), backend=spec.backend, camera_hw=hw,
                                       threads=spec.threads, **spec.engine_options)
            stack.enter_context(runner)
            res.model_info.setdefault('backend', getattr(runner, 'backend', spec.backend))
            pipeline = SegmentationPipeline(runner)
            pipeline.process([warmup])  # warm-up: the first call allocates (untimed)
            self.pipelines.append(pipeline)

    def _flush(self) -> None:
        """Run the pending frames through every pipeline and queue them for scoring."""
        if not self.pending:
            return
        imgs = [p[1] for p in self.pending]
        decode_ms = sum(p[2] for p in self.pending)
        self.counts['decode_us'] += int(1e3 * decode_ms)
        preds = []
        for res, pipe in zip(self.results, self.pipelines):
            t0 = time.perf_counter()
            out = pipe.process(imgs)
            dt = (time.perf_counter() - t0) * 1e3
            res.pipeline_ms += dt + decode_ms
            res.frames += len(imgs)
            timings = dict(out.timings_ms)
            timings['decode'] = decode_ms
            timings['total'] = timings.get('total', dt) + decode_ms
            res.latency.add(timings, frames=len(imgs))
            preds.append(out.labels)
        if self.collect_metrics:
            self._queue_scoring(preds)
        self._progress(len(self.pending))
        self.pending = []

    def _queue_scoring(self, preds: List[np.ndarray]) -> None:
        for j, (fr, img, _) in enumerate(self.pending):
            if fr.labels is None:
                self.counts['frames_without_label'] += 1
                continue
            self.counts['frames_evaluated'] += 1
            # Copies: a runner may reuse its output buffer for the next frame.
            self.worker.submit(self._score, fr, img,
                               [np.array(p[j], copy=True) if self.async_metrics else p[j]
                                for p in preds])

    def _progress(self, frames: int) -> None:
        """Advance the bar; its text has every run's mean time per frame so far."""
        if self.bar is None:
            return
        self.bar.update(frames)
        times = ['%s %.1f' % (r.spec.name, r.pipeline_ms / r.frames)
                 for r in self.results if r.frames]
        if times:
            self.bar.set_postfix_str('ms/frame: ' + ', '.join(times), refresh=False)

    # Scoring (on the metrics thread) -------------------------------------------------------
    def _score(self, fr: EvalFrame, img: np.ndarray, preds: List[np.ndarray]) -> None:
        """Score one frame for every run."""
        t0 = time.perf_counter()
        gt = fr.labels
        hist0 = None
        if preds[0].shape == gt.shape:
            hist0 = joint_histogram(gt, preds[0])
            presence = hist0.sum(axis=1)  # ground-truth pixels per label
        else:
            presence = class_presence(gt)
        objects = self.results[0].accuracy.small.extract(gt, presence)
        for k, (res, pred) in enumerate(zip(self.results, preds)):
            res.accuracy.update(gt, pred, fr.condition, objects,
                                hist=hist0 if k == 0 else None)
        _track_disagreement(self.keeper, fr, img, gt, self.results, preds, self.ref_idx,
                            self.overlay_idx)
        share = (time.perf_counter() - t0) * 1e3 / len(self.results)
        for res in self.results:
            res.metrics_ms += share

    # The pass ------------------------------------------------------------------------------
    def run(self) -> Evaluation:
        """Replay every frame; return the Evaluation."""
        self._open_bar()
        frames = self._decoded()
        first = next(frames, None)
        if first is None:
            self._close_bar()
            raise EvalError('no decodable frame in %s (%s rejected: %s)'
                            % (self.source.info.get('path'), sum(self.rejected.values()),
                               dict(self.rejected)))
        first_hw = tuple(first[1].shape[:2])
        hw = tuple(self.camera_hw) if self.camera_hw else first_hw
        try:
            with contextlib.ExitStack() as stack:
                self._open_pipelines(stack, hw, first[1])
                wall0 = time.perf_counter()
                self._replay(itertools.chain([first], frames), first_hw)
                wall_ms = (time.perf_counter() - wall0) * 1e3
        finally:
            self._close_bar()
        self.settings['camera_hw'] = list(hw)
        return Evaluation(runs=self.results, dataset=self._dataset(first_hw),
                          reference=self.reference, settings=self.settings,
                          overlays=self.keeper.result(), timing=self._timing(wall_ms))

    def _replay(self, frames: Iterator[Tuple[EvalFrame, np.ndarray, float]],
                first_hw: Tuple[int, int]) -> None:
        self.worker = _MetricsWorker(threaded=self.async_metrics)
        try:
            for fr, img, decode_ms in frames:
                if img.shape[:2] != first_hw:
                    self.counts['frames_other_size'] += 1
                self.pending.append((fr, img, decode_ms))
                if len(self.pending) >= self.batch:
                    self._flush()
            self._flush()
            self.worker.drain()
        finally:
            self.worker.close()

    def _open_bar(self) -> None:
        if self.bar is None and self.progress:
            from tqdm import tqdm

            self.bar = tqdm(total=self.source.total, unit='frame', desc='eval',
                            dynamic_ncols=True, smoothing=0.1)

    def _close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def _dataset(self, first_hw: Tuple[int, int]) -> Dict[str, object]:
        dataset = dict(self.source.info)
        if self.source.finish is not None:
            dataset.update(self.source.finish())
        dataset['frames'] = self.results[0].frames
        dataset['frames_evaluated'] = self.counts['frames_evaluated']
        dataset['frames_unlabelled'] = self.counts['frames_without_label']
        dataset['frames_rejected'] = dict(self.rejected)
        dataset['frames_other_size'] = self.counts['frames_other_size']
        dataset['frame_hw'] = list(first_hw)
        return dataset

    def _timing(self, wall_ms: float) -> Dict[str, Optional[float]]:
        # Each run's pipeline time includes decoding (the node decodes too), done once a frame.
        pipeline_ms = sum(r.pipeline_ms for r in self.results) \
            - (len(self.results) - 1) * self.counts['decode_us'] * 1e-3
        metrics_ms = sum(r.metrics_ms for r in self.results)
        return {
            'wall_ms': wall_ms,
            'pipeline_ms': pipeline_ms,
            'metrics_ms': metrics_ms,
            'metrics_overhead_pct': 100.0 * metrics_ms / pipeline_ms if pipeline_ms else None,
            'replay_overhead_pct': (100.0 * (wall_ms - pipeline_ms) / pipeline_ms
                                    if pipeline_ms else None),
        }


def _check_runs(runs: Sequence[RunSpec], batch: int) -> None:
    if not runs:
        raise EvalError('nothing to evaluate: give at least one --model')
    names = [r.name for r in runs]
    dup = [n for n, c in collections.Counter(names).items() if c > 1]
    if dup:
        raise EvalError('run names must be unique, %s repeats; name them with --name' % dup)
    if batch < 1:
        raise EvalError('batch must be >= 1, got %d' % batch)
    for run in runs:   # a precision label must be what the model is (TensorRT builds aside)
        built = run.backend == 'tensorrt' or 'precision' in run.engine_options
        problem = precision_problem(run.model, run.precision, built_by_tensorrt=built)
        if problem:
            raise EvalError('run %s: %s' % (run.name, problem))


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
    return Replay(source, runs, batch=batch, small_max_pixels=small_max_pixels,
                  small_classes=small_classes, overlays=overlays, reference=reference,
                  progress=progress, collect_metrics=collect_metrics, camera_hw=camera_hw,
                  runner_factory=runner_factory, async_metrics=async_metrics).run()


def overhead_pct(with_ms: float, without_ms: float) -> float:
    """Return how much longer, in percent, the replay with metrics took than without."""
    return 100.0 * (with_ms / without_ms - 1.0)


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
    """Return the mIoU drop in points (x100) of each run against the reference run."""
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
        if backend != 'tensorrt' and not models[0].endswith(ENGINE_SUFFIXES):
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
