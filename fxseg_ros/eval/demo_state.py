# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Which steps of `fxseg demo` have completed, with which inputs: the demo's resumption ledger.

`<out>/demo_state.json` records, per completed step, a digest of its inputs (settings, the
model's bytes, the digests of the outputs of the steps it reads) and the SHA-256 of every output
it wrote. The ledger entry is written after the step's outputs are complete (each of them
written under a temporary name and renamed), so an interrupted step is never recorded as
complete. A step is reused only when its recorded inputs equal today's and its outputs are
unchanged on disk; otherwise it runs again.

The ledger deletes only what it owns: before a step runs, its outputs are recorded as claimed
(an entry without inputs), so the outputs of a step that was interrupted are known to be the
demo's on the next run. A file or folder at an output path that no entry names is someone
else's: the step refuses to run (`ForeignOutputError`) instead of deleting or overwriting it.
Leftovers of a killed writer carry the temporary names of `fxseg_ros.data.atomic` and are
removed by `remove_leftovers`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
import shutil
from typing import Dict, Mapping, Optional, Sequence

from fxseg_ros.data.atomic import PARTIAL_MARK, write_text

LOG = logging.getLogger(__name__)

STATE_FILE = 'demo_state.json'
STATE_FORMAT = 'fxseg_ros.demo_state'
STATE_VERSION = 2
#: The previous version of the state, read too: it recorded completed steps only.
PREVIOUS_VERSION = 1
#: Bytes read at a time when hashing.
_CHUNK = 1 << 20


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, hex."""
    digest = hashlib.sha256()
    with open(str(path), 'rb') as handle:
        for block in iter(lambda: handle.read(_CHUNK), b''):
            digest.update(block)
    return digest.hexdigest()


def output_digest(path: Path) -> Optional[str]:
    """SHA-256 of a file, or of a folder's files (names and bytes); None when missing."""
    if path.is_file():
        return file_digest(path)
    if not path.is_dir():
        return None
    digest = hashlib.sha256()
    for item in sorted(p for p in path.rglob('*') if p.is_file()):
        digest.update(item.relative_to(path).as_posix().encode())
        digest.update(file_digest(item).encode())
    return digest.hexdigest()


def inputs_key(inputs: Mapping[str, object]) -> str:
    """Return a digest of a step's inputs (JSON-serialisable values)."""
    text = json.dumps(inputs, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(str(path))
    elif path.exists() or path.is_symlink():
        path.unlink()


class ForeignOutputError(ValueError):
    """An output path of a step holds a file or folder the demo did not write."""


class StepLedger:
    """
    The completed steps of one demo output folder.

    force: treat every step as not completed (its recorded outputs are deleted and it runs).
    unrecorded: step name -> outputs that a state of PREVIOUS_VERSION's demo wrote on every run
    without recording them; read from such a state, they count as claimed by that step.
    """

    def __init__(self, out: Path, force: bool = False,
                 unrecorded: Optional[Mapping[str, Sequence[Path]]] = None):
        self.out = Path(out)
        self.path = self.out / STATE_FILE
        self.force = force
        self.steps: Dict[str, Dict[str, object]] = {}
        if self.path.is_file():
            try:
                state = json.loads(self.path.read_text())
            except ValueError:
                state = {}
            known = isinstance(state, dict) and state.get('format') == STATE_FORMAT
            version = state.get('version') if known else None
            if version in (STATE_VERSION, PREVIOUS_VERSION):
                self.steps = {name: entry for name, entry in (state.get('steps') or {}).items()
                              if isinstance(entry, dict)}
                if version == PREVIOUS_VERSION:
                    for name, outputs in (unrecorded or {}).items():
                        self.steps.setdefault(name, {'outputs': {
                            self._rel(p): None for p in outputs}})
            else:
                LOG.warning('%s is not a demo state this version wrote: no step is reused, and '
                            'no file of the folder is taken for an output of the demo',
                            self.path)

    def completed(self, name: str, inputs: Mapping[str, object],
                  outputs: Sequence[Path]) -> bool:
        """
        Return True when `name` completed with these inputs and its outputs are as it left them.

        Otherwise the step is claimed (see `claim`): its old outputs are deleted, so it runs
        afresh.
        """
        entry = self.steps.get(name)
        ok = not self.force and entry is not None and 'inputs' in entry \
            and entry.get('inputs') == inputs_key(inputs)
        if ok:
            recorded = entry.get('outputs') or {}
            for path in outputs:
                rel = self._rel(path)
                if rel not in recorded or output_digest(path) != recorded[rel]:
                    LOG.info('demo step %s: %s changed since it was written', name, rel)
                    ok = False
                    break
        if not ok:
            self.claim(name, outputs)
        return ok

    def claim(self, name: str, outputs: Sequence[Path]) -> None:
        """
        Record that step `name` is about to write `outputs`, and delete its old outputs.

        Deleted are only outputs an entry of this ledger names (of a completed or a claimed
        step). Raises ForeignOutputError, before anything is deleted, when an output path holds
        something no entry names.
        """
        self.refuse_foreign(outputs)
        previous = (self.steps.get(name) or {}).get('outputs') or {}
        self.steps[name] = {'outputs': {self._rel(p): None for p in outputs}}
        self._save()
        for rel in sorted(set(previous) | {self._rel(p) for p in outputs}):
            _remove(self.out / rel)

    def refuse_foreign(self, outputs: Sequence[Path]) -> None:
        """Raise ForeignOutputError when an output path holds something no entry names."""
        owned = set()
        for entry in self.steps.values():
            owned.update(entry.get('outputs') or {})
        foreign = [path for path in outputs
                   if (path.exists() or path.is_symlink()) and self._rel(path) not in owned]
        if foreign:
            raise ForeignOutputError(
                '%s %s not written by fxseg demo (%s does not name %s)'
                % (', '.join(str(p) for p in foreign), 'was' if len(foreign) == 1 else 'were',
                   self.path, 'it' if len(foreign) == 1 else 'them'))

    def remove_leftovers(self, folders: Sequence[Path]) -> None:
        """Delete what a killed writer left in `folders`: entries with atomic's temporary names."""
        for folder in folders:
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                if path.name.startswith('.') and PARTIAL_MARK in path.name:
                    LOG.info('removing %s, left by an interrupted writer', path)
                    _remove(path)

    def record(self, name: str, inputs: Mapping[str, object], outputs: Sequence[Path]) -> None:
        """Mark `name` complete: its inputs' digest and its outputs' digests, written now."""
        self.steps[name] = {'inputs': inputs_key(inputs),
                            'outputs': {self._rel(p): output_digest(p) for p in outputs}}
        self._save()

    def digest_of(self, name: str, path: Path) -> Optional[str]:
        """Return the recorded digest of an output of a completed step (None when not recorded)."""
        entry = self.steps.get(name) or {}
        return (entry.get('outputs') or {}).get(self._rel(path))

    def _rel(self, path: Path) -> str:
        return Path(path).relative_to(self.out).as_posix()

    def _save(self) -> None:
        write_text(self.path, json.dumps({'format': STATE_FORMAT, 'version': STATE_VERSION,
                                          'steps': self.steps}, indent=1, sort_keys=True))
