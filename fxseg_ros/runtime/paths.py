# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Where the runtime keeps what it derives from models: optimised graphs, engines."""


import os
from pathlib import Path


def default_cache_dir() -> Path:
    """Return the cache directory: $FXSEG_CACHE_DIR, else $XDG_CACHE_HOME/fxseg_ros."""
    env = os.environ.get('FXSEG_CACHE_DIR')
    if env:
        return Path(env)
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return Path(base) / 'fxseg_ros'
