# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
INT8 calibrators: streaming |x| histograms and the choice of each tensor's dynamic range (amax).

Three ways to choose amax from the same histograms:

- `entropy`: TensorRT's EntropyCalibration2 as NVIDIA published it (GTC 2017 "8-bit inference
  with TensorRT"; ModelOpt `modelopt/torch/quantization/calib/histogram.py`, pytorch-quantization's
  twin): a 2048-bin histogram of |x| over [0, absmax]; for every candidate i in 128..2048 the
  reference P = bins[:i] with the mass beyond i folded into bin i-1, the candidate Q = bins[:i]
  merged into 128 levels with each level's mass spread evenly over its non-empty bins; the
  threshold is the right edge of bin i-1 for the i with the smallest KL(P||Q), the last one when
  several are equally small.
- `minmax`: amax = max |x| (TensorRT's MinMaxCalibration).
- `percentile`: amax = the given percentile of |x| (99.99 by default).

Histograms are merged frame by frame: a finer working histogram grows by whole bins when a frame
exceeds its range (as ModelOpt does) and halves its resolution when it would exceed a fixed number
of bins, so memory stays flat however many frames are fed. At the end it is re-binned to exactly
`num_bins` bins over [0, absmax] for the threshold search.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
import time
from typing import Dict, Iterable, List, Mapping, Optional, Tuple, Union

import numpy as np

LOG = logging.getLogger(__name__)

#: Calibration methods `compute_amax` understands.
METHODS = ('entropy', 'minmax', 'percentile')
#: Bins of the histogram the entropy search runs on (TensorRT: 2048).
DEFAULT_NUM_BINS = 2048
#: Quantized levels of the positive half of INT8 (TensorRT: 128).
DEFAULT_QUANTIZED_BINS = 128
#: First candidate bin of the entropy search (TensorRT: 128).
DEFAULT_START_BIN = 128
#: Version of the calibration JSON layout.
CALIB_FORMAT_VERSION = 1


# --------------------------------------------------------------------------------------------
# Threshold search on a finished histogram
# --------------------------------------------------------------------------------------------
def _kl_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """
    KL(p || q) of two unnormalised histograms, normalised first (as scipy.stats.entropy).

    Infinite where p has mass and q has none. p, q: shape (n,), float64.
    """
    p_sum = p.sum()
    q_sum = q.sum()
    if p_sum <= 0 or q_sum <= 0:
        return math.inf
    mask = p > 0
    if np.any(q[mask] <= 0):
        return math.inf
    p_n = p[mask] / p_sum
    q_n = q[mask] / q_sum
    return float(np.sum(p_n * np.log(p_n / q_n)))


def entropy_divergences(hist: np.ndarray, num_quantized_bins: int = DEFAULT_QUANTIZED_BINS,
                        start_bin: int = DEFAULT_START_BIN, stride: int = 1,
                        ignore_zero_bin: bool = True) -> Tuple[np.ndarray, np.ndarray]:
    """
    KL(P || Q) of every threshold candidate of the entropy calibration.

    hist: counts of |x|, shape (num_bins,). Returns (candidates i, divergences), each shape
    (n,), int64 / float64: candidate i keeps bins[:i] (threshold = right edge of bin i-1).
    ignore_zero_bin: replace the count of bin 0 by that of bin 1 first, as NVIDIA's published
    implementations do, so the spike of exact zeros after a ReLU does not steer the search.
    """
    bins = np.asarray(hist, dtype=np.float64).copy()
    if bins.ndim != 1 or bins.size < 2:
        raise ValueError('expected a 1-D histogram with at least 2 bins, got shape %s'
                         % (bins.shape,))
    if ignore_zero_bin:
        bins[0] = bins[1]
    num_bins = bins.size
    start = min(start_bin, num_bins)
    # Mass beyond each candidate: tail[i] = sum(bins[i:]).
    tail = np.concatenate([np.cumsum(bins[::-1])[::-1], [0.0]])
    nonzero = (bins > 0).astype(np.float64)
    candidates = np.arange(start, num_bins + 1, stride, dtype=np.int64)
    divergences = np.empty(candidates.size, dtype=np.float64)
    for k, i in enumerate(candidates):
        i = int(i)
        sliced = bins[:i]
        # Level of bin j among num_quantized_bins levels spread evenly over [0, i): the same
        # assignment as np.digitize(range(i), np.linspace(0, i, levels + 1)) - 1, exact in
        # integers because i / levels is a dyadic fraction.
        levels = (np.arange(i, dtype=np.int64) * num_quantized_bins) // i
        level_mass = np.bincount(levels, weights=sliced, minlength=num_quantized_bins)
        level_nonzero = np.bincount(levels, weights=nonzero[:i], minlength=num_quantized_bins)
        with np.errstate(invalid='ignore', divide='ignore'):
            per_bin = np.where(level_nonzero > 0, level_mass / np.maximum(level_nonzero, 1), 0.0)
        q = np.where(sliced > 0, per_bin[levels], 0.0)
        p = sliced.copy()
        p[i - 1] += tail[i]
        divergences[k] = _kl_divergence(p, q)
    return candidates, divergences


def entropy_threshold(hist: np.ndarray, edges: np.ndarray,
                      num_quantized_bins: int = DEFAULT_QUANTIZED_BINS,
                      start_bin: int = DEFAULT_START_BIN, stride: int = 1,
                      ignore_zero_bin: bool = True) -> float:
    """
    Return the amax TensorRT's EntropyCalibration2 chooses from a histogram of |x|.

    hist: shape (B,), counts; edges: shape (B + 1,), bin edges starting at 0.
    Returns the right edge of the last bin kept by the candidate with the smallest KL divergence
    (the last such candidate on ties, as the public implementations do).
    """
    hist = np.asarray(hist)
    edges = np.asarray(edges, dtype=np.float64)
    if edges.size != hist.size + 1:
        raise ValueError('edges must have one more entry than hist (%d vs %d)'
                         % (edges.size, hist.size))
    if hist.sum() == 0:
        return 0.0
    candidates, divergences = entropy_divergences(hist, num_quantized_bins, start_bin, stride,
                                                  ignore_zero_bin)
    if not np.isfinite(divergences).any():
        # Every truncation loses mass Q cannot represent: keep the whole range.
        return float(edges[-1])
    best = np.flatnonzero(divergences == divergences.min())[-1]
    return float(edges[candidates[best]])


def percentile_threshold(hist: np.ndarray, edges: np.ndarray, percentile: float) -> float:
    """
    Return the `percentile` (0..100) of |x| from its histogram, interpolated linearly inside a bin.

    hist: shape (B,), counts; edges: shape (B + 1,).
    """
    if not 0.0 <= percentile <= 100.0:
        raise ValueError('percentile must be in [0, 100], got %r' % percentile)
    hist = np.asarray(hist, dtype=np.float64)
    edges = np.asarray(edges, dtype=np.float64)
    total = hist.sum()
    if total == 0:
        return 0.0
    target = total * percentile / 100.0
    cdf = np.cumsum(hist)
    idx = int(np.searchsorted(cdf, target, side='left'))
    idx = min(idx, hist.size - 1)
    before = cdf[idx - 1] if idx > 0 else 0.0
    inside = hist[idx]
    frac = 1.0 if inside <= 0 else min(max((target - before) / inside, 0.0), 1.0)
    return float(edges[idx] + frac * (edges[idx + 1] - edges[idx]))


# --------------------------------------------------------------------------------------------
# Streaming histogram
# --------------------------------------------------------------------------------------------
class AbsHistogram:
    """
    Streaming histogram of |x| of one tensor, with exact min / max / absmax and counts.

    The working histogram has bins of width `width` from 0; a frame beyond the range appends
    whole bins (the counts already there stay where they are, as in ModelOpt), and when the
    number of bins would exceed `max_bins` adjacent pairs are merged (exact) until it fits.
    `histogram(num_bins)` re-bins to num_bins equal bins over [0, absmax] for the search.
    """

    def __init__(self, num_bins: int = DEFAULT_NUM_BINS, oversample: int = 8):
        if num_bins < 2:
            raise ValueError('num_bins must be >= 2, got %d' % num_bins)
        self.num_bins = int(num_bins)
        #: The working histogram holds at most this many bins.
        self.max_bins = int(num_bins) * int(max(oversample, 1))
        self.counts: Optional[np.ndarray] = None
        self.width = 0.0
        self.absmax = 0.0
        self.min = math.inf
        self.max = -math.inf
        self.count = 0
        self.zeros = 0

    # -- collection ------------------------------------------------------------------------
    def update(self, x: np.ndarray) -> None:
        """Add the values of one array (any shape, float)."""
        x = np.asarray(x)
        if x.size == 0:
            return
        flat = x.reshape(-1)
        if flat.dtype != np.float32 and flat.dtype != np.float64:
            flat = flat.astype(np.float32)
        lo = float(flat.min())
        hi = float(flat.max())
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError('tensor contains NaN or Inf; the float model is broken for this '
                             'input')
        self.min = min(self.min, lo)
        self.max = max(self.max, hi)
        amax = max(abs(lo), abs(hi))
        self.count += flat.size
        absx = np.abs(flat)
        self.zeros += int(flat.size - np.count_nonzero(flat))
        if self.counts is None:
            if amax == 0.0:
                # All zeros so far: keep them as a pending count in a 1-bin histogram.
                self.counts = np.array([flat.size], dtype=np.int64)
                self.width = 0.0
                return
            self.width = amax / self.max_bins
            self.counts = np.zeros(self.max_bins, dtype=np.int64)
        elif self.width == 0.0:
            if amax == 0.0:
                self.counts[0] += flat.size
                return
            zeros = int(self.counts[0])
            self.width = amax / self.max_bins
            self.counts = np.zeros(self.max_bins, dtype=np.int64)
            self.counts[0] = zeros
        self._grow_to(amax)
        self.absmax = max(self.absmax, amax)
        idx = (absx * (1.0 / self.width)).astype(np.intp)
        np.minimum(idx, self.counts.size - 1, out=idx)
        self.counts += np.bincount(idx, minlength=self.counts.size)

    def _grow_to(self, amax: float) -> None:
        needed = self._bins_for(amax)
        if needed <= self.counts.size:
            return
        while needed > self.max_bins:
            self._halve()
            needed = self._bins_for(amax)
        if needed > self.counts.size:
            grown = np.zeros(needed, dtype=np.int64)
            grown[:self.counts.size] = self.counts
            self.counts = grown

    def _bins_for(self, amax: float) -> int:
        # Bins needed to hold [0, amax]; a value equal to the last edge goes into the last bin
        # (closed right edge, as np.histogram), hence the small tolerance against rounding.
        return max(1, int(math.ceil(amax / self.width * (1.0 - 1e-9))))

    def _halve(self) -> None:
        counts = self.counts
        if counts.size % 2:
            counts = np.concatenate([counts, np.zeros(1, dtype=np.int64)])
        self.counts = counts.reshape(-1, 2).sum(axis=1)
        self.width *= 2.0

    # -- results ---------------------------------------------------------------------------
    def working(self) -> Tuple[np.ndarray, np.ndarray]:
        """Return the working histogram: (counts (B,), int64; edges (B + 1,), float64)."""
        if self.counts is None:
            return np.zeros(1, dtype=np.int64), np.array([0.0, 0.0])
        edges = np.arange(self.counts.size + 1, dtype=np.float64) * self.width
        return self.counts.copy(), edges

    def histogram(self, num_bins: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
        """
        Re-bin to `num_bins` equal bins over [0, absmax].

        Each working bin's count is spread evenly over the part of its range that lies inside
        [0, absmax] (the last working bin may reach past absmax). Returns (counts (num_bins,),
        float64; edges (num_bins + 1,), float64).
        """
        num_bins = int(num_bins or self.num_bins)
        edges = np.linspace(0.0, self.absmax, num_bins + 1)
        if self.counts is None:
            return np.zeros(num_bins), edges
        if self.absmax == 0.0 or self.width == 0.0:
            out = np.zeros(num_bins)
            out[0] = float(self.counts.sum())
            return out, edges
        src_edges = np.arange(self.counts.size + 1, dtype=np.float64) * self.width
        src_edges[-1] = max(min(src_edges[-1], self.absmax), src_edges[-2])
        # Cumulative count at every source edge, then linear interpolation at the new edges
        # (the uniform-within-bin assumption), then differences.
        cum = np.concatenate([[0.0], np.cumsum(self.counts, dtype=np.float64)])
        out_cum = np.interp(edges, src_edges, cum)
        out_cum[-1] = cum[-1]
        return np.diff(out_cum), edges

    def summary(self) -> Dict[str, float]:
        """Exact statistics of the values seen (JSON-ready)."""
        return {
            'min': float(self.min) if self.count else 0.0,
            'max': float(self.max) if self.count else 0.0,
            'absmax': float(self.absmax),
            'count': int(self.count),
            'zero_fraction': float(self.zeros / self.count) if self.count else 0.0,
        }


def compute_amax(hist: AbsHistogram, method: str, percentile: float = 99.99,
                 num_bins: Optional[int] = None) -> float:
    """Return the dynamic range of one tensor chosen by `method` (see METHODS)."""
    if method == 'minmax':
        return float(hist.absmax)
    counts, edges = hist.histogram(num_bins)
    if method == 'entropy':
        return entropy_threshold(counts, edges)
    if method == 'percentile':
        return percentile_threshold(counts, edges, percentile)
    raise ValueError('unknown calibration method %r; one of %s' % (method, ', '.join(METHODS)))


def clip_fraction(counts: np.ndarray, edges: np.ndarray, amax: float) -> float:
    """Fraction of the histogram's mass above amax (interpolated inside the bin)."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if total == 0:
        return 0.0
    cum = np.concatenate([[0.0], np.cumsum(counts)])
    below = float(np.interp(amax, edges, cum))
    return max(0.0, (total - below) / total)


# --------------------------------------------------------------------------------------------
# Calibration result (calib.json)
# --------------------------------------------------------------------------------------------
class CalibrationResult:
    """
    Dynamic ranges of a model's tensors and how they were found.

    amax: tensor name -> amax (float, >= 0). stats: tensor name -> statistics of the calibration
    data (min, max, absmax, count, zero_fraction, p9999 and the clipped fraction at amax).
    levels: tensor name -> histogram of |x| / (amax / 127) over the 128 INT8 levels plus one
    overflow bin, as fractions (the calibration's own use of the INT8 grid).
    """

    def __init__(self, amax: Mapping[str, float], method: str, frames: int = 0,
                 percentile: Optional[float] = None, model: Optional[str] = None,
                 stats: Optional[Mapping[str, Mapping[str, float]]] = None,
                 levels: Optional[Mapping[str, List[float]]] = None,
                 meta: Optional[Mapping[str, object]] = None):
        self.amax: Dict[str, float] = {str(k): float(v) for k, v in amax.items()}
        self.method = method
        self.frames = int(frames)
        self.percentile = percentile
        self.model = model
        self.stats: Dict[str, Dict[str, float]] = {k: dict(v) for k, v in (stats or {}).items()}
        self.levels: Dict[str, List[float]] = {k: list(v) for k, v in (levels or {}).items()}
        self.meta: Dict[str, object] = dict(meta or {})

    def to_dict(self) -> Dict[str, object]:
        return {
            'format': 'fxseg_ros.calibration', 'version': CALIB_FORMAT_VERSION,
            'method': self.method, 'percentile': self.percentile, 'frames': self.frames,
            'model': self.model, 'amax': self.amax, 'stats': self.stats,
            'levels': self.levels, 'meta': self.meta,
        }

    def save(self, path: Union[str, Path]) -> Path:
        """Write calib.json (under its name only once complete); returns the path."""
        from fxseg_ros.data.atomic import write_text

        path = Path(path)
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        return write_text(path, json.dumps(self.to_dict(), indent=1, sort_keys=False))

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> 'CalibrationResult':
        if not isinstance(data, dict) or data.get('format') != 'fxseg_ros.calibration' \
                or not isinstance(data.get('amax'), dict):
            raise ValueError('not an fxseg_ros calibration file (expected format '
                             '"fxseg_ros.calibration" with "amax")')
        return cls(data['amax'], data.get('method', 'unknown'), data.get('frames', 0),
                   data.get('percentile'), data.get('model'), data.get('stats'),
                   data.get('levels'), data.get('meta'))

    @classmethod
    def load(cls, path: Union[str, Path]) -> 'CalibrationResult':
        """Read calib.json, or a TensorRT calibration cache (amax only)."""
        path = Path(path)
        text = path.read_text()
        if text.startswith('TRT-'):
            from fxseg_ros.quant.cache import parse_calibration_cache

            version, algorithm, amax = parse_calibration_cache(text)
            method = 'entropy' if algorithm.startswith('Entropy') else 'minmax'
            return cls(amax, method, meta={'source': str(path), 'trt_version': version,
                                           'algorithm': algorithm})
        result = cls.from_dict(json.loads(text))
        result.meta.setdefault('source', str(path))
        return result


class HistogramCalibrator:
    """
    Collects |x| histograms of many tensors frame by frame; `result(method)` gives amax.

    One collection serves all methods, so comparing entropy / minmax / percentile costs one
    pass over the data.
    """

    def __init__(self, num_bins: int = DEFAULT_NUM_BINS):
        self.num_bins = int(num_bins)
        self.histograms: Dict[str, AbsHistogram] = {}
        self.frames = 0

    def update(self, activations: Mapping[str, np.ndarray], frames: int = 1) -> None:
        """Add one batch: tensor name -> array (any shape, float)."""
        for name, value in activations.items():
            hist = self.histograms.get(name)
            if hist is None:
                hist = self.histograms[name] = AbsHistogram(self.num_bins)
            hist.update(value)
        self.frames += frames

    def result(self, method: str = 'entropy', percentile: float = 99.99,
               model: Optional[str] = None) -> CalibrationResult:
        """Return the amax of every collected tensor by `method`, with statistics and level use."""
        if not self.histograms:
            raise ValueError('no activations were collected; feed frames before asking for a '
                             'calibration result')
        if method not in METHODS:
            raise ValueError('unknown calibration method %r; one of %s'
                             % (method, ', '.join(METHODS)))
        start = time.perf_counter()
        amax: Dict[str, float] = {}
        stats: Dict[str, Dict[str, float]] = {}
        levels: Dict[str, List[float]] = {}
        for name, hist in self.histograms.items():
            value = compute_amax(hist, method, percentile, self.num_bins)
            counts, edges = hist.histogram(self.num_bins)
            amax[name] = value
            summary = hist.summary()
            summary['p9999'] = percentile_threshold(counts, edges, 99.99)
            summary['clip_fraction'] = clip_fraction(counts, edges, value)
            stats[name] = summary
            levels[name] = level_histogram(counts, edges, value).tolist()
        LOG.info('computed %s ranges of %d tensors in %.2f s', method, len(amax),
                 time.perf_counter() - start)
        return CalibrationResult(amax, method, self.frames,
                                 percentile if method == 'percentile' else None, model, stats,
                                 levels)


def level_histogram(counts: np.ndarray, edges: np.ndarray, amax: float,
                    levels: int = 128) -> np.ndarray:
    """
    Fractions of |x| per INT8 level of scale amax/127 (round to nearest), plus an overflow bin.

    Level k gathers |x| in [(k - 0.5) s, (k + 0.5) s) with s = amax / 127 (k = 0 from 0); the
    last entry is everything at or beyond level `levels` (what saturates). Shape (levels + 1,).
    """
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    out = np.zeros(levels + 1)
    if total == 0:
        return out
    if amax <= 0:
        # A zero range quantizes everything but exact zeros to saturation.
        out[0 if edges[-1] <= 0 else levels] = 1.0
        return out
    scale = amax / 127.0
    bounds = (np.arange(levels + 1) + 0.5) * scale
    bounds[0] = 0.5 * scale
    cum = np.concatenate([[0.0], np.cumsum(counts)])
    at = np.interp(bounds, edges, cum, right=cum[-1])
    out[0] = at[0]
    out[1:levels] = np.diff(at[:levels])
    out[levels] = cum[-1] - at[levels - 1]
    return out / total


def calibrate(model_path: Union[str, Path], reader: Iterable, method: str = 'entropy',
              percentile: float = 99.99, num_bins: int = DEFAULT_NUM_BINS,
              tensors: Optional[Iterable[str]] = None, threads: int = 0,
              calibrator: Optional[HistogramCalibrator] = None,
              progress: Optional[bool] = None) -> CalibrationResult:
    """
    Run the float model over the reader's frames and choose each tensor's amax.

    reader: a `get_next()`-style reader or iterable of feeds {input name: float32 array}.
    tensors: which tensors to calibrate (default: every float tensor of the graph).
    progress: a progress bar of the frames (None: on a terminal only).
    Memory does not grow with the number of frames: only histograms are kept.
    """
    from fxseg_ros.quant.collect import ActivationCollector, iterate_feeds, model_digest
    from tqdm import tqdm

    calibrator = calibrator or HistogramCalibrator(num_bins)
    collector = ActivationCollector(model_path, tensors=tensors, threads=threads)
    start = time.perf_counter()
    LOG.info('calibration: collecting %d tensors of %s', len(collector.tensors), model_path)
    try:
        total = len(reader)
    except TypeError:   # a reader whose length is not known in advance
        total = None
    # By default a progress bar on a terminal only (disable=None), so logs and tests stay clean.
    with tqdm(desc='calibration', unit='frame', total=total,
              disable=None if progress is None else not progress, leave=False) as bar:
        for feed in iterate_feeds(reader):
            batch = next(iter(feed.values())).shape[0]
            calibrator.update(collector.run(feed), frames=batch)
            bar.update(batch)
    if calibrator.frames == 0:
        raise ValueError('the calibration data reader provided no data. Possible reasons: the '
                         'data folder is empty or has no images in the expected layout, or the '
                         'condition / split filter matched nothing')
    LOG.info('calibration: collected %d tensors over %d frames in %.1f s',
             len(calibrator.histograms), calibrator.frames, time.perf_counter() - start)
    result = calibrator.result(method, percentile, model=str(model_path))
    result.meta['model_digest'] = model_digest(model_path)
    return result


def check_calibration_model(calib: 'CalibrationResult', model_path) -> Optional[str]:
    """
    Return a warning text when `calib` was computed on another model than `model_path`, else None.

    Compares the stored model digest (graph and weights); a calibration without one (e.g. a
    TensorRT cache) is only checked for tensor names.
    """
    from fxseg_ros.quant.collect import float_tensor_names, model_digest

    stored = calib.meta.get('model_digest')
    if stored and stored != model_digest(model_path):
        return ('the calibration %s was computed on another model (%s) than %s: its ranges '
                'do not fit these weights; calibrate this model first'
                % (calib.meta.get('source', ''), calib.model, model_path))
    names = set(float_tensor_names(model_path))
    missing = [n for n in calib.amax if n not in names]
    if missing:
        return ('%d calibrated tensors are not in %s (e.g. %r): calibration of another model?'
                % (len(missing), model_path, missing[0]))
    return None
