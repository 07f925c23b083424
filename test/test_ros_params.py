# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The node's parameter table, its validation, descriptors and the label table (no DDS)."""


from fxseg_ros.data.labels import CITYSCAPES_CLASSES
from fxseg_ros.ros import params as P
from fxseg_ros.ros.label_table import load_label_table
import pytest


def test_table_is_consistent():
    names = [p.name for p in P.PARAMETERS]
    assert len(names) == len(set(names))
    for spec in P.PARAMETERS + P.OUTPUT_PARAMETERS:
        assert spec.description.strip(), spec.name
        if spec.choices:
            assert spec.default in spec.choices, spec.name
        if spec.range is not None:
            assert spec.range[0] <= spec.default <= spec.range[1], spec.name
    # the defaults are a valid configuration (the model default is the demo model)
    cfg = P.validate({})
    assert cfg['camera_topics'] == ['camera/image_raw'] and cfg['backend'] == 'auto'
    # what users tune on a running node is live, the rest is read-only
    live = {p.name for p in P.PARAMETERS if not p.read_only}
    assert {'latency_budget_ms', 'expected_rate_hz', 'publish_color_mask'} <= live
    assert {'overlay_alpha', 'publish_overlay'} <= live
    assert not live & {'model', 'engine', 'engine_dir', 'backend', 'camera_topics',
                       'input_type', 'qos', 'autostart', 'build_only'}


@pytest.mark.parametrize('values, name', [
    ({'backend': 'cuda'}, 'backend'),
    ({'precision': 'int4'}, 'precision'),
    ({'input_type': 'jpeg'}, 'input_type'),
    ({'qos': 'best_effort'}, 'qos'),
    ({'threads': -1}, 'threads'),
    ({'threads': 2.5}, 'threads'),
    ({'max_batch': 65}, 'max_batch'),
    ({'latency_budget_ms': 0.0}, 'latency_budget_ms'),
    ({'diagnostics_period_s': 0.0}, 'diagnostics_period_s'),
    ({'publish_color_mask': 'yes'}, 'publish_color_mask'),
    ({'camera_topics': []}, 'camera_topics'),
    ({'camera_topics': ['/a/image', '/a/image']}, 'camera_topics'),
    ({'camera_topics': ['/a/image', '/a/image_rect']}, 'camera_topics'),
    ({'camera_topics': ['/a/image/']}, 'camera_topics'),
    ({'camera_topics': '/a/image'}, 'camera_topics'),
    ({'model': '/nonexistent/model.onnx'}, 'model'),
    ({'labels_file': '/nonexistent/labels.yaml'}, 'labels_file'),
    ({'engine': 'model.onnx'}, 'engine'),
    ({'engine': 'x.engine', 'backend': 'onnxruntime'}, 'backend'),
    ({'providers': ['CPUExecutionProvider', ' ']}, 'providers'),
    ({'overlay_alpha': 1.5}, 'overlay_alpha'),
    ({'overlay_alpha': -0.1}, 'overlay_alpha'),
    ({'camera_match_timeout_s': -1.0}, 'camera_match_timeout_s'),
    ({'autostart': 'yes'}, 'autostart'),
    ({'build_only': 1}, 'build_only'),
    ({'engine_dir': 5}, 'engine_dir'),
    ({'backnd': 'auto'}, 'backnd'),
])
def test_bad_values_name_the_parameter(values, name):
    with pytest.raises(P.ParameterError) as info:
        P.validate(values)
    assert info.value.name == name
    assert repr(name) in str(info.value)


def test_good_values_pass_and_are_normalised(tiny_net):
    cfg = P.validate({'model': str(tiny_net), 'camera_topics': ('/a/image_raw', 'b/image_raw'),
                      'providers': None, 'threads': 2, 'latency_budget_ms': 25})
    assert cfg['camera_topics'] == ['/a/image_raw', 'b/image_raw']
    assert cfg['providers'] == [] and cfg['threads'] == 2


@pytest.mark.parametrize('topic, input_type, namespace, mask', [
    ('/cam_front/image_raw', 'raw', '/cam_front', '/cam_front/segmentation/mask'),
    ('/car/cam_front/image_rect', 'raw', '/car/cam_front', '/car/cam_front/segmentation/mask'),
    ('camera/image_raw', 'raw', 'camera', 'camera/segmentation/mask'),
    ('image_raw', 'raw', '', 'segmentation/mask'),
    ('/cam/image_raw/compressed', 'compressed', '/cam', '/cam/segmentation/mask'),
    ('/cam/image_raw/compressed', 'raw', '/cam/image_raw', '/cam/image_raw/segmentation/mask'),
])
def test_outputs_go_to_the_camera_namespace(topic, input_type, namespace, mask):
    assert P.camera_namespace(topic, input_type) == namespace
    assert P.output_topic(namespace, 'mask') == mask


def test_descriptors_carry_ranges_and_read_only():
    pytest.importorskip('rcl_interfaces', reason='rcl_interfaces (ROS 2) is not installed')
    from fxseg_ros.ros.node_core import descriptor
    from rcl_interfaces.msg import ParameterType

    threads = descriptor(P.BY_NAME['threads'])
    assert threads.type == ParameterType.PARAMETER_INTEGER and threads.read_only
    assert (threads.integer_range[0].from_value, threads.integer_range[0].to_value) == (0, 256)
    budget = descriptor(P.BY_NAME['latency_budget_ms'])
    assert budget.type == ParameterType.PARAMETER_DOUBLE and not budget.read_only
    assert budget.floating_point_range[0].from_value == pytest.approx(0.1)
    backend = descriptor(P.BY_NAME['backend'])
    assert 'tensorrt' in backend.additional_constraints and backend.description
    topics = descriptor(P.BY_NAME['camera_topics'])
    assert topics.type == ParameterType.PARAMETER_STRING_ARRAY


def test_list_parameters_prints_the_table(capsys):
    pytest.importorskip('rclpy', reason='rclpy (ROS 2) is not installed')
    from fxseg_ros.ros.node import main

    assert main(['segmentation_node', '--list-parameters']) == 0
    out = capsys.readouterr().out
    for spec in P.PARAMETERS:
        assert '| %s |' % spec.name in out


def test_label_table_default_and_file(tmp_path):
    table = load_label_table('')
    assert table.names == [c.name for c in CITYSCAPES_CLASSES]
    assert table.palette()[13].tolist() == [0, 0, 142] and table.palette()[255].tolist() == [0] * 3
    assert table.hex_colors()[0] == '#804080'
    path = tmp_path / 'labels.yaml'
    path.write_text('labels:\n  - {id: 0, name: free, color: [0, 255, 0]}\n'
                    '  - {id: 2, name: obstacle, color: [255, 0, 0]}\n')
    custom = load_label_table(str(path))
    assert custom.names == ['free', '', 'obstacle']
    assert custom.palette()[2].tolist() == [255, 0, 0]
    assert 'obstacle' in custom.to_yaml() and 'ignore_label: 255' in custom.to_yaml()


@pytest.mark.parametrize('text', [
    'labels: []\n',
    'labels:\n  - {id: 0}\n',
    'labels:\n  - {id: 300, name: x}\n',
    'labels:\n  - {id: 0, name: a}\n  - {id: 0, name: b}\n',
    'labels:\n  - {id: 0, name: a, color: [1, 2]}\n',
    'labels:\n  - {id: 0, name: a, color: [1, 2, 256]}\n',
])
def test_bad_label_files_are_refused(tmp_path, text):
    path = tmp_path / 'labels.yaml'
    path.write_text(text)
    with pytest.raises(ValueError):
        load_label_table(str(path))


@pytest.mark.parametrize('environ, expected', [
    ({'ROS_HOME': '/data/ros'}, '/data/ros/fxseg_ros/engines'),
    ({'ROS_HOME': '', 'HOME': '/home/robot'}, '/home/robot/.ros/fxseg_ros/engines'),
    ({'HOME': '/home/robot'}, '/home/robot/.ros/fxseg_ros/engines'),
])
def test_default_engine_dir_is_under_ros_home(monkeypatch, environ, expected):
    monkeypatch.setenv('HOME', environ.get('HOME', '/root'))  # what expanduser reads
    assert P.default_engine_dir(environ) == expected


@pytest.mark.parametrize('values, model, expected', [
    # a name goes into engine_dir, the default engine_dir is $ROS_HOME/fxseg_ros/engines
    ({'engine': 'tx2_fp16.engine', 'backend': 'tensorrt'}, 'demo.onnx',
     ('/r/fxseg_ros/engines', '/r/fxseg_ros/engines/tx2_fp16.engine', '', '')),
    ({'engine': 'px2.engine', 'engine_dir': '/e', 'calibration_cache': 'calibration.cache',
      'timing_cache': 'px2.timing'}, 'demo.onnx',
     ('/e', '/e/px2.engine', '/e/calibration.cache', '/e/px2.timing')),
    # a path stays where it is
    ({'engine': '/opt/x.engine', 'engine_dir': '/e', 'calibration_cache': '/c/cal.cache'},
     'demo.onnx', ('/e', '/opt/x.engine', '/c/cal.cache', '')),
    # no engine: TensorRT builds <engine_dir>/<model stem>.<precision>.engine; ONNX Runtime none
    ({'backend': 'tensorrt', 'precision': 'int8', 'engine_dir': '/e'}, '/m/my_net.onnx',
     ('/e', '/e/my_net.int8.engine', '', '')),
    ({'backend': 'onnxruntime', 'engine_dir': '/e'}, '/m/my_net.onnx', ('/e', '', '', '')),
])
def test_engine_paths(values, model, expected):
    cfg = {p.name: p.default for p in P.PARAMETERS}
    cfg.update(values)
    assert tuple(P.engine_paths(cfg, model, {'ROS_HOME': '/r'})) == expected


def test_calibration_cache_is_checked_only_when_an_engine_is_built():
    # the cache is only needed to build an INT8 engine: a config naming it validates without it
    cfg = P.validate({'backend': 'tensorrt', 'precision': 'int8', 'engine': 'px2_int8.engine',
                      'calibration_cache': 'calibration.cache'})
    assert cfg['calibration_cache'] == 'calibration.cache'
