# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
segmentation_node as a managed node: lifecycle services, build_only, where engines go.

A real node process with autostart false is driven through lifecycle_msgs/srv/ChangeState and
GetState from this process, as a lifecycle manager (Nav2, Autoware) or `ros2 lifecycle set`
does. Every wait has a timeout.
"""


import importlib.util
import time

import pytest

try:
    import rclpy  # noqa: F401

    import ros_helpers as H
    from fxseg_ros.ros.probe import SegmentationProbe, status_dict
    ROS_MISSING = None
    try:
        import lifecycle_msgs.srv  # noqa: F401
        LIFECYCLE_MISSING = None
    except ImportError as exc:
        LIFECYCLE_MISSING = 'lifecycle_msgs is not installed (pip install ros-lifecycle-msgs): ' \
            '%s' % exc
except ImportError as exc:  # skipped inside the tests, with the reason
    ROS_MISSING = 'rclpy (ROS 2) is not installed: %s' % exc

pytestmark = pytest.mark.ros
HAS_TENSORRT = importlib.util.find_spec('tensorrt') is not None
NO_TENSORRT = 'cannot load the model: the TensorRT Python bindings are not installed'


@pytest.fixture(autouse=True, scope='module')
def _needs_ros():
    if ROS_MISSING:
        pytest.skip(ROS_MISSING)


def _without_tensorrt():
    if HAS_TENSORRT:
        pytest.skip('TensorRT is installed: the node would build an engine here (see the gpu '
                    'launch tests)')


def test_lifecycle_services_drive_the_node_from_unconfigured_to_active_and_back(
        demo_model, tmp_path):
    if LIFECYCLE_MISSING:
        pytest.skip(LIFECYCLE_MISSING)
    topic = '/fxseg_lifecycle/image_raw'
    labels = tmp_path / 'labels.yaml'  # written after the first configure failed
    process = H.NodeProcess(H.node_command(H.CONFIG, {
        'model': str(demo_model), 'camera_topics': [topic], 'autostart': False,
        'labels_file': str(labels), 'diagnostics_period_s': 0.25}),
        tmp_path / 'node.log', env={'FXSEG_CACHE_DIR': str(tmp_path / 'cache')})
    probe = SegmentationProbe([topic])
    name = '/segmentation_node'
    try:
        assert H.lifecycle_state(probe, name) == 'unconfigured', process.log()
        assert 'waiting for a lifecycle manager' in process.log()
        # a configure that fails leaves the node unconfigured, running, with one error line
        assert H.change_state(probe, name, 'configure') is False
        assert H.lifecycle_state(probe, name) == 'unconfigured'
        assert "configure failed: parameter 'labels_file'" in process.log()
        assert process.proc.poll() is None
        entries = ['  - {id: %d, name: c%d, color: [%d, 0, 0]}' % (i, i, i) for i in range(19)]
        labels.write_text('\n'.join(['labels:'] + entries) + '\n')
        for cycle in range(2):  # after cleanup the node configures again
            assert probe.publishers[0].get_subscription_count() == 0
            assert H.change_state(probe, name, 'configure') is True, process.log()[-3000:]
            assert H.lifecycle_state(probe, name) == 'inactive'
            inactive = probe.wait_for_diagnostics(
                lambda a: (status_dict(a, 'segmentation_node: inference') or {}).get(
                    'state') == 'inactive', H.WAIT_S)
            assert inactive is not None and \
                status_dict(inactive, 'segmentation_node: inference')['_level'] == '1'
            assert H.change_state(probe, name, 'activate') is True, process.log()[-3000:]
            assert H.lifecycle_state(probe, name) == 'active'
            assert H.handshake_all(probe, [0]), process.log()[-3000:]
            assert probe.labels[topic].startswith('labels:')  # the file's table, latched
            assert H.change_state(probe, name, 'deactivate') is True
            assert H.lifecycle_state(probe, name) == 'inactive'
            assert probe.wait_until(
                lambda: probe.publishers[0].get_subscription_count() == 0, H.WAIT_S)
            assert H.change_state(probe, name, 'cleanup') is True
            assert H.lifecycle_state(probe, name) == 'unconfigured'
        assert H.change_state(probe, name, 'shutdown') is True
        assert process.wait(30.0) == 0  # finalized: the process ends by itself
        log = process.log()
        assert 'Traceback' not in log
        assert [line for line in H.error_lines(log) if 'configure failed' not in line] == []
    finally:
        probe.close()
        process.kill()


def test_build_only_prepares_the_model_and_exits_0_without_subscribing(tmp_path):
    topic = '/fxseg_build_only/image_raw'
    cache = tmp_path / 'cache'
    probe = SegmentationProbe([topic])  # a camera publisher that must never see the node
    process = H.NodeProcess(H.node_command(H.CONFIG, {'camera_topics': [topic],
                                                      'build_only': True}),
                            tmp_path / 'node.log', env={'FXSEG_CACHE_DIR': str(cache)})
    try:
        seen = 0
        while process.proc.poll() is None:
            seen = max(seen, probe.publishers[0].get_subscription_count())
            time.sleep(0.02)
        assert process.wait() == 0, process.log()
        assert seen == 0
        log = process.log()
        assert 'build_only' in log and 'exiting without subscribing' in log
        assert 'segmenting' not in log and not H.error_lines(log)
        graphs = list((cache / 'ort').glob('*.onnx'))
        assert len(graphs) == 1 and str(graphs[0]) in log  # the optimised-graph cache is ready
    finally:
        probe.close()
        process.kill()


def test_engine_locations_and_tensorrt_missing(tmp_path, tiny_net):
    """Where engines go, and one FATAL line for each place that cannot be used."""
    _without_tensorrt()
    a_file = tmp_path / 'a_file'
    a_file.write_text('not a folder')
    new_dir = tmp_path / 'new' / 'engines'
    ros_home = tmp_path / 'ros_home'
    base = {'model': str(tiny_net), 'backend': 'tensorrt', 'precision': 'fp16'}
    cases = [
        # (extra parameters, environment, words of the FATAL line, folder that must exist)
        ({'engine_dir': str(a_file / 'engines')}, {}, ["parameter 'engine_dir'",
                                                       str(a_file / 'engines')], None),
        ({'engine_dir': '/sys/fxseg_engines'}, {}, ["parameter 'engine_dir'",
                                                    'Operation not permitted'], None),
        ({'engine': str(a_file / 'x.engine')}, {}, ["parameter 'engine'"], None),
        ({'engine_dir': str(new_dir)}, {}, [NO_TENSORRT], new_dir),
        ({}, {'ROS_HOME': str(ros_home)}, [NO_TENSORRT], ros_home / 'fxseg_ros' / 'engines'),
        # the INT8 calibration cache is checked where TensorRT could build (unit test below)
        ({'engine_dir': str(new_dir), 'precision': 'int8', 'engine': 'i8.engine',
          'calibration_cache': 'calibration.cache'}, {}, [NO_TENSORRT], new_dir),
        ({'build_only': True, 'engine_dir': str(tmp_path / 'b')}, {}, [NO_TENSORRT], None),
    ]
    processes = []
    for i, (extra, env, words, folder) in enumerate(cases):
        params = dict(base, **extra)
        processes.append((H.NodeProcess(H.node_command(H.CONFIG, params),
                                        tmp_path / ('%d.log' % i), env=env), words, folder))
    for process, words, folder in processes:
        assert process.wait() == 2, process.log()
        H.assert_one_fatal_line(process.log(), 'cannot start', *words)
        if folder is not None:
            assert folder.is_dir()
    assert not any(tmp_path.glob('**/*.engine'))


@pytest.mark.parametrize('with_tensorrt, engine_exists, cache_exists, problem', [
    (True, False, False, "parameter 'calibration_cache'"),
    (True, False, True, None),
    (True, True, False, None),  # the engine is there: nothing is built, no cache needed
    (False, False, False, None),  # no TensorRT: the runner's line about it comes first
])
def test_int8_calibration_cache_is_needed_only_to_build(tmp_path, with_tensorrt, engine_exists,
                                                        cache_exists, problem):
    from fxseg_ros.ros import params as P
    from fxseg_ros.ros.camera_io import StartupError
    from fxseg_ros.ros.inference import check_engine_files

    cfg = P.validate({'backend': 'tensorrt', 'precision': 'int8', 'engine': 'i8.engine',
                      'engine_dir': str(tmp_path), 'calibration_cache': 'calibration.cache'})
    paths = P.engine_paths(cfg, 'demo.onnx')
    if engine_exists:
        (tmp_path / 'i8.engine').write_bytes(b'engine')
    if cache_exists:
        (tmp_path / 'calibration.cache').write_text('TRT-8201-EntropyCalibration2\n')
    if problem is None:
        check_engine_files(cfg, paths, with_tensorrt)
        return
    with pytest.raises(StartupError) as info:
        check_engine_files(cfg, paths, with_tensorrt)
    assert str(info.value).startswith(problem)
    assert str(tmp_path / 'calibration.cache') in str(info.value)
