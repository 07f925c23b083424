# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Calibration coverage: whether a new data set stays inside the ranges a calibration chose.

For every calibrated tensor, over the new frames:

- clip fraction: the share of values with |x| > amax, which INT8 saturates. Compared with the
  share the calibration data itself clipped (entropy and percentile clip a little on purpose).
- range use: the 99.99th percentile of |x| against the calibration data's; a set that lives in
  a small part of the calibrated range is resolved by few INT8 levels. Shown, and flagged only
  when `max_underuse` > 0: a dark subset of a calibration that covers it also uses a small
  part of the range, so this measures lost precision rather than missing coverage.
- shift: the share of the new values that fall on INT8 levels (|x| / (amax / 127) rounded,
  plus saturation) beyond three times the calibration data's density there:
  sum over levels of max(0, p_new - 3 p_calib). One-sided, so a subset of the calibration
  data (night frames of a day + dusk + night calibration, a third of it) stays near 0, while
  data the calibration never saw scores high. Night frames under a day calibration score
  highest at the network input, where dark pixels pile up on levels day frames rarely use.

A tensor is flagged when its clip fraction exceeds the calibration's own by more than
`max_clip`, when its 99.99th percentile falls below `max_underuse` times the calibration's, or
when its shift exceeds `max_shift`; the data set is flagged when any tensor is. This is the
article's night-time failure: a day-only calibration set and driving in the dark.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
import time
from typing import Dict, Iterable, List, Optional, Union

from fxseg_ros.quant.calibrators import (AbsHistogram, CalibrationResult, level_histogram,
                                         percentile_threshold)
import numpy as np

LOG = logging.getLogger(__name__)


class TensorCoverage:
    """Coverage figures of one tensor (see module doc)."""

    def __init__(self, name: str, amax: float, clipped: int, count: int, p9999: float,
                 calib_clip: float, calib_p9999: Optional[float], shift: Optional[float] = None):
        self.name = name
        self.amax = float(amax)
        self.clipped = int(clipped)
        self.count = int(count)
        self.p9999 = float(p9999)
        self.calib_clip = float(calib_clip)
        self.calib_p9999 = None if calib_p9999 is None else float(calib_p9999)
        #: Share of values on INT8 levels the calibration data rarely used (None: no reference).
        self.shift = None if shift is None else float(shift)
        self.reasons: List[str] = []

    @property
    def clip_fraction(self) -> float:
        return self.clipped / self.count if self.count else 0.0

    @property
    def range_use(self) -> Optional[float]:
        """p99.99 of |x| on the new data over that of the calibration data."""
        if not self.calib_p9999:
            return None
        return self.p9999 / self.calib_p9999

    @property
    def flagged(self) -> bool:
        return bool(self.reasons)

    def to_dict(self) -> Dict[str, object]:
        return {'amax': self.amax, 'clip_fraction': self.clip_fraction,
                'calib_clip_fraction': self.calib_clip, 'p9999': self.p9999,
                'calib_p9999': self.calib_p9999, 'range_use': self.range_use,
                'shift': self.shift,
                'count': self.count, 'reasons': list(self.reasons)}


class CoverageReport:
    """Per-tensor coverage of a data set by a calibration."""

    def __init__(self, tensors: List[TensorCoverage], frames: int, max_clip: float,
                 max_underuse: float, max_shift: float = 0.1):
        self.tensors = tensors
        self.frames = int(frames)
        self.max_clip = float(max_clip)
        self.max_underuse = float(max_underuse)
        self.max_shift = float(max_shift)

    @property
    def flagged(self) -> bool:
        return any(t.flagged for t in self.tensors)

    def flagged_tensors(self) -> List[TensorCoverage]:
        return [t for t in self.tensors if t.flagged]

    @property
    def max_clip_fraction(self) -> float:
        return max((t.clip_fraction for t in self.tensors), default=0.0)

    def reason(self) -> str:
        """One line saying which tensors are outside the calibration and why."""
        flagged = self.flagged_tensors()
        if not flagged:
            return 'all %d tensors within the calibrated ranges' % len(self.tensors)
        clipping = [t.name for t in flagged if any(r.startswith('clips') for r in t.reasons)]
        under = [t.name for t in flagged if any(r.startswith('uses') for r in t.reasons)]
        shifted = [t.name for t in flagged if any(r.startswith('shifted') for r in t.reasons)]
        parts = []
        if clipping:
            parts.append('%d tensor(s) clip more than the calibration (%s)'
                         % (len(clipping), ', '.join(clipping[:4])
                            + (', ...' if len(clipping) > 4 else '')))
        if under:
            more = ', ...' if len(under) > 4 else ''
            parts.append('%d tensor(s) use a small part of the calibrated range (%s%s)'
                         % (len(under), ', '.join(under[:4]), more))
        if shifted:
            more = ', ...' if len(shifted) > 4 else ''
            parts.append('%d tensor(s) distributed unlike the calibration data (%s%s)'
                         % (len(shifted), ', '.join(shifted[:4]), more))
        return '; '.join(parts) + (': calibrate with data like this set (e.g. include night '
                                   'frames) or check the conditions the model will see')

    def to_dict(self) -> Dict[str, object]:
        return {'frames': self.frames, 'max_clip': self.max_clip,
                'max_underuse': self.max_underuse, 'max_shift': self.max_shift,
                'flagged': self.flagged,
                'reason': self.reason(),
                'tensors': {t.name: t.to_dict() for t in self.tensors}}

    def save(self, path: Union[str, Path]) -> Path:
        """Write the report as JSON (under its name only once complete); returns the path."""
        from fxseg_ros.data.atomic import write_text

        return write_text(Path(path), json.dumps(self.to_dict(), indent=1))


#: A level counts as covered when the calibration data put at least 1 / COVER_RATIO of the new
#: data's density there (3: a condition that is a third of the calibration set is covered).
COVER_RATIO = 3.0


def uncovered_mass(levels: np.ndarray, reference: np.ndarray, ratio: float = COVER_RATIO) -> float:
    """
    Mass of `levels` beyond `ratio` times the `reference` density, summed over levels.

    levels, reference: distributions over the same bins (each sums to 1). Returns 0..1.
    """
    return float(np.maximum(np.asarray(levels) - ratio * np.asarray(reference), 0.0).sum())


def check_coverage(model_path: Union[str, Path], calib: CalibrationResult, reader,
                   max_clip: float = 5e-3, max_underuse: float = 0.0, max_shift: float = 0.1,
                   tensors: Optional[Iterable[str]] = None, threads: int = 0,
                   progress: Optional[bool] = None) -> CoverageReport:
    """
    Run the float model over the reader's frames and measure coverage of `calib`'s ranges.

    reader: `get_next()` reader or iterable of feeds. tensors: which calibrated tensors to check
    (default: all that are in the model). progress: a progress bar of the frames (None: on a
    terminal only). Streaming: only counts and histograms are kept.
    """
    from fxseg_ros.quant.collect import ActivationCollector, float_tensor_names, iterate_feeds
    from tqdm import tqdm

    available = set(float_tensor_names(model_path))
    names = [t for t in (tensors if tensors is not None else calib.amax) if t in available]
    missing = [t for t in calib.amax if t not in available]
    if missing:
        LOG.warning('%d calibrated tensors are not in %s (e.g. %s): is this the calibrated '
                    'model?', len(missing), model_path, missing[0])
    if not names:
        raise ValueError('none of the calibrated tensors is in %s' % model_path)
    collector = ActivationCollector(model_path, tensors=names, threads=threads)
    clipped = dict.fromkeys(names, 0)
    hists = {n: AbsHistogram() for n in names}
    frames = 0
    start = time.perf_counter()
    bar = tqdm(desc='coverage check', unit='frame', leave=False,
               disable=None if progress is None else not progress)
    for feed in iterate_feeds(reader):
        acts = collector.run(feed)
        for name in names:
            value = acts[name]
            clipped[name] += int(np.count_nonzero(np.abs(value) > calib.amax[name]))
            hists[name].update(value)
        frames += next(iter(feed.values())).shape[0]
        bar.update(next(iter(feed.values())).shape[0])
    bar.close()
    if frames == 0:
        raise ValueError('the data reader provided no data for the coverage check. Possible '
                         'reasons: an empty folder, or a condition / split filter that matched '
                         'nothing')
    LOG.info('coverage: %d frames, %d tensors in %.1f s', frames, len(names),
             time.perf_counter() - start)
    results = []
    for name in names:
        counts, edges = hists[name].histogram()
        st = calib.stats.get(name, {})
        shift = None
        reference = calib.levels.get(name)
        if reference:
            levels = level_histogram(counts, edges, calib.amax[name], len(reference) - 1)
            shift = uncovered_mass(levels, np.asarray(reference))
        cov = TensorCoverage(name, calib.amax[name], clipped[name], hists[name].count,
                             percentile_threshold(counts, edges, 99.99),
                             st.get('clip_fraction', 0.0), st.get('p9999'), shift)
        if cov.clip_fraction - cov.calib_clip > max_clip:
            cov.reasons.append('clips %.3g%% of values (calibration: %.3g%%)'
                               % (100 * cov.clip_fraction, 100 * cov.calib_clip))
        use = cov.range_use
        if max_underuse > 0 and use is not None and use < max_underuse:
            cov.reasons.append('uses %.0f%% of the calibrated range (p99.99 %.4g vs %.4g)'
                               % (100 * use, cov.p9999, cov.calib_p9999))
        if max_shift > 0 and shift is not None and shift > max_shift:
            cov.reasons.append('shifted: %.0f%% of values on INT8 levels the calibration data '
                               'rarely used' % (100 * shift))
        results.append(cov)
    return CoverageReport(results, frames, max_clip, max_underuse, max_shift)


def format_coverage(report: CoverageReport) -> str:
    """Return the per-tensor table `fxseg calibrate --check` prints."""
    width = max([len(t.name) for t in report.tensors] + [6])
    header = (width, 'tensor', 'amax', 'clipped %', 'calib %', 'range use', 'shift', 'flag')
    lines = ['%-*s %12s %12s %10s %10s %7s  %s' % header]
    for t in report.tensors:
        use = '-' if t.range_use is None else '%.2f' % t.range_use
        shift = '-' if t.shift is None else '%.3f' % t.shift
        lines.append('%-*s %12.5g %12.4f %10.4f %10s %7s  %s'
                     % (width, t.name, t.amax, 100 * t.clip_fraction, 100 * t.calib_clip, use,
                        shift, '; '.join(t.reasons) if t.reasons else 'ok'))
    return '\n'.join(lines)
