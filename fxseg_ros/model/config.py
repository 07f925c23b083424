# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The FCN-AlexNet configuration and the numbers of its architecture, without torch.

`fxseg_ros.model.fcn_alexnet` builds the network from an `FCNConfig`; the export, the command
line and tests read and compare configurations without importing torch.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Dict, Union

from fxseg_ros.data.labels import NUM_CLASSES
import numpy as np

#: Upscore kinds: FCN's fixed bilinear ConvTranspose + crop, a trainable one, or a bilinear resize.
UPSCORE_KINDS = ('deconv', 'learned', 'resize')
#: Kernel sizes of FCN's x32 upscore: 63 (fcn-alexnet in Caffe) or 64 (FCN-32s); stride 32.
UPSCORE_KERNELS = (63, 64)
UPSCORE_STRIDE = 32
#: Output strides: 32 = FCN-32s; 16, 8 and 4 add FCN-style skips from pool2, pool1 and conv1.
OUTPUT_STRIDES = (32, 16, 8, 4)
#: The layers the skips start from, in fusion order, with their grid strides.
SKIP_LAYERS = (('pool2', 16), ('pool1', 8), ('conv1', 4))
#: Caffe LRN parameters of AlexNet (local_size, alpha, beta, k).
LRN_PARAMS = (5, 1e-4, 0.75, 1.0)


@dataclasses.dataclass(frozen=True)
class FCNConfig:
    """
    Architecture of one FCN-AlexNet variant; the defaults are the Caffe network.

    width: channel multiplier; conv1_pad: 100 (FCN) or 0; lrn: keep the two LRN layers;
    upscore: one of UPSCORE_KINDS; upscore_kernel: 63 or 64 (deconv / learned upscore);
    groups: 2 (AlexNet's two towers) or 1 for conv2/4/5; dropout: after fc6 and fc7 in training;
    output_stride: 32 (FCN-32s, as Caffe's fcn-alexnet), 16 (plus a pool2 skip), 8 (plus pool2
    and pool1 skips) or 4 (plus a conv1 skip too), FCN-16s / FCN-8s style.
    """

    num_classes: int = NUM_CLASSES
    width: float = 1.0
    conv1_pad: int = 100
    lrn: bool = True
    upscore: str = 'deconv'
    upscore_kernel: int = 63
    groups: int = 2
    dropout: float = 0.5
    output_stride: int = 32

    def __post_init__(self):
        if self.num_classes < 2:
            raise ValueError('num_classes must be >= 2, got %d' % self.num_classes)
        if not 0.0 < self.width <= 4.0:
            raise ValueError('width must be in (0, 4], got %s' % self.width)
        if self.conv1_pad not in (0, 100):
            raise ValueError('conv1_pad must be 100 or 0, got %s' % self.conv1_pad)
        if self.upscore not in UPSCORE_KINDS:
            raise ValueError('upscore must be one of %s, got %r' % (UPSCORE_KINDS, self.upscore))
        if self.upscore_kernel not in UPSCORE_KERNELS:
            raise ValueError('upscore_kernel must be one of %s, got %s'
                             % (UPSCORE_KERNELS, self.upscore_kernel))
        if self.groups not in (1, 2):
            raise ValueError('groups must be 1 or 2, got %s' % self.groups)
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError('dropout must be in [0, 1), got %s' % self.dropout)
        if self.output_stride not in OUTPUT_STRIDES:
            raise ValueError('output_stride must be one of %s, got %s'
                             % (OUTPUT_STRIDES, self.output_stride))
        if self.output_stride != 32 and self.upscore != 'deconv':
            raise ValueError('skip layers (output_stride %d) need the fixed bilinear upscore '
                             "('deconv'), not %r" % (self.output_stride, self.upscore))

    def to_dict(self) -> Dict[str, object]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Dict[str, object]) -> 'FCNConfig':
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError('unknown FCN-AlexNet config keys %s' % unknown)
        return cls(**values)

    @property
    def fc6_pad(self) -> int:
        """fc6 padding: 0 behind FCN's 100-pixel conv1 padding, 3 without it."""
        return 0 if self.conv1_pad else 3

    def channels(self) -> Dict[str, int]:
        """Output channels per layer after the width multiplier."""
        base = {'conv1': 96, 'conv2': 256, 'conv3': 384, 'conv4': 384, 'conv5': 256,
                'fc6': 4096, 'fc7': 4096}
        return {name: scaled_channels(c, self.width) for name, c in base.items()}

    def score_origin(self) -> float:
        """
        Input pixel coordinate of the centre of score-map cell 0 (cells are 32 pixels apart).

        conv1 (11/4, pad p) -> pool 3/2 -> pool 3/2 -> pool 3/2 -> fc6 (6, pad q) puts cell 0 at
        113 - p - 32 q: 13 for FCN's padding, 17 for conv1_pad 0 with fc6 pad 3.
        """
        return 113.0 - self.conv1_pad - 32.0 * self.fc6_pad

    def grid_origins(self) -> Dict[str, float]:
        """
        Return the input pixel of cell 0 of each grid.

        Grids: conv1 (stride 4), pool1 (8), pool2 (16) and score (32).
        """
        return {'conv1': 5.0 - self.conv1_pad, 'pool1': 9.0 - self.conv1_pad,
                'pool2': 17.0 - self.conv1_pad, 'score': self.score_origin()}

    def upscore_center(self) -> float:
        """Centre tap of the upscore kernel: ConvTranspose output 32 s + center is cell s."""
        return (self.upscore_kernel - 1) / 2.0

    def crop_offset(self) -> int:
        """
        Crop offset after the upscore: 18 for FCN's padding (as in Caffe's fcn-alexnet).

        ConvTranspose output o is score cell (o - center) / 32, so input pixel x sits at
        o = x + center - origin (exactly 18 for kernel 63; 18.5, rounded down, for 64).
        """
        return int(math.floor(self.upscore_center() - self.score_origin()))

    def describe(self) -> str:
        upscore = self.upscore
        if upscore != 'resize':
            upscore += ' %d/%d' % (self.upscore_kernel, UPSCORE_STRIDE)
        parts = ['width %g' % self.width, 'conv1 pad %d' % self.conv1_pad,
                 'LRN' if self.lrn else 'no LRN', '%s upscore' % upscore]
        if self.groups != 2:
            parts.append('%d group' % self.groups)
        if self.output_stride != 32:
            parts.append('%ds skips' % self.output_stride)
        return ', '.join(parts)


#: The checkpoints a training run writes into its --out folder (torch-free here, so that the
#: command line can check them before torch is imported).
LAST_CHECKPOINT = 'last.ckpt'
MODEL_CHECKPOINT = 'model.ckpt'


def default_model_path(out_dir: Union[str, Path]) -> Path:
    """Return the final checkpoint of the training run in `out_dir`."""
    return Path(out_dir) / MODEL_CHECKPOINT


def scaled_channels(channels: int, width: float) -> int:
    """Channel count times `width`, rounded to a multiple of 8 (at least 8)."""
    return max(8, int(round(channels * width / 8.0)) * 8)


def bilinear_kernel(size: int) -> np.ndarray:
    """
    Return FCN's bilinear upsampling filter (`surgery.upsample_filt`): a separable tent.

    Half-width (size + 1) // 2, centred on tap (size - 1) / 2. Returns (size, size), float32.
    """
    factor = (size + 1) // 2
    center = factor - 1 if size % 2 == 1 else factor - 0.5
    taps = 1.0 - np.abs(np.arange(size, dtype=np.float64) - center) / factor
    return np.outer(taps, taps).astype(np.float32)
