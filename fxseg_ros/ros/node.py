# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Entry point of `segmentation_node` (ros2 run, the launch files, `python -m fxseg_ros.ros.node`).

Light on purpose: importing it takes SIGINT and SIGTERM over at once, before the node's modules
are imported (rclpy, NumPy, OpenCV, ONNX: about a second on a desktop, several on a Jetson TX2),
so a Ctrl-C at any moment of start-up ends the process quietly with the status of a stopped
node, 0, instead of a KeyboardInterrupt traceback from inside an import. Until the node installs
its own stop handling (fxseg_ros.ros.node_main, before rclpy starts) a signal ends the process at
once: nothing exists yet that the OS does not release. The node, its signals and exit statuses:
fxseg_ros.ros.node_main.

Beyond the package's reach: a signal while the interpreter itself starts (`site` and the `.pth`
files of the environment) or finds the package, before the first line here runs.
"""

import os
import signal
import sys

#: The signals that stop the node (ros2 launch sends SIGINT, then SIGTERM; systemd SIGTERM).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _stop_during_startup(signum, frame) -> None:
    """End the process at once with status 0: nothing to release before rclpy starts."""
    for other in STOP_SIGNALS:
        signal.signal(other, signal.SIG_IGN)  # the same Ctrl-C again (ros2 launch) changes nothing
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, RuntimeError):  # closed, or in the middle of a write
            pass
    os._exit(0)


def install_startup_handlers() -> dict:
    """SIGINT / SIGTERM end the process quietly (status 0); return the previous handlers."""
    try:
        return {signum: signal.signal(signum, _stop_during_startup) for signum in STOP_SIGNALS}
    except ValueError:  # imported outside the main thread: not the process entry
        return {}


#: The handlers before this module took the signals over (importing it starts the node).
_PREVIOUS_HANDLERS = install_startup_handlers()


def main(argv=None) -> int:
    """
    Run the node (fxseg_ros.ros.node_main.main); return the exit status.

    argv: None for this process's command line (the process is the node: the signal handling
    stays until it exits); a list of strings when called from other Python code, which gets its
    own handlers back where the node did not start rclpy (e.g. `--list-parameters`).
    """
    install_startup_handlers()  # again: something may have set others since the import
    try:
        from fxseg_ros.ros.node_main import main as node_main

        return node_main(argv)
    finally:
        for signum, handler in _PREVIOUS_HANDLERS.items():
            if argv is not None and signal.getsignal(signum) is _stop_during_startup:
                signal.signal(signum, handler)


if __name__ == '__main__':
    sys.exit(main())
