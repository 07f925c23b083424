# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Frame sizes, (width, height): the camera, the network input, the smallest synthetic frame.

Free of OpenCV and numpy, so command-line parsers can take their defaults and limits from here
without slowing down `fxseg --help`. Python 3.6 compatible (runtime path).
"""

from typing import Tuple

#: The camera resolution the deployment graph is exported for, (width, height).
CAMERA_WH: Tuple[int, int] = (1280, 720)
#: The network input resolution of the demo model, (width, height).
NET_INPUT_WH: Tuple[int, int] = (640, 360)
#: Smallest frame side the synthetic scene generator renders, pixels.
SYNTH_MIN_SIDE = 32
