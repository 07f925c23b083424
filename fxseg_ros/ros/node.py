# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
`segmentation_node`: the entry point (`ros2 run fxseg_ros segmentation_node`).

Checks the command line (parameter files exist, `-p` values have the parameters' types), starts
rclpy with the signals left to this module, creates the managed node (fxseg_ros.ros.node_core),
takes it to active (`autostart`), or through configure only (`build_only`), and spins until
SIGINT / SIGTERM or a lifecycle shutdown.

Signals: the first SIGINT or SIGTERM ends the spin loop; the node then deactivates (the worker
finishes its batch and stops) and cleans up before the rclpy context is shut down, and the
process exits 0 without a traceback. Later SIGINTs and SIGTERMs are ignored (SIGKILL is not):
under `ros2 launch` a Ctrl-C reaches the node twice (from the terminal to the process group, and
from launch). A signal during the start-up configure (an engine build takes minutes) interrupts
it.

Exit status: 0 after a signal, a lifecycle shutdown or a successful build_only run; 2 when the
node cannot start (one FATAL line naming the argument or parameter).
"""


import argparse
import logging
import os
import signal
import sys
from typing import Optional, Sequence

from fxseg_ros.ros import compat
from fxseg_ros.ros import params as P
from fxseg_ros.ros.arguments import command_line_problem, dropped_override_problem
from fxseg_ros.ros.camera_io import StartupError
from fxseg_ros.ros.node_core import descriptor, NODE_NAME, SegmentationNode
import rclpy
from rclpy.executors import ExternalShutdownException, ShutdownException, SingleThreadedExecutor
from rclpy.utilities import remove_ros_args

__all__ = ['NODE_NAME', 'SegmentationNode', 'StartupError', 'descriptor', 'main']

#: How often the spin loop looks at the stop request (a signal handler runs between calls).
_SPIN_PERIOD_S = 0.1


class StopRequest:
    """SIGINT / SIGTERM handling: the first signal asks to stop, later ones are ignored."""

    def __init__(self):
        self.signal_name: Optional[str] = None
        #: while True the first signal raises KeyboardInterrupt (a start-up configure)
        self.interrupt_work = False

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum, frame) -> None:
        if self.signal_name is not None:
            return  # the same Ctrl-C again (ros2 launch forwards it): stopping already
        self.signal_name = signal.Signals(signum).name
        # ignored from now on by the OS, also while the interpreter shuts down (where Python
        # puts its own handlers back to the default, and a late SIGINT would kill the process)
        for other in (signal.SIGINT, signal.SIGTERM):
            signal.signal(other, signal.SIG_IGN)
        if self.interrupt_work:
            raise KeyboardInterrupt(self.signal_name)

    @property
    def requested(self) -> bool:
        return self.signal_name is not None


def parameter_table_markdown() -> str:
    """Return the parameters as a Markdown table (for `segmentation_node --list-parameters`)."""
    lines = ['| parameter | type | default | allowed | live |', '|---|---|---|---|---|']
    lines += ['| %s |' % ' | '.join(row) for row in P.spec_rows()]
    return '\n'.join(lines)


def _parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
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
    End a process that could not start at once, without destroying its DDS participant.

    Fast DDS 3.2 (Kilted wheels) can deadlock when a participant is destroyed while discovery is
    still running, as it is right after start-up: `rmw_fastrtps_shared_cpp::destroy_participant`
    calls `DomainParticipant::set_listener`, which waits for the running listener callback, while
    that callback (`on_reader_discovery` on a transport thread) waits for a mutex the destroying
    thread holds (seen as a node that logged its FATAL line and then spun at 70 % CPU for
    minutes). A failed start has nothing to release that the OS does not: flush the log and go.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more to say
            pass
    os._exit(status)


def _start(node: SegmentationNode, stop: StopRequest) -> Optional[int]:
    """Configure (and activate) at start-up; an exit status when the process ends here."""
    cfg = node.cfg
    if not (cfg['build_only'] or cfg['autostart']):
        node.get_logger().info('unconfigured: waiting for a lifecycle manager to configure '
                               'and activate the node (autostart is false)')
        return None
    if stop.requested:
        return 0
    stop.interrupt_work = True
    try:
        node.trigger_configure()
    finally:
        stop.interrupt_work = False
    if node.lifecycle_state != 'inactive':
        return 2  # the node logged the FATAL line
    if cfg['build_only']:
        cached = getattr(node.runner, 'cached_model_path', None)
        node.get_logger().info('build_only: %s is ready%s; exiting without subscribing'
                               % (node.description,
                                  ' (optimised graph %s)' % cached if cached else ''))
        return 0
    if stop.requested:
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
    except Exception:  # the state machine is mid-transition (an interrupted configure)
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
        options = _parse_args(remove_ros_args(args)[1:])
    except Exception as exc:  # rcl's own argument errors (RCLError): one line
        return _fatal('ROS 2 could not read these arguments: %s' % exc)
    if options.list_parameters:
        print(parameter_table_markdown())
        return 0
    logging.basicConfig(level=logging.INFO, format='[%(levelname)s] [%(name)s]: %(message)s')
    stop = StopRequest()
    stop.install()  # already during rclpy.init
    try:
        compat.init_without_signal_handlers(args)
    except Exception as exc:  # rcl's own argument errors (RCLError): one line
        return _fatal('ROS 2 could not start with these arguments: %s' % exc)
    stop.install()  # again: where rclpy installed handlers of its own, ours replace them
    node = None
    status = 0
    try:
        try:
            node = SegmentationNode()
            problem = dropped_override_problem(args, node.cfg, node.get_name())
            if problem:
                raise StartupError(problem)
            status = _start(node, stop)
            if status is None:
                _spin(node, stop)
                status = 0
        except StartupError as exc:
            status = _fatal(str(exc))
        except KeyboardInterrupt:
            status = 0  # a signal during the start-up configure
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
