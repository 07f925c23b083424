# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Outputs that appear under their final name only when they are complete.

A file is written under a hidden temporary name in its own folder and renamed over the final
name when the writer has finished (`os.replace`, atomic on POSIX within one file system); a
folder (a rosbag2, a report) is built under a temporary sibling name and renamed the same way.
An interrupted or failed writer leaves no file that a later run would take for complete: its
temporary file is removed, and one left behind by a killed process has a name no reader globs
(`.<name>.partial-<pid>-<random><suffix>`, hidden, never ending in the final name).

Plain Python 3.6 (the synthetic-scene writer uses it).
"""

import contextlib
import os
from pathlib import Path
import shutil
import signal
import threading
import uuid

#: Marker in the temporary names (`.<name>.partial-<pid>-<random><suffix>`).
PARTIAL_MARK = '.partial-'


def partial_name(path, keep_suffix: bool = True) -> Path:
    """
    Return a temporary sibling of `path` that no reader takes for the final file.

    keep_suffix: end the name with the final suffix (e.g. '.png') for writers that pick the
    format from it; the name still never ends with the final file name.
    """
    path = Path(path)
    suffix = path.suffix if keep_suffix else ''
    stem = path.name[:-len(suffix)] if suffix else path.name
    token = '%d-%s' % (os.getpid(), uuid.uuid4().hex[:8])
    return path.with_name('.%s%s%s%s' % (stem, PARTIAL_MARK, token, suffix))


def remove_partial(path) -> None:
    """Remove a temporary file or folder; a missing one is fine."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(str(path), ignore_errors=True)
    else:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


@contextlib.contextmanager
def deferred_interrupt():
    """
    Hold Ctrl-C (SIGINT) while the block runs, e.g. a few renames that belong together.

    A SIGINT that arrives meanwhile is delivered when the block ends (KeyboardInterrupt, under
    Python's default handler). Outside the main thread, where no handler can be set, the block
    runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received and callable(previous):
        previous(signal.SIGINT, received[0])


@contextlib.contextmanager
def atomic_file(path, keep_suffix: bool = True):
    """
    Yield a temporary path to write the file `path` to; rename it to `path` on success.

    On any exception (KeyboardInterrupt included) the temporary file is removed and `path` is
    left as it was. The temporary file lies in the same folder, so the rename never copies.
    """
    path = Path(path)
    tmp = partial_name(path, keep_suffix)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError('the writer of %s produced no file' % path)
        os.replace(str(tmp), str(path))
    except BaseException:
        remove_partial(tmp)
        raise


def write_bytes(path, data: bytes) -> Path:
    """Write `data` to `path` atomically; returns the path."""
    path = Path(path)
    with atomic_file(path) as tmp:
        with open(str(tmp), 'wb') as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    return path


def write_text(path, text: str, encoding: str = 'utf-8') -> Path:
    """Write `text` to `path` atomically; returns the path."""
    return write_bytes(path, text.encode(encoding))


@contextlib.contextmanager
def atomic_directory(path, replace: bool = False):
    """
    Yield a path (not yet created) to build the folder `path` under its own name, elsewhere.

    The yielded path is `<hidden sibling>/<name of path>`, so writers that name files after
    their folder (rosbag2 storage files) see the final name. On success it is renamed to
    `path`; replace=True first moves an existing `path` aside and deletes it afterwards (else
    an existing `path` is an error, raised before anything is written). On any exception the
    hidden staging folder is deleted.
    """
    path = Path(path)
    if path.exists() and not replace:
        raise FileExistsError('%s exists already' % path)
    staging = partial_name(path, keep_suffix=False)
    staging.mkdir()
    built = staging / path.name
    try:
        yield built
        if not built.is_dir():
            raise FileNotFoundError('the writer of %s produced no folder' % path)
        old = None
        if path.exists():
            old = partial_name(path, keep_suffix=False)
            os.replace(str(path), str(old))
        os.replace(str(built), str(path))
        if old is not None:
            remove_partial(old)
    finally:
        remove_partial(staging)
