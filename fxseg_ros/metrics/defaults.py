# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Default settings of the metrics, free of OpenCV so command-line parsers can show them.

`fxseg_ros.metrics.small_objects` explains what they mean.
"""

from fxseg_ros.data.labels import TRAIN_ID

#: Classes whose small connected components count as small objects.
DEFAULT_SMALL_CLASSES = tuple(TRAIN_ID[n] for n in (
    'pole', 'traffic light', 'traffic sign', 'person', 'rider', 'car', 'truck', 'bus', 'train',
    'motorcycle', 'bicycle'))
#: Default area threshold: 1024 pixels, about 0.11 % of a 1280x720 frame (a pedestrian ~15x70 px).
DEFAULT_MAX_PIXELS = 1024
