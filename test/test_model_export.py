# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Export of FCN-AlexNet to the bare ONNX graph: Resize-for-upscore proof, LRN op, ORT vs torch."""

from __future__ import annotations

from fxseg_ros.model.config import bilinear_kernel, FCNConfig
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto
import onnxruntime as ort
import pytest

try:  # the train extra; without it every test here skips (requires_torch)
    import torch
except ModuleNotFoundError as missing:
    if missing.name != 'torch':
        raise
else:
    from fxseg_ros.model.export import (build_bare_graph, compare_with_torch, export_bare,
                                        read_config, resize_equivalent)
    from fxseg_ros.model.fcn_alexnet import build_model
    import torch.nn.functional as F

pytestmark = pytest.mark.usefixtures('requires_torch')


def _session(model_proto: onnx.ModelProto) -> ort.InferenceSession:
    return ort.InferenceSession(model_proto.SerializeToString(),
                                providers=['CPUExecutionProvider'])


def _loud_model(config: FCNConfig, seed: int = 0):
    """Return a random model whose scores are O(1) (the init makes them ~0.01), in eval mode."""
    model = build_model(config, seed=seed).eval()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        model.score_fr.weight.mul_(100.0)
        model.score_fr.bias.normal_(0.0, 0.5, generator=generator)
        for name in ('score_pool2', 'score_pool1', 'score_conv1'):
            if hasattr(model, name):  # skips start at zero: give them something to add
                getattr(model, name).weight.normal_(0.0, 0.3, generator=generator)
                getattr(model, name).bias.normal_(0.0, 0.3, generator=generator)
    return model


def _torch_reference(model, x: torch.Tensor) -> np.ndarray:
    """Scores with the fixed upscore computed literally (grouped ConvTranspose + crop)."""
    with torch.no_grad():
        if model.config.output_stride != 32:
            return model(x).numpy()
        scores = model.score_map(x)
        if model.config.upscore == 'deconv':
            return model.upscore.conv_transpose(scores, x.shape[-2:]).numpy()
        return model.upscore(scores, x.shape[-2:]).numpy()


@pytest.mark.parametrize('kernel, expected', [(63, ('asymmetric', 1)), (64, ('half_pixel', 16))])
def test_resize_equivalent_of_the_upscore(kernel, expected):
    assert resize_equivalent(kernel) == expected


@pytest.mark.parametrize('kernel', [63, 64])
@pytest.mark.parametrize('score_hw', [(12, 21), (3, 5)])
def test_pad_resize_slice_equals_bilinear_conv_transpose(kernel, score_hw):
    # The whole ConvTranspose output, borders included, from a Pad(1) -> Resize x32 graph.
    classes = 19
    rng = np.random.default_rng(kernel)
    scores = rng.standard_normal((2, classes) + score_hw).astype(np.float32)
    weight = torch.from_numpy(bilinear_kernel(kernel)).expand(classes, 1, -1, -1)
    want = F.conv_transpose2d(torch.from_numpy(scores), weight, stride=32,
                              groups=classes).numpy()
    mode, shift = resize_equivalent(kernel)
    h, w = want.shape[2:]
    graph = helper.make_graph(
        [helper.make_node('Pad', ['x', 'pads'], ['padded'], mode='constant'),
         helper.make_node('Resize', ['padded', 'roi', 'scales'], ['resized'], mode='linear',
                          coordinate_transformation_mode=mode),
         helper.make_node('Slice', ['resized', 'starts', 'ends', 'axes'], ['y'])],
        'upscore',
        [helper.make_tensor_value_info('x', TensorProto.FLOAT, list(scores.shape))],
        [helper.make_tensor_value_info('y', TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), 'pads'),
         numpy_helper.from_array(np.array([], np.float32), 'roi'),
         numpy_helper.from_array(np.array([1, 1, 32, 32], np.float32), 'scales'),
         numpy_helper.from_array(np.array([shift, shift], np.int64), 'starts'),
         numpy_helper.from_array(np.array([shift + h, shift + w], np.int64), 'ends'),
         numpy_helper.from_array(np.array([2, 3], np.int64), 'axes')])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 7
    got = _session(model).run(['y'], {'x': scores})[0]
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=2e-6, rtol=1e-5)
    # The fade-out at the borders is part of it (not a clamp to the edge value).
    assert np.abs(want[:, :, 0]).max() < 0.1 * np.abs(scores).max()


def _ops(proto: onnx.ModelProto):
    return [n.op_type for n in proto.graph.node]


@pytest.mark.parametrize('config, upscore_ops', [
    (FCNConfig(width=0.125), ['Pad', 'Resize', 'Slice']),
    (FCNConfig(width=0.125, upscore_kernel=64), ['Pad', 'Resize', 'Slice']),
    (FCNConfig(width=0.125, conv1_pad=0), ['Pad', 'Resize', 'Slice']),
    (FCNConfig(width=0.125, conv1_pad=0, upscore='resize', lrn=False), ['Resize']),
    (FCNConfig(width=0.125, upscore='learned', groups=1), ['ConvTranspose', 'Slice']),
    (FCNConfig(width=0.125, conv1_pad=0, output_stride=8),
     ['Resize', 'Slice', 'Slice', 'Add', 'Resize', 'Slice', 'Slice', 'Add',
      'Slice', 'Slice', 'Concat', 'Slice', 'Slice', 'Concat', 'Resize', 'Slice']),
    (FCNConfig(width=0.125, conv1_pad=0, output_stride=4),
     ['Resize', 'Slice', 'Slice', 'Add', 'Resize', 'Slice', 'Slice', 'Add', 'Resize', 'Slice',
      'Slice', 'Add', 'Slice', 'Slice', 'Concat', 'Slice', 'Slice', 'Concat', 'Resize', 'Slice']),
    (FCNConfig(width=0.125, output_stride=16),
     ['Resize', 'Slice', 'Slice', 'Add', 'Slice', 'Slice', 'Concat', 'Slice', 'Slice',
      'Concat', 'Resize', 'Slice']),
])
def test_exported_graph_matches_torch(config, upscore_ops):
    # A smaller input than the demo's 640x360 keeps the test fast; the contract test uses that.
    model = _loud_model(config)
    proto = build_bare_graph(model, (224, 320))
    ops = _ops(proto)
    last_conv = len(ops) - 1 - ops[::-1].index('Conv')
    assert ops[last_conv + 1:] == upscore_ops
    if config.upscore != 'learned':
        assert 'ConvTranspose' not in ops
    assert ops.count('LRN') == (2 if config.lrn else 0)
    x = np.random.default_rng(1).standard_normal((1, 3, 224, 320)).astype(np.float32)
    got = _session(proto).run(['scores'], {'input': x})[0]
    want = _torch_reference(model, torch.from_numpy(x))
    assert got.shape == want.shape == (1, 19, 224, 320)
    assert np.abs(want).max() > 1.0
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4)
    assert (got.argmax(1) == want.argmax(1)).mean() > 0.999


def test_lrn_is_one_onnx_op_with_static_shapes_and_matches_torch():
    config = FCNConfig(width=0.125)
    model = _loud_model(config)
    proto = build_bare_graph(model, (360, 640))
    lrn = [n for n in proto.graph.node if n.op_type == 'LRN']
    assert len(lrn) == 2
    # torch's own LRN export is a Pad/AveragePool/Pow/If subgraph.
    assert not {'AveragePool', 'Pow', 'If'} & set(_ops(proto))
    attrs = {a.name: helper.get_attribute_value(a) for a in lrn[0].attribute}
    assert attrs['size'] == 5
    assert attrs['alpha'] == pytest.approx(1e-4)
    assert attrs['beta'] == pytest.approx(0.75)
    assert attrs['bias'] == pytest.approx(1.0)
    inferred = onnx.shape_inference.infer_shapes(proto, strict_mode=True)
    shapes = {v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in inferred.graph.value_info}
    assert shapes[lrn[0].output[0]] == ['N', 16, 69, 104]
    assert shapes[lrn[1].output[0]] == ['N', 32, 34, 52]
    # ONNX Runtime's LRN against torch's, on the layer itself.
    probe = onnx.ModelProto()
    probe.CopyFrom(inferred)
    probe.graph.output.extend([v for v in inferred.graph.value_info
                               if v.name in (lrn[0].output[0], lrn[1].output[0])])
    x = np.random.default_rng(2).standard_normal((1, 3, 360, 640)).astype(np.float32) * 3
    got = _session(probe).run([lrn[0].output[0], lrn[1].output[0]], {'input': x})
    captured = []
    hooks = [model.norm1.register_forward_hook(lambda m, i, o: captured.append(o.numpy())),
             model.norm2.register_forward_hook(lambda m, i, o: captured.append(o.numpy()))]
    with torch.no_grad():
        model(torch.from_numpy(x))
    for h in hooks:
        h.remove()
    for a, b in zip(got, captured):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_bare_graph_contract_and_dynamic_batch(tmp_path):
    config = FCNConfig(width=0.125, conv1_pad=0)
    model = _loud_model(config)
    path = tmp_path / 'bare.onnx'
    info = export_bare(model, path)
    assert info['bytes'] == path.stat().st_size
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert proto.opset_import[0].version == 13
    (inp,), (out,) = proto.graph.input, proto.graph.output

    def dims(v):
        return [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
    assert (inp.name, inp.type.tensor_type.elem_type) == ('input', TensorProto.FLOAT)
    assert (out.name, out.type.tensor_type.elem_type) == ('scores', TensorProto.FLOAT)
    assert dims(inp) == ['N', 3, 360, 640]
    assert dims(out) == ['N', 19, 360, 640]
    assert read_config(path) == config
    session = ort.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    for n in (1, 2):
        x = np.zeros((n, 3, 360, 640), np.float32)
        assert session.run(['scores'], {'input': x})[0].shape == (n, 19, 360, 640)
    diff = compare_with_torch(model, path, batch=1)
    assert diff['max_abs_diff'] < 1e-4 * max(1.0, diff['max_abs_score'])


def test_convtranspose_and_resize_exports_agree():
    model = _loud_model(FCNConfig(width=0.125))
    as_resize = build_bare_graph(model, (224, 320), upscore_op='resize')
    as_deconv = build_bare_graph(model, (224, 320), upscore_op='convtranspose')
    assert 'ConvTranspose' in _ops(as_deconv) and 'ConvTranspose' not in _ops(as_resize)
    x = np.random.default_rng(3).standard_normal((1, 3, 224, 320)).astype(np.float32)
    a = _session(as_resize).run(['scores'], {'input': x})[0]
    b = _session(as_deconv).run(['scores'], {'input': x})[0]
    np.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-4)


def test_resize_upscore_with_a_size_not_a_multiple_of_the_score_map():
    # 200x300 is no whole multiple of its score map: Resize takes sizes from the score shape.
    model = _loud_model(FCNConfig(width=0.125, conv1_pad=0, upscore='resize'))
    proto = build_bare_graph(model, (200, 300))
    assert 'Concat' in _ops(proto)
    x = np.random.default_rng(4).standard_normal((1, 3, 200, 300)).astype(np.float32)
    got = _session(proto).run(['scores'], {'input': x})[0]
    np.testing.assert_allclose(got, _torch_reference(model, torch.from_numpy(x)), atol=1e-4,
                               rtol=1e-4)


def test_export_rejects_an_unknown_upscore_op():
    with pytest.raises(ValueError, match='upscore_op'):
        build_bare_graph(build_model(FCNConfig(width=0.125)), upscore_op='deconvolution')
