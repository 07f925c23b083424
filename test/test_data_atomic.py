# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Outputs under their final name only when complete (fxseg_ros.data.atomic)."""

from fxseg_ros.data import atomic
import pytest


def test_a_file_appears_only_when_its_writer_finished(tmp_path):
    path = tmp_path / 'calib.json'
    path.write_text('old')
    with pytest.raises(KeyboardInterrupt):
        with atomic.atomic_file(path) as staged:
            staged.write_text('half')
            # While written the file has another name, which no reader of *.json picks up.
            assert staged.parent == tmp_path and staged.name.startswith('.')
            assert staged.suffix == '.json' and not staged.name.endswith(path.name)
            raise KeyboardInterrupt
    assert path.read_text() == 'old'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['calib.json']
    atomic.write_text(path, 'new')
    assert path.read_text() == 'new'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['calib.json']


def test_a_writer_that_wrote_nothing_leaves_nothing(tmp_path):
    with pytest.raises(FileNotFoundError, match='produced no file'):
        with atomic.atomic_file(tmp_path / 'm.onnx'):
            pass
    assert list(tmp_path.iterdir()) == []


def test_a_folder_is_built_under_its_own_name_and_renamed(tmp_path):
    bag = tmp_path / 'drive'
    with atomic.atomic_directory(bag) as staged:
        # Writers that name files after their folder (rosbag2) see the final name.
        assert staged.name == 'drive' and staged.parent.name.startswith('.drive.partial-')
        staged.mkdir()
        (staged / 'drive.mcap').write_bytes(b'bag')
        assert not bag.exists()
    assert (bag / 'drive.mcap').read_bytes() == b'bag'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['drive']


def test_an_interrupted_folder_leaves_nothing_and_an_existing_one_is_kept(tmp_path):
    bag = tmp_path / 'drive'
    with pytest.raises(KeyboardInterrupt):
        with atomic.atomic_directory(bag) as staged:
            staged.mkdir()
            (staged / 'drive.mcap').write_bytes(b'half')
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
    bag.mkdir()
    (bag / 'old').write_text('x')
    with pytest.raises(FileExistsError):
        with atomic.atomic_directory(bag):
            pass
    with atomic.atomic_directory(bag, replace=True) as staged:
        staged.mkdir()
        (staged / 'new').write_text('y')
    assert sorted(p.name for p in bag.iterdir()) == ['new']
    assert sorted(p.name for p in tmp_path.iterdir()) == ['drive']


def test_ctrl_c_is_held_until_renames_that_belong_together_are_done(tmp_path):
    import os
    import signal

    done = []
    with pytest.raises(KeyboardInterrupt):
        with atomic.deferred_interrupt():
            os.kill(os.getpid(), signal.SIGINT)   # a real SIGINT, delivered to this thread
            for name in ('label.png', 'image.png'):
                (tmp_path / name).write_text(name)
                done.append(name)
    assert done == ['label.png', 'image.png']
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
