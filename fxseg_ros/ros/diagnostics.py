# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Per-camera latency and rate statistics, and their `/diagnostics` key-value form.

`CameraStats` is plain Python (no rclpy): the subscription callback and the inference worker feed
it, the diagnostics timer reads a snapshot. `status_values` / `status_level` turn a snapshot into
the keys of a `diagnostic_msgs/DiagnosticStatus`; the keys include those Isaac ROS NITROS and
greenwave monitor dashboards read (frame_rate_node, frame_rate_msg,
current_delay_from_realtime_ms, the jitter counters, total_dropped_frames, expected_frequency).
"""


import collections
import math
import threading
from typing import Deque, Dict, List, Optional, Tuple

from fxseg_ros.pipeline.stats import LatencyWindow, RateMeter

#: Per-frame stages, in pipeline order. convert: message to BGR frame; preprocess / upload /
#: inference / download / postprocess: the pipeline's stages of the batch the frame was in;
#: publish: building and publishing the output messages. transport: header stamp to receipt
#: (publisher, DDS, deserialisation); queue: receipt to the worker picking the frame up; node:
#: receipt to publish; e2e: header stamp to publish; overhead: e2e minus upload, inference and
#: download (everything but the model).
STAGES = ('transport', 'queue', 'convert', 'preprocess', 'upload', 'inference', 'download',
          'postprocess', 'publish', 'node', 'e2e', 'overhead')
PERCENTILES = ('p50', 'p95', 'p99', 'max')

#: diagnostic_msgs/DiagnosticStatus levels (the message's byte constants).
OK, WARN, ERROR, STALE = 0, 1, 2, 3


class _Interarrival:
    """Frame rate and jitter of a stream of timestamps (seconds), as NITROS diagnostics do."""

    def __init__(self, size: int):
        self._dt: Deque[float] = collections.deque(maxlen=size)
        self._jitter: Deque[float] = collections.deque(maxlen=size)
        self._last: Optional[float] = None
        self.max_abs_jitter_s = 0.0
        self.outliers = 0
        self.non_increasing = 0

    def add(self, t_s: float, expected_dt_s: float, tolerance_s: float) -> None:
        if self._last is not None:
            dt = t_s - self._last
            if dt <= 0:
                self.non_increasing += 1
            else:
                self._dt.append(dt)
                if expected_dt_s > 0:
                    jitter = abs(dt - expected_dt_s)
                    self._jitter.append(jitter)
                    self.max_abs_jitter_s = max(self.max_abs_jitter_s, jitter)
                    if jitter > tolerance_s:
                        self.outliers += 1
        self._last = t_s

    def rate_hz(self) -> float:
        return len(self._dt) / sum(self._dt) if self._dt else 0.0

    def mean_abs_jitter_s(self) -> float:
        return sum(self._jitter) / len(self._jitter) if self._jitter else 0.0


class CameraStats:
    """
    Counters, latency windows and rates of one camera; thread-safe.

    Times: `*_ms` values in milliseconds; `now_s` monotonic seconds (node-time rates);
    `stamp_s` header stamps in seconds (message-time rates).
    """

    #: Allowed deviation of an interval from 1 / expected rate before it counts as a jitter
    #: outlier (fraction of the expected interval, as NITROS' default tolerance).
    JITTER_TOLERANCE = 0.5

    def __init__(self, topic: str, window: int = 300, rate_window_s: float = 5.0,
                 reasons: Tuple[str, ...] = ()):
        self.topic = topic
        self._lock = threading.Lock()
        self._windows = {stage: LatencyWindow(window) for stage in STAGES}
        self._in_rate = RateMeter(rate_window_s)
        self._out_rate = RateMeter(rate_window_s)
        self._node_times = _Interarrival(window)
        self._msg_times = _Interarrival(window)
        self.received = 0
        self.published = 0
        self.color_published = 0
        self.dropped = 0
        #: rejected frames by reason; the known reasons are reported from the start (as 0)
        self.rejected: Dict[str, int] = collections.Counter(dict.fromkeys(reasons, 0))
        self.errors = 0
        self.lost = 0
        self.last_delay_ms = float('nan')
        self.frame_id = ''
        self.encoding = ''
        self.size_wh: Tuple[int, int] = (0, 0)
        self._published_at_last_report = 0
        self._received_at_last_report = 0
        self._rejected_at_last_report = 0

    def on_received(self, now_s: float) -> None:
        with self._lock:
            self.received += 1
            self._in_rate.tick(now_s)

    def on_dropped(self) -> None:
        """Count a frame that waited and was replaced by a newer one before the worker took it."""
        with self._lock:
            self.dropped += 1

    def on_rejected(self, reason: str) -> None:
        with self._lock:
            self.rejected[reason] += 1

    def on_lost(self, count: int) -> None:
        """Messages the middleware reported lost before they reached the node."""
        with self._lock:
            self.lost += int(count)

    def on_error(self) -> None:
        """Inference failed for a frame (the exception is logged by the node)."""
        with self._lock:
            self.errors += 1

    def on_published(self, now_s: float, stamp_s: float, stages_ms: Dict[str, float],
                     expected_rate_hz: float, color: bool = False) -> None:
        """Record one published mask (and colour mask): stage times, end-to-end latency."""
        expected_dt = 1.0 / expected_rate_hz if expected_rate_hz > 0 else 0.0
        tolerance = expected_dt * self.JITTER_TOLERANCE
        with self._lock:
            self.published += 1
            self.color_published += int(color)
            self._out_rate.tick(now_s)
            for stage, ms in stages_ms.items():
                window = self._windows.get(stage)
                if window is not None and ms is not None and math.isfinite(ms):
                    window.add(ms)
            self.last_delay_ms = stages_ms.get('e2e', float('nan'))
            self._node_times.add(now_s, expected_dt, tolerance)
            self._msg_times.add(stamp_s, expected_dt, tolerance)

    def snapshot(self, now_s: float) -> Dict[str, object]:
        """
        Everything the diagnostics report, at one instant.

        Also returns what changed since the previous snapshot (`new_published`,
        `new_received`, `new_rejected`), which the level rules use.
        """
        with self._lock:
            snap = {
                'topic': self.topic,
                'frame_id': self.frame_id,
                'encoding': self.encoding,
                'size_wh': self.size_wh,
                'received': self.received,
                'published': self.published,
                'color_published': self.color_published,
                'dropped': self.dropped,
                'rejected': dict(self.rejected),
                'errors': self.errors,
                'lost': self.lost,
                'input_fps': self._in_rate.rate(now_s),
                'output_fps': self._out_rate.rate(now_s),
                'frame_rate_node': self._node_times.rate_hz(),
                'frame_rate_msg': self._msg_times.rate_hz(),
                'mean_abs_jitter_node_us': self._node_times.mean_abs_jitter_s() * 1e6,
                'mean_abs_jitter_msg_us': self._msg_times.mean_abs_jitter_s() * 1e6,
                'max_abs_jitter_node_us': self._node_times.max_abs_jitter_s * 1e6,
                'max_abs_jitter_msg_us': self._msg_times.max_abs_jitter_s * 1e6,
                'num_jitter_outliers_node': self._node_times.outliers,
                'num_jitter_outliers_msg': self._msg_times.outliers,
                'num_non_increasing_msg': self._msg_times.non_increasing,
                'current_delay_from_realtime_ms': self.last_delay_ms,
                'stages': {stage: w.summary() for stage, w in self._windows.items()
                           if len(w)},
                'new_published': self.published - self._published_at_last_report,
                'new_received': self.received - self._received_at_last_report,
                'new_rejected': sum(self.rejected.values()) - self._rejected_at_last_report,
            }
            self._published_at_last_report = self.published
            self._received_at_last_report = self.received
            self._rejected_at_last_report = sum(self.rejected.values())
        return snap


def _fmt(value: float) -> str:
    if isinstance(value, float):
        return 'nan' if math.isnan(value) else '%.3f' % value
    return str(value)


def status_values(snap: Dict[str, object], expected_rate_hz: float,
                  latency_budget_ms: float) -> List[Tuple[str, str]]:
    """
    Return the key-value pairs of one camera's DiagnosticStatus.

    Keys: counters (frames_received, frames_published, color_masks_published, frames_dropped,
    frames_rejected,
    rejected_<reason>, frames_lost_middleware, inference_errors, total_dropped_frames), rates
    (input_fps, output_fps, frame_rate_node, frame_rate_msg, expected_frequency), latency
    (`<stage>_ms_<p50|p95|p99|max>` for every stage in :data:`STAGES` that has samples,
    current_delay_from_realtime_ms, latency_budget_ms) and jitter (mean/max_abs_jitter_node/msg
    in microseconds, num_jitter_outliers_node/msg, num_non_increasing_msg).
    """
    rejected = snap['rejected']
    values = [
        ('input_topic', str(snap['topic'])),
        ('frame_id', str(snap['frame_id'])),
        ('encoding', str(snap['encoding'])),
        ('resolution', '%dx%d' % tuple(snap['size_wh'])),
        ('frames_received', str(snap['received'])),
        ('frames_published', str(snap['published'])),
        ('color_masks_published', str(snap['color_published'])),
        ('frames_dropped', str(snap['dropped'])),
        ('frames_rejected', str(sum(rejected.values()))),
    ]
    values += [('rejected_' + reason, str(count)) for reason, count in sorted(rejected.items())]
    values += [
        ('frames_lost_middleware', str(snap['lost'])),
        ('inference_errors', str(snap['errors'])),
        ('total_dropped_frames', str(snap['dropped'] + sum(rejected.values()) + snap['errors']
                                     + snap['lost'])),
        ('input_fps', _fmt(snap['input_fps'])),
        ('output_fps', _fmt(snap['output_fps'])),
        ('frame_rate_node', _fmt(snap['frame_rate_node'])),
        ('frame_rate_msg', _fmt(snap['frame_rate_msg'])),
        ('expected_frequency', _fmt(float(expected_rate_hz))),
        ('current_delay_from_realtime_ms', _fmt(snap['current_delay_from_realtime_ms'])),
        ('latency_budget_ms', _fmt(float(latency_budget_ms))),
    ]
    for stage in STAGES:
        summary = snap['stages'].get(stage)
        if summary is not None:
            values += [('%s_ms_%s' % (stage, p), _fmt(summary[p])) for p in PERCENTILES]
    for key in ('mean_abs_jitter_node_us', 'mean_abs_jitter_msg_us', 'max_abs_jitter_node_us',
                'max_abs_jitter_msg_us'):
        values.append((key[:-3], '%d' % round(snap[key])))  # microseconds, as NITROS
    values += [(key, str(snap[key])) for key in (
        'num_jitter_outliers_node', 'num_jitter_outliers_msg', 'num_non_increasing_msg')]
    return values


def status_level(snap: Dict[str, object], expected_rate_hz: float,
                 latency_budget_ms: float) -> Tuple[int, str]:
    """
    Level and message of one camera's status.

    ERROR: frames arrive but none was published since the last report, or median end-to-end
    latency over the budget. WARN: p95 over the budget, output below 80 % of the expected rate,
    frames rejected since the last report, or no frames received yet / since the last report
    (while a rate is expected). OK otherwise.
    """
    e2e = snap['stages'].get('e2e')
    problems: List[Tuple[int, str]] = []
    if snap['new_received'] > 0 and snap['new_published'] == 0:
        problems.append((ERROR, 'no masks published while frames arrive'))
    if e2e is not None and e2e['p50'] > latency_budget_ms:
        problems.append((ERROR, 'median latency %.1f ms over the %.1f ms budget'
                         % (e2e['p50'], latency_budget_ms)))
    elif e2e is not None and e2e['p95'] > latency_budget_ms:
        problems.append((WARN, 'p95 latency %.1f ms over the %.1f ms budget'
                         % (e2e['p95'], latency_budget_ms)))
    if expected_rate_hz > 0:
        if snap['received'] == 0:
            problems.append((WARN, 'no frames received yet'))
        elif snap['new_received'] == 0:
            problems.append((WARN, 'no frames received since the last report'))
        elif snap['output_fps'] < 0.8 * expected_rate_hz:
            problems.append((WARN, 'output %.1f FPS below the expected %.1f'
                             % (snap['output_fps'], expected_rate_hz)))
    if snap['new_rejected'] > 0:
        problems.append((WARN, '%d frames rejected (%s)' % (
            snap['new_rejected'],
            ', '.join('%s %d' % kv for kv in sorted(snap['rejected'].items())))))
    if not problems:
        return OK, 'OK: %.1f FPS, e2e p50 %.1f ms' % (
            snap['output_fps'], e2e['p50'] if e2e else float('nan'))
    level = max(level for level, _ in problems)
    return level, '; '.join(text for _, text in problems)
