# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
FCN-AlexNet (Long, Shelhamer, Darrell: Fully Convolutional Networks for Semantic Segmentation).

The layers follow Caffe's `voc-fcn-alexnet` (fcn.berkeleyvision.org; NVIDIA DIGITS'
`fcn_alexnet.prototxt` has the same ones): conv1 11x11/4 (96) with FCN's 100-pixel padding,
ReLU, max pool 3/2, LRN (5, 1e-4, 0.75), conv2 5x5 (256, 2 groups), pool, LRN, conv3 3x3 (384),
conv4 3x3 (384, 2 groups), conv5 3x3 (256, 2 groups), pool, fc6 as a 6x6 convolution (4096),
fc7 1x1 (4096), score_fr 1x1 (classes), a fixed per-class bilinear upscore x32 and a crop to the
input size. Caffe pools round up (`ceil_mode=True`).

The upscore kernel is 63 as in fcn.berkeleyvision.org, filled by its `surgery.interp`: a tent of
half-width 32 centred on tap 31, i.e. an exact bilinear x32 interpolation whose samples sit on
output pixels 32 s + 31, which with the crop offset 18 lands score cell s on input pixel
32 s + 13, its receptive-field centre. A 64 kernel (centred on 31.5, as FCN-32s uses) is an
option; it is half a pixel off with the same crop.

Options for small, fast variants: a width multiplier (every channel count, 4096 included, times
`width`, rounded to a multiple of 8), conv1 padding 0 (fc6 then pads by 3 so the score map still
covers the input), LRN off, one group instead of two, and a bilinear `resize` upscore or a
`learned` (trainable, bilinear-initialised) one instead of the fixed one.

Parameter count at width 1.0 with 19 classes: 56.95 M (two groups, as Caffe; 20.5 GMACs at
640x360). With one group and a learned 19x19 upscore it is 59.79 M (239 MB in FP32; 25.0 GMACs),
the size usually quoted for FCN-AlexNet.
Checkpoints hold `{'config': FCNConfig.to_dict(), 'state_dict': ...}` (training checkpoints add
the optimizer and random state). The configuration (`fxseg_ros.model.config`) needs no torch.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

from fxseg_ros.model.config import (bilinear_kernel, FCNConfig, LRN_PARAMS, SKIP_LAYERS,
                                    UPSCORE_STRIDE)
import numpy as np
import torch
from torch import nn
import torch.nn.functional as F


class LocalResponseNorm(nn.LocalResponseNorm):
    """
    Caffe's across-channel LRN; exported as one ONNX `LRN` op.

    torch's own export of `nn.LocalResponseNorm` is a Pad/AveragePool/Pow subgraph with a data-
    dependent `If` that ONNX shape inference cannot follow, so export goes through
    `_LRNExport.symbolic`. Numerically the same formula: x / (k + alpha/n * sum x^2)^beta.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.onnx.is_in_onnx_export():
            return _LRNExport.apply(x, self.size, self.alpha, self.beta, self.k)
        return super().forward(x)


class _LRNExport(torch.autograd.Function):
    """Forward-only bridge that the TorchScript ONNX exporter turns into one `LRN` node."""

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):  # noqa: D102
        return F.local_response_norm(x, size, alpha, beta, k)

    @staticmethod
    def symbolic(g, x, size, alpha, beta, k):  # noqa: D102
        return g.op('LRN', x, size_i=int(size), alpha_f=float(alpha), beta_f=float(beta),
                    bias_f=float(k))


class FixedBilinearUpscore(nn.Module):
    """
    FCN's upscore: per-class ConvTranspose k/32 with the fixed bilinear filter, then crop.

    Not learned (Caffe: lr_mult 0); the filter is rebuilt from the config, not stored in the
    checkpoint. The filter is separable, so forward computes the cropped ConvTranspose as two
    small matrix products (identical result, about 2.5x faster to train than
    `F.conv_transpose2d`, see `conv_transpose`). Exported as Pad -> Resize -> Slice (see
    fxseg_ros.model.export).
    """

    def __init__(self, num_classes: int, crop: int, kernel_size: int = 63):
        super().__init__()
        self.num_classes = num_classes
        self.crop = crop
        self.kernel_size = kernel_size
        taps = np.sqrt(np.diag(bilinear_kernel(kernel_size)))  # the 1-D tent
        self.taps = taps.astype(np.float32)
        kernel = torch.from_numpy(bilinear_kernel(kernel_size))
        self.register_buffer('weight', kernel.expand(num_classes, 1, -1, -1).contiguous(),
                             persistent=False)

    def interpolation_matrix(self, out_size: int, in_size: int) -> np.ndarray:
        """
        Rows: cropped output pixels; columns: score cells. Shape (out_size, in_size), float32.

        Entry [x, s] is the tap k[x + crop - 32 s] of the 1-D filter (0 outside the kernel).
        """
        up_size = (in_size - 1) * UPSCORE_STRIDE + self.kernel_size
        if up_size < self.crop + out_size:
            raise ValueError('upscored size %d does not cover %d output pixels at crop offset %d'
                             % (up_size, out_size, self.crop))
        tap = (np.arange(out_size)[:, None] + self.crop
               - UPSCORE_STRIDE * np.arange(in_size)[None, :])
        inside = (tap >= 0) & (tap < self.kernel_size)
        return np.where(inside, self.taps[np.clip(tap, 0, self.kernel_size - 1)],
                        0.0).astype(np.float32)

    def forward(self, scores: torch.Tensor, out_hw: Sequence[int], stride: int = 1,
                offset: Sequence[int] = (0, 0)) -> torch.Tensor:
        rows = self.interpolation_matrix(int(out_hw[0]), scores.shape[-2])
        cols = self.interpolation_matrix(int(out_hw[1]), scores.shape[-1])
        # Only the output pixels asked for: a stride-s grid costs 1/s^2 of the full map.
        rows = torch.from_numpy(rows[offset[0]::stride])
        cols = torch.from_numpy(cols[offset[1]::stride])
        rows = rows.to(device=scores.device, dtype=scores.dtype)
        cols = cols.to(device=scores.device, dtype=scores.dtype)
        return torch.matmul(torch.matmul(rows, scores), cols.t())

    def conv_transpose(self, scores: torch.Tensor, out_hw: Sequence[int]) -> torch.Tensor:
        """Apply the literal definition: grouped `F.conv_transpose2d` with the filter, crop."""
        up = F.conv_transpose2d(scores, self.weight.to(scores), stride=UPSCORE_STRIDE,
                                groups=self.num_classes)
        return crop_to(up, self.crop, out_hw)


class LearnedUpscore(nn.Module):
    """A trainable C-to-C ConvTranspose k/32 (bilinear on the diagonal at start), then crop."""

    def __init__(self, num_classes: int, crop: int, kernel_size: int = 63):
        super().__init__()
        self.crop = crop
        self.deconv = nn.ConvTranspose2d(num_classes, num_classes, kernel_size,
                                         stride=UPSCORE_STRIDE, bias=False)
        with torch.no_grad():
            self.deconv.weight.zero_()
            kernel = torch.from_numpy(bilinear_kernel(kernel_size))
            for c in range(num_classes):
                self.deconv.weight[c, c] = kernel

    def forward(self, scores: torch.Tensor, out_hw: Sequence[int], stride: int = 1,
                offset: Sequence[int] = (0, 0)) -> torch.Tensor:
        out = crop_to(self.deconv(scores), self.crop, out_hw)
        return out[:, :, offset[0]::stride, offset[1]::stride]


class ResizeUpscore(nn.Module):
    """Bilinear (half-pixel) resize of the score map to the input size: ONNX `Resize`."""

    def forward(self, scores: torch.Tensor, out_hw: Sequence[int], stride: int = 1,
                offset: Sequence[int] = (0, 0)) -> torch.Tensor:
        out = F.interpolate(scores, size=(int(out_hw[0]), int(out_hw[1])), mode='bilinear',
                            align_corners=False)
        return out[:, :, offset[0]::stride, offset[1]::stride]


def linear_matrix(coords: np.ndarray, in_size: int) -> np.ndarray:
    """
    Return the matrix of linear interpolation at input coordinates `coords`.

    Clamped to the first and last cell (ONNX `Resize` linear semantics).
    Shape (len(coords), in_size), float32.
    """
    coords = np.clip(np.asarray(coords, dtype=np.float64), 0.0, in_size - 1)
    low = np.floor(coords).astype(np.int64)
    high = np.minimum(low + 1, in_size - 1)
    frac = coords - low
    rows = np.arange(len(coords))
    matrix = np.zeros((len(coords), in_size), dtype=np.float64)
    np.add.at(matrix, (rows, low), 1.0 - frac)
    np.add.at(matrix, (rows, high), frac)
    return matrix.astype(np.float32)


class SkipUpscore(nn.Module):
    """
    FCN-16s / FCN-8s style fusion for FCN-AlexNet, with exact geometry.

    The score map (stride 32) is upsampled x2 onto the pool2 grid (stride 16) and added to the
    pool2 skip scores, then (8s) x2 onto the pool1 grid (stride 8) and added to the pool1 skip
    scores, then (4s) likewise onto the conv1 grid (stride 4); the fused map is upsampled
    bilinearly to pixels. Each x2 step is ONNX `Resize`
    (linear, asymmetric): its output k sits exactly on the finer grid's cell k + shift because
    all grid origins differ by whole cells (`plan`). Pixels outside the fused grid take the
    nearest edge cell's scores (the fused grid starts 17 pixels into the image: a zero fade as
    in the x32 ConvTranspose would leave the first rows and columns without scores). Computed
    here with small interpolation matrices; exported as Resize / Slice / Add / Concat
    (fxseg_ros.model.export).
    """

    def __init__(self, config: FCNConfig):
        super().__init__()
        self.output_stride = config.output_stride
        self.origins = config.grid_origins()

    def plan(self, score_hw: Sequence[int], skip_hws: Sequence[Sequence[int]],
             out_hw: Sequence[int]) -> dict:
        """
        Sizes and offsets of the fusion, per axis (0 = rows, 1 = columns).

        Returns {'steps': [{'shift': (dy, dx), 'size': (h, w)}, ...], 'origin': pixel of cell 0
        of the fused grid, 'stride', 'size': fused (h, w), 'pad_front' / 'pad_back': (cy, cx)
        edge cells to add before the final x stride Resize (linear, asymmetric), 'start': (y,
        x) of the crop after it}.
        """
        origin = self.origins['score']
        stride = 32
        size = [int(score_hw[0]), int(score_hw[1])]
        steps = []
        for skip_hw, (name, _) in zip(skip_hws, SKIP_LAYERS):
            stride //= 2
            shift = (origin - self.origins[name]) / stride
            if shift != int(shift) or shift < 0:
                raise ValueError('%s grid is not a whole number of cells behind the score grid'
                                 % name)
            shift = int(shift)
            size = [min(2 * size[a], int(skip_hw[a]) - shift) for a in (0, 1)]
            steps.append({'shift': (shift, shift), 'size': tuple(size)})
        front = max(0, int(math.ceil(origin / stride)))
        start = int(round(stride * front - origin))
        # The Resize output has (cells) * stride pixels; past the last cell it clamps.
        back = [max(0, int(math.ceil((start + int(out_hw[a])) / float(stride))) - size[a]
                    - front) for a in (0, 1)]
        return {'steps': steps, 'origin': origin, 'stride': stride, 'size': tuple(size),
                'pad_front': (front, front), 'pad_back': tuple(back), 'start': (start, start)}

    def forward(self, score: torch.Tensor, skips: Sequence[torch.Tensor],
                out_hw: Sequence[int], stride: int = 1,
                offset: Sequence[int] = (0, 0)) -> torch.Tensor:
        plan = self.plan(score.shape[-2:], [s.shape[-2:] for s in skips], out_hw)

        def as_tensor(matrix):
            return torch.from_numpy(matrix).to(device=score.device, dtype=score.dtype)

        fused = score
        for skip, step in zip(skips, plan['steps']):
            (h, w), (dy, dx) = step['size'], step['shift']
            rows = as_tensor(linear_matrix(np.arange(h) / 2.0, fused.shape[-2]))
            cols = as_tensor(linear_matrix(np.arange(w) / 2.0, fused.shape[-1]))
            fused = (torch.matmul(torch.matmul(rows, fused), cols.t())
                     + skip[:, :, dy:dy + h, dx:dx + w])
        rows = linear_matrix((np.arange(int(out_hw[0])) - plan['origin']) / plan['stride'],
                             fused.shape[-2])
        cols = linear_matrix((np.arange(int(out_hw[1])) - plan['origin']) / plan['stride'],
                             fused.shape[-1])
        rows = as_tensor(rows[offset[0]::stride])
        cols = as_tensor(cols[offset[1]::stride])
        return torch.matmul(torch.matmul(rows, fused), cols.t())


def crop_to(x: torch.Tensor, offset: int, out_hw: Sequence[int]) -> torch.Tensor:
    """Caffe's Crop (axis 2): x[:, :, offset:offset + h, offset:offset + w]."""
    h, w = int(out_hw[0]), int(out_hw[1])
    if x.shape[-2] < offset + h or x.shape[-1] < offset + w:
        raise ValueError('upscored map %dx%d does not cover a %dx%d input at crop offset %d'
                         % (x.shape[-2], x.shape[-1], h, w, offset))
    return x[:, :, offset:offset + h, offset:offset + w]


class FCNAlexNet(nn.Module):
    """
    FCN-AlexNet. forward(x): x float32 (N, 3, H, W), normalised by `preprocess()`.

    Returns class scores, shape (N, num_classes, H, W), float32.
    """

    def __init__(self, config: Optional[FCNConfig] = None):
        super().__init__()
        self.config = config = config or FCNConfig()
        ch = config.channels()
        g = config.groups
        lrn = (lambda: LocalResponseNorm(*LRN_PARAMS)) if config.lrn else nn.Identity
        self.conv1 = nn.Conv2d(3, ch['conv1'], 11, stride=4, padding=config.conv1_pad)
        self.relu1 = nn.ReLU(inplace=True)
        self.pool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.norm1 = lrn()
        self.conv2 = nn.Conv2d(ch['conv1'], ch['conv2'], 5, padding=2, groups=g)
        self.relu2 = nn.ReLU(inplace=True)
        self.pool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.norm2 = lrn()
        self.conv3 = nn.Conv2d(ch['conv2'], ch['conv3'], 3, padding=1)
        self.relu3 = nn.ReLU(inplace=True)
        self.conv4 = nn.Conv2d(ch['conv3'], ch['conv4'], 3, padding=1, groups=g)
        self.relu4 = nn.ReLU(inplace=True)
        self.conv5 = nn.Conv2d(ch['conv4'], ch['conv5'], 3, padding=1, groups=g)
        self.relu5 = nn.ReLU(inplace=True)
        self.pool5 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.fc6 = nn.Conv2d(ch['conv5'], ch['fc6'], 6, padding=config.fc6_pad)
        self.relu6 = nn.ReLU(inplace=True)
        self.drop6 = nn.Dropout(config.dropout)
        self.fc7 = nn.Conv2d(ch['fc6'], ch['fc7'], 1)
        self.relu7 = nn.ReLU(inplace=True)
        self.drop7 = nn.Dropout(config.dropout)
        self.score_fr = nn.Conv2d(ch['fc7'], config.num_classes, 1)
        if config.output_stride <= 16:
            self.score_pool2 = nn.Conv2d(ch['conv2'], config.num_classes, 1)
        if config.output_stride <= 8:
            self.score_pool1 = nn.Conv2d(ch['conv1'], config.num_classes, 1)
        if config.output_stride <= 4:
            self.score_conv1 = nn.Conv2d(ch['conv1'], config.num_classes, 1)
        if config.output_stride != 32:
            self.upscore = SkipUpscore(config)
        elif config.upscore == 'deconv':
            self.upscore = FixedBilinearUpscore(config.num_classes, config.crop_offset(),
                                                config.upscore_kernel)
        elif config.upscore == 'learned':
            self.upscore = LearnedUpscore(config.num_classes, config.crop_offset(),
                                          config.upscore_kernel)
        else:
            self.upscore = ResizeUpscore()

    def score_map(self, x: torch.Tensor) -> torch.Tensor:
        """Return the coarse scores before the upscore: shape (N, classes, ~H/32, ~W/32)."""
        return self.score_maps(x)[0]

    def score_maps(self, x: torch.Tensor) -> List[torch.Tensor]:
        """
        score_fr, then (output_stride 16 / 8 / 4) the pool2, pool1 and conv1 skip scores.

        Shapes: (N, classes, ~H/32, ~W/32), (N, classes, ~H/16, ~W/16), (N, classes, ~H/8,
        ~W/8), (N, classes, ~H/4, ~W/4).
        """
        x = c1 = self.relu1(self.conv1(x))
        x = n1 = self.norm1(self.pool1(x))
        x = n2 = self.norm2(self.pool2(self.relu2(self.conv2(x))))
        x = self.relu3(self.conv3(x))
        x = self.relu4(self.conv4(x))
        x = self.pool5(self.relu5(self.conv5(x)))
        x = self.drop6(self.relu6(self.fc6(x)))
        x = self.drop7(self.relu7(self.fc7(x)))
        scores = [self.score_fr(x)]
        if self.config.output_stride <= 16:
            scores.append(self.score_pool2(n2))
        if self.config.output_stride <= 8:
            scores.append(self.score_pool1(n1))
        if self.config.output_stride <= 4:
            scores.append(self.score_conv1(c1))
        return scores

    def forward(self, x: torch.Tensor, sample_stride: int = 1,
                sample_offset: Sequence[int] = (0, 0)) -> torch.Tensor:
        """
        Return the scores of every pixel.

        With sample_stride s > 1, those of the pixel grid [oy::s, ox::s] only (for a cheaper
        training loss; the same values).
        """
        if self.config.output_stride != 32:
            scores = self.score_maps(x)
            return self.upscore(scores[0], scores[1:], x.shape[-2:], sample_stride,
                                sample_offset)
        if sample_stride == 1:
            return self.upscore(self.score_map(x), x.shape[-2:])
        return self.upscore(self.score_map(x), x.shape[-2:], sample_stride, sample_offset)


def init_weights(model: FCNAlexNet, seed: int = 0) -> FCNAlexNet:
    """
    Initialise the weights of `model`, seeded.

    He-normal convolutions (fan-out), zero biases, a small score layer and zero skip score
    layers (so training starts from the 32s network, as FCN does).
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, module in model.named_modules():
            if isinstance(module, nn.Conv2d):
                fan_out = module.out_channels * module.kernel_size[0] * module.kernel_size[1]
                std = 0.01 if name == 'score_fr' else math.sqrt(2.0 / fan_out)
                if name in ('score_pool2', 'score_pool1', 'score_conv1'):
                    std = 0.0
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * std)
                module.bias.zero_()
    return model


def build_model(config: Optional[FCNConfig] = None, seed: int = 0) -> FCNAlexNet:
    """Return a freshly initialised FCN-AlexNet (deterministic for a seed)."""
    return init_weights(FCNAlexNet(config or FCNConfig()), seed)


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def layer_table(config: FCNConfig, input_hw: Tuple[int, int] = (360, 640)) -> List[dict]:
    """
    Per-layer output shape, parameters and multiply-accumulates of one forward pass (batch 1).

    Computed on the meta device: nothing is allocated, so the full-width model is cheap. The
    fixed upscore counts its per-class ConvTranspose MACs (as exported it is a Resize).
    """
    with torch.device('meta'):
        model = FCNAlexNet(config)
    for module in model.modules():
        if isinstance(module, LocalResponseNorm):
            # Same shape out; torch's meta LRN (avg_pool3d) takes seconds to set up.
            module.forward = _same_shape
    rows = []

    def hook(module, inputs, output):
        name = names[module]
        x = inputs[0]
        if isinstance(module, nn.Conv2d):
            per_out = module.in_channels // module.groups * module.kernel_size[0] \
                * module.kernel_size[1]
            macs = output.numel() * per_out
        elif isinstance(module, nn.ConvTranspose2d):
            macs = x.numel() * module.out_channels // module.groups \
                * module.kernel_size[0] * module.kernel_size[1]
        elif isinstance(module, FixedBilinearUpscore):
            macs = x.numel() * module.weight.shape[-2] * module.weight.shape[-1]
        else:
            macs = 0
        params = sum(p.numel() for p in module.parameters(recurse=False))
        rows.append({'name': name, 'type': type(module).__name__,
                     'out_shape': tuple(output.shape), 'params': params, 'macs': macs})

    names = {}
    handles = []
    for name, module in model.named_modules():
        if name and not isinstance(module, (nn.ReLU, nn.Dropout, nn.Identity)):
            names[module] = name
            handles.append(module.register_forward_hook(hook))
    model.eval()
    with torch.no_grad():
        model(torch.empty((1, 3) + tuple(input_hw), device='meta'))
    for h in handles:
        h.remove()
    return rows


def _same_shape(x: torch.Tensor) -> torch.Tensor:
    return x


def count_macs(config: FCNConfig, input_hw: Tuple[int, int] = (360, 640)) -> int:
    """Multiply-accumulates of one frame (convolutions and upscore)."""
    return sum(row['macs'] for row in layer_table(config, input_hw))


def save_checkpoint(model: FCNAlexNet, path: Union[str, Path], **extra) -> Path:
    """Write `{'config', 'state_dict', **extra}` atomically (temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {'config': model.config.to_dict(), 'state_dict': model.state_dict()}
    payload.update(extra)
    tmp = path.with_name(path.name + '.tmp')
    torch.save(payload, str(tmp))
    tmp.replace(path)
    return path


def torch_load(path: Union[str, Path]) -> object:
    """`torch.load` of tensors and plain Python data only (no pickled code), on the CPU."""
    try:
        return torch.load(str(path), map_location='cpu', weights_only=True)
    except TypeError:  # torch < 1.13 has no weights_only
        return torch.load(str(path), map_location='cpu')


def load_checkpoint(path: Union[str, Path]) -> FCNAlexNet:
    """Rebuild the model of a checkpoint written by `save_checkpoint`, in eval mode."""
    payload = torch_load(path)
    if not isinstance(payload, dict) or 'config' not in payload or 'state_dict' not in payload:
        raise ValueError('%s is not an fxseg_ros FCN-AlexNet checkpoint (expected a dict with '
                         "'config' and 'state_dict')" % path)
    model = FCNAlexNet(FCNConfig.from_dict(payload['config']))
    model.load_state_dict(payload['state_dict'])
    return model.eval()
