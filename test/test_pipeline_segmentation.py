# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""SegmentationPipeline: frame sizes, batch splitting and stage timings."""


from conftest import camera_frames, reference_labels, session
import cv2
from fxseg_ros.pipeline.pipeline import PipelineResult, SegmentationPipeline, STAGES
from fxseg_ros.runtime.base import Runner
from fxseg_ros.runtime.onnxrt import OnnxRuntimeRunner
import numpy as np
import pytest


@pytest.fixture(scope='module')
def runner(tiny_net, tmp_path_factory):
    with OnnxRuntimeRunner(tiny_net, threads=2,
                           cache_dir=tmp_path_factory.mktemp('ortcache')) as r:
        yield r


@pytest.fixture(scope='module')
def frames():
    return camera_frames(3, seed=7)


def test_camera_size_frames_match_reference(runner, tiny_net, frames):
    result = SegmentationPipeline(runner).process(list(frames))
    assert isinstance(result, PipelineResult) and len(result) == 3
    ref = reference_labels(tiny_net, frames, (1280, 720))
    for labels, expected in zip(result.labels, ref):
        assert labels.dtype == np.uint8 and labels.shape == (720, 1280)
        assert (labels == expected).mean() >= 0.999
    assert tuple(result.timings_ms) == STAGES
    assert all(v >= 0.0 for v in result.timings_ms.values())
    t = result.timings_ms
    assert t['total'] >= t['preprocess'] + t['inference'] + t['postprocess'] - 1e-6
    assert t['inference'] > 0.0


def test_odd_size_frames_resized_on_host_and_back(runner, tiny_net, frames):
    small = cv2.resize(frames[0], (641, 359), interpolation=cv2.INTER_AREA)
    big = cv2.resize(frames[1], (1920, 1080), interpolation=cv2.INTER_LINEAR)
    mixed = [small, frames[2], big]
    result = SegmentationPipeline(runner).process(mixed)
    assert [lab.shape for lab in result.labels] == [(359, 641), (720, 1280), (1080, 1920)]
    # The expected labels: host resize to the camera size, the network, nearest resize back.
    for frame, labels in zip(mixed, result.labels):
        cam = cv2.resize(frame, (1280, 720), interpolation=cv2.INTER_LINEAR)
        ref = reference_labels(tiny_net, cam[None], (1280, 720))[0]
        ref = cv2.resize(ref, (frame.shape[1], frame.shape[0]), interpolation=cv2.INTER_NEAREST)
        assert (labels == ref).mean() >= 0.999


def test_single_frame_and_4d_array_inputs(runner, frames):
    pipe = SegmentationPipeline(runner)
    one = pipe.process(frames[0])
    assert len(one) == 1
    batch = pipe.process(frames[:2])
    np.testing.assert_array_equal(batch.labels[0], one.labels[0])


class _CountingRunner(Runner):
    """A runner around a real ONNX Runtime session that records batch sizes (max_batch=2)."""

    backend = 'counting'

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.batches = []

    def activate_impl(self):
        from fxseg_ros.model.deploy import build_deployment_graph

        self.session = session(build_deployment_graph(self.model, output='network'))
        self.input_hw, self.output_hw, self.max_batch = (720, 1280), (360, 640), 2

    def deactivate_impl(self):
        self.session = None

    def infer_impl(self, frames):
        self.batches.append(frames.shape[0])
        out = self.session.run(None, {'frames': frames})[0]
        self.last_timings = {'upload': 1.0, 'inference': 2.0, 'download': 0.5,
                             'host_post': 0.25}
        return out


def test_batches_split_over_max_batch_and_timings_summed(tiny_net, frames):
    runner = _CountingRunner(tiny_net)
    pipe = SegmentationPipeline(runner)
    assert runner.is_active
    five = [frames[i % 3] for i in range(5)]
    result = pipe.process(five)
    assert runner.batches == [2, 2, 1]
    assert len(result) == 5 and all(lab.shape == (720, 1280) for lab in result.labels)
    t = result.timings_ms
    assert t['upload'] == pytest.approx(3.0) and t['inference'] == pytest.approx(6.0)
    assert t['download'] == pytest.approx(1.5) and t['postprocess'] >= 0.75
    # Network-grid labels are resized back to each frame's size (nearest).
    net = reference_labels(tiny_net, frames[:1], None)[0]
    back = cv2.resize(net, (1280, 720), interpolation=cv2.INTER_NEAREST)
    assert (result.labels[0] == back).mean() >= 0.999
    runner.deactivate()


@pytest.mark.parametrize('bad, message', [
    ([], 'no frames'),
    ([np.zeros((720, 1280), np.uint8)], 'expected BGR uint8'),
    ([np.zeros((720, 1280, 3), np.float32)], 'expected BGR uint8'),
    ([np.zeros((0, 1280, 3), np.uint8)], 'zero size'),
    (np.zeros((2, 2), np.uint8), 'expected frames of shape'),
])
def test_bad_frames_rejected(runner, bad, message):
    with pytest.raises(ValueError, match=message):
        SegmentationPipeline(runner).process(bad)


class _AsyncRunner(_CountingRunner):
    """The counting runner with the in-flight API of the TensorRT runner (submit / wait)."""

    def __init__(self, model):
        super().__init__(model)
        self.events = []

    def infer_async(self, frames):
        self.events.append(('submit', frames.shape[0]))
        return frames.copy()

    def wait(self, ticket):
        self.events.append(('wait', ticket.shape[0]))
        return self.infer(ticket)


def test_runners_with_in_flight_slots_get_the_next_chunk_early(tiny_net, frames):
    runner = _AsyncRunner(tiny_net)
    five = [frames[i % 3] for i in range(5)]
    result = SegmentationPipeline(runner).process(five)
    # Chunk k+1 is submitted before chunk k is collected.
    assert runner.events == [('submit', 2), ('submit', 2), ('wait', 2), ('submit', 1),
                             ('wait', 2), ('wait', 1)]
    sync = SegmentationPipeline(_CountingRunner(tiny_net)).process(five)
    for a, b in zip(result.labels, sync.labels):
        np.testing.assert_array_equal(a, b)
    assert result.timings_ms['inference'] == pytest.approx(6.0)
    runner.deactivate()
