# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
PNG plots of an evaluation (matplotlib, Agg backend).

Confusion matrix, per-class IoU by run, latency histogram, and frame / ground truth /
prediction overlays where runs disagree most.

Made to be read: the confusion matrix's colour bar is in the unit of its cells (percent of the
ground-truth row), every run of the latency histogram is its own step line in the legend, a
class with IoU 0 is marked (an absent class too), and each overlay carries the colour legend of
the classes it shows. Every file appears complete or not at all (`fxseg_ros.data.atomic`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Dict, Mapping

import cv2
from fxseg_ros.data.atomic import atomic_file, write_bytes
from fxseg_ros.data.labels import CLASS_NAMES, colorize, IGNORE_LABEL, sorted_class_names
from fxseg_ros.eval.models import run_label
import numpy as np

LOG = logging.getLogger(__name__)

#: Height of one row of the overlay's class legend, pixels.
LEGEND_ROW_PX = 22
#: Width of one entry (swatch and name) of the overlay's class legend, pixels.
LEGEND_ENTRY_PX = 160


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def _save(plt, fig, path: Path) -> Path:
    """Lay out, write (PNG, 110 dpi) and close a figure; return its path."""
    fig.tight_layout()
    with atomic_file(path) as staged:
        fig.savefig(str(staged), dpi=110, format='png')
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
    percent = 100.0 * norm
    fig, ax = plt.subplots(figsize=(1.6 + 0.45 * len(present), 0.8 + 0.42 * len(present)))
    im = ax.imshow(percent, cmap='viridis', vmin=0, vmax=100)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=60, ha='right', fontsize=8)
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names, fontsize=8)
    ax.set_xlabel('prediction')
    ax.set_ylabel('ground truth')
    ax.set_title(title, fontsize=10)
    for i in range(len(names)):
        for j in range(len(names)):
            if percent[i, j] >= 0.5:
                ax.text(j, i, '%.0f' % percent[i, j], ha='center', va='center',
                        fontsize=6, color='white' if percent[i, j] < 60 else 'black')
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04,
                 label='% of the ground-truth row (the numbers in the cells)')
    return _save(plt, fig, path)


def plot_per_class_iou(runs, path: Path) -> Path:
    """
    Plot grouped bars: IoU per class for each run (offline runs of metrics.json).

    A class a run scored at 0 IoU gets a '0' above its place (a bar of height 0 shows nothing);
    a class without a value for a run (not in its ground truth) gets 'n/a'.
    """
    plt = _pyplot()
    classes = sorted_class_names(c for r in runs for c in r['accuracy'].get('iou', {}))
    x = np.arange(len(classes))
    width = 0.8 / max(len(runs), 1)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.6 * len(classes) + 2), 4.2))
    for k, r in enumerate(runs):
        raw = [r['accuracy']['iou'].get(c) for c in classes]
        vals = [100.0 * v if v is not None else 0.0 for v in raw]
        where = x + (k - (len(runs) - 1) / 2) * width
        bars = ax.bar(where, vals, width, label=run_label(r['name'], r.get('precision')))
        for xpos, value, bar in zip(where, raw, bars):
            if value is None or value == 0.0:   # a bar of height 0 shows nothing: say it
                ax.text(xpos, 1.0, 'n/a' if value is None else '0', ha='center',
                        va='bottom', fontsize=7, fontweight='bold',
                        rotation=90 if value is None else 0, color=bar.get_facecolor())
    ax.set_xticks(x)
    ax.set_xticklabels(classes, rotation=45, ha='right', fontsize=8)
    ax.set_ylabel('IoU (%)')
    ax.set_ylim(0, 100)
    ax.set_title('IoU per class and run (0: none right; n/a: class not in the ground truth)',
                 fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(axis='y', alpha=0.3)
    return _save(plt, fig, path)


def plot_latency_hist(evaluation, path: Path) -> Path:
    """Histogram of the per-frame pipeline latency ('total'), one step line per run."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    all_s = [r.latency.samples('total') for r in evaluation.runs]
    hi = max((float(np.percentile(s, 99.5)) for s in all_s if s.size), default=1.0)
    bins = np.linspace(0, hi * 1.05, 50)
    for r, s in zip(evaluation.runs, all_s):
        if s.size:
            ax.hist(np.clip(s, 0, bins[-1]), bins=bins, histtype='step', linewidth=1.6,
                    label='%s: p50 %.1f ms (%d frames)'
                    % (run_label(r.spec.name, r.model_info.get('precision') or
                                 r.spec.precision), float(np.median(s)), s.size))
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))   # frames are counted, not measured
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
        _caption(run_img, '%s (%.1f %% of pixels differ, outlined)'
                 % (overlay.run, 100 * overlay.disagreement))], axis=1)
    shown = [overlay.labels, overlay.pred_reference, overlay.pred_run]
    legend = class_legend(sorted({int(v) for a in shown for v in np.unique(a)}
                                 - {IGNORE_LABEL}), top.shape[1])
    return np.concatenate([top, bottom, legend], axis=0)


def class_legend(class_ids, width: int) -> np.ndarray:
    """
    Rows of colour swatches and class names for `class_ids` (train IDs), `width` pixels wide.

    Returns shape (rows * LEGEND_ROW_PX, width, 3), uint8, RGB, on black.
    """
    names = [CLASS_NAMES[i] if i < len(CLASS_NAMES) else 'label %d' % i for i in class_ids]
    per_row = max(1, width // LEGEND_ENTRY_PX)
    rows = max(1, -(-len(names) // per_row))
    legend = np.zeros((rows * LEGEND_ROW_PX, width, 3), np.uint8)
    colors = colorize(np.asarray([class_ids], dtype=np.uint8).reshape(1, -1)) \
        if class_ids else np.zeros((1, 0, 3), np.uint8)
    for k, name in enumerate(names):
        x = (k % per_row) * LEGEND_ENTRY_PX + 6
        y = (k // per_row) * LEGEND_ROW_PX
        color = tuple(int(c) for c in colors[0, k])
        cv2.rectangle(legend, (x, y + 4), (x + 18, y + LEGEND_ROW_PX - 4), color, -1)
        cv2.rectangle(legend, (x, y + 4), (x + 18, y + LEGEND_ROW_PX - 4), (255, 255, 255), 1)
        cv2.putText(legend, name, (x + 24, y + LEGEND_ROW_PX - 7), cv2.FONT_HERSHEY_SIMPLEX,
                    0.45, (255, 255, 255), 1, cv2.LINE_AA)
    return legend


def write_plots(evaluation, metrics: Mapping[str, object], out_dir) -> Dict[str, Path]:
    """Write every plot into out_dir/plots. Returns name -> path."""
    out = Path(out_dir) / 'plots'
    out.mkdir(parents=True, exist_ok=True)
    paths: Dict[str, Path] = {}
    offline = [r for r in metrics['runs'] if r.get('mode') != 'live']
    ref = evaluation.run(evaluation.reference) if evaluation.reference else evaluation.runs[0]
    if ref.accuracy.cm.matrix.sum() > 0:
        paths['confusion'] = plot_confusion(
            ref.accuracy.cm.matrix, out / 'confusion.png', 'Confusion matrix, %s (%% of each '
            'ground-truth row)' % run_label(ref.spec.name, ref.model_info.get('precision')))
        paths['per_class_iou'] = plot_per_class_iou(offline, out / 'per_class_iou.png')
    paths['latency_hist'] = plot_latency_hist(evaluation, out / 'latency.png')
    for i, ov in enumerate(evaluation.overlays):
        p = out / ('overlay_%02d.png' % i)
        ok, encoded = cv2.imencode('.png', np.ascontiguousarray(overlay_panel(ov)[..., ::-1]))
        if not ok:
            raise OSError('cannot encode the overlay %s' % p)
        paths['overlay_%02d' % i] = write_bytes(p, encoded.tobytes())
    return paths
