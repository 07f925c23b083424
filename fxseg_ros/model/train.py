# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Train FCN-AlexNet on the CPU (its held-out mIoU: `fxseg_ros.eval.heldout`).

Data: seeded synthetic frames (`fxseg_ros.data.synth.SceneGenerator`, day / dusk / night) or a
Cityscapes-layout directory. Each frame is resized exactly as `preprocess()` resizes it and kept,
with its labels (resized with INTER_NEAREST, 255 = ignore), in a cache folder of .npy files, so a
restart does not regenerate anything. Normalisation (`MEAN_BGR` / `STD_BGR`) happens per batch,
after a light augmentation (horizontal flip, brightness gain); without augmentation a cached
frame equals `preprocess(frame)`.

Training: AdamW with warm-up and cosine decay, cross-entropy (ignore 255) with optional
square-root inverse-frequency class weights, evaluated on a pixel grid of stride `loss_stride`
with a random offset per step (2: a quarter of the upscore and loss cost, every pixel visited
over the steps), `torch.set_num_threads(threads)`, a tqdm progress
bar, and a checkpoint every N steps holding model, optimizer, scheduler, step, sampler position
and random states, so `resume` continues the identical run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
from pathlib import Path
import time
from typing import Callable, Dict, Iterator, List, Optional, Tuple, Union

import cv2
from fxseg_ros.data.conditions import CONDITIONS
from fxseg_ros.data.labels import IGNORE_LABEL, NUM_CLASSES
from fxseg_ros.data.preprocess import MEAN_BGR, NET_INPUT_WH, preprocess, resize_bilinear, STD_BGR
from fxseg_ros.model.config import (  # noqa: F401 (the checkpoint names, re-exported)
    default_model_path, FCNConfig, LAST_CHECKPOINT, MODEL_CHECKPOINT)
from fxseg_ros.model.fcn_alexnet import (build_model, count_parameters, FCNAlexNet,
                                         load_checkpoint, save_checkpoint, torch_load)
import numpy as np
import torch
import torch.nn.functional as F

LOG = logging.getLogger(__name__)

#: Brightness gain range of the augmentation (applied to the 0..255 frame).
BRIGHTNESS_RANGE = (0.7, 1.3)
#: Largest class weight relative to the pixel-weighted mean of 1.
MAX_CLASS_WEIGHT = 10.0
CACHE_FORMAT = 1


@dataclasses.dataclass
class TrainOptions:
    """Everything a training run depends on (saved into the checkpoint)."""

    config: FCNConfig = dataclasses.field(default_factory=FCNConfig)
    out_dir: str = 'out/train'
    resume: bool = False
    data: Optional[str] = None
    split: str = 'train'
    conditions: Tuple[str, ...] = CONDITIONS
    train_count: int = 400
    data_seed: int = 0
    cache: Optional[str] = None
    input_wh: Tuple[int, int] = NET_INPUT_WH
    steps: int = 3000
    batch_size: int = 8
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup: int = 100
    class_weights: str = 'sqrt-inverse'
    loss_stride: int = 2
    seed: int = 0
    threads: int = 2
    checkpoint_every: int = 100
    init_from: Optional[str] = None
    stop_after: Optional[int] = None
    progress: bool = True

    @classmethod
    def from_args(cls, args) -> 'TrainOptions':
        config = FCNConfig(width=args.width, conv1_pad=args.conv1_pad, lrn=args.lrn,
                           upscore=args.upscore, upscore_kernel=args.upscore_kernel,
                           groups=args.groups, dropout=args.dropout,
                           output_stride=args.output_stride)
        return cls(config=config, out_dir=args.out, resume=args.resume, data=args.data,
                   split=args.split, conditions=tuple(args.conditions),
                   train_count=args.train_count, data_seed=args.data_seed, cache=args.cache,
                   input_wh=tuple(args.input_wh),
                   steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                   weight_decay=args.weight_decay, warmup=args.warmup,
                   class_weights=args.class_weights, loss_stride=args.loss_stride,
                   seed=args.seed, threads=args.threads,
                   checkpoint_every=args.checkpoint_every, init_from=args.init_from,
                   stop_after=args.stop_after)

    def to_dict(self) -> Dict[str, object]:
        values = dataclasses.asdict(self)
        values['config'] = self.config.to_dict()
        values['conditions'] = list(self.conditions)
        values['input_wh'] = list(self.input_wh)
        for transient in ('resume', 'stop_after', 'progress'):
            values.pop(transient)
        return values

    def data_key(self) -> Dict[str, object]:
        """Return what the cached training set depends on."""
        return {'format': CACHE_FORMAT, 'data': self.data, 'split': self.split,
                'conditions': list(self.conditions), 'train_count': self.train_count,
                'data_seed': self.data_seed, 'input_wh': list(self.input_wh)}

    def cache_dir(self) -> Path:
        if self.cache:
            return Path(self.cache)
        digest = hashlib.sha1(json.dumps(self.data_key(), sort_keys=True).encode()).hexdigest()
        source = 'cityscapes' if self.data else 'synth'
        return Path('out/cache') / ('%s_%s_%d_%s' % (source, '-'.join(self.conditions),
                                                     self.train_count, digest[:8]))


# ---------------------------------------------------------------------------------------------
# Data


def net_labels(labels: np.ndarray, size_wh: Tuple[int, int] = NET_INPUT_WH) -> np.ndarray:
    """Labels at the network resolution: INTER_NEAREST resize. Shape (h, w), uint8."""
    if (labels.shape[1], labels.shape[0]) == tuple(size_wh):
        return labels.astype(np.uint8)
    return cv2.resize(labels.astype(np.uint8), tuple(size_wh), interpolation=cv2.INTER_NEAREST)


def normalize(resized_bgr: np.ndarray) -> np.ndarray:
    """
    Return the normalisation half of `preprocess()` on frames already resized to the network input.

    resized_bgr: shape (N, h, w, 3), float (0..255). Returns (N, 3, h, w), float32.
    """
    x = (np.asarray(resized_bgr, dtype=np.float32) - MEAN_BGR) / STD_BGR
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


#: A training source: the frame count and an iterator of (BGR frame, labels, condition).
FrameSource = Tuple[int, Iterator[Tuple[np.ndarray, np.ndarray, str]]]


def _synthetic_source(options: TrainOptions) -> FrameSource:
    from fxseg_ros.data.synth import SceneGenerator

    generator = SceneGenerator(options.data_seed)

    def frames():
        for condition in options.conditions:
            for index in range(options.train_count):
                bgr, labels = generator.generate(index, condition)
                yield bgr, labels, condition
    return options.train_count * len(options.conditions), frames()


def _cityscapes_source(options: TrainOptions) -> FrameSource:
    from fxseg_ros.data.cityscapes import CityscapesDataset

    dataset = CityscapesDataset(options.data, options.split, cities=list(options.conditions))
    if len(dataset) == 0:
        raise RuntimeError('no frames in %s (split %r, cities %s): expected '
                           'leftImg8bit/<split>/<city>/*_leftImg8bit.png with gtFine '
                           '*_gtFine_labelTrainIds.png next to it'
                           % (options.data, options.split, list(options.conditions)))

    def frames():
        for i in range(len(dataset)):
            bgr, labels, meta = dataset[i]
            yield bgr, labels, str(meta.get('condition', meta.get('city', '')))
    return len(dataset), frames()


class TrainingSet:
    """
    The cached training frames.

    `images` float16 (N, h, w, 3) resized BGR on the 0..255 scale (exact for the 2x downscale
    of 1280x720 frames), `labels` uint8 (N, h, w), `conditions`.
    """

    def __init__(self, folder: Union[str, Path]):
        self.folder = Path(folder)
        meta = json.loads((self.folder / 'meta.json').read_text())
        self.meta = meta
        self.images = np.load(str(self.folder / 'images.npy'), mmap_mode='r')
        self.labels = np.load(str(self.folder / 'labels.npy'), mmap_mode='r')
        self.conditions = list(meta['conditions'])

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def class_frequencies(self) -> np.ndarray:
        """Fraction of labelled pixels per class. Shape (NUM_CLASSES,), float64."""
        counts = np.asarray(self.meta['class_pixels'], dtype=np.float64)
        return counts / max(counts.sum(), 1.0)

    @staticmethod
    def is_complete(folder: Union[str, Path], key: Dict[str, object]) -> bool:
        meta_path = Path(folder) / 'meta.json'
        if not meta_path.is_file():
            return False
        meta = json.loads(meta_path.read_text())
        return meta.get('key') == key and meta.get('complete', False)


def build_training_set(options: TrainOptions) -> TrainingSet:
    """Generate (or read) the frames, resize them and cache them; reuse a complete cache."""
    folder = options.cache_dir()
    key = options.data_key()
    if TrainingSet.is_complete(folder, key):
        LOG.info('using the cached training set %s', folder)
        return TrainingSet(folder)
    from tqdm import tqdm

    folder.mkdir(parents=True, exist_ok=True)
    count, frames = (_cityscapes_source(options) if options.data
                     else _synthetic_source(options))
    w, h = options.input_wh
    images = np.lib.format.open_memmap(str(folder / 'images.npy'), mode='w+',
                                       dtype=np.float16, shape=(count, h, w, 3))
    labels_out = np.lib.format.open_memmap(str(folder / 'labels.npy'), mode='w+',
                                           dtype=np.uint8, shape=(count, h, w))
    conditions = []
    class_pixels = np.zeros(NUM_CLASSES, dtype=np.int64)
    started = time.perf_counter()
    bar = tqdm(frames, total=count, desc='training frames', unit='frame',
               disable=not options.progress)
    for i, (bgr, labels, condition) in enumerate(bar):
        images[i] = resize_bilinear(bgr, options.input_wh)
        if i == 0:
            # The cache must reproduce preprocess() exactly (up to float16 storage).
            err = np.abs(normalize(images[:1].astype(np.float32))
                         - preprocess(bgr, options.input_wh)).max()
            if err > 0.02:
                raise RuntimeError('cached frames differ from preprocess() by %.3g' % err)
        lab = net_labels(labels, options.input_wh)
        labels_out[i] = lab
        class_pixels += np.bincount(lab.ravel(), minlength=256)[:NUM_CLASSES]
        conditions.append(condition)
    images.flush()
    labels_out.flush()
    del images, labels_out
    meta = {'key': key, 'complete': True, 'count': count, 'conditions': conditions,
            'class_pixels': class_pixels.tolist(),
            'seconds': round(time.perf_counter() - started, 1)}
    (folder / 'meta.json').write_text(json.dumps(meta, indent=1))
    LOG.info('cached %d training frames in %s (%.0f s)', count, folder, meta['seconds'])
    return TrainingSet(folder)


def class_weights(frequencies: np.ndarray, kind: str = 'sqrt-inverse') -> np.ndarray:
    """
    Cross-entropy class weights. frequencies: shape (C,), fractions of labelled pixels.

    'sqrt-inverse': 1/sqrt(f), scaled so that the pixel-weighted mean is 1, capped at
    MAX_CLASS_WEIGHT; classes absent from the data get 0. 'none': all 1. Shape (C,), float32.
    """
    freq = np.asarray(frequencies, dtype=np.float64)
    if kind == 'none':
        return np.ones_like(freq, dtype=np.float32)
    if kind != 'sqrt-inverse':
        raise ValueError('unknown class weighting %r' % kind)
    present = freq > 0
    weights = np.zeros_like(freq)
    weights[present] = 1.0 / np.sqrt(freq[present])
    weights /= float((weights * freq).sum())
    return np.minimum(weights, MAX_CLASS_WEIGHT).astype(np.float32)


class Sampler:
    """Epoch-wise shuffled batches with flip / brightness augmentation, from one numpy RNG."""

    def __init__(self, dataset: TrainingSet, batch_size: int, seed: int):
        self.dataset = dataset
        self.batch_size = batch_size
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(dataset))
        self.position = 0
        #: Data set indices of the last batch.
        self.last_indices: List[int] = []

    def state(self) -> Dict[str, object]:
        return {'rng': self.rng.bit_generator.state,
                'order': torch.from_numpy(self.order.astype(np.int64)),
                'position': self.position}

    def load_state(self, state: Dict[str, object]) -> None:
        self.rng.bit_generator.state = state['rng']
        self.order = np.asarray(state['order'], dtype=np.int64)
        self.position = int(state['position'])

    def grid_offset(self, stride: int) -> Tuple[int, int]:
        """Return a random (row, column) offset of the loss pixel grid."""
        if stride == 1:
            return 0, 0
        oy, ox = self.rng.integers(0, stride, 2)
        return int(oy), int(ox)

    def next_batch(self) -> Tuple[np.ndarray, np.ndarray]:
        """Return inputs float32 (B, 3, h, w) and labels int64 (B, h, w)."""
        indices = []
        while len(indices) < self.batch_size:
            if self.position >= len(self.order):
                self.order = self.rng.permutation(len(self.dataset))
                self.position = 0
            indices.append(int(self.order[self.position]))
            self.position += 1
        self.last_indices = indices
        flips = self.rng.random(self.batch_size) < 0.5
        gains = self.rng.uniform(BRIGHTNESS_RANGE[0], BRIGHTNESS_RANGE[1], self.batch_size)
        images = []
        labels = []
        for index, flip, gain in zip(indices, flips, gains):
            image = self.dataset.images[index].astype(np.float32)
            label = np.asarray(self.dataset.labels[index])
            if flip:
                image = image[:, ::-1]
                label = label[:, ::-1]
            images.append(np.clip(image * np.float32(gain), 0.0, 255.0))
            labels.append(label)
        return normalize(np.stack(images)), np.stack(labels).astype(np.int64)


def _lr_lambda(warmup: int, steps: int) -> Callable[[int], float]:
    def factor(step: int) -> float:
        warm = min(1.0, (step + 1) / float(warmup)) if warmup > 0 else 1.0
        return warm * 0.5 * (1.0 + math.cos(math.pi * min(step, steps) / float(steps)))
    return factor


def _make_optimizer(model: FCNAlexNet, options: TrainOptions) -> torch.optim.Optimizer:
    decay = [p for n, p in model.named_parameters() if p.requires_grad and n.endswith('weight')]
    no_decay = [p for n, p in model.named_parameters()
                if p.requires_grad and not n.endswith('weight')]
    return torch.optim.AdamW([{'params': decay, 'weight_decay': options.weight_decay},
                              {'params': no_decay, 'weight_decay': 0.0}], lr=options.lr)


def init_from_checkpoint(model: FCNAlexNet, path: Union[str, Path]) -> List[str]:
    """
    Start from the weights of another checkpoint (FCN's staged training: 32s -> 16s -> 8s).

    Every layer of the checkpoint must exist here with the same shape; layers only this model
    has (new skip score layers) keep their initialisation. Returns their parameter names.
    """
    source = load_checkpoint(path).state_dict()
    target = model.state_dict()
    unexpected = sorted(k for k in source if k not in target)
    mismatched = sorted(k for k in source if k in target and source[k].shape != target[k].shape)
    if unexpected or mismatched:
        raise ValueError('cannot start from %s: layers %s are not in this model, shapes of %s '
                         'differ' % (path, unexpected, mismatched))
    missing = sorted(k for k in target if k not in source)
    model.load_state_dict(source, strict=False)
    LOG.info('initialised from %s; new layers: %s', path, missing or 'none')
    return missing


def _restore(last_path: Path, options: TrainOptions, model, optimizer, scheduler,
             sampler: 'Sampler') -> Tuple[int, float]:
    """Load the state of a paused run into the fresh objects; return (step, seconds so far)."""
    if not last_path.is_file():
        raise FileNotFoundError('nothing to resume: %s does not exist' % last_path)
    state = torch_load(last_path)
    if state['config'] != options.config.to_dict():
        raise ValueError('cannot resume %s: it was trained with %s, not %s'
                         % (last_path, state['config'], options.config.to_dict()))
    model.load_state_dict(state['state_dict'])
    optimizer.load_state_dict(state['optimizer'])
    scheduler.load_state_dict(state['scheduler'])
    sampler.load_state(state['sampler'])
    torch.set_rng_state(state['torch_rng'])
    LOG.info('resumed %s at step %d', last_path, int(state['step']))
    return int(state['step']), float(state['seconds'])


def _train_step(model, optimizer, scheduler, sampler: 'Sampler', weights: torch.Tensor,
                loss_stride: int) -> float:
    """One optimizer step on the next batch (loss on a strided pixel grid); returns the loss."""
    inputs, labels = sampler.next_batch()
    oy, ox = sampler.grid_offset(loss_stride)
    scores = model(torch.from_numpy(inputs), loss_stride, (oy, ox))
    labels = np.ascontiguousarray(labels[:, oy::loss_stride, ox::loss_stride])
    loss = F.cross_entropy(scores, torch.from_numpy(labels), weight=weights,
                           ignore_index=IGNORE_LABEL)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    scheduler.step()
    return float(loss.item())


def train(options: TrainOptions, dataset: Optional[TrainingSet] = None) -> Dict[str, object]:
    """
    Run (or resume) training; write OUT/last.ckpt periodically and OUT/model.ckpt at the end.

    With `options.stop_after` the run pauses after that many steps (writing OUT/last.ckpt, to
    be resumed); the learning-rate schedule always spans `options.steps`.
    Returns a summary: step, seconds, loss, model_path (None when paused), params.
    """
    from tqdm import tqdm

    out_dir = Path(options.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(options.threads)
    if dataset is None:
        dataset = build_training_set(options)
    torch.manual_seed(options.seed)
    model = build_model(options.config, seed=options.seed)
    if options.init_from and not options.resume:
        init_from_checkpoint(model, options.init_from)
    optimizer = _make_optimizer(model, options)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer,
                                                  _lr_lambda(options.warmup, options.steps))
    sampler = Sampler(dataset, options.batch_size, options.seed)
    weights = torch.from_numpy(class_weights(dataset.class_frequencies(), options.class_weights))
    last_path = out_dir / LAST_CHECKPOINT
    step, elapsed = 0, 0.0
    if options.resume:
        step, elapsed = _restore(last_path, options, model, optimizer, scheduler, sampler)
    LOG.info('training %s: %d params, %d frames, %d steps of %d',
             options.config.describe(), count_parameters(model), len(dataset), options.steps,
             options.batch_size)

    def checkpoint(path: Path, seconds: float, loss: float) -> None:
        save_checkpoint(model, path, optimizer=optimizer.state_dict(),
                        scheduler=scheduler.state_dict(), sampler=sampler.state(),
                        torch_rng=torch.get_rng_state(), step=step, seconds=seconds, loss=loss,
                        options=options.to_dict())

    history = out_dir / 'history.jsonl'
    model.train()
    started = time.perf_counter()
    running = None
    bar = tqdm(total=options.steps, initial=step, desc='training', unit='step',
               disable=not options.progress)
    end = (options.steps if options.stop_after is None
           else min(options.steps, step + options.stop_after))
    while step < end:
        value = _train_step(model, optimizer, scheduler, sampler, weights, options.loss_stride)
        step += 1
        running = value if running is None else 0.95 * running + 0.05 * value
        bar.update(1)
        bar.set_postfix(loss='%.3f' % running, lr='%.2e' % scheduler.get_last_lr()[0])
        if step % 10 == 0 or step == options.steps:
            with history.open('a') as f:
                f.write(json.dumps({'step': step, 'loss': value, 'smoothed': running,
                                    'lr': scheduler.get_last_lr()[0],
                                    'seconds': round(elapsed + time.perf_counter() - started,
                                                     1)}) + '\n')
        if step % options.checkpoint_every == 0 or step == end:
            checkpoint(last_path, elapsed + time.perf_counter() - started, running)
    bar.close()
    seconds = elapsed + time.perf_counter() - started
    if step < options.steps:
        LOG.info('paused at step %d of %d: resume with the same options and --resume', step,
                 options.steps)
        return {'step': step, 'seconds': seconds, 'loss': running, 'model_path': None,
                'params': count_parameters(model)}
    model.eval()
    model_path = save_checkpoint(model, out_dir / MODEL_CHECKPOINT,
                                 train={'steps': step, 'seconds': round(seconds, 1),
                                        'loss': running, 'frames': len(dataset),
                                        'options': options.to_dict()})
    return {'step': step, 'seconds': seconds, 'loss': running, 'model_path': str(model_path),
            'params': count_parameters(model)}


# ---------------------------------------------------------------------------------------------
# Prediction (the held-out evaluation is `fxseg_ros.eval.heldout`)


def torch_predictor(model: FCNAlexNet, threads: int = 2) -> Callable[[np.ndarray], np.ndarray]:
    """predict(blob float32 (N, 3, h, w)) -> scores float32 (N, C, h, w) with a torch model."""
    torch.set_num_threads(threads)
    model = model.eval()

    def predict(blob: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(blob)).numpy()
    return predict
