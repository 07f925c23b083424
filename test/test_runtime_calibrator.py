# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The calibrator callbacks as plain functions: what TensorRT would receive, including on errors.

TensorRT 8.0 / 8.2 call these from noexcept C++: they must never raise. The uploads go into a
dict standing in for device memory (the CUDA copy itself is the CUDA layer's, tested on a GPU).
"""


from pathlib import Path
import re

import cv2
from fxseg_ros.data.readers import ImageFolderCalibrationReader
from fxseg_ros.quant.collect import open_calibration_reader
from fxseg_ros.runtime.calibrator import CalibratorCore
from fxseg_ros.runtime.trt_build import calibration_input_shapes
import numpy as np
import pytest

SHAPE = (1, 3, 36, 64)


class ListReader:
    """A calibration reader over given feeds; raises `fail` on the call after them."""

    def __init__(self, feeds, fail=None):
        self.feeds, self.fail = list(feeds), fail

    def get_next(self):
        if self.feeds:
            return self.feeds.pop(0)
        if self.fail is not None:
            raise self.fail
        return None


class Device:
    """Device memory as a dict: pointer -> (input name, frame)."""

    def __init__(self):
        self.memory = {}

    def upload(self, name, array):
        pointer = 1000 + len(self.memory)
        self.memory[pointer] = (name, array.copy())
        return pointer


def core(reader, **kwargs):
    device = Device()
    return CalibratorCore(reader, {'input': SHAPE}, device.upload, **kwargs), device


def test_batches_are_split_into_frames_of_the_network_shape():
    batch = np.arange(2 * 3 * 36 * 64, dtype=np.float32).reshape(2, 3, 36, 64)
    c, device = core(ListReader([{'input': batch}]))
    first, second = c.get_batch(['input']), c.get_batch(['input'])
    assert c.get_batch(['input']) is None
    assert c.batches == 2 and c.error is None
    np.testing.assert_array_equal(device.memory[first[0]][1], batch[:1])
    np.testing.assert_array_equal(device.memory[second[0]][1], batch[1:])


@pytest.mark.parametrize('feed, fail, message', [
    ({'input': np.zeros((1, 3, 360, 640), np.float32)}, None,
     r"frame 'input' has shape \(1, 3, 360, 640\), the network input is \(1, 3, 36, 64\)"),
    ({'image': np.zeros(SHAPE, np.float32)}, None, r"yields \['image'\], the network wants"),
    (None, OSError('bag is truncated'), 'bag is truncated'),
])
def test_a_bad_frame_ends_calibration_without_raising(feed, fail, message):
    """A frame of another size would make TensorRT read past the device buffer."""
    c, device = core(ListReader([feed] if feed else [], fail=fail))
    assert c.get_batch(['input']) is None
    assert device.memory == {}
    assert c.error is not None and c.batches == 0
    assert re.search(message, str(c.error))
    assert c.get_batch(['input']) is None  # stays stopped


def test_cache_callbacks_never_raise(tmp_path):
    c, _ = core(None, cache_bytes=b'TRT-8201-EntropyCalibration2\n')
    data = c.read_calibration_cache()
    assert data == b'TRT-8201-EntropyCalibration2\n'
    assert c._returned_cache is data  # kept alive: TensorRT 8.0 holds only the pointer
    path = tmp_path / 'c.cache'
    path.write_bytes(b'TRT-8201-MinMaxCalibration\n')
    assert core(None, cache_path=path)[0].read_calibration_cache() == path.read_bytes()
    assert core(None, cache_path=tmp_path / 'none.cache')[0].read_calibration_cache() is None
    unreadable, _ = core(None, cache_path=tmp_path)  # a directory: is_file() is False
    assert unreadable.read_calibration_cache() is None
    blocked = tmp_path / 'file'
    blocked.write_text('x')
    c, _ = core(None, cache_path=blocked / 'sub' / 'c.cache')
    assert c.write_calibration_cache(memoryview(b'abc')) is None
    assert isinstance(c.error, OSError)
    c, _ = core(None, cache_path=tmp_path / 'out' / 'c.cache')
    c.write_calibration_cache(memoryview(b'TRT-8201-EntropyCalibration2\ninput: 0\n'))
    assert (tmp_path / 'out' / 'c.cache').read_bytes().startswith(b'TRT-8201')
    assert not list((tmp_path / 'out').glob('*.tmp'))


def test_open_calibration_reader_takes_the_input_name_and_size(tmp_path):
    folder = tmp_path / 'images'
    folder.mkdir()
    cv2.imwrite(str(folder / '0.png'), np.full((90, 160, 3), 80, np.uint8))
    feed = open_calibration_reader(folder, input_name='data', size_wh=(64, 36)).get_next()
    assert list(feed) == ['data'] and feed['data'].shape == (1, 3, 36, 64)
    default = open_calibration_reader(folder).get_next()
    assert list(default) == ['input'] and default['input'].shape == (1, 3, 360, 640)


def test_readers_are_sized_to_the_network(tmp_path, tiny_net):
    """The builder sizes the reader to the bare network's input (its default is 640x360)."""
    import onnx

    folder = tmp_path / 'images'
    folder.mkdir()
    for i in range(2):
        cv2.imwrite(str(folder / ('%d.png' % i)), np.full((90, 160, 3), 40 * i, np.uint8))
    bare = onnx.load(str(tiny_net))
    bare.graph.input[0].type.tensor_type.shape.dim[2].dim_value = 36
    bare.graph.input[0].type.tensor_type.shape.dim[3].dim_value = 64
    shapes = calibration_input_shapes(bare)
    assert shapes == {'input': SHAPE}
    unsized, _ = core(ImageFolderCalibrationReader(Path(folder)))
    assert unsized.get_batch(['input']) is None and '360, 640' in str(unsized.error)
    (name, shape), = shapes.items()
    # As trt_build opens it: sized to the input's name and W x H.
    reader = open_calibration_reader(folder, input_name=name, size_wh=(shape[3], shape[2]))
    sized, device = core(reader)
    assert sized.get_batch(['input']) is not None and sized.error is None
    assert next(iter(device.memory.values()))[1].shape == SHAPE
