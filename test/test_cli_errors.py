# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The error contract of `fxseg` (fxseg_ros.cli.errors): one line, exit codes, bugs, -v."""

import re

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
