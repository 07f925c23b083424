# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Generated frames written in the Cityscapes directory layout (`fxseg_ros.data.cityscapes`).

`<out_dir>/leftImg8bit/<split>/<condition>/<condition>_<index:06d>_000000_leftImg8bit.png` and
the matching `gtFine/..._gtFine_labelTrainIds.png`: the lighting condition is the city, so the
one Cityscapes reader serves real and synthetic data alike.

A run's frames appear all together or not at all (`fxseg_ros.data.atomic`): a new tree is built
under a hidden sibling name and renamed when every frame is written; frames added to an
existing tree (`start`) are written to a hidden folder inside it and moved into place when all
of them are complete, with Ctrl-C held for those renames. An interrupted run leaves no frame a
reader would list, and a rerun writes the same bytes.
"""

import logging
import os
from pathlib import Path
import signal
from typing import List, Optional, Sequence, Tuple, Union

import cv2

from fxseg_ros.data.atomic import (atomic_directory, deferred_interrupt, partial_name,
                                   remove_partial, write_bytes)
from fxseg_ros.data.cityscapes import frame_stem, image_path, label_path, SPLITS
from fxseg_ros.data.conditions import CONDITIONS
from fxseg_ros.data.sizes import CAMERA_WH
from fxseg_ros.data.synth.generator import SceneGenerator

LOG = logging.getLogger(__name__)

#: Scene-index base per split, so train / val / test of one seed never share a scene.
SPLIT_INDEX_BASE = {'train': 0, 'val': 1000000, 'test': 2000000}
#: More frames than this get a progress bar by default.
_PROGRESS_MIN_FRAMES = 20


def _write_png(path: Path, image) -> None:
    """Encode `image` as PNG and write it atomically (the bytes cv2.imwrite writes)."""
    ok, encoded = cv2.imencode('.png', image)
    if not ok:
        raise OSError('cannot encode %s as PNG' % path)
    write_bytes(path, encoded.tobytes())


def _write_one(args) -> Tuple[str, str]:
    """Render one frame and write labels, then the image (PNG; deterministic bytes)."""
    generator, root, split, condition, index = args
    bgr, labels = generator.generate(index + SPLIT_INDEX_BASE[split], condition)
    stem = frame_stem(condition, index, 0)
    img_file = image_path(root, split, condition, stem)
    lbl_file = label_path(root, split, condition, stem)
    # The reader lists images: the label goes first, so a listed image always has its label.
    _write_png(Path(lbl_file), labels)
    _write_png(Path(img_file), bgr)
    return str(img_file), str(lbl_file)


_WORKER_GENERATOR = None


def _init_worker(seed: int, size_wh: Tuple[int, int], traffic_lights: bool) -> None:
    global _WORKER_GENERATOR

    # Ctrl-C reaches the whole process group: the parent stops the pool, workers keep quiet.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    cv2.setNumThreads(1)
    _WORKER_GENERATOR = SceneGenerator(seed, size_wh, traffic_lights=traffic_lights)


def _worker_write(args) -> Tuple[str, str]:
    return _write_one((_WORKER_GENERATOR,) + tuple(args))


def _check_request(split: str, conditions: Sequence[str], count: int, start: int) -> None:
    if split not in SPLIT_INDEX_BASE:
        raise ValueError('split must be one of %s, got %r' % (', '.join(SPLITS), split))
    unknown = [c for c in conditions if c not in CONDITIONS]
    if unknown or not conditions:
        raise ValueError('conditions must be a non-empty subset of %s, got %s'
                         % (', '.join(CONDITIONS), list(conditions)))
    if count < 0 or start < 0:
        raise ValueError('count and start must be >= 0')


def write_cityscapes(out_dir: Union[str, Path], count: int, seed: int = 0, split: str = 'train',
                     conditions: Sequence[str] = CONDITIONS,
                     size_wh: Tuple[int, int] = CAMERA_WH, start: int = 0,
                     workers: int = 1, progress: Optional[bool] = None,
                     traffic_lights: bool = False) -> List[Path]:
    """
    Write `count` synthetic frames per condition in the Cityscapes layout; returns image paths.

    Frame i of a condition is `SceneGenerator(seed).generate(SPLIT_INDEX_BASE[split] + start + i,
    condition)`, stored as `<condition>_<start+i:06d>_000000`. Output bytes depend only on the
    arguments (also with several workers). progress: a tqdm bar (default: when more than
    _PROGRESS_MIN_FRAMES frames).
    """
    _check_request(split, conditions, count, start)
    root = Path(out_dir)
    settings = (count, seed, split, conditions, size_wh, start, workers, progress,
                traffic_lights)
    if not root.exists() or (root.is_dir() and not any(root.iterdir())):
        root.parent.mkdir(parents=True, exist_ok=True)
        with atomic_directory(root, replace=root.exists()) as staged:
            written = _write_tree(staged, *settings)
        written = [root / path.relative_to(staged) for path in written]
    else:
        staging = partial_name(root / 'synth', keep_suffix=False)
        try:
            written = _write_tree(staging, *settings)
            with deferred_interrupt():
                written = _move_in(staging, root, split, conditions, written)
        finally:
            remove_partial(staging)
    LOG.info('wrote %d synthetic frames to %s (split %s, seed %d)', len(written), root, split,
             seed)
    return written


def _move_in(staging: Path, root: Path, split: str, conditions: Sequence[str],
             images: Sequence[Path]) -> List[Path]:
    """Move the staged frames into `root`: every label first, then the images that list them."""
    for condition in conditions:
        (root / 'leftImg8bit' / split / condition).mkdir(parents=True, exist_ok=True)
        (root / 'gtFine' / split / condition).mkdir(parents=True, exist_ok=True)
    labels = sorted(p for p in (staging / 'gtFine').rglob('*') if p.is_file())
    for path in labels:
        os.replace(str(path), str(root / path.relative_to(staging)))
    moved = [root / path.relative_to(staging) for path in images]
    for path, target in zip(images, moved):
        os.replace(str(path), str(target))
    return moved


def _write_tree(root: Path, count: int, seed: int, split: str, conditions: Sequence[str],
                size_wh: Tuple[int, int], start: int, workers: int, progress: Optional[bool],
                traffic_lights: bool) -> List[Path]:
    """Write the frames into `root` (created); returns the image paths."""
    for condition in conditions:
        (root / 'leftImg8bit' / split / condition).mkdir(parents=True, exist_ok=True)
        (root / 'gtFine' / split / condition).mkdir(parents=True, exist_ok=True)
    jobs = [(str(root), split, condition, start + i)
            for condition in conditions for i in range(count)]
    from tqdm import tqdm

    show = progress if progress is not None else len(jobs) > _PROGRESS_MIN_FRAMES
    bar = tqdm(total=len(jobs), unit='frame', desc='synth %s' % split, disable=not show)
    written = []  # type: List[Path]
    try:
        if workers > 1 and len(jobs) > 1:
            import multiprocessing

            with multiprocessing.get_context('spawn').Pool(
                    workers, initializer=_init_worker,
                    initargs=(seed, tuple(size_wh), traffic_lights)) as pool:
                for img_file, _ in pool.imap(_worker_write, jobs, chunksize=4):
                    written.append(Path(img_file))
                    bar.update()
        else:
            generator = SceneGenerator(seed, tuple(size_wh), traffic_lights=traffic_lights)
            for job in jobs:
                img_file, _ = _write_one((generator,) + job)
                written.append(Path(img_file))
                bar.update()
    finally:
        bar.close()
    return written
