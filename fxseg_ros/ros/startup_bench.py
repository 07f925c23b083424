# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Start-up time of segmentation_node: process start to the first mask received back.

    python -m fxseg_ros.ros.startup_bench --runs 5

Each run starts the node as its own process (config/cpu.yaml unless --params-file), publishes a
1280x720 frame every 0.2 s from this process until a mask comes back, and records the seconds
from Popen to that mask, and to the node's 'model loaded' and 'segmenting' log lines. The first
run uses an empty ONNX Runtime cache directory (the optimised graph is written), the later ones
load it. Medians per phase are printed.
"""


import argparse
import logging
import os
from pathlib import Path
import statistics
import sys
import tempfile
import threading
import time
from typing import Dict, List, Optional, Sequence

LOG = logging.getLogger(__name__)
TOPIC = '/fxseg_startup/image_raw'
CONFIG = Path(__file__).resolve().parents[2] / 'config' / 'cpu.yaml'


def _watch_log(path: str, marks: Dict[str, float], started: float, stop: threading.Event):
    """Record when 'model loaded' and 'segmenting' first appear in the node's log."""
    while not stop.is_set():
        try:
            text = Path(path).read_text(errors='replace')
        except OSError:
            text = ''
        for key in ('model loaded', 'segmenting'):
            if key in text and key not in marks:
                marks[key] = time.monotonic() - started
        if len(marks) == 2:
            return
        stop.wait(0.01)


def one_run(params_file: str, cache_dir: str, log_path: str) -> Dict[str, float]:
    """Seconds from process start to 'model loaded', 'segmenting' and the first mask."""
    import numpy as np

    from fxseg_ros.ros.probe import SegmentationProbe, start_node

    probe = SegmentationProbe([TOPIC])
    frame = np.full((720, 1280, 3), 128, np.uint8)
    marks: Dict[str, float] = {}
    stop = threading.Event()
    with open(log_path, 'w') as log:
        env = {'FXSEG_CACHE_DIR': cache_dir}
        started = time.monotonic()
        proc = start_node(params_file, {'camera_topics': [TOPIC]}, env=env, log_file=log)
    watcher = threading.Thread(target=_watch_log, args=(log_path, marks, started, stop),
                               daemon=True)
    watcher.start()
    try:
        deadline = started + 120.0
        while time.monotonic() < deadline and proc.poll() is None:
            stamp = probe.publish(0, probe.frame_message(frame, 'bgr8', 'startup'))
            if probe.wait_for_mask(0, stamp, 0.2) is not None:
                marks['first mask'] = time.monotonic() - started
                break
        if 'first mask' not in marks:
            raise RuntimeError('no mask within 120 s; log %s' % log_path)
    finally:
        stop.set()
        probe.close()
        proc.terminate()
        proc.wait(timeout=30)
    return marks


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog='startup_bench', description=__doc__.split('\n')[1])
    parser.add_argument('--runs', type=int, default=5, help='node starts (default 5)')
    parser.add_argument('--params-file', default=str(CONFIG),
                        help='node parameter file (default config/cpu.yaml)')
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error('--runs must be >= 1')
    if not os.path.isfile(args.params_file):
        parser.error('--params-file %s: no such file' % args.params_file)
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    work = tempfile.mkdtemp(prefix='fxseg_startup_')
    runs: List[Dict[str, float]] = []
    for i in range(args.runs):
        marks = one_run(args.params_file, os.path.join(work, 'cache'),
                        os.path.join(work, 'node%d.log' % i))
        LOG.info('[%d/%d] %s', i + 1, args.runs, ', '.join(
            '%s %.2f s' % kv for kv in sorted(marks.items(), key=lambda kv: kv[1])))
        runs.append(marks)
    print('segmentation_node start-up (process start to ...), %d runs, first with an empty '
          'ONNX Runtime cache:' % len(runs))
    for key in ('model loaded', 'segmenting', 'first mask'):
        values = [r[key] for r in runs if key in r]
        later = values[1:] or values
        print('  %-13s first run %.2f s, later runs median %.2f s' % (
            key, values[0], statistics.median(later)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
