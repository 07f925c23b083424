# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""`fxseg bench`: parser, side-by-side rows and the pipeline-overhead figure."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from fxseg_ros.cli import bench
from fxseg_ros.cli.main import build_parser, main
from fxseg_ros.model.deploy import build_deployment_graph


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
                                      '--duration', '5', '--large-data', 'no'])
    assert args.node and args.cameras == 2 and args.rate == 15.0 and args.duration == 5.0
    assert args.large_data == 'no'
    assert not build_parser().parse_args(['bench']).node
