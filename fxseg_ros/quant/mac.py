# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Fixed-point reference of an INT8 convolution: the multiply-accumulate the hardware does.

- `dp4a(a, b, c)`: Pascal's DP4A instruction (sm_61, the Drive PX2's dGPU): four int8 x int8
  products summed into a 32-bit accumulator, c + a0*b0 + a1*b1 + a2*b2 + a3*b3, with int32
  wrap-around.
- `conv2d_int32`: a quantized convolution as im2col + dp4a over the reduction axis, returning
  the int32 accumulators of (x - x_zero_point) * (w - w_zero_point).
- `requantize`: int32 accumulator + int32 bias -> int8/uint8 output as ONNX Runtime's
  QLinearConv does on the CPU: float32 multiplier x_scale * w_scale / y_scale, round half to
  even, add the output zero point, saturate.

- `conv2d_int32_u8s8_avx2`: the same convolution as MLAS computes it for uint8 activations and
  int8 weights on x86 CPUs without VNNI (AVX2 `vpmaddubsw`): raw uint8 x int8 products are summed
  in pairs with int16 saturation, pairs ordered along (kh, kw, C) as in the NHWC kernels, and the
  zero point is removed afterwards with the weights' sums. ONNX Runtime turns int8 activations
  into uint8 with zero point 128 on x86, so this is what its CPU computes there; dp4a (and
  VNNI's `vpdpbusd`) have no intermediate saturation.

Everything is integer numpy except the requantisation multiplier; it is slow and meant for
checking a layer bit for bit, not for inference.
"""

from __future__ import annotations

from typing import Sequence, Tuple, Union

import numpy as np

INT8_MIN, INT8_MAX = -128, 127


def dp4a(a: np.ndarray, b: np.ndarray, c: Union[np.ndarray, int] = 0) -> np.ndarray:
    """
    Return the accumulator c plus the four products a[..., k] * b[..., k], in int32 (wrap-around).

    a, b: shape (..., 4), int8 or uint8 (also other integer types within 8 bits after a
    zero-point shift, as int16); c: int32 broadcastable to a.shape[:-1].
    """
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape[-1] != 4 or b.shape[-1] != 4:
        raise ValueError('dp4a takes groups of 4 values, got shapes %s and %s'
                         % (a.shape, b.shape))
    products = a.astype(np.int32) * b.astype(np.int32)
    with np.errstate(over='ignore'):
        return (np.asarray(c, dtype=np.int32) + products.sum(axis=-1, dtype=np.int32)).astype(
            np.int32)


def dot_dp4a(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """
    Dot products over the last axis, issued as a chain of dp4a instructions.

    a: shape (..., K); b: shape (..., K), broadcastable. K is zero-padded to a multiple of 4.
    Returns int32 (...).
    """
    a = np.asarray(a)
    b = np.asarray(b)
    k = a.shape[-1]
    pad = (-k) % 4
    if pad:
        a = np.concatenate([a, np.zeros(a.shape[:-1] + (pad,), dtype=a.dtype)], axis=-1)
        b = np.concatenate([b, np.zeros(b.shape[:-1] + (pad,), dtype=b.dtype)], axis=-1)
    a4 = a.reshape(a.shape[:-1] + (-1, 4))
    b4 = b.reshape(b.shape[:-1] + (-1, 4))
    acc = np.zeros(np.broadcast_shapes(a4.shape[:-2], b4.shape[:-2]), dtype=np.int32)
    for step in range(a4.shape[-2]):
        acc = dp4a(a4[..., step, :], b4[..., step, :], acc)
    return acc


def im2col(x: np.ndarray, kernel_hw: Tuple[int, int], strides: Tuple[int, int] = (1, 1),
           pads: Sequence[int] = (0, 0, 0, 0), dilations: Tuple[int, int] = (1, 1),
           pad_value: int = 0) -> Tuple[np.ndarray, Tuple[int, int]]:
    """
    Unfold (N, C, H, W) into columns (N, out_h * out_w, C * kh * kw) for a convolution.

    pads: ONNX order (top, left, bottom, right); pad_value: the padding in the input's integer
    domain (the zero point for quantized inputs). Returns (columns, (out_h, out_w)).
    """
    n, c, h, w = x.shape
    kh, kw = kernel_hw
    sh, sw = strides
    dh, dw = dilations
    top, left, bottom, right = pads
    padded = np.full((n, c, h + top + bottom, w + left + right), pad_value, dtype=x.dtype)
    padded[:, :, top:top + h, left:left + w] = x
    out_h = (h + top + bottom - dh * (kh - 1) - 1) // sh + 1
    out_w = (w + left + right - dw * (kw - 1) - 1) // sw + 1
    cols = np.empty((n, c, kh, kw, out_h, out_w), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = padded[:, :, i * dh:i * dh + sh * out_h:sh,
                                      j * dw:j * dw + sw * out_w:sw]
    cols = cols.reshape(n, c * kh * kw, out_h * out_w).transpose(0, 2, 1)
    return cols, (out_h, out_w)


def conv2d_int32(x_q: np.ndarray, x_zero_point: int, w_q: np.ndarray,
                 w_zero_point: Union[int, np.ndarray] = 0, strides: Tuple[int, int] = (1, 1),
                 pads: Sequence[int] = (0, 0, 0, 0),
                 dilations: Tuple[int, int] = (1, 1)) -> np.ndarray:
    """
    Integer convolution: int32 accumulators of sum (x_q - x_zp) * (w_q - w_zp), via dp4a.

    x_q: (N, C, H, W) int8/uint8; w_q: (M, C, kh, kw) int8 (group 1).
    The zero-point-shifted operands fit 9 bits (a uint8 activation with zero point 128 becomes
    int8 exactly); padding takes the value x_zero_point, i.e. a real zero.
    Returns int32 (N, M, out_h, out_w).
    """
    x_q = np.asarray(x_q)
    w_q = np.asarray(w_q)
    m, c, kh, kw = w_q.shape
    if x_q.shape[1] != c:
        raise ValueError('input has %d channels, weights expect %d (groups are not supported)'
                         % (x_q.shape[1], c))
    cols, (out_h, out_w) = im2col(x_q, (kh, kw), strides, pads, dilations,
                                  pad_value=int(x_zero_point))
    xs = cols.astype(np.int16) - np.int16(x_zero_point)
    wz = np.asarray(w_zero_point, dtype=np.int16).reshape(-1, 1) if np.ndim(w_zero_point) \
        else np.int16(w_zero_point)
    ws = w_q.reshape(m, -1).astype(np.int16) - wz
    # (N, P, 1, K) x (1, 1, M, K) -> (N, P, M)
    acc = dot_dp4a(xs[:, :, None, :], ws[None, None, :, :])
    return acc.transpose(0, 2, 1).reshape(x_q.shape[0], m, out_h, out_w)


def conv2d_int32_u8s8_avx2(x_q: np.ndarray, x_zero_point: int, w_q: np.ndarray,
                           strides: Tuple[int, int] = (1, 1),
                           pads: Sequence[int] = (0, 0, 0, 0),
                           dilations: Tuple[int, int] = (1, 1)) -> np.ndarray:
    """
    int32 accumulators as MLAS's AVX2 uint8 x int8 kernels produce them (int16 pair saturation).

    x_q: (N, C, H, W) uint8; w_q: (M, C, kh, kw) int8 with zero point 0. Products of adjacent
    reduction elements in (kh, kw, C) order are added in pairs and saturated to int16 (what
    `vpmaddubsw` does), the pairs summed in int32, then x_zero_point * sum(w) subtracted.
    Equals `conv2d_int32` whenever no pair exceeds [-32768, 32767].
    Returns int32 (N, M, out_h, out_w).
    """
    x_q = np.asarray(x_q)
    w_q = np.asarray(w_q)
    if x_q.dtype != np.uint8:
        raise ValueError('the u8s8 kernel takes uint8 activations, got %s' % x_q.dtype)
    m, c, kh, kw = w_q.shape
    cols, (out_h, out_w) = im2col(x_q, (kh, kw), strides, pads, dilations,
                                  pad_value=int(x_zero_point))
    n, positions, k = cols.shape
    # (C, kh, kw) -> (kh, kw, C): the NHWC reduction order.
    cols = cols.reshape(n, positions, c, kh * kw).transpose(0, 1, 3, 2).reshape(n, positions, k)
    wm = w_q.reshape(m, c, kh * kw).transpose(0, 2, 1).reshape(m, k)
    pad = (-k) % 4
    cols = np.concatenate([cols, np.zeros((n, positions, pad), cols.dtype)], -1).astype(np.int32)
    wm = np.concatenate([wm, np.zeros((m, pad), wm.dtype)], -1).astype(np.int32)
    pairs = (cols[:, :, None, :] * wm[None, None]).reshape(n, positions, m, -1, 2).sum(-1)
    np.clip(pairs, -32768, 32767, out=pairs)
    acc = pairs.sum(-1, dtype=np.int64) - int(x_zero_point) * wm.sum(-1)[None, None]
    return acc.astype(np.int32).transpose(0, 2, 1).reshape(n, m, out_h, out_w)


def quantize_bias(bias: np.ndarray, x_scale: float, w_scale: np.ndarray) -> np.ndarray:
    """Float bias -> int32 with scale x_scale * w_scale (per channel), round half to even."""
    scale = np.float32(x_scale) * np.asarray(w_scale, dtype=np.float32)
    return np.rint(np.asarray(bias, dtype=np.float32) / scale).astype(np.int32)


def requantize(acc: np.ndarray, x_scale: float, w_scale: Union[float, np.ndarray],
               y_scale: float, y_zero_point: int = 0, out_dtype=np.int8,
               bias_q: Union[np.ndarray, None] = None) -> np.ndarray:
    """
    int32 accumulators (N, M, ...) -> int8/uint8 outputs as ONNX Runtime's CPU QLinearConv.

    y = saturate(round_half_even(float32(acc + bias_q) * float32(x_scale * w_scale / y_scale))
    + y_zero_point). w_scale: scalar or (M,) per output channel.
    """
    acc = np.asarray(acc, dtype=np.int32)
    if bias_q is not None:
        shape = (1, -1) + (1,) * (acc.ndim - 2)
        acc = acc + np.asarray(bias_q, dtype=np.int32).reshape(shape)
    w_scale = np.asarray(w_scale, dtype=np.float32)
    multiplier = (np.float32(x_scale) * w_scale / np.float32(y_scale)).astype(np.float32)
    if multiplier.ndim:
        multiplier = multiplier.reshape((1, -1) + (1,) * (acc.ndim - 2))
    scaled = acc.astype(np.float32) * multiplier
    info = np.iinfo(out_dtype)
    y = np.rint(scaled) + np.float32(y_zero_point)
    return np.clip(y, info.min, info.max).astype(out_dtype)


def quantize(x: np.ndarray, scale: float, zero_point: int = 0, dtype=np.int8) -> np.ndarray:
    """ONNX QuantizeLinear: saturate(round_half_even(x / scale) + zero_point)."""
    info = np.iinfo(dtype)
    q = np.rint(np.asarray(x, dtype=np.float32) / np.float32(scale)) + zero_point
    return np.clip(q, info.min, info.max).astype(dtype)
