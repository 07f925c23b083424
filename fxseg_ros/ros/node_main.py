# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
`segmentation_node`'s run, started by the entry point fxseg_ros.ros.node.

Checks the command line (parameter files exist, `-p` values have the parameters' types), starts
rclpy with the signals left to this module, creates the managed node (fxseg_ros.ros.node_core),
takes it to active (`autostart`), or through configure only (`build_only`), and spins until
SIGINT / SIGTERM or a lifecycle shutdown.

Signals: during start-up (imports, rclpy.init, the configure that loads or builds the model, the
activation) the first SIGINT or SIGTERM ends the process at once with status 0, without a
traceback and without tearing anything down (fxseg_ros.ros.node installs that handling before
this module is imported, StopRequest keeps it until the node serves). Raising KeyboardInterrupt
there instead is unsafe: it can surface inside an extension module's import or a C++ callback
(seen: onnx's nanobind module init called std::terminate, the process aborted), and destroying
a DDS participant right after it started can deadlock (see _exit_without_teardown). Once the
node serves, the first signal ends the spin loop; the node then deactivates (the worker
finishes its batch and stops) and cleans up before the rclpy context is shut down, and the
process exits 0. Later SIGINTs and SIGTERMs are ignored (SIGKILL is not): under `ros2 launch` a
Ctrl-C reaches the node twice (from the terminal to the process group, and from launch). A
signal is handled when Python code runs: a long call inside a native library (an engine build)
finishes its current step first.

Exit status: 0 after a signal, a lifecycle shutdown or a successful build_only run; 2 when the
node cannot start (one FATAL line naming the argument or parameter).
"""


import logging
import os
import signal
import sys
from typing import Optional, Sequence

from fxseg_ros.ros import compat
from fxseg_ros.ros import params as P
from fxseg_ros.ros.arguments import (ArgumentParser, command_line_problem, CommandLineError,
                                     dropped_override_problem, rcl_argument_problem)
from fxseg_ros.ros.camera_io import StartupError
from fxseg_ros.ros.node_core import NODE_NAME, SegmentationNode
import rclpy
from rclpy.executors import ExternalShutdownException, ShutdownException, SingleThreadedExecutor
from rclpy.utilities import remove_ros_args

#: How often the spin loop looks at the stop request (a signal handler runs between calls).
_SPIN_PERIOD_S = 0.1


class StopRequest:
    """SIGINT / SIGTERM handling: the first signal asks to stop, later ones are ignored."""

    def __init__(self):
        self.signal_name: Optional[str] = None
        #: while True (start-up, until the node serves) the first signal ends the process at once
        self.during_startup = True

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum, frame) -> None:
        if self.signal_name is not None:
            return  # the same Ctrl-C again (ros2 launch forwards it): stopping already
        self.signal_name = signal.Signals(signum).name
        if self.during_startup:
            _exit_without_teardown(0)
        # Nothing else here: a handler must not change the handling of the other signal. Two
        # signals that arrive while rcl waits (a Ctrl-C from the terminal and the one launch
        # forwards) are both pending when Python next runs, and CPython runs their handlers in
        # one pass (Modules/signalmodule.c, _PyErr_CheckSignalsTstate; PyErr_CheckSignals
        # before 3.10): once this one has set the other's to SIG_IGN, the pass finds no handler
        # for it and prints "Signal 15 ignored due to race condition" with a traceback (3.8.9
        # and later, bpo-43406; 3.6 and 3.8.0-3.8.8 call the SIG_IGN constant and raise
        # TypeError: 'int' object is not callable). ignore_further() does it from the main loop.

    def ignore_further(self) -> None:
        """
        Have the OS ignore SIGINT and SIGTERM from now on (the process is stopping).

        Called from ordinary code, never from a handler: signal.signal runs the handlers of
        pending signals before it changes one (signal_signal_impl in Modules/signalmodule.c), so
        those still reach _on_signal. SIG_IGN, not a Python handler, also covers interpreter
        shutdown, where CPython puts Python handlers back to SIG_DFL (_PySignal_Fini;
        finisignal before 3.10) and a late SIGINT would kill the process. Left: a signal in the
        microsecond between that check and the change of disposition (one "ignored due to race
        condition" line; on 3.6 and 3.8.0-3.8.8 a TypeError). Blocking the signals cannot close
        it: pthread_sigmask covers the calling thread, and DDS's threads would take them.
        """
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)

    @property
    def requested(self) -> bool:
        return self.signal_name is not None


def parameter_table_markdown() -> str:
    """Return the parameters as a Markdown table (for `segmentation_node --list-parameters`)."""
    lines = ['| parameter | type | default | allowed | live |', '|---|---|---|---|---|']
    lines += ['| %s |' % ' | '.join(row) for row in P.spec_rows()]
    return '\n'.join(lines)


def _parse_args(argv: Sequence[str]):
    """Parse the node's own options (CommandLineError, one line, for a bad one)."""
    parser = ArgumentParser(
        prog=NODE_NAME, description='Semantic segmentation of camera topics. Parameters are '
        'ROS parameters: --ros-args -p name:=value or --params-file config/cpu.yaml.')
    parser.add_argument('--list-parameters', action='store_true',
                        help='print the parameter table (Markdown) and exit')
    return parser.parse_args(list(argv))


def _fatal(message: str) -> int:
    rclpy.logging.get_logger(NODE_NAME).fatal('cannot start: %s' % message)
    return 2


def _exit_without_teardown(status: int) -> None:
    """
    End a process that could not start, or was stopped while starting, without teardown.

    Fast DDS 3.2 (Kilted wheels) can deadlock when a participant is destroyed while discovery is
    still running, as it is right after start-up: `rmw_fastrtps_shared_cpp::destroy_participant`
    calls `DomainParticipant::set_listener`, which waits for the running listener callback, while
    that callback (`on_reader_discovery` on a transport thread) waits for a mutex the destroying
    thread holds (seen as a node that logged its FATAL line and then spun at 70 % CPU for
    minutes). A start that failed or was stopped has nothing to release that the OS does not
    (the files it writes appear under their names only once complete): flush the log and go.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, RuntimeError):  # closed, or in the middle of a write
            pass
    os._exit(status)


def _start(node: SegmentationNode) -> Optional[int]:
    """Configure (and activate) at start-up; an exit status when the process ends here."""
    cfg = node.cfg
    if not (cfg['build_only'] or cfg['autostart']):
        node.get_logger().info('unconfigured: waiting for a lifecycle manager to configure '
                               'and activate the node (autostart is false)')
        return None
    node.trigger_configure()  # a signal meanwhile ends the process (StopRequest)
    if node.lifecycle_state != 'inactive':
        return 2  # the node logged the FATAL line
    if cfg['build_only']:
        cached = getattr(node.runner, 'cached_model_path', None)
        node.get_logger().info('build_only: %s is ready%s; exiting without subscribing'
                               % (node.description,
                                  ' (optimised graph %s)' % cached if cached else ''))
        return 0
    node.trigger_activate()
    return None if node.lifecycle_state == 'active' else 2


def _spin(node: SegmentationNode, stop: StopRequest) -> None:
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    try:
        while not stop.requested and node.lifecycle_state != 'finalized':
            executor.spin_once(timeout_sec=_SPIN_PERIOD_S)
    except (ExternalShutdownException, ShutdownException):
        pass  # the context was shut down from elsewhere
    finally:
        executor.remove_node(node)


def _stop(node: SegmentationNode) -> None:
    """Take the node through shutdown (release in order) unless it is finalized already."""
    if node.lifecycle_state == 'finalized':
        return
    try:
        node.trigger_shutdown()
    except Exception:  # the state machine is mid-transition
        node.release_all()
    if node.lifecycle_state != 'finalized':
        node.release_all()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the node until SIGINT / SIGTERM; return the exit status (2: it could not start)."""
    args = list(sys.argv if argv is None else argv)
    problem = command_line_problem(args)  # before rcl parses them: it fails with a traceback
    if problem:
        return _fatal(problem)
    try:
        node_args = remove_ros_args(args)[1:]
    except Exception as exc:  # rcl's own argument errors (RCLError): one line
        return _fatal(rcl_argument_problem(str(exc), 'could not read these arguments'))
    try:
        options = _parse_args(node_args)
    except CommandLineError as exc:
        return _fatal(str(exc))
    if options.list_parameters:
        print(parameter_table_markdown())
        return 0
    logging.basicConfig(level=logging.INFO, format='[%(levelname)s] [%(name)s]: %(message)s')
    stop = StopRequest()
    stop.install()  # already during rclpy.init
    try:
        compat.init_without_signal_handlers(args)
    except Exception as exc:  # rcl's own argument errors (RCLError): one line
        return _fatal(rcl_argument_problem(str(exc), 'could not start with these arguments'))
    stop.install()  # again: where rclpy installed handlers of its own, ours replace them
    node = None
    status = 0
    try:
        try:
            node = SegmentationNode()
            problem = dropped_override_problem(args, node.cfg, node.get_name())
            if problem:
                raise StartupError(problem)
            status = _start(node)
            if status is None:
                stop.during_startup = False  # serving: a signal stops the node in order
                _spin(node, stop)
                stop.ignore_further()  # stopping: a signal or a lifecycle shutdown
                status = 0
        except StartupError as exc:
            status = _fatal(str(exc))
        if status == 2:
            _exit_without_teardown(status)
    finally:
        if node is not None:
            _stop(node)
            node.destroy_node()
        compat.try_shutdown()
    return status


if __name__ == '__main__':
    sys.exit(main())
