# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Benchmark helpers on ONNX Runtime's CPU provider.

A plain session for a bare network, per-node kernel times from ONNX Runtime's profiler, and the
CPU's vector ISA.

The sessions use the runner's settings (`OnnxRuntimeRunner`: ORT_ENABLE_ALL, inter-op 1,
sequential, CPU arena) so that their times compare with the runner's raw calls.
"""


import json
import os
import platform
import tempfile
import time
from typing import Dict, Iterable, List, Optional, Sequence

from fxseg_ros.runtime.session import make_session


def cpu_isa(cpuinfo: str = '/proc/cpuinfo') -> str:
    """
    Return the widest vector ISA ONNX Runtime's CPU kernels can use here, from /proc/cpuinfo flags.

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
    """Return an ONNX Runtime CPU session with the runner's options (model: path or ModelProto)."""
    return make_session(model, threads=threads, profile_prefix=profile_prefix)


def timed_run(session, feed: dict) -> float:
    """Milliseconds of one `session.run` on `feed`."""
    start = time.perf_counter()
    session.run(None, feed)
    return (time.perf_counter() - start) * 1e3


def node_times(models: Sequence, feeds: Sequence[Sequence[dict]], threads: int = 0,
               warmup: int = 2) -> List[Dict[str, float]]:
    """
    Mean kernel milliseconds per node and run of each model, from ONNX Runtime's profiler.

    models[k] runs on feeds[k]; the models run in turn, feed by feed, so that load on a shared
    machine falls on all of them alike. Nodes keep the graph's names (ONNX Runtime names the
    nodes it rewrites after their outputs, e.g. 'scores_nchwc').
    """
    with tempfile.TemporaryDirectory(prefix='fxseg_profile_') as tmp:
        sessions = [cpu_session(m, threads, profile_prefix=os.path.join(tmp, 'p%d_' % k))
                    for k, m in enumerate(models)]
        count = min(len(f) for f in feeds)
        for i in range(warmup + count):
            for session, model_feeds in zip(sessions, feeds):
                session.run(None, model_feeds[i % count])
        paths = [session.end_profiling() for session in sessions]
        results = []
        for path in paths:
            with open(path) as f:
                results.append(_kernel_ms(json.load(f), warmup, count))
    return results


def _kernel_ms(events, skip: int, runs: int) -> Dict[str, float]:
    """Per-node mean of the profiled runs after the first `skip` (warm-up) ones."""
    totals: Dict[str, float] = {}
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
