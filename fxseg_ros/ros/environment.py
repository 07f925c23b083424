# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Environment variables set for a while and put back as they were (e.g. Fast DDS transports).

Fast DDS reads FASTDDS_BUILTIN_TRANSPORTS when a participant is created, so the tools that start
a participant or a node set it around that moment only. Python 3.6 compatible (runtime path).
"""

import contextlib
import os
from typing import Dict, Iterator, Mapping, Optional

#: Saved values: name -> previous value, None where the variable was not set.
Saved = Dict[str, Optional[str]]


def override_environ(values: Mapping[str, Optional[str]]) -> Saved:
    """Set (a string) or unset (None) each variable; return what `restore_environ` needs."""
    saved = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    return saved


def restore_environ(saved: Saved) -> None:
    """Put the variables saved by `override_environ` back as they were."""
    override_environ(saved)


@contextlib.contextmanager
def environ_overrides(values: Mapping[str, Optional[str]]) -> Iterator[None]:
    """Apply `override_environ(values)` inside a `with` block, restored on the way out."""
    saved = override_environ(values)
    try:
        yield
    finally:
        restore_environ(saved)
