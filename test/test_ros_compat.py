# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The rclpy compatibility seam: the older distros' branches executed, not only written.

Real node processes run with parts of rclpy made unimportable, so fxseg_ros.ros.compat takes
the branch it takes on that distro:
- Humble: no rclpy.event_handler (the event callbacks come from rclpy.qos_event);
- Foxy: no rclpy.lifecycle (the node runs its transitions itself), no SignalHandlerOptions
  (rclpy.init installs its own handlers; the node's replace them), no
  rclpy.parameter.parameter_value_to_python.
The Foxy fallbacks for Node.resolve_topic_name and Node.get_fully_qualified_name, which a
process cannot lose by an import, are compared with the methods on a real node. The typed
parameter declaration of Foxy (declare without a default) is only read from the sources.
"""


import json
import signal
import subprocess
import sys

import numpy as np
import pytest

try:
    import rclpy
    from rclpy.context import Context
    from rclpy.node import Node

    import ros_helpers as H
    from fxseg_ros.ros import compat
    from fxseg_ros.ros.probe import SegmentationProbe, mask_array
    ROS_MISSING = None
except ImportError as exc:  # skipped inside the tests, with the reason
    ROS_MISSING = 'rclpy (ROS 2) is not installed: %s' % exc

pytestmark = pytest.mark.ros


@pytest.fixture(autouse=True, scope='module')
def _needs_ros():
    if ROS_MISSING:
        pytest.skip(ROS_MISSING)


@pytest.fixture
def ros_node():
    context = Context()
    rclpy.init(context=context)
    node = Node('compat_probe', namespace='/fxseg_ns', context=context)
    yield node
    node.destroy_node()
    rclpy.try_shutdown(context=context)


@pytest.mark.parametrize('topic', ['image_raw', 'cam/image_raw', '/abs/image_raw',
                                   '~/image_raw'])
def test_foxy_topic_expansion_matches_resolve_topic_name(ros_node, topic):
    assert compat.expand_topic_name(ros_node, topic) == ros_node.resolve_topic_name(topic)
    assert compat.resolve_topic_name(ros_node, topic) == ros_node.resolve_topic_name(topic)


def test_foxy_node_name_matches_get_fully_qualified_name(ros_node):
    assert compat.join_node_name(ros_node.get_namespace(), ros_node.get_name()) == \
        ros_node.get_fully_qualified_name() == '/fxseg_ns/compat_probe'
    assert compat.join_node_name('/', 'a') == '/a'
    assert compat.fully_qualified_name(ros_node) == '/fxseg_ns/compat_probe'


def test_event_callbacks_keep_only_what_this_rclpy_knows():
    def callback(info):
        return info

    events = compat.subscription_event_callbacks(incompatible_qos=callback,
                                                 not_an_event=callback, deadline=None)
    assert events.incompatible_qos is callback and events.deadline is None
    assert not hasattr(events, 'not_an_event')


# The fallback converter against rclpy's own function (both in one process: rclpy's is taken
# away from the module only after a reference to it is kept)
_CONVERTER_CHECK = r"""
import json, sys
import rclpy.parameter as rp
from rclpy.parameter import Parameter
reference = rp.parameter_value_to_python
del rp.parameter_value_to_python
from fxseg_ros.ros import compat
assert compat.parameter_value_to_python is not reference
values = [None, True, 7, 2.5, 'text', [b'\x01', b'\x02'], [True, False], [1, 2], [0.5], ['a']]
out = []
for value in values:
    message = Parameter('p', value=value).get_parameter_value()
    out.append([repr(compat.parameter_value_to_python(message)), repr(reference(message))])
print(json.dumps(out))
"""


def test_foxy_parameter_value_conversion_matches_rclpy():
    result = subprocess.run([sys.executable, '-c', _CONVERTER_CHECK], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
    assert result.returncode == 0, result.stderr
    pairs = json.loads(result.stdout)
    assert len(pairs) == 10
    for ours, theirs in pairs:
        assert ours == theirs


def _compat_line(log: str) -> dict:
    line = next(line for line in log.splitlines() if line.startswith('COMPAT '))
    return json.loads(line[len('COMPAT '):])


#: distinct node names: the graph is asked for each node's services by name
NODE_NAMES = {'foxy': 'segmentation_node_foxy', 'humble': 'segmentation_node_humble'}
BRANCHES = {
    'humble': {'hide_modules': ['rclpy.event_handler'],
               'event_keywords': ['deadline', 'incompatible_qos', 'liveliness', 'message_lost']},
    'foxy': {'hide_modules': ['rclpy.event_handler', 'rclpy.lifecycle'],
             'hide_names': [['rclpy.signals', 'SignalHandlerOptions'],
                            ['rclpy.parameter', 'parameter_value_to_python']],
             'event_keywords': ['deadline', 'incompatible_qos', 'liveliness']},
}


def test_node_runs_on_the_humble_and_foxy_branches(demo_model, tmp_path):
    """Masks, an incompatible-QoS report, lifecycle services or not, SIGINT twice: exit 0."""
    runs = {}
    for i, (name, hidden) in enumerate(sorted(BRANCHES.items())):
        topic = '/fxseg_compat%d/image_raw' % i
        cmd = H.node_command(H.CONFIG, {'model': str(demo_model), 'camera_topics': [topic]},
                             ros_args=['-r', '__node:=' + NODE_NAMES[name]], **hidden)
        process = H.NodeProcess(cmd, tmp_path / (name + '.log'),
                                env={'FXSEG_CACHE_DIR': str(tmp_path / 'cache')})
        runs[name] = (process, SegmentationProbe([topic]), topic)
    best_effort = []
    try:
        for name, (process, probe, topic) in runs.items():
            assert H.handshake_all(probe, [0]), process.log()[-3000:]
            frame = np.zeros((720, 1280, 3), np.uint8)
            frame[:, 640:] = 200
            stamp = probe.publish_frame(0, frame)
            mask = probe.wait_for_mask(0, stamp, H.WAIT_S)
            assert mask is not None and mask_array(mask).shape == (720, 1280)
            # a best-effort publisher: the node's reliable subscription reports it
            bad = SegmentationProbe([topic], qos_reliable=False)
            best_effort.append(bad)
            assert process.wait_for_log('offers QoS incompatible', H.WAIT_S), \
                process.log()[-3000:]
            # lifecycle services where rclpy.lifecycle exists, none where it does not
            node = NODE_NAMES[name]
            expected = PARAMETER_SERVICES + (LIFECYCLE_SERVICES if name != 'foxy' else ())
            assert probe.wait_until(
                lambda: all(_has_service(probe, node, leaf) for leaf in expected), H.WAIT_S)
            assert any(_has_service(probe, node, leaf) for leaf in LIFECYCLE_SERVICES) == \
                (name != 'foxy')
        for name, (process, probe, topic) in runs.items():
            branch = _compat_line(process.log())
            assert branch['event_module'] == 'rclpy.qos_event'
            assert branch['matched_event'] is False   # no matched events before Iron
            assert branch['message_lost_event'] == (name != 'foxy')
            assert branch['lifecycle'] == (name != 'foxy')
            assert branch['signal_handler_options'] == (name != 'foxy')
            process.signal(signal.SIGINT)
            process.signal(signal.SIGINT)
        for name, (process, probe, topic) in runs.items():
            assert process.wait(20.0) == 0, process.log()[-3000:]
            log = process.log()
            assert 'Traceback' not in log, log[-3000:]
            assert [line for line in H.error_lines(log) if 'incompatible' not in line] == [], log
    finally:
        for bad in best_effort:
            bad.close()
        for process, probe, _ in runs.values():
            probe.close()
            process.kill()


PARAMETER_SERVICES = ('describe_parameters', 'get_parameter_types', 'get_parameters',
                      'list_parameters', 'set_parameters', 'set_parameters_atomically')
LIFECYCLE_SERVICES = ('change_state', 'get_state', 'get_available_states',
                      'get_available_transitions')


def _has_service(probe, node: str, leaf: str) -> bool:
    names = probe.node.get_service_names_and_types_by_node(node, '/')
    return any(name == '/%s/%s' % (node, leaf) for name, _ in names)


def test_foxy_self_managed_node_runs_the_lifecycle_state_machine():
    """The transitions of design.ros2.org/articles/node_lifecycle.html, without rclpy.lifecycle."""
    context = Context()
    rclpy.init(context=context)

    class Recorder(compat._SelfManagedNode):

        def __init__(self):
            super().__init__('self_managed', context=context)
            self.calls = []
            self.results = {}

        def _callback(self, name, state):
            self.calls.append((name, state))
            result = self.results.get(name, compat.TransitionCallbackReturn.SUCCESS)
            if result == 'raise':
                raise RuntimeError('configure broke')
            return result

        def on_configure(self, state):
            return self._callback('configure', state)

        def on_activate(self, state):
            return self._callback('activate', state)

        def on_deactivate(self, state):
            return self._callback('deactivate', state)

        def on_cleanup(self, state):
            return self._callback('cleanup', state)

        def on_shutdown(self, state):
            return self._callback('shutdown', state)

        def on_error(self, state):
            return self._callback('error', state)

    node = Recorder()
    success = compat.TransitionCallbackReturn.SUCCESS
    try:
        node.results['configure'] = compat.TransitionCallbackReturn.FAILURE
        assert node.trigger_configure() == compat.TransitionCallbackReturn.FAILURE
        assert node._self_managed_state == 'unconfigured'
        node.results['configure'] = 'raise'  # an exception is an ERROR: on_error, unconfigured
        assert node.trigger_configure() == compat.TransitionCallbackReturn.ERROR
        assert node._self_managed_state == 'unconfigured'
        del node.results['configure']
        with pytest.raises(RuntimeError, match='not possible from state unconfigured'):
            node.trigger_activate()
        for trigger, state in ((node.trigger_configure, 'inactive'),
                               (node.trigger_activate, 'active'),
                               (node.trigger_deactivate, 'inactive'),
                               (node.trigger_cleanup, 'unconfigured'),
                               (node.trigger_configure, 'inactive'),
                               (node.trigger_activate, 'active'),
                               (node.trigger_shutdown, 'finalized')):
            assert trigger() == success
            assert node._self_managed_state == state
        assert [c for c, _ in node.calls] == [
            'configure', 'configure', 'error', 'configure', 'activate', 'deactivate', 'cleanup',
            'configure', 'activate', 'shutdown']
        assert node.calls[-1] == ('shutdown', 'active')  # each callback gets the state left
    finally:
        node.destroy_node()
        rclpy.try_shutdown(context=context)
