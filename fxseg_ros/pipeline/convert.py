# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Image message fields to numpy arrays and back, without importing rclpy (after cv_bridge's core.py).

The functions take any object with the fields of `sensor_msgs/Image` (`height`, `width`,
`encoding`, `is_bigendian`, `step`, `data`) or `sensor_msgs/CompressedImage` (`format`, `data`),
so they are tested without a ROS graph. Every malformed message raises :class:`FrameRejected`
with a short machine-readable `reason`, which the node counts and reports in its diagnostics.

Frames come out as BGR uint8 (H, W, 3), the pipeline's input. `bgr8` (and `8UC3`) messages are
returned as a view of the message buffer, also when rows are padded (`step` > width x 3): no copy.
"""


import array
from typing import Callable, Dict, NamedTuple, Optional

import cv2
import numpy as np

#: Reasons a frame is rejected; the node reports a counter for each.
REJECT_REASONS = (
    'zero_size',            # height or width is 0, or a compressed image without data
    'unknown_encoding',     # an encoding this module does not convert
    'bad_step',             # step smaller than width x bytes per pixel
    'bad_width',            # odd width for a 4:2:2 encoding (two pixels share one U/V pair)
    'truncated',            # fewer bytes than step x height
    'data_size',            # more bytes than step x height
    'corrupt_compressed',   # a CompressedImage that does not decode (or a JPEG cut short)
)


class FrameRejected(Exception):
    """
    A message that cannot be turned into a frame.

    `reason` is one of :data:`REJECT_REASONS` (or a node-level reason such as 'stale'); the
    message text says what was wrong with which field.
    """

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class _Encoding(NamedTuple):
    """How one `sensor_msgs/Image` encoding is laid out and turned into BGR."""

    channels: int           # values per pixel as stored (2 for the 4:2:2 encodings)
    bytes_per_value: int    # 1 or 2
    to_bgr: Optional[int]   # a cv2.cvtColor code, or None when the layout already is BGR


# Encoding names as in sensor_msgs/image_encodings.hpp. yuv422 is UYVY and yuv422_yuy2 is YUYV,
# as cv_bridge maps them. The Bayer codes follow cv_bridge too: OpenCV names a pattern by the
# second row's first two pixels, so RGGB is COLOR_BayerBG2BGR (these names exist in OpenCV 3 - 5).
_ENCODINGS: Dict[str, _Encoding] = {
    'bgr8': _Encoding(3, 1, None),
    '8UC3': _Encoding(3, 1, None),
    'rgb8': _Encoding(3, 1, cv2.COLOR_RGB2BGR),
    'bgra8': _Encoding(4, 1, cv2.COLOR_BGRA2BGR),
    '8UC4': _Encoding(4, 1, cv2.COLOR_BGRA2BGR),
    'rgba8': _Encoding(4, 1, cv2.COLOR_RGBA2BGR),
    'mono8': _Encoding(1, 1, cv2.COLOR_GRAY2BGR),
    '8UC1': _Encoding(1, 1, cv2.COLOR_GRAY2BGR),
    'yuv422': _Encoding(2, 1, cv2.COLOR_YUV2BGR_UYVY),
    'uyvy': _Encoding(2, 1, cv2.COLOR_YUV2BGR_UYVY),
    'yuv422_yuy2': _Encoding(2, 1, cv2.COLOR_YUV2BGR_YUY2),
    'yuyv': _Encoding(2, 1, cv2.COLOR_YUV2BGR_YUY2),
    'bayer_rggb8': _Encoding(1, 1, cv2.COLOR_BayerBG2BGR),
    'bayer_bggr8': _Encoding(1, 1, cv2.COLOR_BayerRG2BGR),
    'bayer_gbrg8': _Encoding(1, 1, cv2.COLOR_BayerGR2BGR),
    'bayer_grbg8': _Encoding(1, 1, cv2.COLOR_BayerGB2BGR),
    'bgr16': _Encoding(3, 2, None),
    'rgb16': _Encoding(3, 2, cv2.COLOR_RGB2BGR),
    'bgra16': _Encoding(4, 2, cv2.COLOR_BGRA2BGR),
    'rgba16': _Encoding(4, 2, cv2.COLOR_RGBA2BGR),
    'mono16': _Encoding(1, 2, cv2.COLOR_GRAY2BGR),
}

#: The `sensor_msgs/Image` encodings :func:`image_to_bgr` accepts.
SUPPORTED_ENCODINGS = tuple(sorted(_ENCODINGS))

_JPEG_SOI = b'\xff\xd8'
_JPEG_EOI = b'\xff\xd9'


def _buffer(data) -> np.ndarray:
    """View a message's `data` field (array.array, bytes, memoryview, list) as uint8, 1-D."""
    if isinstance(data, np.ndarray):
        return data.reshape(-1).view(np.uint8)
    try:
        return np.frombuffer(data, dtype=np.uint8)
    except TypeError:
        # a plain list of ints, as a message built with check_fields may hold
        return np.asarray(data, dtype=np.uint8)


def check_image(msg) -> _Encoding:
    """
    Check an Image message's size fields and encoding without touching the pixels.

    Cheap (no copy): the node calls it in the subscription callback so that a burst of bad
    messages is counted message by message. Returns the encoding's layout.
    Raises FrameRejected with reason zero_size, unknown_encoding, bad_step, bad_width,
    truncated or data_size.
    """
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height <= 0 or width <= 0:
        raise FrameRejected('zero_size', 'image is %dx%d (WxH)' % (width, height))
    layout = _ENCODINGS.get(msg.encoding)
    if layout is None:
        raise FrameRejected('unknown_encoding', 'encoding %r is not one of %s'
                            % (msg.encoding, ', '.join(SUPPORTED_ENCODINGS)))
    row_bytes = width * layout.channels * layout.bytes_per_value
    if step < row_bytes:
        raise FrameRejected('bad_step', 'step %d < width %d x %d bytes per pixel for %s'
                            % (step, width, layout.channels * layout.bytes_per_value,
                               msg.encoding))
    if layout.channels == 2 and width % 2:
        raise FrameRejected('bad_width', '%s needs an even width, got %d'
                            % (msg.encoding, width))
    size = len(msg.data)
    if size != step * height:
        raise FrameRejected('truncated' if size < step * height else 'data_size',
                            'data has %d bytes, step x height = %d x %d = %d'
                            % (size, step, height, step * height))
    return layout


def image_to_array(msg) -> np.ndarray:
    """
    View an Image message's pixels as stored, without converting colours.

    Returns shape (H, W, C) (C = values per pixel: 1, 2 for 4:2:2, 3 or 4), uint8 or uint16 in
    native byte order. A view of `msg.data` (no copy) unless 16-bit data needs a byte swap.
    Raises FrameRejected (see :func:`check_image`).
    """
    layout = check_image(msg)
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    buf = _buffer(msg.data)
    row_values = width * layout.channels
    if layout.bytes_per_value == 1:
        rows = buf.reshape(height, step)[:, :row_values]
        return rows.reshape(height, width, layout.channels)
    dtype = np.dtype('>u2' if msg.is_bigendian else '<u2')
    if step % 2 == 0:
        rows = buf.view(dtype).reshape(height, step // 2)[:, :row_values]
    else:
        # odd step: rows do not start on a 2-byte boundary; copy the used bytes of each row
        rows = buf.reshape(height, step)[:, :row_values * 2].copy().view(dtype)
    pixels = rows.reshape(height, width, layout.channels)
    if dtype != np.dtype(np.uint16):
        pixels = pixels.astype(np.uint16)
    return pixels


def image_to_bgr(msg) -> np.ndarray:
    """
    Convert a `sensor_msgs/Image` to a BGR frame.

    Returns shape (H, W, 3), uint8, BGR. For bgr8 / 8UC3 the result is a (possibly
    non-contiguous) view of `msg.data`; other encodings are converted with OpenCV. 16-bit
    encodings keep their upper 8 bits. Raises FrameRejected (see :func:`check_image`).
    """
    pixels = image_to_array(msg)
    layout = _ENCODINGS[msg.encoding]
    if layout.bytes_per_value == 2:
        pixels = (pixels >> 8).astype(np.uint8)
    if layout.to_bgr is None:
        return pixels
    if layout.channels == 1:
        pixels = pixels[:, :, 0]
    elif layout.channels == 2:
        # OpenCV reads 4:2:2 data as (H, W, 2), two bytes per pixel
        pixels = np.ascontiguousarray(pixels)
    return cv2.cvtColor(pixels, layout.to_bgr)


def check_compressed(msg) -> np.ndarray:
    """
    Check a CompressedImage without decoding it; return its data as a uint8 view.

    Cheap (no copy, looks at the first and last bytes): the node calls it in the subscription
    callback. Raises FrameRejected: zero_size for empty data, unknown_encoding for
    compressedDepth images, corrupt_compressed for a JPEG without its end-of-image marker
    (libjpeg would return the missing part grey instead of failing).
    """
    fmt = str(getattr(msg, 'format', '') or '')
    if 'compressedDepth' in fmt:
        raise FrameRejected('unknown_encoding', 'format %r is a depth image, not a camera frame'
                            % fmt)
    buf = _buffer(msg.data)
    if buf.size == 0:
        raise FrameRejected('zero_size', 'compressed image without data (format %r)' % fmt)
    if buf[:2].tobytes() == _JPEG_SOI and _JPEG_EOI not in buf[-64:].tobytes():
        raise FrameRejected('corrupt_compressed', 'JPEG of %d bytes has no end-of-image marker '
                            '(cut short?)' % buf.size)
    return buf


def compressed_to_bgr(msg) -> np.ndarray:
    """
    Decode a `sensor_msgs/CompressedImage` (JPEG or PNG; any format OpenCV reads) to BGR.

    Returns shape (H, W, 3), uint8, BGR. Raises FrameRejected (see :func:`check_compressed`),
    and corrupt_compressed when OpenCV cannot decode the data.
    """
    buf = check_compressed(msg)
    fmt = str(getattr(msg, 'format', '') or '')
    frame = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if frame is None or frame.size == 0:
        raise FrameRejected('corrupt_compressed', 'OpenCV could not decode %d bytes (format %r)'
                            % (buf.size, fmt))
    return frame


def array_to_image_fields(pixels: np.ndarray, encoding: str) -> Dict[str, object]:
    """
    Image message fields for an 8-bit array, ready for `Image(header=..., **fields)`.

    pixels: shape (H, W) or (H, W, C), uint8. `data` is an `array.array('B')`, the type the
    generated message class stores without checking every byte.
    """
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    height, width = pixels.shape[:2]
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    data = array.array('B')
    data.frombytes(memoryview(pixels).cast('B'))  # one copy (tobytes() would add another)
    return {'height': int(height), 'width': int(width), 'encoding': encoding,
            'is_bigendian': 0, 'step': int(width * channels), 'data': data}


def labels_to_image_fields(labels: np.ndarray) -> Dict[str, object]:
    """
    Image message fields of a label image (class IDs as mono8).

    labels: shape (H, W), uint8.
    """
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError('labels must have shape (H, W), got %s' % (labels.shape,))
    return array_to_image_fields(labels, 'mono8')


def colorize_to_image_fields(labels: np.ndarray, palette_rgb: np.ndarray) -> Dict[str, object]:
    """
    Image message fields of a colour mask (rgb8) of a label image.

    labels: shape (H, W), uint8. palette_rgb: shape (256, 3), uint8, RGB, indexed by label.
    """
    lut = np.ascontiguousarray(palette_rgb, dtype=np.uint8).reshape(1, 256, 3)
    # cv2.LUT on a 3-channel image looks every channel up in its own table: ~4x faster than
    # numpy fancy indexing at 1280x720
    rgb = cv2.LUT(cv2.merge([labels, labels, labels]), lut)
    return array_to_image_fields(rgb, 'rgb8')


#: Converter per `input_type` parameter value.
CONVERTERS: Dict[str, Callable[[object], np.ndarray]] = {
    'raw': image_to_bgr,
    'compressed': compressed_to_bgr,
}
#: Cheap check (no decoding) per `input_type` parameter value.
CHECKS: Dict[str, Callable[[object], object]] = {
    'raw': check_image,
    'compressed': check_compressed,
}
