# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Ctrl-C at any point: `interrupted`, exit 130, no output a later run would trust.

Each command runs in a real process on small inputs and gets SIGINT when its progress bar has
reached 10 %, 50 % and 90 % (quantize, which shows no bar, at those fractions of its
uninterrupted run time; the demo in its bag, quantization and replay steps, one run after the
other on the same folder). After each interruption
nothing incomplete carries a final name, and running the same command again gives what the
uninterrupted run gave. Also: two quantizations of one model at once, and a model in a
read-only folder.
"""

import hashlib
import json
import os
from pathlib import Path
import re
import signal
import subprocess
import sys
import threading
import time

from cli_helpers import read_only_command
import pytest

#: Where the runs get SIGINT: fractions of their progress.
FRACTIONS = (0.1, 0.5, 0.9)
#: Longest one of these tiny jobs may take, seconds.
RUN_TIMEOUT_S = 300
#: The child process: runs the command lines it reads (JSON, one a line) through the console
#: script's `main`, one after the other, between markers. Sharing one interpreter keeps the
#: imports out of each run's time; Ctrl-C reaches `main` exactly as in a console script.
_CHILD = r"""
import json, sys
from fxseg_ros.cli.main import main
while True:
    try:
        line = sys.stdin.readline()
    except KeyboardInterrupt:   # a signal that came after the command had ended
        continue
    if not line:
        break
    print('@@start', flush=True)
    try:
        code = main(json.loads(line))
    except KeyboardInterrupt:
        code = 'late'
    print('\n@@end %s' % code, flush=True)
"""


class Session:
    """A child process running `fxseg` command lines one at a time, interrupted on demand."""

    def __init__(self, cwd):
        env = dict(os.environ, PYTHONUNBUFFERED='1', TQDM_MININTERVAL='0')
        self.proc = subprocess.Popen([sys.executable, '-c', _CHILD], cwd=str(cwd), env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.text = ''
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for chunk in iter(lambda: self.proc.stdout.read1(4096), b''):
            self.text += chunk.decode(errors='replace')

    def run(self, argv, ready=None):
        """
        Run one command line; with `ready`, SIGINT once ready(output so far, seconds) holds.

        Returns (exit status, its output, seconds, whether SIGINT was sent).
        """
        begin = len(self.text)
        self.proc.stdin.write((json.dumps([str(a) for a in argv]) + '\n').encode())
        self.proc.stdin.flush()
        started, sent = None, False
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.text[begin:]
            output = self.text[begin:]
            if started is None and '@@start' in output:
                started = time.monotonic()
            done = re.search(r'@@end (\S+)', output)
            if done:
                code = int(done.group(1)) if done.group(1).isdigit() else done.group(1)
                body = output.split('@@start', 1)[1].rsplit('@@end', 1)[0]
                return code, body, time.monotonic() - started, sent
            if started is not None and ready is not None and not sent and ready(
                    output.split('@@start', 1)[1], time.monotonic() - started):
                self.proc.send_signal(signal.SIGINT)
                sent = True
            time.sleep(0.005)
        raise AssertionError('no end of %s within %d s:\n%s'
                             % (argv, RUN_TIMEOUT_S, self.text[begin:]))

    def ok(self, argv):
        """Run one command line that must succeed; returns (output, seconds)."""
        code, output, seconds, _ = self.run(argv)
        assert code == 0, output
        return output, seconds

    def interrupt(self, argv, ready):
        """Run, interrupt when ready: `interrupted` and 130, no traceback."""
        code, output, _, sent = self.run(argv, ready)
        assert sent, 'the run ended before it could be interrupted:\n%s' % output
        assert code == 130, output
        assert output.rstrip().splitlines()[-1] == 'interrupted', output
        assert 'Traceback' not in output
        return output

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        self._reader.join(timeout=10)


@pytest.fixture
def session(tmp_path):
    child = Session(tmp_path)
    yield child
    child.close()


def progress(desc, fraction):
    """Ready when the tqdm bar `desc` shows at least `fraction` of its total (not all of it)."""
    pattern = re.compile(r'%s:\s+\d+%%\|[^|]*\|\s*(\d+)/(\d+)' % re.escape(desc))

    def ready(output, seconds):
        done = [(int(n), int(total)) for n, total in pattern.findall(output)]
        return any(total and max(1, int(fraction * total)) <= n < total for n, total in done)
    return ready


def after(seconds):
    """Ready `seconds` after the command started."""
    return lambda output, elapsed: elapsed >= seconds


def printed(text):
    """Ready when `text` was printed."""
    return lambda output, seconds: text in output


def tree(root: Path):
    """Relative path -> SHA-256 of every file under root."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob('*')) if p.is_file()}


def no_partial_files(root: Path):
    return [p for p in root.rglob('*') if '.partial-' in p.name]


def bag_messages(path: Path):
    """(topic, log time, raw bytes) of every message of a bag."""
    from rosbags.rosbag2 import Reader

    with Reader(path) as reader:
        return [(c.topic, t, bytes(raw)) for c, t, raw in reader.messages()]


@pytest.fixture(scope='module')
def tiny640(tmp_path_factory):
    from conftest import make_tiny_net

    return make_tiny_net(tmp_path_factory.mktemp('net') / 'tiny.onnx')


@pytest.fixture(scope='module')
def frames(tmp_path_factory):
    """16 small frames in the Cityscapes layout (train split)."""
    from fxseg_ros.data.synth import write_cityscapes

    root = tmp_path_factory.mktemp('frames')
    write_cityscapes(root, 8, seed=4, conditions=('day', 'night'), size_wh=(320, 192),
                     progress=False)
    return root


@pytest.mark.slow
def test_synth(session, tmp_path):
    argv = ['synth', '--count', '5', '--conditions', 'day,night', '--seed', '2', '--size',
            '640x360']
    session.ok(argv + ['--out', tmp_path / 'reference'])
    reference = tree(tmp_path / 'reference')
    for k, fraction in enumerate(FRACTIONS):
        out = tmp_path / ('run%d' % k)
        session.interrupt(argv + ['--out', out], progress('synth train', fraction))
        # A new tree is complete or absent: no frame of an interrupted run is left to be read.
        assert not out.exists()
        assert not no_partial_files(tmp_path)
        session.ok(argv + ['--out', out])
        assert tree(out) == reference
    # Frames added to an existing tree (--start) appear all together, or none of them do.
    grown = tmp_path / 'grown'
    session.ok(argv + ['--out', grown, '--start', '0'])
    before = tree(grown)
    more = argv + ['--out', grown, '--start', '5']
    session.interrupt(more, progress('synth train', 0.5))
    assert tree(grown) == before
    assert not no_partial_files(grown)
    session.ok(more)
    after = tree(grown)
    assert {n: d for n, d in after.items() if n in before} == before
    assert len(after) == 2 * len(before)


@pytest.mark.slow
def test_make_bag(session, tmp_path):
    argv = ['make-bag', '--frames-per-condition', '5', '--seed', '1', '--size', '640x360']
    session.ok(argv + ['--out', tmp_path / 'reference'])
    reference = bag_messages(tmp_path / 'reference')
    for k, fraction in enumerate(FRACTIONS):
        out = tmp_path / ('bag%d' % k)
        session.interrupt(argv + ['--out', out], progress('make-bag', fraction))
        assert not out.exists()
        assert not no_partial_files(tmp_path)
        session.ok(argv + ['--out', out])
        assert bag_messages(out) == reference


@pytest.mark.slow
def test_calibrate(session, tmp_path, tiny640, frames):
    argv = ['calibrate', '--model', tiny640, '--data', frames, '--frames', '8', '--method',
            'minmax']
    ref = tmp_path / 'ref'
    session.ok(argv + ['--out', ref / 'c.json', '--cache', ref / 'c.cache'])
    reference = json.loads((ref / 'c.json').read_text())['amax']
    cache = (ref / 'c.cache').read_text()
    for k, fraction in enumerate(FRACTIONS):
        out = tmp_path / ('run%d' % k)
        outputs = ['--out', out / 'c.json', '--cache', out / 'c.cache']
        session.interrupt(argv + outputs, progress('calibration', fraction))
        assert list(out.rglob('*')) == []
        session.ok(argv + outputs)
        assert json.loads((out / 'c.json').read_text())['amax'] == reference
        assert (out / 'c.cache').read_text() == cache


@pytest.mark.slow
def test_quantize(session, tmp_path, demo_model, frames):
    """
    Quantize shows no bar: SIGINT at fractions of its uninterrupted run time.

    The time is that of a second run (the first one also imports ONNX Runtime's quantization
    tooling, which a later run in the same process does not). A run the signal reaches too late
    (a shared machine) must have finished completely; the fractions are tried again, earlier,
    until two runs were interrupted.
    """
    session.ok(['calibrate', '--data', frames, '--frames', '1', '--method', 'minmax', '--out',
                tmp_path / 'c.json'])
    argv = ['quantize', 'int8', '--model', demo_model, '--calib', tmp_path / 'c.json']
    session.ok(argv + ['--out', tmp_path / 'ref.onnx'])
    _, seconds = session.ok(argv + ['--out', tmp_path / 'ref.onnx'])
    reference = (tmp_path / 'ref.onnx').read_bytes()
    interrupted = 0
    for k, fraction in enumerate(FRACTIONS + tuple(f / 4 for f in FRACTIONS)):
        if interrupted >= 2:
            break
        out = tmp_path / ('q%d.onnx' % k)
        code, output, _, _ = session.run(argv + ['--out', out], after(fraction * seconds))
        assert 'Traceback' not in output
        if code == 130:   # interrupted: no model under its name
            interrupted += 1
            assert output.rstrip().splitlines()[-1] == 'interrupted'
            assert not out.exists()
        else:             # finished before the signal (a shared machine): then complete
            assert code in (0, 'late'), output
        assert not no_partial_files(tmp_path)
        assert sorted(p.name for p in Path(demo_model).parent.iterdir()) == sorted(
            ['fcn_alexnet_w025_640x360.onnx', 'MODEL_CARD.md'])
        session.ok(argv + ['--out', out])
        assert out.read_bytes() == reference
    assert interrupted >= 2


@pytest.mark.slow
def test_eval(session, tmp_path, tiny640):
    session.ok(['make-bag', '--out', tmp_path / 'bag', '--frames-per-condition', '5',
                '--seed', '3', '--size', '640x360'])
    argv = ['eval', '--bag', tmp_path / 'bag', '--model', tiny640]

    def accuracy(folder):
        metrics = json.loads((folder / 'metrics.json').read_text())
        return [r['accuracy'] for r in metrics['runs']]

    session.ok(argv + ['--report', tmp_path / 'ref'])
    reference = accuracy(tmp_path / 'ref')
    for k, fraction in enumerate(FRACTIONS):
        out = tmp_path / ('rep%d' % k)
        session.interrupt(argv + ['--report', out], progress('eval', fraction))
        assert not (out / 'metrics.json').exists() and not (out / 'report.md').exists()
        session.ok(argv + ['--report', out])
        assert accuracy(out) == reference


@pytest.mark.slow
def test_demo(session, tmp_path, tiny640):
    """Interrupted in its bag, its quantization and its replay step, then run to the end."""
    argv = ['demo', '--model', tiny640, '--frames-per-condition', '2', '--calib-frames', '2',
            '--heldout-frames', '1', '--max-fallback', '1', '--skip-live']
    session.ok(argv + ['--out', tmp_path / 'ref'])

    def result(root):
        metrics = json.loads((root / 'report' / 'metrics.json').read_text())
        calib = json.loads((root / 'calib_day_entropy.json').read_text())['amax']
        return ([r['accuracy'] for r in metrics['runs']], tree(root / 'models'), calib,
                tree(root / 'bag'))

    out = tmp_path / 'demo'
    argv += ['--out', out]
    session.interrupt(argv, progress('make-bag', 0.5))
    assert not (out / 'bag').exists() and not no_partial_files(out)
    # The next run writes the bag again and calibrates; it is stopped as it starts quantizing.
    output = session.interrupt(argv, printed('[4/7]'))
    assert 'reused' not in output
    output = session.interrupt(argv, progress('eval', 0.5))
    assert 'reused %s' % (out / 'bag') in output and 'reused %s' % (out / 'calib') in output
    assert not (out / 'report').exists() and not no_partial_files(out)
    output, _ = session.ok(argv)
    for step in (out / 'bag', out / 'calib', 'int8_entropy.onnx, fp16_emulated.onnx',
                 out / 'models' / 'int8_mixed.onnx'):
        assert 'reused %s' % step in output
    assert result(out) == result(tmp_path / 'ref')


def _quantize(model, calib, out, cwd):
    return subprocess.Popen([sys.executable, '-m', 'fxseg_ros.cli', 'quantize', 'int8',
                             '--model', str(model), '--calib', str(calib), '--out', str(out)],
                            cwd=str(cwd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True)


@pytest.mark.slow
def test_two_quantizations_of_one_model_at_once(session, tmp_path, tiny640, frames):
    models = tmp_path / 'models'
    models.mkdir()
    model = models / 'tiny.onnx'
    model.write_bytes(Path(tiny640).read_bytes())
    session.ok(['calibrate', '--model', model, '--data', frames, '--frames', '1', '--out',
                tmp_path / 'c.json'])
    for outputs in (['a.onnx', 'b.onnx'], ['same.onnx', 'same.onnx']):
        processes = [_quantize(model, tmp_path / 'c.json', name, tmp_path) for name in outputs]
        results = [(p.wait(timeout=RUN_TIMEOUT_S), p.stdout.read()) for p in processes]
        assert [code for code, _ in results] == [0, 0], results
        assert len({(tmp_path / name).read_bytes() for name in outputs}) == 1
    assert (tmp_path / 'a.onnx').read_bytes() == (tmp_path / 'same.onnx').read_bytes()
    assert not no_partial_files(tmp_path)
    assert sorted(p.name for p in models.iterdir()) == ['tiny.onnx']


@pytest.mark.slow
def test_quantize_a_model_in_a_read_only_folder(session, tmp_path, tiny640, frames):
    import onnx

    models = tmp_path / 'models'
    models.mkdir()
    model = models / 'tiny.onnx'
    model.write_bytes(Path(tiny640).read_bytes())
    session.ok(['calibrate', '--model', model, '--data', frames, '--frames', '1', '--out',
                tmp_path / 'c.json'])
    command = read_only_command([sys.executable, '-m', 'fxseg_ros.cli', 'quantize', 'int8',
                                 '--model', str(model), '--calib', 'c.json', '--out',
                                 'q.onnx'], [models])
    if command is None:
        pytest.skip('cannot make a folder read-only here (root without unshare / mount)')
    try:
        done = subprocess.run(command, cwd=str(tmp_path), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True,
                              timeout=RUN_TIMEOUT_S)
    finally:
        os.chmod(str(models), 0o755)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in models.iterdir()) == ['tiny.onnx']
    quantized = onnx.load(str(tmp_path / 'q.onnx'))
    assert any(n.op_type == 'QuantizeLinear' for n in quantized.graph.node)
