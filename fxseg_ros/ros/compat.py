# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Every rclpy difference between the ROS 2 distros the node runs on, in one place.

Foxy (rclpy 1.0, Python 3.6 on the Jetson TX2), Humble (rclpy 3.x, JetPack 5/6), Jazzy (7.x) and
Kilted / Rolling (9.x and later). Each fact names the branch and file of github.com/ros2/rclpy
(or ros2/rcl_interfaces) it was read from. The rest of the package imports these names and never
looks at the distro itself.

Where a branch is chosen by an import that fails, the failing import is the distro fact: the
integration tests make those modules unimportable in a real node process to run the older
branch (`test/test_ros_compat.py`).
"""


import enum
import logging
from typing import Dict, Sequence

from rcl_interfaces.msg import ParameterDescriptor, ParameterType
import rclpy
from rclpy.node import Node
from rclpy.parameter import Parameter

LOG = logging.getLogger(__name__)

# Event callbacks -----------------------------------------------------------------------------
# rclpy.event_handler exists from Iron on (jazzy, rolling: rclpy/rclpy/event_handler.py; there
# rclpy/rclpy/qos_event.py only re-exports it and warns on import). Humble and Foxy have
# rclpy/rclpy/qos_event.py, which defines UnsupportedEventTypeError on both branches
# (humble qos_event.py: `UnsupportedEventTypeError = _rclpy.UnsupportedEventTypeError`; foxy
# qos_event.py the same, from src/rclpy/_rclpy.c).
try:
    from rclpy.event_handler import SubscriptionEventCallbacks, UnsupportedEventTypeError
    EVENT_MODULE = 'rclpy.event_handler'
except ImportError:
    from rclpy.qos_event import SubscriptionEventCallbacks, UnsupportedEventTypeError
    EVENT_MODULE = 'rclpy.qos_event'

# The keywords SubscriptionEventCallbacks takes: foxy qos_event.py: deadline, liveliness,
# incompatible_qos; humble qos_event.py adds message_lost; jazzy / rolling event_handler.py add
# incompatible_type and matched. Read from the class itself rather than from a version number.
try:
    import inspect

    _EVENT_KEYWORDS = frozenset(inspect.signature(SubscriptionEventCallbacks).parameters)
except (TypeError, ValueError):  # a signature Python cannot read: use the oldest set
    _EVENT_KEYWORDS = frozenset(('deadline', 'liveliness', 'incompatible_qos'))

#: Whether subscriptions report publishers matching and unmatching (Iron and later).
HAS_MATCHED_EVENT = 'matched' in _EVENT_KEYWORDS
#: Whether subscriptions report messages the middleware lost (Humble and later).
HAS_MESSAGE_LOST_EVENT = 'message_lost' in _EVENT_KEYWORDS


def subscription_event_callbacks(**callbacks) -> SubscriptionEventCallbacks:
    """
    Build SubscriptionEventCallbacks of those `callbacks` this rclpy knows; drop the rest.

    callbacks: e.g. incompatible_qos=f, message_lost=g, matched=h (None values are dropped).
    """
    known = {name: cb for name, cb in callbacks.items()
             if cb is not None and name in _EVENT_KEYWORDS}
    return SubscriptionEventCallbacks(**known)


def create_subscription(node: Node, msg_type, topic: str, callback, qos, **event_callbacks):
    """
    node.create_subscription with the event callbacks this rclpy and middleware support.

    An RMW without one of the events raises UnsupportedEventTypeError when the handler is
    created (rclpy qos_event.py / event_handler.py `create_event_handlers` on every branch):
    then the subscription is created without event callbacks.
    """
    try:
        return node.create_subscription(
            msg_type, topic, callback, qos,
            event_callbacks=subscription_event_callbacks(**event_callbacks))
    except UnsupportedEventTypeError:
        return node.create_subscription(msg_type, topic, callback, qos)


# Parameters ------------------------------------------------------------------------------------
# Typed declaration, declare_parameter(name, Parameter.Type.X, descriptor): humble
# rclpy/rclpy/node.py declare_parameters (`isinstance(second_arg, Parameter.Type)`), with static
# typing from the descriptor's `dynamic_typing` field, which rcl_interfaces has from Galactic on
# (ros2/rcl_interfaces galactic rcl_interfaces/msg/ParameterDescriptor.msg; absent on foxy). Foxy
# rclpy/rclpy/node.py declare_parameters takes the value as it is (Parameter(name, value=...)
# raises TypeError for a Parameter.Type): there a parameter without a default is declared unset
# and the override's own type is kept; the node's validation checks the types.
TYPED_DECLARATION = hasattr(ParameterDescriptor(), 'dynamic_typing')


def declare_typed_parameter(node: Node, name: str, type_name: str,
                            descriptor: ParameterDescriptor,
                            ignore_override: bool = False) -> Parameter:
    """
    Declare a parameter that has no default value, with its type (e.g. an empty string list).

    type_name: a Parameter.Type member name, e.g. 'STRING_ARRAY'.
    """
    value = getattr(Parameter.Type, type_name) if TYPED_DECLARATION else None
    return node.declare_parameter(name, value, descriptor, ignore_override=ignore_override)


# rclpy.parameter.parameter_value_to_python: humble, jazzy, rolling rclpy/rclpy/parameter.py;
# absent on foxy. The fallback reads the ParameterValue field of each type the same way.
try:
    from rclpy.parameter import parameter_value_to_python
except ImportError:
    _VALUE_FIELDS = {
        ParameterType.PARAMETER_BOOL: 'bool_value',
        ParameterType.PARAMETER_INTEGER: 'integer_value',
        ParameterType.PARAMETER_DOUBLE: 'double_value',
        ParameterType.PARAMETER_STRING: 'string_value',
        ParameterType.PARAMETER_BYTE_ARRAY: 'byte_array_value',
        ParameterType.PARAMETER_BOOL_ARRAY: 'bool_array_value',
        ParameterType.PARAMETER_INTEGER_ARRAY: 'integer_array_value',
        ParameterType.PARAMETER_DOUBLE_ARRAY: 'double_array_value',
        ParameterType.PARAMETER_STRING_ARRAY: 'string_array_value',
    }

    def parameter_value_to_python(parameter_value):
        """Return the Python value of an rcl_interfaces/ParameterValue (None when not set)."""
        if parameter_value.type == ParameterType.PARAMETER_NOT_SET:
            return None
        field = _VALUE_FIELDS.get(parameter_value.type)
        if field is None:
            raise RuntimeError('unexpected parameter type %r' % parameter_value.type)
        value = getattr(parameter_value, field)
        return list(value) if field.endswith('_array_value') else value


# Names -----------------------------------------------------------------------------------------
def resolve_topic_name(node: Node, topic: str) -> str:
    """
    Return the absolute name of `topic` for this node (remappings applied where rclpy can).

    Node.resolve_topic_name: humble, jazzy, rolling rclpy/rclpy/node.py; absent on foxy, where
    rclpy/rclpy/expand_topic_name.py expands the name (namespace, ~) without remapping.
    """
    if hasattr(node, 'resolve_topic_name'):
        return node.resolve_topic_name(topic)
    return expand_topic_name(node, topic)


def expand_topic_name(node: Node, topic: str) -> str:
    """Foxy's way: rclpy.expand_topic_name with the node's name and namespace."""
    from rclpy.expand_topic_name import expand_topic_name as expand

    return expand(topic, node.get_name(), node.get_namespace())


def fully_qualified_name(node: Node) -> str:
    """
    '/namespace/name' of a node.

    Node.get_fully_qualified_name: humble, jazzy, rolling rclpy/rclpy/node.py; absent on foxy.
    """
    if hasattr(node, 'get_fully_qualified_name'):
        return node.get_fully_qualified_name()
    return join_node_name(node.get_namespace(), node.get_name())


def join_node_name(namespace: str, name: str) -> str:
    """'/' + 'a' -> '/a'; '/ns' + 'a' -> '/ns/a'."""
    return namespace.rstrip('/') + '/' + name


# Start and stop --------------------------------------------------------------------------------
# rclpy.init(signal_handler_options=...): humble, jazzy, rolling rclpy/rclpy/__init__.py with
# rclpy/rclpy/signals.py SignalHandlerOptions (ALL installs SIGINT and SIGTERM handlers that shut
# every context down from a helper thread, src/rclpy/signal_handler.cpp). Foxy's init takes args
# and context only; its SIGINT handler (src/rclpy/_rclpy_signal_handler.c) is installed when an
# executor registers its guard condition, wakes executors and chains to the handler that was
# there before; SIGTERM is left alone.
try:
    from rclpy.signals import SignalHandlerOptions
except ImportError:
    SignalHandlerOptions = None

#: Whether rclpy.init can be told to leave SIGINT and SIGTERM to the application.
HAS_SIGNAL_HANDLER_OPTIONS = SignalHandlerOptions is not None


def init_without_signal_handlers(args: Sequence[str]) -> None:
    """
    rclpy.init(args) leaving SIGINT and SIGTERM to the caller, where rclpy allows it.

    The node then stops its worker before the context goes away (see fxseg_ros.ros.node).
    """
    if HAS_SIGNAL_HANDLER_OPTIONS:
        rclpy.init(args=list(args), signal_handler_options=SignalHandlerOptions.NO)
    else:
        rclpy.init(args=list(args))


def try_shutdown() -> None:
    """
    Shut the default context down unless that happened already.

    rclpy.try_shutdown: foxy, humble, jazzy rclpy/rclpy/__init__.py re-export
    rclpy/rclpy/utilities.py try_shutdown; rolling wraps it in rclpy/rclpy/__init__.py (and
    uninstalls signal handlers). The same call on every branch.
    """
    rclpy.try_shutdown()


# Lifecycle (managed nodes) ---------------------------------------------------------------------
# rclpy.lifecycle: humble, jazzy, rolling rclpy/rclpy/lifecycle/ (LifecycleNode with the
# lifecycle_msgs services change_state, get_state, ...; TransitionCallbackReturn from the
# pybind11 module). Foxy has no rclpy.lifecycle: there the node runs the same transitions
# itself, without the services (_SelfManagedNode below).
#: Why rclpy.lifecycle could not be used although this rclpy has it (lifecycle_msgs missing).
LIFECYCLE_PROBLEM = None
try:
    from rclpy.lifecycle import LifecycleNode as _LifecycleNode
    from rclpy.lifecycle import TransitionCallbackReturn
    HAS_LIFECYCLE = True
except ImportError as exc:
    _LifecycleNode = None
    HAS_LIFECYCLE = False
    if getattr(exc, 'name', None) not in ('rclpy.lifecycle', None):
        LIFECYCLE_PROBLEM = ('rclpy.lifecycle needs %s (%s); install the lifecycle messages '
                             '(rosdep key lifecycle_msgs, pip ros-lifecycle-msgs)'
                             % (exc.name, exc))

    class TransitionCallbackReturn(enum.Enum):
        """The results a transition callback returns (as rclpy.lifecycle's)."""

        SUCCESS = 'success'
        FAILURE = 'failure'
        ERROR = 'error'


class _SelfManagedNode(Node):
    """
    A Node that runs the managed-node transitions itself where rclpy has no lifecycle module.

    Same callbacks (on_configure, on_activate, on_deactivate, on_cleanup, on_shutdown,
    on_error) and trigger_* methods as rclpy.lifecycle.LifecycleNode, the state machine of
    design.ros2.org/articles/node_lifecycle.html, no lifecycle services.
    """

    #: (transition, from states, callback name, state on SUCCESS, state on FAILURE)
    _TRANSITIONS: Dict[str, tuple] = {
        'configure': (('unconfigured',), 'on_configure', 'inactive', 'unconfigured'),
        'activate': (('inactive',), 'on_activate', 'active', 'inactive'),
        'deactivate': (('active',), 'on_deactivate', 'inactive', 'active'),
        'cleanup': (('inactive',), 'on_cleanup', 'unconfigured', 'inactive'),
        'shutdown': (('unconfigured', 'inactive', 'active'), 'on_shutdown', 'finalized',
                     'finalized'),
    }

    def __init__(self, node_name: str, **kwargs):
        super().__init__(node_name, **kwargs)
        self._self_managed_state = 'unconfigured'

    def _transition(self, name: str):
        starts, callback, on_success, on_failure = self._TRANSITIONS[name]
        if self._self_managed_state not in starts:
            raise RuntimeError('transition %s is not possible from state %s'
                               % (name, self._self_managed_state))
        previous = self._self_managed_state
        try:
            result = getattr(self, callback)(previous)
        except Exception:  # as rclpy.lifecycle: an exception in a callback is an ERROR
            LOG.exception('%s raised', callback)
            result = TransitionCallbackReturn.ERROR
        if result == TransitionCallbackReturn.SUCCESS:
            self._self_managed_state = on_success
        elif result == TransitionCallbackReturn.FAILURE:
            self._self_managed_state = on_failure
        else:
            recovered = self.on_error(previous) == TransitionCallbackReturn.SUCCESS
            self._self_managed_state = 'unconfigured' if recovered else 'finalized'
        return result

    def trigger_configure(self):
        return self._transition('configure')

    def trigger_activate(self):
        return self._transition('activate')

    def trigger_deactivate(self):
        return self._transition('deactivate')

    def trigger_cleanup(self):
        return self._transition('cleanup')

    def trigger_shutdown(self):
        return self._transition('shutdown')

    def on_error(self, state) -> TransitionCallbackReturn:
        return TransitionCallbackReturn.SUCCESS


#: The base class of the segmentation node: rclpy.lifecycle.LifecycleNode, or on Foxy a Node
#: running the same transitions itself.
ManagedNode = _LifecycleNode if HAS_LIFECYCLE else _SelfManagedNode


def summary() -> Dict[str, object]:
    """Which branch of each difference this process takes (logged at debug level)."""
    return {'event_module': EVENT_MODULE, 'matched_event': HAS_MATCHED_EVENT,
            'message_lost_event': HAS_MESSAGE_LOST_EVENT,
            'typed_declaration': TYPED_DECLARATION,
            'signal_handler_options': HAS_SIGNAL_HANDLER_OPTIONS,
            'lifecycle': HAS_LIFECYCLE}
