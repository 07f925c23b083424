# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Image message fields to BGR frames and back (no ROS graph: duck-typed messages)."""


import array
from types import SimpleNamespace

import cv2
from fxseg_ros.data.labels import colorize, palette_rgb
from fxseg_ros.pipeline.convert import (array_to_image_fields, check_image,
                                        colorize_to_image_fields, compressed_to_bgr, CONVERTERS,
                                        FrameRejected, image_to_array, image_to_bgr,
                                        labels_to_image_fields, REJECT_REASONS,
                                        SUPPORTED_ENCODINGS)
import numpy as np
import pytest

RNG = np.random.default_rng(7)
BGR = RNG.integers(0, 256, (6, 10, 3), dtype=np.uint8)


def image_msg(pixels, encoding, pad=0, is_bigendian=0, data_type=array.array):
    """Return an Image-like message of `pixels` (H, W, C), row by row with `pad` bytes per row."""
    pixels = np.asarray(pixels)
    height, width = pixels.shape[:2]
    rows = pixels.reshape(height, -1).view(np.uint8).reshape(height, -1)
    padded = np.zeros((height, rows.shape[1] + pad), np.uint8)
    padded[:, :rows.shape[1]] = rows
    raw = padded.tobytes()
    data = array.array('B', raw) if data_type is array.array else data_type(raw)
    return SimpleNamespace(height=height, width=width, encoding=encoding,
                           is_bigendian=is_bigendian, step=padded.shape[1], data=data)


def to_uyvy(yuv, order):
    """Pack a YUV image (H, W, 3) into 4:2:2 bytes (H, W, 2), U/V of the even pixels."""
    y, u, v = yuv[..., 0], yuv[:, 0::2, 1], yuv[:, 0::2, 2]
    packed = np.empty(yuv.shape[:2] + (2,), np.uint8)
    if order == 'uyvy':
        packed[:, :, 1] = y
        packed[:, 0::2, 0], packed[:, 1::2, 0] = u, v
    else:
        packed[:, :, 0] = y
        packed[:, 0::2, 1], packed[:, 1::2, 1] = u, v
    return packed


def yuv422_reference(yuv):
    """
    BGR of a YUV image whose chroma is shared by pixel pairs (what 4:2:2 data stores).

    BT.601 studio range, as cameras and OpenCV use for 4:2:2 data. Returns int (H, W, 3).
    """
    y = yuv[..., 0].astype(float) - 16
    u = np.repeat(yuv[:, 0::2, 1], 2, axis=1).astype(float) - 128
    v = np.repeat(yuv[:, 0::2, 2], 2, axis=1).astype(float) - 128
    b = 1.164 * y + 2.018 * u
    g = 1.164 * y - 0.813 * v - 0.391 * u
    r = 1.164 * y + 1.596 * v
    return np.clip(np.rint(np.dstack([b, g, r])), 0, 255).astype(int)


@pytest.mark.parametrize('encoding, pixels, expected', [
    ('bgr8', BGR, BGR),
    ('8UC3', BGR, BGR),
    ('rgb8', BGR[..., ::-1], BGR),
    ('bgra8', np.dstack([BGR, np.full(BGR.shape[:2], 9, np.uint8)]), BGR),
    ('rgba8', np.dstack([BGR[..., ::-1], np.full(BGR.shape[:2], 9, np.uint8)]), BGR),
    ('mono8', BGR[..., :1], np.repeat(BGR[..., :1], 3, axis=2)),
    ('8UC1', BGR[..., :1], np.repeat(BGR[..., :1], 3, axis=2)),
])
@pytest.mark.parametrize('pad', [0, 5, 64])
def test_eight_bit_encodings_give_bgr(encoding, pixels, expected, pad):
    frame = image_to_bgr(image_msg(pixels, encoding, pad=pad))
    assert frame.dtype == np.uint8 and frame.shape == (6, 10, 3)
    np.testing.assert_array_equal(frame, expected)


@pytest.mark.parametrize('pad', [0, 12])
@pytest.mark.parametrize('data_type', [array.array, bytes])
def test_bgr8_is_a_view_of_the_message_buffer(pad, data_type):
    msg = image_msg(BGR, 'bgr8', pad=pad, data_type=data_type)
    frame = image_to_bgr(msg)
    assert np.shares_memory(frame, np.frombuffer(msg.data, np.uint8))
    np.testing.assert_array_equal(frame, BGR)


def test_list_data_as_built_by_message_constructors():
    msg = image_msg(BGR, 'bgr8')
    msg.data = list(msg.data)
    np.testing.assert_array_equal(image_to_bgr(msg), BGR)


@pytest.mark.parametrize('encoding, order', [('yuv422', 'uyvy'), ('uyvy', 'uyvy'),
                                             ('yuv422_yuy2', 'yuyv'), ('yuyv', 'yuyv')])
@pytest.mark.parametrize('pad', [0, 6])
def test_yuv422_byte_orders(encoding, order, pad):
    yuv = RNG.integers(16, 240, (4, 8, 3), dtype=np.uint8)
    frame = image_to_bgr(image_msg(to_uyvy(yuv, order), encoding, pad=pad))
    assert np.abs(frame.astype(int) - yuv422_reference(yuv)).max() <= 2
    # the other byte order gives another picture: the mapping is not symmetric by accident
    wrong = 'yuyv' if order == 'uyvy' else 'uyvy'
    assert not np.array_equal(image_to_bgr(image_msg(to_uyvy(yuv, wrong), encoding)), frame)


@pytest.mark.parametrize('encoding, pattern', [
    ('bayer_rggb8', ('R', 'G', 'G', 'B')), ('bayer_bggr8', ('B', 'G', 'G', 'R')),
    ('bayer_gbrg8', ('G', 'B', 'R', 'G')), ('bayer_grbg8', ('G', 'R', 'B', 'G')),
])
def test_bayer_patterns_restore_a_flat_colour(encoding, pattern):
    value = {'B': 30, 'G': 100, 'R': 200}
    mosaic = np.empty((8, 8), np.uint8)
    for (dy, dx), colour in zip(((0, 0), (0, 1), (1, 0), (1, 1)), pattern):
        mosaic[dy::2, dx::2] = value[colour]
    frame = image_to_bgr(image_msg(mosaic[..., None], encoding))
    np.testing.assert_array_equal(frame[2:-2, 2:-2].reshape(-1, 3)[0], [30, 100, 200])


@pytest.mark.parametrize('is_bigendian', [0, 1])
@pytest.mark.parametrize('pad', [0, 2, 3])
def test_sixteen_bit_keeps_the_upper_byte(is_bigendian, pad):
    values = RNG.integers(0, 65536, (3, 5, 1), dtype=np.uint16)
    stored = values.astype('>u2' if is_bigendian else '<u2')
    msg = image_msg(stored, 'mono16', pad=pad, is_bigendian=is_bigendian)
    np.testing.assert_array_equal(image_to_array(msg), values)
    np.testing.assert_array_equal(image_to_bgr(msg), np.repeat(values >> 8, 3, 2).astype(np.uint8))


def test_rgb16_swaps_channels():
    values = RNG.integers(0, 65536, (3, 4, 3), dtype=np.uint16)
    frame = image_to_bgr(image_msg(values.astype('<u2'), 'rgb16'))
    np.testing.assert_array_equal(frame, (values[..., ::-1] >> 8).astype(np.uint8))


def test_any_resolution_is_accepted():
    big = RNG.integers(0, 256, (1, 4000, 3), dtype=np.uint8)
    assert image_to_bgr(image_msg(big, 'bgr8')).shape == (1, 4000, 3)


def bad(**fields):
    msg = image_msg(BGR, 'bgr8')
    for name, value in fields.items():
        setattr(msg, name, value)
    return msg


@pytest.mark.parametrize('msg, reason', [
    (bad(height=0, data=array.array('B')), 'zero_size'),
    (bad(width=0), 'zero_size'),
    (bad(encoding='jpeg'), 'unknown_encoding'),
    (bad(encoding=''), 'unknown_encoding'),
    (bad(encoding='BGR8'), 'unknown_encoding'),
    (bad(step=29), 'bad_step'),
    (bad(step=0), 'bad_step'),
    (bad(data=array.array('B', bytes(6 * 30 - 1))), 'truncated'),
    (bad(data=array.array('B')), 'truncated'),
    (bad(data=array.array('B', bytes(6 * 30 + 1))), 'data_size'),
    (image_msg(np.zeros((2, 3, 2), np.uint8), 'yuv422'), 'bad_width'),
])
def test_malformed_images_are_rejected_with_a_reason(msg, reason):
    with pytest.raises(FrameRejected) as info:
        image_to_bgr(msg)
    assert info.value.reason == reason
    assert reason in REJECT_REASONS
    with pytest.raises(FrameRejected):
        check_image(msg)


#: (values per pixel as stored, bytes per value) of each encoding, written down from
#: sensor_msgs/image_encodings.hpp (numChannels, bitDepth; 4:2:2 formats store 2 values per pixel)
LAYOUTS = {
    'bgr8': (3, 1), '8UC3': (3, 1), 'rgb8': (3, 1), 'bgra8': (4, 1), '8UC4': (4, 1),
    'rgba8': (4, 1), 'mono8': (1, 1), '8UC1': (1, 1), 'yuv422': (2, 1), 'uyvy': (2, 1),
    'yuv422_yuy2': (2, 1), 'yuyv': (2, 1), 'bayer_rggb8': (1, 1), 'bayer_bggr8': (1, 1),
    'bayer_gbrg8': (1, 1), 'bayer_grbg8': (1, 1), 'bgr16': (3, 2), 'rgb16': (3, 2),
    'bgra16': (4, 2), 'rgba16': (4, 2), 'mono16': (1, 2),
}


def test_every_supported_encoding_has_a_known_layout():
    assert set(SUPPORTED_ENCODINGS) == set(LAYOUTS)


@pytest.mark.parametrize('encoding', sorted(LAYOUTS))
def test_check_image_uses_each_encodings_row_size(encoding):
    channels, value_bytes = LAYOUTS[encoding]
    width, height = 4, 3
    row = width * channels * value_bytes

    def msg(step):
        return SimpleNamespace(height=height, width=width, encoding=encoding, step=step,
                               is_bigendian=0, data=bytes(step * height))

    layout = check_image(msg(row))  # rows exactly as long as the pixels
    assert (layout.channels, layout.bytes_per_value) == (channels, value_bytes)
    check_image(msg(row + 3))  # padded rows
    with pytest.raises(FrameRejected) as info:  # one byte short of a row
        check_image(msg(row - 1))
    assert info.value.reason == 'bad_step'


@pytest.mark.parametrize('ext', ['.jpg', '.png'])
def test_compressed_decodes_to_bgr(ext):
    frame = np.zeros((48, 64, 3), np.uint8)
    frame[:, :32] = (255, 0, 0)  # blue left half
    frame[:, 32:] = (0, 0, 255)  # red right half
    ok, encoded = cv2.imencode(ext, frame)
    assert ok
    msg = SimpleNamespace(format='jpeg' if ext == '.jpg' else 'png',
                          data=array.array('B', encoded.tobytes()))
    decoded = compressed_to_bgr(msg)
    assert decoded.shape == (48, 64, 3) and decoded.dtype == np.uint8
    assert np.abs(decoded.astype(int) - frame).mean() < 3
    assert CONVERTERS['compressed'] is compressed_to_bgr and CONVERTERS['raw'] is image_to_bgr


def encoded(ext):
    ok, data = cv2.imencode(ext, RNG.integers(0, 256, (40, 60, 3), dtype=np.uint8))
    assert ok
    return data.tobytes()


@pytest.mark.parametrize('fmt, data, reason', [
    ('jpeg', b'', 'zero_size'),
    ('jpeg', encoded('.jpg')[:-300], 'corrupt_compressed'),
    ('jpeg', encoded('.jpg')[:40], 'corrupt_compressed'),
    ('png', encoded('.png')[:200], 'corrupt_compressed'),
    ('jpeg', bytes(RNG.integers(0, 256, 500, dtype=np.uint8)), 'corrupt_compressed'),
    ('16UC1; compressedDepth', encoded('.png'), 'unknown_encoding'),
])
def test_corrupt_compressed_images_are_rejected(fmt, data, reason):
    with pytest.raises(FrameRejected) as info:
        compressed_to_bgr(SimpleNamespace(format=fmt, data=array.array('B', data)))
    assert info.value.reason == reason


def test_label_fields_round_trip():
    labels = RNG.integers(0, 19, (7, 9), dtype=np.uint8)
    fields = labels_to_image_fields(labels)
    assert fields['encoding'] == 'mono8' and fields['step'] == 9
    assert (fields['height'], fields['width']) == (7, 9)
    assert isinstance(fields['data'], array.array) and fields['data'].typecode == 'B'
    back = image_to_array(SimpleNamespace(**fields))
    np.testing.assert_array_equal(back[..., 0], labels)
    with pytest.raises(ValueError):
        labels_to_image_fields(labels[None])


def test_colour_mask_uses_the_palette():
    labels = RNG.integers(0, 19, (5, 6), dtype=np.uint8)
    labels[0, 0] = 255
    fields = colorize_to_image_fields(labels, palette_rgb())
    assert fields['encoding'] == 'rgb8' and fields['step'] == 18
    rgb = np.frombuffer(fields['data'], np.uint8).reshape(5, 6, 3)
    np.testing.assert_array_equal(rgb, colorize(labels))
    np.testing.assert_array_equal(rgb[0, 0], [0, 0, 0])


def test_array_fields_of_non_contiguous_input():
    view = BGR[:, ::2]
    fields = array_to_image_fields(view, 'bgr8')
    np.testing.assert_array_equal(image_to_bgr(SimpleNamespace(**fields)), view)


def test_compressed_check_is_cheap_and_catches_what_it_can():
    from fxseg_ros.pipeline.convert import check_compressed, CHECKS

    data = encoded('.jpg')
    view = check_compressed(SimpleNamespace(format='jpeg', data=array.array('B', data)))
    assert view.size == len(data)
    with pytest.raises(FrameRejected) as info:
        check_compressed(SimpleNamespace(format='jpeg', data=data[:-100]))
    assert info.value.reason == 'corrupt_compressed'
    assert CHECKS['raw'] is check_image and CHECKS['compressed'] is check_compressed
