# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Sliding-window latency and rate statistics.

Shared by the node's diagnostics and the evaluation.
"""


import collections
from typing import Deque, Dict, Optional

import numpy as np


class LatencyWindow:
    """The last `size` samples of one quantity (milliseconds) with their percentiles."""

    def __init__(self, size: int = 300):
        if size < 1:
            raise ValueError('window size must be >= 1, got %d' % size)
        self._samples: Deque[float] = collections.deque(maxlen=size)
        self.count = 0

    def add(self, value_ms: float) -> None:
        self._samples.append(float(value_ms))
        self.count += 1

    def __len__(self) -> int:
        return len(self._samples)

    def summary(self) -> Dict[str, float]:
        """Return p50 / p95 / p99 / max / mean of the window (NaN when empty)."""
        if not self._samples:
            nan = float('nan')
            return {'p50': nan, 'p95': nan, 'p99': nan, 'max': nan, 'mean': nan}
        a = np.fromiter(self._samples, dtype=np.float64)
        p50, p95, p99 = np.percentile(a, [50, 95, 99])
        return {'p50': float(p50), 'p95': float(p95), 'p99': float(p99),
                'max': float(a.max()), 'mean': float(a.mean())}


class RateMeter:
    """Events per second over a sliding window of timestamps (seconds, monotonic)."""

    def __init__(self, window_s: float = 5.0):
        self.window_s = window_s
        self._stamps: Deque[float] = collections.deque()

    def tick(self, now_s: float) -> None:
        self._stamps.append(now_s)
        self._trim(now_s)

    def rate(self, now_s: Optional[float] = None) -> float:
        if now_s is not None:
            self._trim(now_s)
        if len(self._stamps) < 2:
            return 0.0
        span = self._stamps[-1] - self._stamps[0]
        return (len(self._stamps) - 1) / span if span > 0 else 0.0

    def _trim(self, now_s: float) -> None:
        while self._stamps and now_s - self._stamps[0] > self.window_s:
            self._stamps.popleft()
