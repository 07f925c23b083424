# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The node's command-line checks before rclpy starts (no rclpy: runs on Python 3.6 too)."""


from fxseg_ros.ros.arguments import command_line_problem, override_problem, parse_ros_arguments
import pytest


@pytest.mark.parametrize('argv, files, overrides', [
    (['node'], [], []),
    (['node', '--ros-args', '--params-file', 'a.yaml', '-p', 'threads:=2'], ['a.yaml'],
     [('threads', '2')]),
    # node-name prefixes, --param, several sections, values with ':=' inside
    (['node', '--ros-args', '-p', 'segmentation_node:qos:=reliable', '--param',
      'model:=/x:=y.onnx', '--', 'other', '--ros-args', '--params-file', 'b.yaml'],
     ['b.yaml'], [('qos', 'reliable'), ('model', '/x:=y.onnx')]),
    # other options' values are not taken for ours; outside --ros-args nothing counts
    (['node', '-p', 'threads:=abc', '--ros-args', '-r', '__node:=-p', '--log-level', 'debug',
      '-e', '/enclave'], [], []),
    (['node', '--ros-args', '--enable-rosout-logs', '-p', 'threads:=1'], [],
     [('threads', '1')]),
])
def test_parse_ros_arguments(argv, files, overrides):
    parsed = parse_ros_arguments(argv)
    assert parsed.params_files == files and parsed.overrides == overrides


@pytest.mark.parametrize('name, text, words', [
    ('threads', 'abc', ['-p threads:=abc is a string', 'expected an integer']),
    ('camera_width', 'abc', ['-p camera_width:=abc is a string', 'an integer']),
    ('camera_width', '12.5', ['is a double', 'an integer']),
    ('publish_color_mask', '2', ['is an integer', 'true or false']),
    ('latency_budget_ms', 'fast', ['is a string', 'a double']),
    ('latency_budget_ms', '40', ['is an integer', 'write 40.0']),
    ('camera_topics', '/a/image_raw', ['is a string', 'a list of strings']),
    ('camera_topics', '[1, 2]', ['is a list', 'a list of strings']),
    ('threads', 'true', ['is a bool', 'an integer']),
    ('model', '123', ['is an integer', 'expected a string', '"model:=\'123\'"']),
])
def test_wrongly_typed_override_names_the_parameter(name, text, words):
    problem = override_problem(name, text)
    assert problem is not None and problem.startswith("parameter '%s': " % name)
    for word in words:
        assert word in problem, (word, problem)


@pytest.mark.parametrize('name, text', [
    ('threads', '2'), ('threads', '-1'),  # the range is checked when the node configures
    ('latency_budget_ms', '40.0'), ('publish_color_mask', 'false'),
    ('camera_topics', '[/a/image_raw, /b/image_raw]'), ('camera_topics', '[]'),
    ('model', "'123'"), ('model', "'/m.onnx'"), ('model', '/m.onnx'), ('qos', 'best_effort'),
    ('not_a_parameter', 'abc'),  # the node warns about unknown names itself
])
def test_well_typed_overrides_pass(name, text):
    assert override_problem(name, text) is None


def test_command_line_problem(tmp_path):
    params = tmp_path / 'p.yaml'
    params.write_text('/**:\n  ros__parameters:\n    threads: 0\n')
    ok = ['node', '--ros-args', '--params-file', str(params), '-p', 'threads:=2']
    assert command_line_problem(ok) is None
    missing = command_line_problem(['node', '--ros-args', '--params-file', '/nonexistent.yaml'])
    assert missing.startswith('--params-file /nonexistent.yaml: no such file')
    # a mistyped -p is refused with the parameter file given too (rcl would drop it)
    typed = command_line_problem(ok[:-1] + ['threads:=abc'])
    assert typed.startswith("parameter 'threads': -p threads:=abc is a string")


@pytest.mark.parametrize('argv, values, problem', [
    # the empty list did not arrive: the file's topics are there
    (['n', '--ros-args', '-p', 'camera_topics:=[]'], {'camera_topics': ['camera/image_raw']},
     "parameter 'camera_topics': -p camera_topics:=[] did not reach the node"),
    (['n', '--ros-args', '-p', 'threads:=3'], {'threads': 0}, "parameter 'threads'"),
    (['n', '--ros-args', '-p', 'threads:=3', '-p', 'threads:=0'], {'threads': 0}, None),
    (['n', '--ros-args', '-p', 'threads:=3'], {'threads': 3}, None),
    (['n', '--ros-args', '-p', 'other_node:threads:=3'], {'threads': 0}, None),
    (['n', '--ros-args', '-p', 'segmentation_node:threads:=3'], {'threads': 0}, "'threads'"),
    (['n', '--ros-args', '-p', 'model:=/m.onnx'], {'model': '/m.onnx'}, None),
    (['n', '--ros-args', '-p', 'model:=/m.onnx'], {'model': ''}, "'model'"),
])
def test_dropped_override_is_reported(argv, values, problem):
    from fxseg_ros.ros.arguments import dropped_override_problem

    text = dropped_override_problem(argv, values, 'segmentation_node')
    if problem is None:
        assert text is None
    else:
        assert text.startswith(problem) or problem in text, text
