# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Pieces of the accuracy-drop report: ONNX Runtime CPU latency of a bare graph, weight bytes,
and the Markdown / text tables. The accuracy itself comes from the caller (the CLI wires the
evaluation), so this module stays below the evaluation layer.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Union

import numpy as np


def ort_latencies_ms(model_paths: Sequence[Union[str, Path]],
                     input_shape: Sequence[int] = (1, 3, 360, 640), runs: int = 10,
                     warmup: int = 2, threads: int = 0, seed: int = 0) -> List[Dict[str, float]]:
    """
    Median and p90 wall-clock milliseconds of one ONNX Runtime CPU run of each bare graph.

    The models run in turn (A, B, C, A, B, C, ...) so that load from other processes on the
    machine affects all of them alike and their ratios stay meaningful.
    input_shape: the float32 input blob, (N, 3, H, W).
    """
    from fxseg_ros.quant.collect import make_session

    blob = np.random.default_rng(seed).standard_normal(tuple(input_shape)).astype(np.float32)
    sessions = []
    for path in model_paths:
        session = make_session(path, threads=threads)
        sessions.append((session, session.get_inputs()[0].name,
                         [session.get_outputs()[0].name]))
    for session, name, outputs in sessions:
        for _ in range(max(warmup, 0)):
            session.run(outputs, {name: blob})
    samples: List[List[float]] = [[] for _ in sessions]
    for _ in range(max(runs, 1)):
        for k, (session, name, outputs) in enumerate(sessions):
            start = time.perf_counter()
            session.run(outputs, {name: blob})
            samples[k].append((time.perf_counter() - start) * 1e3)
    result = []
    for values in samples:
        values.sort()
        result.append({'median_ms': float(statistics.median(values)),
                       'p90_ms': float(values[int(round(0.9 * (len(values) - 1)))]),
                       'runs': len(values)})
    return result


def ort_latency_ms(model_path: Union[str, Path], input_shape: Sequence[int] = (1, 3, 360, 640),
                   runs: int = 10, warmup: int = 2, threads: int = 0,
                   seed: int = 0) -> Dict[str, float]:
    """Median and p90 milliseconds of one ONNX Runtime CPU run of one bare graph."""
    return ort_latencies_ms([model_path], input_shape, runs, warmup, threads, seed)[0]


def format_table(rows: Sequence[Mapping[str, object]], columns: Sequence[str],
                 headers: Optional[Sequence[str]] = None, markdown: bool = True) -> str:
    """A Markdown (or aligned text) table of `rows` (dicts) in `columns` order."""
    headers = list(headers or columns)
    cells: List[List[str]] = []
    for row in rows:
        cells.append([_fmt(row.get(c)) for c in columns])
    if markdown:
        lines = ['| ' + ' | '.join(headers) + ' |',
                 '|' + '|'.join('---' for _ in headers) + '|']
        lines += ['| ' + ' | '.join(r) + ' |' for r in cells]
        return '\n'.join(lines)
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ['  '.join(h.ljust(w) for h, w in zip(headers, widths))]
    lines += ['  '.join(v.ljust(w) for v, w in zip(r, widths)) for r in cells]
    return '\n'.join(lines)


def _fmt(value) -> str:
    if value is None:
        return '-'
    if isinstance(value, float):
        if np.isnan(value):
            return '-'
        return '%.2f' % value
    return str(value)


def megabytes(num_bytes: int) -> float:
    return num_bytes / 1e6
