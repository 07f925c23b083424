# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Benchmark helpers on ONNX Runtime's CPU provider: a plain session for a bare network, per-node
kernel times from ONNX Runtime's profiler, and the CPU's vector ISA.

The sessions use the runner's settings (`OnnxRuntimeRunner`: ORT_ENABLE_ALL, inter-op 1,
sequential, CPU arena) so that their times compare with the runner's raw calls.
"""


import json
import os
import platform
import tempfile
import time
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np


def cpu_isa(cpuinfo: str = '/proc/cpuinfo') -> str:
    """
    The widest vector ISA ONNX Runtime's CPU kernels can use here, from /proc/cpuinfo flags.

    'AVX-512 VNNI' (avx512_vnni), 'AVX-512' (avx512f), 'AVX2' (avx2), 'NEON dot product'
    (asimddp), 'NEON' (asimd, or any aarch64), else the machine name.
    """
    flags = set()
    try:
        with open(cpuinfo) as f:
            for line in f:
                key = line.split(':', 1)[0].strip().lower()
                if key in ('flags', 'features'):
                    flags.update(line.split(':', 1)[1].split())
    except OSError:
        pass
    for flag, name in (('avx512_vnni', 'AVX-512 VNNI'), ('avx512f', 'AVX-512'), ('avx2', 'AVX2'),
                       ('asimddp', 'NEON dot product'), ('asimd', 'NEON')):
        if flag in flags:
            return name
    machine = platform.machine()
    return 'NEON' if machine in ('aarch64', 'arm64') else (machine or 'unknown')


def cpu_session(model, threads: int = 0, profile_prefix: Optional[str] = None):
    """An ONNX Runtime CPU session with the runner's options (model: path or ModelProto)."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = int(threads)
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.log_severity_level = 3
    if profile_prefix:
        so.enable_profiling = True
        so.profile_file_prefix = profile_prefix
    source = model if isinstance(model, (str, os.PathLike)) else model.SerializeToString()
    return ort.InferenceSession(str(source) if not isinstance(source, bytes) else source,
                                sess_options=so, providers=['CPUExecutionProvider'])


def timed_run(session, feed: dict) -> float:
    """Milliseconds of one `session.run` on `feed`."""
    start = time.perf_counter()
    session.run(None, feed)
    return (time.perf_counter() - start) * 1e3


def node_times(model, feeds: Sequence[dict], threads: int = 0, warmup: int = 2,
               repeat: int = 1) -> Dict[str, float]:
    """
    Mean kernel milliseconds per node and run, from ONNX Runtime's profiler.

    Nodes keep the graph's names (ONNX Runtime adds suffixes such as '_nchwc' to nodes it
    rewrites). Profiled runs: every feed `repeat` times after `warmup` unprofiled ones.
    """
    with tempfile.TemporaryDirectory(prefix='fxseg_profile_') as tmp:
        session = cpu_session(model, threads, profile_prefix=os.path.join(tmp, 'p'))
        for i in range(warmup):
            session.run(None, feeds[i % len(feeds)])
        runs = 0
        for _ in range(repeat):
            for feed in feeds:
                session.run(None, feed)
                runs += 1
        path = session.end_profiling()
        with open(path) as f:
            events = json.load(f)
    totals: Dict[str, float] = {}
    skip = warmup  # warm-up runs are profiled too: drop the first `warmup` of each node
    seen: Dict[str, int] = {}
    for event in events:
        name = event.get('name', '')
        if event.get('cat') != 'Node' or not name.endswith('_kernel_time'):
            continue
        node = name[:-len('_kernel_time')]
        seen[node] = seen.get(node, 0) + 1
        if seen[node] > skip:
            totals[node] = totals.get(node, 0.0) + float(event['dur']) / 1e3
    return {node: ms / max(runs, 1) for node, ms in totals.items()}


def share(times: Dict[str, float], names: Iterable[str]) -> float:
    """Milliseconds of the nodes named (or named with an ONNX Runtime suffix)."""
    wanted = list(names)
    return float(sum(ms for node, ms in times.items()
                     if any(node == n or node.startswith(n + '_') for n in wanted)))


def medians(samples: List[float]) -> float:
    return float(np.median(np.asarray(samples, dtype=np.float64))) if samples else float('nan')
