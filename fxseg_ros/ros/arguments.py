# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The node's ROS command-line arguments, checked before rclpy sees them.

Plain Python (no rclpy). rcl reads `--params-file` and `-p name:=value` itself, with two habits
that hide mistakes: a missing parameter file fails rclpy.init with a traceback, and a `-p` value
whose type differs from the same key's in a parameter file is dropped without a word (measured
with the Kilted wheels: `--params-file config/cpu.yaml -p threads:=abc` leaves threads at the
file's 0). Checking the arguments here makes both one line naming the argument, with or without
a parameter file.
"""


from typing import List, NamedTuple, Optional, Sequence, Tuple

from fxseg_ros.ros import params as P
import yaml

#: rcl options that take a value (rcl/include/rcl/arguments.h); the rest are flags.
_VALUE_OPTIONS = frozenset(('-r', '--remap', '-p', '--param', '--params-file', '-e',
                            '--enclave', '--log-level', '--log-config-file', '--log-file-name'))


class RosArguments(NamedTuple):
    """The parameter files and `-p` overrides of a command line, in order."""

    params_files: List[str]
    overrides: List[Tuple[str, str]]  # (parameter name, value text as written)
    node_names: List[str]  # the node-name prefix of each override ('' when none)


def parse_ros_arguments(argv: Sequence[str]) -> RosArguments:
    """
    Collect `--params-file PATH` and `-p [node:]name:=value` from the --ros-args sections.

    argv: the whole command line (argv[0] included). A section runs from `--ros-args` to `--`
    or the end.
    """
    files, overrides, nodes = [], [], []
    inside = False
    args = list(argv[1:])
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == '--ros-args':
            inside = True
        elif arg == '--':
            inside = False
        elif inside and arg in _VALUE_OPTIONS and i + 1 < len(args):
            value = args[i + 1]
            if arg == '--params-file':
                files.append(value)
            elif arg in ('-p', '--param') and ':=' in value:
                name, text = value.split(':=', 1)
                node, _, name = name.rpartition(':')
                overrides.append((name, text))
                nodes.append(node)
            i += 1
        i += 1
    return RosArguments(files, overrides, nodes)


def _type_name(value) -> str:
    if isinstance(value, bool):
        return 'a bool'
    if isinstance(value, int):
        return 'an integer'
    if isinstance(value, float):
        return 'a double'
    if isinstance(value, str):
        return 'a string'
    if isinstance(value, list):
        return 'a list'
    return 'a %s' % type(value).__name__


def override_problem(name: str, text: str) -> Optional[str]:
    """One line when `-p name:=text` has the wrong type for the parameter, else None."""
    spec = P.BY_NAME.get(name)
    if spec is None:
        return None  # not the node's: the node warns about unknown parameters
    try:
        value = yaml.safe_load(text)  # rcl reads -p values as YAML too
    except yaml.YAMLError:
        value = text
    if spec.type == P.STRING and not isinstance(value, str):
        return ("parameter '%s': -p %s:=%s is %s; expected a string (quote it: "
                '-p "%s:=\'%s\'")' % (name, name, text, _type_name(value), name, text))
    if spec.type == P.STRING_ARRAY and value is None:
        return None  # an empty list
    if spec.type == P.DOUBLE and isinstance(value, int) and not isinstance(value, bool):
        return ("parameter '%s': -p %s:=%s is an integer; this parameter is a double, write "
                '%s.0' % (name, name, text, text))
    try:
        P.check_type(spec, value)
    except P.ParameterError:
        expected = {P.BOOL: 'true or false', P.INTEGER: 'an integer', P.DOUBLE: 'a double',
                    P.STRING_ARRAY: 'a list of strings, e.g. [a, b]'}[spec.type]
        return ("parameter '%s': -p %s:=%s is %s; expected %s"
                % (name, name, text, _type_name(value), expected))
    return None  # the right type; the values are validated when the node is configured


def command_line_problem(argv: Sequence[str]) -> Optional[str]:
    """Return the first problem of the ROS arguments in one line (missing file, mistyped -p)."""
    import os

    parsed = parse_ros_arguments(argv)
    for path in parsed.params_files:
        if not os.path.isfile(os.path.expanduser(path)):
            return ('--params-file %s: no such file; give an existing parameter file (the '
                    "package's config/cpu.yaml, tx2.yaml or px2.yaml, or your own)" % path)
    for name, text in parsed.overrides:
        problem = override_problem(name, text)
        if problem:
            return problem
    return None


def _applies_to(prefix: str, node_name: str) -> bool:
    return prefix in ('', node_name, '/' + node_name) or prefix.endswith('/' + node_name)


def dropped_override_problem(argv: Sequence[str], values, node_name: str) -> Optional[str]:
    """
    One line when a `-p` override of this node did not reach it, else None.

    values: the parameter values the node got. rcl drops a `-p` value whose type differs from
    the parameter file's for the same key, e.g. `-p camera_topics:=[]` (an empty list has no
    type) over a file that lists topics.
    """
    parsed = parse_ros_arguments(argv)
    last = {}
    for (name, text), prefix in zip(parsed.overrides, parsed.node_names):
        if name in P.BY_NAME and name in values and _applies_to(prefix, node_name):
            last[name] = text
    for name, text in sorted(last.items()):
        spec = P.BY_NAME[name]
        try:
            wanted = yaml.safe_load(text)
        except yaml.YAMLError:
            continue
        if spec.type == P.STRING_ARRAY and wanted is None:
            wanted = []
        got = values[name]
        if type(wanted) is type(got) and wanted != got:
            return ("parameter '%s': -p %s:=%s did not reach the node (it has %r); rcl drops a "
                    "-p value whose type differs from the parameter file's for the same key "
                    '(an empty list has no type): set it in the parameter file instead'
                    % (name, name, text, got))
    return None
