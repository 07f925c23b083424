# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
segmentation_node as its own process: signals while it starts and while it serves; precision.

A signal at any moment of start-up ends the node quietly; one while it serves stops the worker
before the context, later ones are ignored; the precision parameter is checked against the model
before the node serves.

Every wait has a timeout; the signals go out at moments counted from a line the process prints
when the interpreter is up, or at the node's own log lines.
"""


import json
import os
import signal
import sys
import time

import numpy as np
import pytest

try:
    import rclpy  # noqa: F401

    from fxseg_ros.ros.probe import SegmentationProbe
    import ros_helpers as H
    ROS_MISSING = None
except ImportError as exc:  # skipped inside the tests, with the reason
    ROS_MISSING = 'rclpy (ROS 2) is not installed: %s' % exc

pytestmark = pytest.mark.ros


@pytest.fixture(autouse=True, scope='module')
def _needs_ros():
    if ROS_MISSING:
        pytest.skip(ROS_MISSING)


# A signal at any moment of start-up --------------------------------------------------------------
#: The console script's own lines (setup.py: fxseg_ros.ros.node:main) after a line that marks
#: the moment the interpreter is up and has found the package: the delays below count from there
#: (a signal while `site` runs is Python's, before any line of the package).
STARTED = 'interpreter up, importing the node'
SCRIPT = ('import sys; import fxseg_ros.ros; print(%r, file=sys.stderr, flush=True); '
          'sys.argv[0] = "segmentation_node"; from fxseg_ros.ros.node import main; '
          'sys.exit(main())' % STARTED)
#: Seconds after that line: the imports of rclpy, NumPy, OpenCV and ONNX take about a second
#: here (several on a Jetson TX2), then rclpy starts, the model loads, the node activates.
STARTUP_DELAYS_S = (0.01, 0.02, 0.03, 0.06, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.5)
#: Log lines after which a signal goes out: the model loads (configure), the node is active.
STARTUP_EVENTS = ('configuring:', 'segmenting ')


def _console_script():
    path = os.path.join(os.path.dirname(sys.executable), 'segmentation_node')
    return [path] if os.access(path, os.X_OK) else None


def _signal_during_startup(tmp_path, name, signum, delay=None, event=None, entry='marked'):
    """
    Start a node and signal it `delay` s after the STARTED line or after the log line `event`.

    entry: 'marked' (SCRIPT), 'module' (python -m fxseg_ros.ros.node) or 'script' (the
    installed console script). Returns (exit status, log).
    """
    cmd = H.node_command(H.CONFIG, {'camera_topics': ['/fxseg_startsig/%s/image_raw' % name]})
    ros_args = cmd[cmd.index('--ros-args'):]
    if entry == 'marked':
        cmd = [sys.executable, '-c', SCRIPT] + ros_args
    elif entry == 'script':
        cmd = _console_script() + ros_args
    process = H.NodeProcess(cmd, tmp_path / (name + '.log'),
                            env={'FXSEG_CACHE_DIR': str(tmp_path / 'cache')})
    try:
        assert process.wait_for_log(event or STARTED), (event, process.log()[-3000:])
        time.sleep(delay or 0.0)
        process.signal(signum)
        return process.wait(30.0), process.log()
    finally:
        process.kill()


def _assert_quiet_stop(status, log):
    assert status == 0, log[-3000:]
    assert 'Traceback' not in log and 'KeyboardInterrupt' not in log, log[-3000:]
    assert not H.error_lines(log) and not H.fatal_lines(log), log[-3000:]


@pytest.mark.slow
@pytest.mark.parametrize('delay', STARTUP_DELAYS_S, ids=['%.2fs' % d for d in STARTUP_DELAYS_S])
def test_sigint_at_any_moment_of_startup_exits_0_quietly(tmp_path, delay):
    _assert_quiet_stop(*_signal_during_startup(tmp_path, 'd%03d' % int(delay * 100),
                                               signal.SIGINT, delay=delay))


#: Seconds after the configure began (the model loads, ONNX Runtime and onnx are imported, the
#: graph is optimised and cached): a KeyboardInterrupt raised there once aborted the process
#: from inside onnx's extension module (std::terminate).
CONFIGURE_DELAYS_S = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.45)


@pytest.mark.slow
@pytest.mark.parametrize('delay', CONFIGURE_DELAYS_S,
                         ids=['%.2fs' % d for d in CONFIGURE_DELAYS_S])
def test_sigint_while_the_model_loads_exits_0_quietly(tmp_path, delay):
    _assert_quiet_stop(*_signal_during_startup(tmp_path, 'c%03d' % int(delay * 100),
                                               signal.SIGINT, delay=delay,
                                               event=STARTUP_EVENTS[0]))


@pytest.mark.slow
@pytest.mark.parametrize('signum, delay, event, entry', [
    (signal.SIGTERM, 0.05, None, 'marked'),
    (signal.SIGTERM, 0.5, None, 'marked'),
    (signal.SIGINT, None, STARTUP_EVENTS[0], 'module'),
    (signal.SIGTERM, None, STARTUP_EVENTS[0], 'script'),
    (signal.SIGINT, None, STARTUP_EVENTS[1], 'script'),
    (signal.SIGTERM, None, STARTUP_EVENTS[1], 'module'),
], ids=['sigterm-0.05s', 'sigterm-0.5s', 'module-sigint-configuring',
        'script-sigterm-configuring', 'script-sigint-active', 'module-sigterm-active'])
def test_sigterm_and_each_entry_point_during_startup(tmp_path, signum, delay, event, entry):
    if entry == 'script' and _console_script() is None:
        pytest.skip('no segmentation_node console script beside %s (pip install -e .)'
                    % sys.executable)
    name = 'e%d%s%s' % (signum, entry, (event or str(delay)).strip(':. ').replace('.', ''))
    _assert_quiet_stop(*_signal_during_startup(tmp_path, name, signum, delay=delay,
                                               event=event, entry=entry))


# The precision parameter against the model ----------------------------------------------------
def _qdq_net(tiny_net, path):
    """tiny_net with a QuantizeLinear / DequantizeLinear pair on its input: an INT8 graph."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(tiny_net))
    graph = model.graph
    for node in graph.node:
        node.input[:] = ['input_dq' if name == 'input' else name for name in node.input]
    graph.initializer.extend([numpy_helper.from_array(np.float32(0.05), 'input_scale'),
                              numpy_helper.from_array(np.int8(0), 'input_zero')])
    nodes = [
        helper.make_node('QuantizeLinear', ['input', 'input_scale', 'input_zero'], ['input_q']),
        helper.make_node('DequantizeLinear', ['input_q', 'input_scale', 'input_zero'],
                         ['input_dq'])] + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def _engine_built_at(path, precision):
    """Write an engine file and the metadata file the builder writes (the fields read back)."""
    path.write_bytes(b'engine')
    (path.parent / (path.name + '.json')).write_text(json.dumps({
        'schema': 1, 'tensorrt_version': '8.2.1.8', 'precision': precision,
        'gpu': {'name': 'NVIDIA Tegra X2', 'compute_capability': [6, 2]},
        'inputs': [], 'outputs': []}))
    return path


@pytest.mark.slow
def test_precision_must_be_what_the_model_is(tmp_path, tiny_net):
    import onnx

    from fxseg_ros.quant.fp16 import convert_to_fp16, save_model

    qdq = _qdq_net(tiny_net, tmp_path / 'qdq.onnx')
    fp16 = save_model(convert_to_fp16(onnx.load(str(tiny_net))), tmp_path / 'fp16.onnx')
    engine = _engine_built_at(tmp_path / 'net.engine', 'fp16')
    cases = [  # (overrides, what the one FATAL line must say besides the parameter)
        ({'model': str(qdq), 'precision': 'fp32'}, [str(qdq), 'is INT8', 'precision to int8']),
        ({'model': str(tiny_net), 'precision': 'int8'}, ['is FP32', 'precision to fp32']),
        ({'model': str(fp16), 'precision': 'int8'}, ['is FP16', 'precision to fp16']),
        # TensorRT builds an FP32 graph at any precision, a Q/DQ graph at INT8 only
        ({'model': str(qdq), 'precision': 'fp16', 'backend': 'tensorrt'}, ['is INT8']),
        # a loaded engine is what it was built at
        ({'model': str(tiny_net), 'precision': 'int8', 'engine': str(engine), 'backend': 'auto'},
         [str(engine), 'was built at fp16']),
    ]
    processes = [(H.NodeProcess(H.node_command(H.CONFIG, dict(params, build_only=True)),
                                tmp_path / ('%d.log' % i)), words)
                 for i, (params, words) in enumerate(cases)]
    for process, words in processes:
        assert process.wait(60.0) == 2, process.log()[-3000:]
        H.assert_one_fatal_line(process.log(), "cannot start: parameter 'precision': ", *words)


@pytest.mark.slow
def test_precision_follows_the_model_by_default(tmp_path, tiny_net):
    """Without a parameter file (the declared defaults) and with config/cpu.yaml."""
    qdq = _qdq_net(tiny_net, tmp_path / 'qdq.onnx')
    cases = [(None, tiny_net, 'fp32'), (None, qdq, 'int8'), (H.CONFIG, qdq, 'int8'),
             (H.CONFIG, tiny_net, 'fp32')]
    processes = [(H.NodeProcess(H.node_command(params_file, {'model': str(model),
                                                             'build_only': True}),
                                tmp_path / ('%d.log' % i),
                                env={'FXSEG_CACHE_DIR': str(tmp_path / 'cache')}), model, wanted)
                 for i, (params_file, model, wanted) in enumerate(cases)]
    for process, model, wanted in processes:
        assert process.wait(60.0) == 0, process.log()[-3000:]
        assert 'onnxruntime with %s at %s' % (model, wanted) in process.log(), process.log()


# Shutdown ----------------------------------------------------------------------------------------
# the signals sent at each of two ticks 50 ms apart: the first stops the node, the later ones are
# ignored, as under `ros2 launch` where a Ctrl-C reaches the node from the terminal and from
# launch. Two at one tick arrive while the node waits in rcl (both pending when Python next runs).
SIGNALS = {
    'sigint': [[signal.SIGINT]],
    'sigint_twice': [[signal.SIGINT], [signal.SIGINT]],
    'sigterm': [[signal.SIGTERM]],
    'sigint_then_sigterm': [[signal.SIGINT], [signal.SIGTERM]],
    'sigint_and_sigterm_at_once': [[signal.SIGINT, signal.SIGTERM]],
    'sigterm_and_sigint_at_once': [[signal.SIGTERM, signal.SIGINT]],
}


def test_signals_stop_the_worker_before_the_context_and_exit_0(demo_model, tmp_path):
    """Each node gets frames at 20 Hz while it is signalled: the worker is busy when it stops."""
    nodes = {}
    for i, name in enumerate(SIGNALS):
        topic = '/fxseg_sig%d/image_raw' % i
        process = H.NodeProcess(H.node_command(H.CONFIG, {
            'model': str(demo_model), 'camera_topics': [topic]}), tmp_path / (name + '.log'),
            env={'FXSEG_CACHE_DIR': str(tmp_path / 'cache')})
        nodes[name] = (process, SegmentationProbe([topic]))
    try:
        for name, (process, probe) in nodes.items():
            assert H.handshake_all(probe, [0]), process.log()[-2000:]
        frame = H.grey_frame()
        for tick in range(40):  # 2 s of frames; signals go out after 0.5 s
            for name, (process, probe) in nodes.items():
                probe.publish_frame(0, frame)
                if tick in (10, 11) and len(SIGNALS[name]) > tick - 10:
                    for signum in SIGNALS[name][tick - 10]:
                        process.signal(signum)
            time.sleep(0.05)
        for name, (process, probe) in nodes.items():
            status = process.wait(20.0)
            log = process.log()
            assert status == 0, (name, log[-3000:])
            assert 'Traceback' not in log and not H.error_lines(log), (name, log[-3000:])
    finally:
        for process, probe in nodes.values():
            probe.close()
            process.kill()
