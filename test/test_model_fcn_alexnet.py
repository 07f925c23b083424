# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""FCN-AlexNet architecture: sizes, parameter counts, geometry of the upscore and crop."""

from __future__ import annotations

from fxseg_ros.model.config import bilinear_kernel, FCNConfig
import numpy as np
import pytest

try:  # the train extra; without it every test here skips (requires_torch)
    import torch
except ModuleNotFoundError as missing:
    if missing.name != 'torch':
        raise
else:
    from fxseg_ros.model.fcn_alexnet import (build_model, count_macs, count_parameters, FCNAlexNet,
                                             FixedBilinearUpscore, layer_table, load_checkpoint,
                                             LocalResponseNorm, save_checkpoint)

pytestmark = pytest.mark.usefixtures('requires_torch')


def _meta_model(config: FCNConfig) -> FCNAlexNet:
    with torch.device('meta'):
        return FCNAlexNet(config)


def test_parameter_count_of_caffe_fcn_alexnet():
    # Caffe's fcn-alexnet with 19 classes: conv1 34944 + conv2 307456 + conv3 885120 +
    # conv4 663936 + conv5 442624 + fc6 37752832 + fc7 16781312 + score_fr 77843; the upscore is
    # fixed (no parameters).
    assert count_parameters(_meta_model(FCNConfig())) == 56946067


def test_parameter_count_of_the_59_8_m_variant():
    # One group and a learned 19x19 63x63 upscore: the 59.8 M / ~239 MB FCN-AlexNet measured on
    # this machine (REFERENCE.md) and the article's ~240 MB.
    params = count_parameters(_meta_model(FCNConfig(groups=1, upscore='learned')))
    assert params == 59791996
    assert abs(params / 1e6 - 59.8) <= 0.2
    assert abs(params * 4 / 1e6 - 239) <= 1.0


@pytest.mark.parametrize('config, gmacs', [
    (FCNConfig(groups=1, upscore='learned'), 25.0),   # REFERENCE.md: 25.0 GMACs at 640x360
    (FCNConfig(), 20.5),
    (FCNConfig(width=0.25, conv1_pad=0), 1.13),
])
def test_macs_at_640x360(config, gmacs):
    assert count_macs(config, (360, 640)) / 1e9 == pytest.approx(gmacs, abs=0.01)


def test_layer_shapes_follow_caffe_ceil_mode_pooling():
    rows = {r['name']: r['out_shape'][2:] for r in layer_table(FCNConfig(), (360, 640))}
    # conv1: (360 + 200 - 11) // 4 + 1 = 138; pools round up: ceil((138 - 3) / 2) + 1 = 69 ...
    assert rows['conv1'] == (138, 208)
    assert rows['pool1'] == (69, 104)
    assert rows['pool2'] == (34, 52)
    assert rows['pool5'] == (17, 26)
    assert rows['fc6'] == (12, 21)
    assert rows['upscore'] == (360, 640)


@pytest.mark.parametrize('width, expected', [
    (1.0, [96, 256, 384, 384, 256, 4096, 4096]),
    (0.25, [24, 64, 96, 96, 64, 1024, 1024]),
    (0.1, [8, 24, 40, 40, 24, 408, 408]),
])
def test_width_multiplier_scales_every_layer(width, expected):
    channels = FCNConfig(width=width).channels()
    assert [channels[k] for k in ('conv1', 'conv2', 'conv3', 'conv4', 'conv5', 'fc6',
                                  'fc7')] == expected


@pytest.mark.parametrize('conv1_pad', [100, 0])
@pytest.mark.parametrize('upscore', ['deconv', 'learned', 'resize'])
@pytest.mark.parametrize('input_hw', [(360, 640), (720, 1280), (375, 500), (224, 224),
                                      (181, 323)])
def test_output_covers_the_input(conv1_pad, upscore, input_hw):
    model = _meta_model(FCNConfig(conv1_pad=conv1_pad, upscore=upscore)).eval()
    out = model(torch.empty((2, 3) + input_hw, device='meta'))
    assert tuple(out.shape) == (2, 19) + input_hw


@pytest.mark.parametrize('conv1_pad', [100, 0])
@pytest.mark.parametrize('output_stride', [16, 8, 4])
@pytest.mark.parametrize('input_hw', [(360, 640), (720, 1280), (375, 500), (181, 323)])
def test_skip_variants_cover_the_input(conv1_pad, output_stride, input_hw):
    config = FCNConfig(conv1_pad=conv1_pad, output_stride=output_stride)
    out = _meta_model(config).eval()(torch.empty((1, 3) + input_hw, device='meta'))
    assert tuple(out.shape) == (1, 19) + input_hw


@pytest.mark.parametrize('conv1_pad', [100, 0])
def test_skip_grids_line_up_with_the_layers(conv1_pad):
    # conv1 / pool1 / pool2 cells centred on input pixel a * y + b, walking the actual layers.
    model = FCNAlexNet(FCNConfig(width=0.125, conv1_pad=conv1_pad, output_stride=4))
    origins = model.config.grid_origins()
    a, b = 1.0, 0.0
    for name in ('conv1', 'pool1', 'conv2', 'pool2'):
        layer = getattr(model, name)
        k = layer.kernel_size if isinstance(layer.kernel_size, int) else layer.kernel_size[0]
        s = layer.stride if isinstance(layer.stride, int) else layer.stride[0]
        p = layer.padding if isinstance(layer.padding, int) else layer.padding[0]
        b = b + a * (-p + (k - 1) / 2.0)
        a = a * s
        if name in origins:
            assert (a, b) == ({'conv1': 4, 'pool1': 8, 'pool2': 16}[name], origins[name])
    # Every skip grid is a whole number of its cells behind the score grid.
    for name, stride in (('pool2', 16), ('pool1', 8), ('conv1', 4)):
        shift = (origins['score'] - origins[name]) / stride
        assert shift == int(shift) >= 0


@pytest.mark.parametrize('conv1_pad', [100, 0])
def test_untrained_skips_reproduce_the_32s_upscore_inside_the_score_grid(conv1_pad):
    # Skip score layers start at zero; two exact x2 steps and a x8 tent then interpolate the
    # score map exactly like the x32 upscore, wherever no border is involved.
    config8 = FCNConfig(width=0.125, conv1_pad=conv1_pad, output_stride=8)
    model8 = build_model(config8, seed=2).eval()
    model32 = FCNAlexNet(FCNConfig(width=0.125, conv1_pad=conv1_pad)).eval()
    model32.load_state_dict({k: v for k, v in model8.state_dict().items()
                             if not k.startswith('score_pool')})
    x = torch.randn(1, 3, 360, 640, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        a, b = model8(x), model32(x)
        scores = model8.score_maps(x)
    plan = model8.upscore.plan(scores[0].shape[-2:], [s.shape[-2:] for s in scores[1:]],
                               (360, 640))
    origin = int(plan['origin'])
    # Between the first and the last cell of both the score grid and the fused grid (which
    # ends where the skip grids end).
    last_row = min(origin + 32 * (scores[0].shape[-2] - 1),
                   origin + plan['stride'] * (plan['size'][0] - 1), 360)
    last_col = min(origin + 32 * (scores[0].shape[-1] - 1),
                   origin + plan['stride'] * (plan['size'][1] - 1), 640)
    inside = (slice(None), slice(None), slice(max(origin, 0), last_row),
              slice(max(origin, 0), last_col))
    assert a[inside].numel() > 0.7 * a.numel()
    torch.testing.assert_close(a[inside], b[inside], atol=1e-5, rtol=1e-4)


def test_skip_upscore_extends_the_edge_cells_to_the_image_border():
    # The fused grid of conv1_pad 0 starts on pixel 17: pixels before it take cell 0's scores
    # (a zero fade would leave the first rows and columns without any class).
    config = FCNConfig(width=0.125, conv1_pad=0, output_stride=8)
    model = build_model(config, seed=4).eval()
    with torch.no_grad():
        model.score_pool1.weight.normal_(0.0, 0.3)
        out = model(torch.randn(1, 3, 192, 320, generator=torch.Generator().manual_seed(4)))
    assert config.score_origin() == 17
    for col in range(17):
        torch.testing.assert_close(out[..., col], out[..., 17])
    torch.testing.assert_close(out[:, :, 0], out[:, :, 17])
    assert out[:, :, 0].abs().max() > 1e-3


@pytest.mark.parametrize('config', [
    FCNConfig(width=0.125, conv1_pad=0), FCNConfig(width=0.125, upscore='resize'),
    FCNConfig(width=0.125, conv1_pad=0, output_stride=8),
])
def test_sampled_forward_equals_the_full_map_on_its_pixel_grid(config):
    model = build_model(config, seed=1).eval()
    x = torch.randn(1, 3, 192, 320, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        full = model(x)
        grid = model(x, 2, (1, 0))
    torch.testing.assert_close(grid, full[:, :, 1::2, 0::2])


@pytest.mark.parametrize('conv1_pad, kernel, origin, crop', [
    (100, 63, 13, 18),   # Caffe's fcn-alexnet: crop offset 18
    (100, 64, 13, 18),
    (0, 63, 17, 14),
    (0, 64, 17, 14),
])
def test_crop_offset(conv1_pad, kernel, origin, crop):
    config = FCNConfig(conv1_pad=conv1_pad, upscore_kernel=kernel)
    assert config.score_origin() == origin
    assert config.crop_offset() == crop


@pytest.mark.parametrize('conv1_pad', [100, 0])
def test_score_origin_follows_the_layers(conv1_pad):
    # Walk the actual layers: a cell y of a layer is centred on input pixel a * y + b.
    model = FCNAlexNet(FCNConfig(width=0.125, conv1_pad=conv1_pad))
    a, b = 1.0, 0.0
    for name in ('conv1', 'pool1', 'conv2', 'pool2', 'conv3', 'conv4', 'conv5', 'pool5', 'fc6'):
        layer = getattr(model, name)
        k = layer.kernel_size if isinstance(layer.kernel_size, int) else layer.kernel_size[0]
        s = layer.stride if isinstance(layer.stride, int) else layer.stride[0]
        p = layer.padding if isinstance(layer.padding, int) else layer.padding[0]
        b = b + a * (-p + (k - 1) / 2.0)
        a = a * s
    assert a == 32
    assert b == model.config.score_origin()


def test_bilinear_kernel_is_an_interpolation_filter():
    k63 = np.sqrt(np.diag(bilinear_kernel(63)))
    assert k63.argmax() == 31 and k63[31] == pytest.approx(1.0)
    assert k63[0] == pytest.approx(1 / 32) and k63[62] == pytest.approx(1 / 32)
    np.testing.assert_allclose(k63, k63[::-1])
    k64 = np.sqrt(np.diag(bilinear_kernel(64)))
    assert k64[31] == pytest.approx(k64[32]) == pytest.approx(1 - 0.5 / 32)
    for taps in (np.pad(k63, (0, 1)), k64):
        # Stride-32 phases sum to one: every output pixel is a convex mix of two cells.
        np.testing.assert_allclose(taps[:32] + taps[32:], 1.0, atol=1e-6)


@pytest.mark.parametrize('kernel, crop', [(63, 18), (64, 18), (63, 14)])
def test_fixed_upscore_equals_conv_transpose_and_crop(kernel, crop):
    upscore = FixedBilinearUpscore(19, crop, kernel)
    scores = torch.randn(2, 19, 12, 21, generator=torch.Generator().manual_seed(1))
    fast = upscore(scores, (360, 640))
    literal = upscore.conv_transpose(scores, (360, 640))
    assert fast.shape == literal.shape == (2, 19, 360, 640)
    torch.testing.assert_close(fast, literal, atol=1e-5, rtol=1e-5)


def test_fixed_upscore_rejects_an_input_it_cannot_cover():
    with pytest.raises(ValueError, match='does not cover'):
        FixedBilinearUpscore(19, 18, 63)(torch.zeros(1, 19, 2, 2), (100, 100))


def test_lrn_is_caffes_across_channel_formula():
    x = torch.randn(1, 7, 3, 4, generator=torch.Generator().manual_seed(0)) * 30
    got = LocalResponseNorm(5, 1e-4, 0.75, 1.0)(x).numpy()
    xn = x.numpy().astype(np.float64)
    want = np.empty_like(xn)
    for c in range(7):
        window = (xn[:, max(0, c - 2):c + 3] ** 2).sum(axis=1)
        want[:, c] = xn[:, c] / (1.0 + 1e-4 / 5 * window) ** 0.75
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_checkpoint_round_trip(tmp_path):
    config = FCNConfig(width=0.125, conv1_pad=0, upscore='resize', lrn=False)
    model = build_model(config, seed=3).eval()
    path = save_checkpoint(model, tmp_path / 'm.ckpt', note='x')
    loaded = load_checkpoint(path)
    assert loaded.config == config
    x = torch.randn(1, 3, 96, 160)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x))


def test_loading_a_foreign_file_says_what_is_wrong(tmp_path):
    path = tmp_path / 'other.pt'
    torch.save({'weights': torch.zeros(1)}, str(path))
    with pytest.raises(ValueError, match='not an fxseg_ros FCN-AlexNet checkpoint'):
        load_checkpoint(path)


def test_seeded_initialisation_is_deterministic():
    config = FCNConfig(width=0.125)
    a = build_model(config, seed=5).state_dict()
    b = build_model(config, seed=5).state_dict()
    c = build_model(config, seed=6).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a['fc6.weight'], c['fc6.weight'])


@pytest.mark.parametrize('kwargs', [
    {'width': 0.0}, {'conv1_pad': 50}, {'upscore': 'nearest'}, {'groups': 3},
    {'dropout': 1.0}, {'upscore_kernel': 32}, {'num_classes': 1}, {'output_stride': 2},
    {'output_stride': 8, 'upscore': 'resize'},
])
def test_config_rejects_bad_values(kwargs):
    with pytest.raises(ValueError):
        FCNConfig(**kwargs)


def test_config_dict_round_trip_and_unknown_keys():
    config = FCNConfig(width=0.25, conv1_pad=0, upscore='resize', lrn=False, dropout=0.1)
    assert FCNConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match='unknown'):
        FCNConfig.from_dict(dict(config.to_dict(), depth=3))
