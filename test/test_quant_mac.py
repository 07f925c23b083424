# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The fixed-point reference reproduces ONNX Runtime's QLinearConv bit for bit.

Requantisation: ORT's CPU multiplies the int32 accumulator (plus int32 bias), converted to
float32, by the float32 multiplier x_scale * w_scale / y_scale, rounds half to even and
saturates; the reference does the same operations in the same precision, so the int8 outputs
are equal, not just within 1 LSB. A 1-LSB difference would appear only if the multiplier were
computed in another order or precision (e.g. double), which flips values that lie exactly
between two levels.

The accumulation is where x86 differs from the GPU: for uint8 activations (ORT turns int8
activations into uint8 with zero point 128 on x86) MLAS's AVX2 kernel adds pairs of u8 x s8
products in saturating int16 (`vpmaddubsw`) before the int32 sum. dp4a on the GPU and VNNI
(`vpdpbusd`) do not saturate. The u8 test accepts either behaviour and checks that the
reference models the one this CPU has exactly.
"""

from __future__ import annotations

from fxseg_ros.quant.mac import (conv2d_int32, conv2d_int32_u8s8_avx2, dot_dp4a, dp4a, im2col,
                                 quantize, requantize)
from fxseg_ros.runtime.session import make_session
import numpy as np
from onnx import helper, numpy_helper, TensorProto
import pytest


def test_dp4a_four_products_into_int32():
    a = np.array([127, -128, 5, -7], np.int8)
    b = np.array([127, 127, -3, -2], np.int8)
    assert dp4a(a, b, 1000) == 1000 + 127 * 127 - 128 * 127 - 15 + 14
    # Accumulates into 32 bits with wrap-around, like the instruction.
    big = np.full(4, 127, np.int8)
    wrapped = (2 ** 31 - 1 + 4 * 127 * 127 + 2 ** 31) % 2 ** 32 - 2 ** 31
    assert wrapped < 0
    assert dp4a(big, big, np.int32(2 ** 31 - 1)) == wrapped
    with pytest.raises(ValueError):
        dp4a(np.zeros(3, np.int8), np.zeros(3, np.int8))


def test_dot_dp4a_equals_integer_dot_with_padding():
    rng = np.random.default_rng(0)
    a = rng.integers(-128, 128, (5, 27)).astype(np.int8)
    b = rng.integers(-128, 128, (5, 27)).astype(np.int8)
    assert np.array_equal(dot_dp4a(a, b), (a.astype(np.int64) * b).sum(axis=1))


def test_im2col_matches_direct_convolution():
    rng = np.random.default_rng(1)
    x = rng.integers(-5, 6, (1, 2, 5, 6)).astype(np.int32)
    w = rng.integers(-3, 4, (3, 2, 3, 3)).astype(np.int32)
    cols, (oh, ow) = im2col(x, (3, 3), (2, 1), (1, 1, 1, 1))
    out = (cols @ w.reshape(3, -1).T).transpose(0, 2, 1).reshape(1, 3, oh, ow)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    direct = np.zeros_like(out)
    for m in range(3):
        for i in range(oh):
            for j in range(ow):
                direct[0, m, i, j] = (padded[0, :, 2 * i:2 * i + 3, j:j + 3] * w[m]).sum()
    assert np.array_equal(out, direct)


def _qlinearconv(x, x_scale, x_zp, w, w_scale, y_scale, y_zp, bias, strides, pads):
    m = w.shape[0]
    xdt = x.dtype
    inits = [numpy_helper.from_array(np.array(x_scale, np.float32), 'xs'),
             numpy_helper.from_array(np.array(x_zp, xdt), 'xzp'),
             numpy_helper.from_array(w, 'w'),
             numpy_helper.from_array(np.asarray(w_scale, np.float32), 'ws'),
             numpy_helper.from_array(np.zeros(m, np.int8), 'wzp'),
             numpy_helper.from_array(np.array(y_scale, np.float32), 'ys'),
             numpy_helper.from_array(np.array(y_zp, xdt), 'yzp'),
             numpy_helper.from_array(bias, 'b')]
    node = helper.make_node('QLinearConv', ['x', 'xs', 'xzp', 'w', 'ws', 'wzp', 'ys', 'yzp',
                                            'b'], ['y'], kernel_shape=list(w.shape[2:]),
                            strides=list(strides), pads=list(pads))
    elem = TensorProto.INT8 if xdt == np.int8 else TensorProto.UINT8
    graph = helper.make_graph([node], 'qconv', [helper.make_tensor_value_info('x', elem, x.shape)],
                              [helper.make_tensor_value_info('y', elem, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 8
    return make_session(model, threads=1).run(None, {'x': x})[0]


def _layer(seed, m=8, c=5, k=3):
    rng = np.random.default_rng(seed)
    w = rng.integers(-127, 128, (m, c, k, k)).astype(np.int8)
    w_scale = (rng.uniform(0.5, 2.0, m) * 1e-2).astype(np.float32)
    bias = rng.integers(-3000, 3000, m).astype(np.int32)
    return rng, w, w_scale, bias


@pytest.mark.parametrize('strides, pads', [((1, 1), (1, 1, 1, 1)), ((2, 1), (0, 1, 2, 0))])
def test_int8_qlinearconv_bit_exact(strides, pads):
    rng, w, w_scale, bias = _layer(2)
    x = rng.integers(-128, 128, (2, 5, 11, 13)).astype(np.int8)
    x_scale, y_scale = 0.05, 0.3
    y = _qlinearconv(x, x_scale, 0, w, w_scale, y_scale, 0, bias, strides, pads)
    acc = conv2d_int32(x, 0, w, 0, strides, pads)
    ref = requantize(acc, x_scale, w_scale, y_scale, 0, np.int8, bias)
    assert y.dtype == np.int8 and y.shape == ref.shape
    assert np.array_equal(y, ref)
    # Not a vacuous match: outputs spread over the int8 range and some saturate.
    assert len(np.unique(ref)) > 100 and (ref == 127).any()


def test_uint8_qlinearconv_exact_with_this_cpus_accumulation():
    rng, w, w_scale, bias = _layer(3)
    # Post-ReLU int8 activations as ORT feeds them on x86: uint8 = int8 + 128, mostly large.
    x = (rng.integers(0, 128, (2, 5, 11, 13)) + 128).astype(np.uint8)
    x_scale, y_scale = 0.05, 0.3
    y = _qlinearconv(x, x_scale, 128, w, w_scale, y_scale, 128, bias, (1, 1), (1, 1, 1, 1))
    exact = requantize(conv2d_int32(x, 128, w, 0, (1, 1), (1, 1, 1, 1)), x_scale, w_scale,
                       y_scale, 128, np.uint8, bias)
    avx2 = requantize(conv2d_int32_u8s8_avx2(x, 128, w, (1, 1), (1, 1, 1, 1)), x_scale,
                      w_scale, y_scale, 128, np.uint8, bias)
    # With these operands the int16 pairs saturate somewhere, so the two models differ...
    assert not np.array_equal(exact, avx2)
    # ...and ORT's output is exactly one of them (dp4a / VNNI, or AVX2 vpmaddubsw).
    assert np.array_equal(y, exact) or np.array_equal(y, avx2)


def test_small_uint8_values_never_saturate():
    rng, w, w_scale, bias = _layer(4)
    x = rng.integers(0, 64, (1, 5, 9, 9)).astype(np.uint8)  # pairs stay below 2 * 64 * 127
    assert np.array_equal(conv2d_int32(x, 3, w, 0, (1, 1), (1, 1, 1, 1)),
                          conv2d_int32_u8s8_avx2(x, 3, w, (1, 1), (1, 1, 1, 1)))
    y = _qlinearconv(x, 0.02, 3, w, w_scale, 0.1, 3, bias, (1, 1), (1, 1, 1, 1))
    ref = requantize(conv2d_int32(x, 3, w, 0, (1, 1), (1, 1, 1, 1)), 0.02, w_scale, 0.1, 3,
                     np.uint8, bias)
    assert np.array_equal(y, ref)


def test_quantize_rounds_half_to_even_and_saturates():
    q = quantize(np.array([0.5, 1.5, 2.5, -0.5, 1000.0, -1000.0]), 1.0)
    assert q.tolist() == [0, 2, 2, 0, 127, -128]
