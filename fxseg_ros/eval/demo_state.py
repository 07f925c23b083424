# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Which steps of `fxseg demo` have completed, with which inputs: the demo's resumption ledger.

`<out>/demo_state.json` records, per completed step, a digest of its inputs (settings, the
model's bytes, the digests of the outputs of the steps it reads) and the SHA-256 of every output
it wrote. The ledger entry is written after the step's outputs are complete (each of them
written under a temporary name and renamed), so an interrupted step is never recorded. A step
is reused only when its recorded inputs equal today's and its outputs are unchanged on disk;
otherwise its old outputs are deleted and it runs again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
import shutil
from typing import Dict, Mapping, Optional, Sequence

from fxseg_ros.data.atomic import write_text

LOG = logging.getLogger(__name__)

STATE_FILE = 'demo_state.json'
STATE_FORMAT = 'fxseg_ros.demo_state'
STATE_VERSION = 1
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
    if path.is_dir():
        shutil.rmtree(str(path))
    elif path.exists():
        path.unlink()


class StepLedger:
    """The completed steps of one demo output folder."""

    def __init__(self, out: Path):
        self.out = Path(out)
        self.path = self.out / STATE_FILE
        self.steps: Dict[str, Dict[str, object]] = {}
        if self.path.is_file():
            try:
                state = json.loads(self.path.read_text())
            except ValueError:
                state = {}
            if isinstance(state, dict) and state.get('format') == STATE_FORMAT \
                    and state.get('version') == STATE_VERSION:
                self.steps = dict(state.get('steps') or {})
            else:
                LOG.warning('%s is not a demo state this version wrote: every step runs again',
                            self.path)

    def completed(self, name: str, inputs: Mapping[str, object],
                  outputs: Sequence[Path]) -> bool:
        """
        Return True when `name` completed with these inputs and its outputs are as it left them.

        Otherwise the step's outputs are deleted (and its entry dropped), so it runs afresh.
        """
        entry = self.steps.get(name)
        ok = entry is not None and entry.get('inputs') == inputs_key(inputs)
        if ok:
            recorded = entry.get('outputs') or {}
            for path in outputs:
                rel = self._rel(path)
                if rel not in recorded or output_digest(path) != recorded[rel]:
                    LOG.info('demo step %s: %s changed since it was written', name, rel)
                    ok = False
                    break
        if not ok:
            self.steps.pop(name, None)
            self._save()
            for path in outputs:
                _remove(path)
        return ok

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
