# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The error contract of `fxseg` (fxseg_ros.cli.errors): one line, exit codes, bugs, -v."""

import re
import subprocess
import sys

from fxseg_ros import __version__
from fxseg_ros.cli import errors
from fxseg_ros.cli.main import build_parser, main
import pytest


def test_a_message_of_several_lines_becomes_one():
    text = 'bag b has no topic /x.\nTopics in the bag:\n  /a    Image   3 msgs\n  /b  String 1'
    assert errors.one_line(text) == ('bag b has no topic /x. Topics in the bag: /a Image 3 msgs; '
                                     '/b String 1')
    line = errors.CommandError('--bag', text, 'give another bag.').line('fxseg eval')
    assert line.startswith('fxseg eval: error: --bag: bag b has no topic /x.')
    assert line.endswith('/b String 1; give another bag.') and '\n' not in line


def _fails(args):
    raise ZeroDivisionError('division by zero')


def test_a_bug_says_so_and_shows_its_traceback_with_v(capsys):
    assert errors.run_guarded('fxseg x', _fails, None) == errors.EXIT_BUG
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and 'Traceback' not in err
    assert 'internal error (a bug in fxseg_ros): ZeroDivisionError: division by zero' in err
    assert 'please report it' in err and 'with -v' in err
    assert errors.run_guarded('fxseg x', _fails, None, verbose=1) == errors.EXIT_BUG
    err = capsys.readouterr().err
    assert 'Traceback (most recent call last)' in err and 'in _fails' in err


def _interrupted(args):
    raise KeyboardInterrupt


def _bad_bag(args):
    from fxseg_ros.data.bag import BagError

    raise BagError('bag b is corrupt:\nreading failed')


def test_interrupts_and_expected_errors_are_one_line(capsys):
    assert errors.run_guarded('fxseg x', _interrupted, None) == 130
    assert capsys.readouterr().err == 'interrupted\n'
    assert errors.run_guarded('fxseg x', _bad_bag, None) == 2
    assert capsys.readouterr().err == 'fxseg x: error: bag b is corrupt: reading failed\n'


def _interrupted_mid_bar(args):
    from tqdm import tqdm

    bar = tqdm(total=8, desc='calibration', file=sys.stderr, leave=False, mininterval=0)
    try:
        bar.update(4)
        raise KeyboardInterrupt
    finally:
        bar.close()   # a bar that is not kept clears its line and ends it with a bare \r


def test_interrupted_is_a_line_of_its_own_after_a_progress_bar(capsys):
    assert errors.run_guarded('fxseg x', _interrupted_mid_bar, None) == 130
    err = capsys.readouterr().err
    assert '4/8' in err and err.split('\n')[-2:] == ['interrupted', ''], repr(err)


def test_a_binary_file_is_named_not_decoded(tmp_path, capsys):
    png = tmp_path / 'pic.png'
    png.write_bytes(b'\x89PNG\r\n\x1a\n' + bytes(range(256)))
    for argv in (['quantize', 'int8', '--calib', str(png), '--out', str(tmp_path / 'q.onnx')],
                 ['bench', '--node', '--params-file', str(png)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert ' %s is not a ' % png in err and 'binary data, not UTF-8 text: byte 0x89' in err
        assert 'codec' not in err, err


def test_about_names_the_argument_of_an_expected_error_only():
    with pytest.raises(errors.CommandError) as caught:
        with errors.about('--calib', ValueError):
            raise ValueError('not JSON')
    assert caught.value.line('fxseg q') == 'fxseg q: error: --calib: not JSON'
    with pytest.raises(KeyError):   # not an expected error here: a bug, passed on
        with errors.about('--calib'):
            raise KeyError('x')


@pytest.mark.parametrize('argv, code, out, err', [
    (['--version'], 0, r'fxseg %s\n' % re.escape(__version__), ''),
    (['synth', '--count', '1'], 2, '',
     r'fxseg synth: error: the following arguments are required: --out; see `fxseg synth '
     r'--help`\n'),
    # argparse quotes the choices up to Python 3.12.7, not after
    (['quantize', 'int8', '--calib', 'c', '--out', 'o', '--activations', 'fp8'], 2, '',
     r"fxseg quantize int8: error: argument --activations: invalid choice: 'fp8' \(choose "
     r"from '?s8'?, '?u8'?\); see `fxseg quantize int8 --help`\n"),
])
def test_the_parsers_answer_in_one_line(argv, code, out, err, capsys):
    assert main(argv) == code
    printed = capsys.readouterr()
    assert re.fullmatch(out, printed.out) and re.fullmatch(err, printed.err), printed


def test_v_counts_before_and_after_the_subcommand():
    args = build_parser().parse_args(['-v', 'synth', '--out', 'o', '--count', '1', '-vv'])
    assert args.verbose + args.verbose_after_command == 3


#: A child process in which torch cannot be imported (as in the Jazzy venv, which leaves the
#: training extra out): sys.modules[name] = None makes `import torch` raise ImportError and
#: importlib.util.find_spec('torch') return None.
_NO_TORCH = r"""
import sys
sys.modules['torch'] = None
from fxseg_ros.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize('template, argument', [
    ('train --out {o}/run --steps 1', '--out'),
    ('train --evaluate-only --model {o}/model.ckpt', '--model'),
    ('export --random-init --out {o}/m.onnx', '--random-init'),
])
def test_without_torch_training_says_what_to_install(template, argument, tmp_path):
    """
    No torch: one line naming the argument and `pip install .[train]`, exit 2, no file.

    The checks that need no torch come first (the table of test_cli_bad_inputs.py passes in a
    venv without torch); the folder of `train --out` may have been created by then, empty.
    """
    out = tmp_path / 'o'
    out.mkdir()
    if 'model.ckpt' in template:
        (out / 'model.ckpt').write_bytes(b'not read without torch')
    argv = [word.format(o=out) for word in template.split()]
    done = subprocess.run([sys.executable, '-c', _NO_TORCH] + [str(a) for a in argv],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=120, cwd=str(tmp_path))
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and done.stdout == '' and len(lines) == 1, done
    assert argument in lines[0] and 'needs torch' in lines[0], lines
    assert 'pip install .[train]' in lines[0], lines
    assert sorted(p.name for p in out.rglob('*') if p.is_file()) == (
        ['model.ckpt'] if 'model.ckpt' in template else [])
