# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
PNG plots of an evaluation (matplotlib, Agg backend): confusion matrix, per-class IoU by run,
latency histogram, and frame / ground truth / prediction overlays where runs disagree most.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Dict, Mapping

import cv2
import numpy as np

from fxseg_ros.data.labels import CLASS_NAMES, colorize, sorted_class_names

LOG = logging.getLogger(__name__)


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def _save(plt, fig, path: Path) -> Path:
    """Lay out, write (PNG, 110 dpi) and close a figure; return its path."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_confusion(matrix: np.ndarray, path: Path, title: str) -> Path:
    """Row-normalised confusion matrix of the classes present. matrix: (C, C+1) int."""
    plt = _pyplot()
    m = np.asarray(matrix, dtype=np.float64)
    present = np.nonzero(m.sum(axis=1) > 0)[0]
    sub = m[np.ix_(present, present)]
    rows = m[present].sum(axis=1, keepdims=True)
    norm = sub / np.maximum(rows, 1)
    names = [CLASS_NAMES[i] for i in present]
    fig, ax = plt.subplots(figsize=(1.0 + 0.45 * len(present), 0.8 + 0.42 * len(present)))
    im = ax.imshow(norm, cmap='viridis', vmin=0, vmax=1)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=60, ha='right', fontsize=8)
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names, fontsize=8)
    ax.set_xlabel('prediction')
    ax.set_ylabel('ground truth')
    ax.set_title(title, fontsize=10)
    for i in range(len(names)):
        for j in range(len(names)):
            if norm[i, j] >= 0.005:
                ax.text(j, i, '%.0f' % (100 * norm[i, j]), ha='center', va='center',
                        fontsize=6, color='white' if norm[i, j] < 0.6 else 'black')
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label='fraction of the row')
    return _save(plt, fig, path)


def plot_per_class_iou(runs, path: Path) -> Path:
    """Grouped bars: IoU per class for each run (offline runs of metrics.json)."""
    plt = _pyplot()
    classes = sorted_class_names(c for r in runs for c in r['accuracy'].get('iou', {}))
    x = np.arange(len(classes))
    width = 0.8 / max(len(runs), 1)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.6 * len(classes) + 2), 4.0))
    for k, r in enumerate(runs):
        vals = [r['accuracy']['iou'].get(c) for c in classes]
        vals = [100.0 * v if v is not None else 0.0 for v in vals]
        ax.bar(x + (k - (len(runs) - 1) / 2) * width, vals, width,
               label='%s (%s)' % (r['name'], r.get('precision') or '?'))
    ax.set_xticks(x)
    ax.set_xticklabels(classes, rotation=45, ha='right', fontsize=8)
    ax.set_ylabel('IoU (%)')
    ax.set_ylim(0, 100)
    ax.set_title('IoU per class and precision')
    ax.legend(fontsize=8)
    ax.grid(axis='y', alpha=0.3)
    return _save(plt, fig, path)


def plot_latency_hist(evaluation, path: Path) -> Path:
    """Histogram of the per-frame pipeline latency ('total') of each run."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    all_s = [r.latency.samples('total') for r in evaluation.runs]
    hi = max((float(np.percentile(s, 99.5)) for s in all_s if s.size), default=1.0)
    bins = np.linspace(0, hi * 1.05, 50)
    for r, s in zip(evaluation.runs, all_s):
        if s.size:
            ax.hist(np.clip(s, 0, bins[-1]), bins=bins, alpha=0.55,
                    label='%s p50 %.1f ms' % (r.spec.name, float(np.median(s))))
    ax.set_xlabel('pipeline latency per frame (ms)')
    ax.set_ylabel('frames')
    ax.set_title('Latency (decode + pre + inference + post)')
    ax.legend(fontsize=8)
    return _save(plt, fig, path)


def _caption(img_rgb: np.ndarray, text: str) -> np.ndarray:
    out = img_rgb.copy()
    cv2.rectangle(out, (0, 0), (out.shape[1], 22), (0, 0, 0), -1)
    cv2.putText(out, text, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1,
                cv2.LINE_AA)
    return out


def overlay_panel(overlay) -> np.ndarray:
    """
    2x2 panel: frame, ground truth, reference prediction, other run's prediction.

    Labels are blended over the frame; pixels where the two predictions differ are outlined
    in the last panel. Returns shape (2h, 2w, 3), uint8, RGB.
    """
    rgb = overlay.frame[..., ::-1]

    def blend(labels):
        col = colorize(labels)
        mixed = (0.45 * rgb + 0.55 * col).astype(np.uint8)
        mixed[labels == 255] = rgb[labels == 255]
        return mixed

    diff = (overlay.pred_run != overlay.pred_reference).astype(np.uint8)
    run_img = blend(overlay.pred_run)
    contours, _ = cv2.findContours(diff, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    run_img = np.ascontiguousarray(run_img)
    cv2.drawContours(run_img, contours, -1, (255, 255, 255), 1)
    name = overlay.key
    if name.isdigit() and len(name) > 12:  # a header stamp in nanoseconds
        name = 'stamp %.3f s' % (int(name) * 1e-9)
    if overlay.condition:
        name = '%s, %s' % (overlay.condition, name)
    top = np.concatenate([_caption(np.ascontiguousarray(rgb), name),
                          _caption(blend(overlay.labels), 'ground truth')], axis=1)
    bottom = np.concatenate([
        _caption(blend(overlay.pred_reference), overlay.reference),
        _caption(run_img, '%s (%.1f %% of pixels differ)'
                 % (overlay.run, 100 * overlay.disagreement))], axis=1)
    return np.concatenate([top, bottom], axis=0)


def write_plots(evaluation, metrics: Mapping[str, object], out_dir) -> Dict[str, Path]:
    """Write every plot into out_dir/plots. Returns name -> path."""
    out = Path(out_dir) / 'plots'
    out.mkdir(parents=True, exist_ok=True)
    paths: Dict[str, Path] = {}
    offline = [r for r in metrics['runs'] if r.get('mode') != 'live']
    ref = evaluation.run(evaluation.reference) if evaluation.reference else evaluation.runs[0]
    if ref.accuracy.cm.matrix.sum() > 0:
        paths['confusion'] = plot_confusion(ref.accuracy.cm.matrix, out / 'confusion.png',
                                            'Confusion matrix, %s (%% of each GT row)'
                                            % ref.spec.name)
        paths['per_class_iou'] = plot_per_class_iou(offline, out / 'per_class_iou.png')
    paths['latency_hist'] = plot_latency_hist(evaluation, out / 'latency.png')
    for i, ov in enumerate(evaluation.overlays):
        p = out / ('overlay_%02d.png' % i)
        cv2.imwrite(str(p), overlay_panel(ov)[..., ::-1])
        paths['overlay_%02d' % i] = p
    return paths
