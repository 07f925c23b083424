# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Helpers of the ROS tests: node processes, their logs, lifecycle service calls, hidden modules.

Imported by the test modules that need rclpy after they checked it is there (never at module
level of a module pytest collects without rclpy).
"""


import json
import os
from pathlib import Path
import signal
import subprocess
import sys
import threading
import time
from typing import Dict, Iterable, List, Optional, Sequence

from fxseg_ros.data.stamps import stamp_to_ns
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / 'config' / 'cpu.yaml'
#: The longest a node may take to start or answer here (2 busy cores)
START_S = 120.0
WAIT_S = 20.0

# A Python prelude that makes rclpy modules (or names in them) unimportable in the node process,
# so that fxseg_ros.ros.compat takes its branch for an older rclpy. rclpy itself is imported
# first (its own modules keep what they imported); rclpy.qos_event and rclpy.lifecycle are
# imported before rclpy.event_handler is hidden because on Iron and later they import it.
# `event_keywords` restricts SubscriptionEventCallbacks to the keywords of an older branch (the
# class of this rclpy, which rejects the others and shows only those in its signature), so the
# node meets the event set of that branch: humble rclpy/rclpy/qos_event.py takes deadline,
# incompatible_qos, liveliness and message_lost; foxy's the first three.
_PRELUDE = r"""
import importlib.abc, inspect, json, sys, warnings
hide_modules, hide_names, event_keywords, argv = json.loads(sys.argv[1])
import importlib
import rclpy, rclpy.node, rclpy.executors, rclpy.parameter, rclpy.signals
with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    import rclpy.qos_event
if 'rclpy.lifecycle' not in hide_modules:
    importlib.import_module('rclpy.lifecycle')  # it imports rclpy.event_handler itself
for name in hide_modules:
    sys.modules.pop(name, None)
class _Hidden(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if any(fullname == m or fullname.startswith(m + '.') for m in hide_modules):
            raise ImportError('%s is hidden in this process' % fullname)
        return None
sys.meta_path.insert(0, _Hidden())
for module, name in hide_names:
    delattr(sys.modules[module], name)
if event_keywords:
    _Callbacks = rclpy.qos_event.SubscriptionEventCallbacks
    class _OlderCallbacks(_Callbacks):
        def __init__(self, **callbacks):
            unknown = sorted(set(callbacks) - set(event_keywords))
            if unknown:
                raise TypeError('unexpected keyword argument(s) %s' % unknown)
            super().__init__(**callbacks)
    _OlderCallbacks.__signature__ = inspect.Signature([
        inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=None)
        for k in event_keywords])
    rclpy.qos_event.SubscriptionEventCallbacks = _OlderCallbacks
from fxseg_ros.ros import compat
print('COMPAT ' + json.dumps(compat.summary()), file=sys.stderr, flush=True)
sys.argv = ['segmentation_node'] + argv
from fxseg_ros.ros.node import main
sys.exit(main())
"""


def yaml_value(value) -> str:
    """Return a -p value in YAML flow style (strings quoted: 'abc', lists of strings)."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        return '[%s]' % ', '.join("'%s'" % v if isinstance(v, str) else str(v) for v in value)
    if isinstance(value, str):
        return "'%s'" % value
    return repr(value)


def node_command(params_file=CONFIG, params: Optional[Dict[str, object]] = None,
                 raw_params: Sequence[str] = (), hide_modules: Sequence[str] = (),
                 hide_names: Sequence[Sequence[str]] = (), ros_args: Sequence[str] = (),
                 log_level: str = 'info', event_keywords: Sequence[str] = ()) -> List[str]:
    """Return the command line of a node process (this Python), rclpy parts hidden if asked."""
    args = ['--ros-args', '--log-level', log_level]
    if params_file:
        args += ['--params-file', str(params_file)]
    for name, value in (params or {}).items():
        args += ['-p', '%s:=%s' % (name, yaml_value(value))]
    for text in raw_params:
        args += ['-p', text]
    args += list(ros_args)
    if not hide_modules and not hide_names and not event_keywords:
        return [sys.executable, '-m', 'fxseg_ros.ros.node'] + args
    spec = json.dumps([list(hide_modules), [list(n) for n in hide_names], list(event_keywords),
                       args])
    return [sys.executable, '-c', _PRELUDE, spec]


class NodeProcess:
    """A node process whose stdout and stderr go to one log file."""

    def __init__(self, cmd: List[str], log_path: Path, env: Optional[Dict[str, str]] = None):
        self.cmd = cmd
        self.log_path = Path(log_path)
        full_env = dict(os.environ)
        full_env.update(env or {})
        full_env['PYTHONUNBUFFERED'] = '1'
        self.started = time.monotonic()
        with open(str(self.log_path), 'w') as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=full_env)

    def log(self) -> str:
        return self.log_path.read_text(errors='replace')

    def wait_for_log(self, text: str, timeout: float = START_S) -> bool:
        """Wait until `text` appears in the log (False on timeout or when the process ended)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return True
            if self.proc.poll() is not None:
                return text in self.log()
            time.sleep(0.05)
        return False

    def wait(self, timeout: float = START_S) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError('the node did not exit within %.0f s; log:\n%s'
                                 % (timeout, self.log()[-3000:]))

    def signal(self, signum=signal.SIGINT) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signum)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop(self, timeout: float = 20.0) -> int:
        """SIGINT, as ros2 launch does; the exit status."""
        self.signal(signal.SIGINT)
        return self.wait(timeout)


def fatal_lines(text: str) -> List[str]:
    return [line for line in text.splitlines() if '[FATAL]' in line]


def error_lines(text: str) -> List[str]:
    return [line for line in text.splitlines() if '[ERROR]' in line or 'Traceback' in line]


def assert_one_fatal_line(text: str, *words: str) -> str:
    """Exactly one FATAL line naming `words`, no ERROR line, no traceback; return the line."""
    fatal = fatal_lines(text)
    assert len(fatal) == 1, text
    assert not error_lines(text), text
    for word in words:
        assert word in fatal[0], (word, fatal[0])
    return fatal[0]


def call_service(probe, srv_type, name: str, request, timeout: float = WAIT_S):
    """Call a service from the probe's node (its executor spins); the response or None."""
    client = probe.node.create_client(srv_type, name)
    try:
        if not client.wait_for_service(timeout_sec=timeout):
            return None
        future = client.call_async(request)
        done = threading.Event()
        future.add_done_callback(lambda _: done.set())
        if not done.wait(timeout):
            return None
        return future.result()
    finally:
        probe.node.destroy_client(client)


def lifecycle_state(probe, node_name: str) -> Optional[str]:
    """Return the label of a managed node's state via lifecycle_msgs/srv/GetState."""
    from lifecycle_msgs.srv import GetState

    response = call_service(probe, GetState, node_name + '/get_state', GetState.Request())
    return None if response is None else response.current_state.label


def change_state(probe, node_name: str, transition: str, timeout: float = START_S):
    """lifecycle_msgs/srv/ChangeState by transition label; True / False, None on timeout."""
    from lifecycle_msgs.msg import Transition
    from lifecycle_msgs.srv import ChangeState

    request = ChangeState.Request(transition=Transition(label=transition))
    response = call_service(probe, ChangeState, node_name + '/change_state', request, timeout)
    return None if response is None else response.success


def grey_frame() -> np.ndarray:
    return np.full((720, 1280, 3), 128, np.uint8)


def handshake_all(probe, cameras: Iterable[int], timeout: float = START_S) -> bool:
    """Return whether subscribers matched and one mask came back per camera (both directions)."""
    frame = grey_frame()
    return probe.wait_for_subscribers(timeout) and all(
        probe.handshake(c, lambda: probe.frame_message(frame, 'bgr8', 'handshake'), timeout)
        for c in cameras)


def stamp_ns(msg) -> int:
    return stamp_to_ns(msg.header.stamp)
