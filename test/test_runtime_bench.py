# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""`fxseg bench`: parser, side-by-side rows and the pipeline-overhead figure."""

from __future__ import annotations

import json

from fxseg_ros.cli import bench
from fxseg_ros.cli.main import build_parser, main
from fxseg_ros.model.deploy import build_deployment_graph
import numpy as np
import onnx
import pytest


def test_parser_defaults_and_models():
    args = build_parser().parse_args(['bench'])
    assert args.model is None and args.frames == 30 and args.batch == 1 and args.threads == 0
    args = build_parser().parse_args(['bench', '--model', 'fp32=a.onnx', '--model', 'b.onnx',
                                      '--frames', '5', '--threads', '2', '--batch', '3'])
    parsed = [bench.parse_model_arg(m) for m in args.model]
    assert parsed == [('fp32', 'a.onnx'), ('b', 'b.onnx')]
    for bad in (['--frames', '0'], ['--threads', '-1'], ['--batch', '0'],
                ['--tensorrt', 'maybe']):
        with pytest.raises(SystemExit):
            build_parser().parse_args(['bench'] + bad)


def test_generated_frames_are_camera_frames_and_deterministic():
    a = bench.generate_frames(2, seed=4)
    b = bench.generate_frames(2, seed=4)
    assert len(a) == 2 and a[0].shape == (720, 1280, 3) and a[0].dtype == np.uint8
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], a[1])


def test_call_schedule_small_case():
    """3 batches, kinds a and b, blocks of 2 with 1 untimed call: written out by hand."""
    assert bench.call_schedule(3, ['a', 'b'], block=2, warmup=1) == [
        ('a', 0, False), ('a', 0, True), ('a', 1, True),
        ('b', 0, False), ('b', 0, True), ('b', 1, True),
        ('b', 2, False), ('b', 2, True),
        ('a', 2, False), ('a', 2, True)]


@pytest.mark.parametrize('batches, kinds, block', [
    (30, ('pipeline', 'raw', 'bare'), 5), (7, ('pipeline', 'raw'), 3), (4, ('pipeline',), 5),
    (12, ('pipeline', 'raw', 'bare'), 1)])
def test_call_schedule_is_fair(batches, kinds, block):
    calls = bench.call_schedule(batches, kinds, block=block)
    timed = [(kind, i) for kind, i, is_timed in calls if is_timed]
    # Each kind is timed once on every batch.
    assert sorted(timed) == sorted((kind, i) for kind in kinds for i in range(batches))
    # Every timed call follows a call of its own graph (an untimed one opens each block).
    for position, (kind, _, is_timed) in enumerate(calls):
        if is_timed:
            assert position > 0 and calls[position - 1][0] == kind
    # Each block runs every kind in turn, the order rotated by one from block to block.
    orders = {}
    for kind, i, _ in calls:
        order = orders.setdefault(i // block, [])
        if kind not in order:
            order.append(kind)
    blocks = -(-batches // block)
    assert [orders[b] for b in range(blocks)] == [
        list(kinds[b % len(kinds):]) + list(kinds[:b % len(kinds)]) for b in range(blocks)]
    assert sum(not is_timed for _, _, is_timed in calls) == blocks * len(kinds)


def test_call_by_call_interleaving_is_not_fair():
    """The order this replaced (pipeline, raw, bare per batch) fails the fairness property."""
    old = [(kind, i, True) for i in range(3) for kind in ('pipeline', 'raw', 'bare')]
    assert any(old[p - 1][0] != kind for p, (kind, _, _) in enumerate(old) if p)
    with pytest.raises(ValueError, match='block must be >= 1'):
        bench.call_schedule(3, ['a'], block=0)


def test_timed_samples_follow_the_schedule():
    log = []

    def call(kind):
        def run(batch):
            log.append((kind, batch))
            return (kind, batch)
        return run

    batches = ['b%d' % i for i in range(7)]
    samples = bench.timed_samples({'p': call('p'), 'r': call('r')}, batches, warmup=2, block=3)
    # Two warm-up rounds first, then exactly the schedule's calls.
    assert log[:4] == [('p', 'b0'), ('r', 'b0'), ('p', 'b1'), ('r', 'b1')]
    assert log[4:] == [(kind, batches[i]) for kind, i, _ in bench.call_schedule(7, 'pr', 3)]
    assert samples == {k: [(k, b) for b in batches] for k in 'pr'}


def test_rows_that_cannot_run_are_skipped_with_the_reason(tiny_net, tmp_path, capsys,
                                                          monkeypatch):
    monkeypatch.setenv('FXSEG_CACHE_DIR', str(tmp_path / 'cache'))
    corrupt = tmp_path / 'corrupt.onnx'
    corrupt.write_bytes(tiny_net.read_bytes()[:200])
    engine = tmp_path / 'model.engine'
    engine.write_bytes(b'not an engine')
    args = build_parser().parse_args(['bench', '--frames', '2', '--warmup', '0', '--threads',
                                      '1', '--tensorrt', 'no', '--profile', 'no'])
    rows = bench.run_bench([('bad', str(corrupt)), ('tiny', str(tiny_net)),
                            ('engine', str(engine))], args, cache_dir=str(tmp_path / 'c'))
    assert [(r['label'], 'skipped' in r) for r in rows] == [('bad', True), ('tiny', False),
                                                            ('engine', True)]
    assert 'cannot read ONNX model' in rows[0]['skipped']
    table = bench.format_table(rows, batch=1)
    assert 'skipped bad (onnxruntime, %s): ' % corrupt in table
    assert 'skipped engine (tensorrt, %s): TensorRT is turned off (--tensorrt no)' % engine \
        in table
    # The ratio column is relative to the first row that ran.
    line = next(ln for ln in table.splitlines() if ln.startswith('tiny '))
    assert '1.00x' in line.split()
    # From the command line a file that is no ONNX model is refused before any work (exit 2);
    # a run in which no row could run ends with 1.
    assert main(['bench', '--model', str(corrupt), '--frames', '1', '--warmup', '0',
                 '--tensorrt', 'no', '--profile', 'no']) == 2
    assert 'is not an ONNX model' in capsys.readouterr().err
    assert main(['bench', '--model', str(engine), '--frames', '1', '--warmup', '0',
                 '--tensorrt', 'no', '--profile', 'no']) == 1
    assert 'no runner could run any of the models' in capsys.readouterr().out


def _qdq_model(path):
    """Return a bare network's I/O around one Q/DQ pair: model_kind 'qdq'."""
    from onnx import helper, numpy_helper, TensorProto

    nodes = [helper.make_node('QuantizeLinear', ['input', 's', 'z'], ['q']),
             helper.make_node('DequantizeLinear', ['q', 's', 'z'], ['scores'])]
    graph = helper.make_graph(nodes, 'g', [
        helper.make_tensor_value_info('input', TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info('scores', TensorProto.FLOAT, [1, 3, 8, 8])],
        [numpy_helper.from_array(np.float32(0.1), 's'), numpy_helper.from_array(np.int8(0), 'z')])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)]), str(path))
    return path


@pytest.mark.parametrize('model, version, label', [
    ('fp32', '10.3.0', 'm/trt-fp16'), ('fp32', '11.0.0', 'm/trt-fp32'),
    ('qdq', '8.2.1', 'm/trt-int8'), ('qdq', '11.0.0', 'm/trt-int8')])
def test_tensorrt_rows_take_the_precision_of_the_model(tiny_net, tmp_path, model, version,
                                                       label):
    """Without TensorRT here, the row is built as far as the runner and skipped with its hint."""
    try:
        import tensorrt  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip('TensorRT is installed: the row would build an engine')
    path = str(tiny_net) if model == 'fp32' else str(_qdq_model(tmp_path / 'qdq.onnx'))
    args = build_parser().parse_args(['bench', '--frames', '1', '--warmup', '0'])
    row = bench._trt_onnx_row('m', path, version, [[]], args, str(tmp_path / 'cache'))
    assert row['label'] == label and row['backend'] == 'tensorrt (%s)' % label.split('-')[-1]
    assert 'TensorRT Python bindings are not installed' in row['skipped']
    empty = tmp_path / 'empty.onnx'
    empty.write_bytes(b'')
    row = bench._trt_onnx_row('m', str(empty), version, [[]], args, str(tmp_path / 'c'))
    assert row['label'] == 'm/trt' and 'has no nodes' in row['skipped']


def test_run_bench_side_by_side(tiny_net, tmp_path):
    deploy_path = tmp_path / 'tiny_network_out.onnx'
    onnx.save(build_deployment_graph(tiny_net, output='network'), str(deploy_path))
    args = build_parser().parse_args(['bench', '--frames', '3', '--warmup', '1', '--threads',
                                      '1', '--batch', '2', '--tensorrt', 'no'])
    rows = bench.run_bench([('bare', str(tiny_net)), ('deploy', str(deploy_path))], args,
                           cache_dir=str(tmp_path / 'cache'))
    # Both rows have a bare network: the model itself, and the one the deployment graph records.
    assert all('deploy_over_bare' in r for r in rows)
    assert [r['label'] for r in rows] == ['bare', 'deploy']
    for row in rows:
        assert len(row['total']) == 3 and len(row['raw']) == 3
        assert row['backend'].startswith('onnxruntime (CPU, threads 1')
        s = row['summary']
        assert 0 < s['median'] <= s['p90']
        assert np.isfinite(row['overhead_pct'])
        assert 0.0 <= row['added_ms'] < row['summary']['median']
        # The pipeline wraps the raw call: it cannot be much faster than the raw session.
        assert row['summary']['median'] > 0.5 * row['raw_summary']['median']
        assert set(row['stage_medians']) == {'preprocess', 'upload', 'inference', 'download',
                                             'postprocess', 'total'}
    # The table's ratio column: each row's median over the first row's, from the samples.
    table = bench.format_table(rows, batch=2)
    medians = [float(np.median(r['total'])) for r in rows]
    line = next(ln for ln in table.splitlines() if ln.startswith('deploy '))
    assert ('%.2fx' % (medians[1] / medians[0])) in line.split()
    assert 'InferenceSession.run' in table and 'overhead' in table
    # The bare row is a bare network: its deployment graph is timed against it call by call.
    bare_row = rows[0]
    assert len(bare_row['bare']) == 3
    want = float(np.median(bare_row['raw'])) / float(np.median(bare_row['bare']))
    assert bare_row['deploy_over_bare'] == pytest.approx(want)
    assert ('= %.2fx' % want) in table
    prof = bare_row['profile']
    assert 0.0 < prof['upscore_ms'] < prof['deploy_total_ms']
    assert prof['upscore_pct_of_bare'] == pytest.approx(100 * prof['upscore_ms'] /
                                                        prof['bare_total_ms'])


def test_cpu_isa_from_cpuinfo_flags(tmp_path):
    from fxseg_ros.runtime.ort_profile import cpu_isa

    cases = [('flags\t\t: fpu sse2 avx2 fma\n', 'AVX2'),
             ('flags\t\t: avx2 avx512f avx512bw\n', 'AVX-512'),
             ('flags\t\t: avx2 avx512f avx512_vnni\n', 'AVX-512 VNNI'),
             ('Features\t: fp asimd evtstrm aes\n', 'NEON'),
             ('Features\t: fp asimd asimddp\n', 'NEON dot product')]
    for text, expected in cases:
        path = tmp_path / 'cpuinfo'
        path.write_text('processor\t: 0\n' + text)
        assert cpu_isa(str(path)) == expected


def test_main_errors_and_json(tiny_net, tmp_path, capsys, monkeypatch):
    assert main(['bench', '--model', str(tmp_path / 'missing.onnx')]) == 2
    assert 'does not exist' in capsys.readouterr().err
    monkeypatch.setenv('FXSEG_CACHE_DIR', str(tmp_path / 'cache'))
    out = tmp_path / 'bench.json'
    assert main(['bench', '--model', 'tiny=%s' % tiny_net, '--frames', '2', '--warmup', '0',
                 '--threads', '1', '--tensorrt', 'no', '--json', str(out)]) == 0
    printed = capsys.readouterr().out
    assert 'tiny' in printed and 'median' in printed
    data = json.loads(out.read_text())
    assert data[0]['label'] == 'tiny' and data[0]['summary']['median'] > 0


def test_bench_node_options_parse():
    from fxseg_ros.cli.main import build_parser

    args = build_parser().parse_args(['bench', '--node', '--cameras', '2', '--rate', '15',
                                      '--duration', '5', '--transport', 'shm'])
    assert args.node and args.cameras == 2 and args.rate == 15.0 and args.duration == 5.0
    assert args.transport == 'shm'
    # without --transport: Fast DDS's default transports, as the launch files start the node
    assert build_parser().parse_args(['bench', '--node']).transport == 'default'
    assert not build_parser().parse_args(['bench']).node
    with pytest.raises(SystemExit):
        build_parser().parse_args(['bench', '--node', '--transport', 'udp'])
