# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Helpers of the command-line tests: a command with folders it cannot write to."""

import os
import shutil
import subprocess


def read_only_command(command, folders):
    """
    `command` with `folders` read-only for it.

    As root (who may write into any folder whatever its mode) through a read-only bind mount in
    a private mount namespace (util-linux `unshare -m`); otherwise the folders' write bits are
    cleared (the caller restores them). Returns None when neither is possible here.
    """
    if os.geteuid() != 0:
        for folder in folders:
            os.chmod(str(folder), 0o555)
        return command
    if shutil.which('unshare') is None or shutil.which('mount') is None:
        return None
    probe = subprocess.run(['unshare', '-m', '--propagation', 'private', 'true'],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if probe.returncode != 0:
        return None
    mounts = ' && '.join('mount --bind -o ro "$%d" "$%d"' % (i + 1, i + 1)
                         for i in range(len(folders)))
    return (['unshare', '-m', '--propagation', 'private', 'sh', '-c',
             '%s && shift %d && exec "$@"' % (mounts, len(folders)), 'sh']
            + [str(f) for f in folders] + list(command))
