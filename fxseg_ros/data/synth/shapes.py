# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The synthetic generator's tables.

The classes it draws, per-class texture amplitudes, albedo palettes, and the unit outlines of
sign plates and pedestrians.
"""

from fxseg_ros.data.labels import TRAIN_ID
import numpy as np

ROAD = TRAIN_ID['road']
SIDEWALK = TRAIN_ID['sidewalk']
BUILDING = TRAIN_ID['building']
FENCE = TRAIN_ID['fence']
POLE = TRAIN_ID['pole']
TRAFFIC_LIGHT = TRAIN_ID['traffic light']
TRAFFIC_SIGN = TRAIN_ID['traffic sign']
VEGETATION = TRAIN_ID['vegetation']
TERRAIN = TRAIN_ID['terrain']
SKY = TRAIN_ID['sky']
PERSON = TRAIN_ID['person']
CAR = TRAIN_ID['car']
TRUCK = TRAIN_ID['truck']

#: Train IDs the generator draws (traffic lights only with `traffic_lights=True`).
RENDERED_CLASSES = (ROAD, SIDEWALK, BUILDING, FENCE, POLE, TRAFFIC_LIGHT, TRAFFIC_SIGN, VEGETATION,
                    TERRAIN, SKY, PERSON, CAR, TRUCK)

# Per-class texture amplitude (fine grain, coarse blotches), multiplicative, in 1/64 units.
TEXTURE_FINE = np.zeros(256, np.uint8)
TEXTURE_COARSE = np.zeros(256, np.uint8)
for _cls, _fine, _coarse in ((ROAD, 6, 5), (SIDEWALK, 7, 6), (BUILDING, 5, 9), (FENCE, 6, 4),
                             (POLE, 3, 3), (TRAFFIC_LIGHT, 2, 2), (TRAFFIC_SIGN, 2, 2),
                             (VEGETATION, 20, 12), (TERRAIN, 11, 9), (SKY, 0, 3), (PERSON, 4, 3),
                             (CAR, 2, 3), (TRUCK, 3, 5)):
    TEXTURE_FINE[_cls] = _fine
    TEXTURE_COARSE[_cls] = _coarse

# Albedo palettes, BGR.
CAR_COLORS = ((225, 225, 228), (182, 182, 178), (32, 32, 34), (72, 72, 76), (40, 38, 165),
              (140, 70, 30), (95, 45, 20), (60, 92, 45), (150, 180, 200), (40, 185, 220),
              (120, 120, 125), (25, 60, 120))
TRUCK_COLORS = ((230, 230, 230), (200, 200, 205), (150, 90, 40), (40, 40, 170), (40, 120, 60),
                (40, 170, 215), (90, 90, 95), (180, 150, 110))
SKIN = ((140, 170, 220), (110, 145, 200), (80, 110, 160), (55, 75, 115))
CLOTHES = ((40, 40, 40), (150, 60, 20), (40, 40, 160), (200, 200, 200), (60, 110, 50),
           (30, 140, 200), (120, 80, 120), (90, 90, 90), (20, 20, 90), (170, 120, 60))
PANTS = ((50, 35, 25), (25, 25, 25), (90, 90, 90), (110, 140, 160), (80, 50, 30))
BUILDING_COLORS = ((150, 160, 175), (120, 130, 150), (95, 110, 140), (160, 165, 165),
                   (80, 90, 120), (180, 190, 200), (110, 115, 120), (70, 80, 110),
                   (140, 150, 190), (125, 125, 110))

# Unit outlines of sign plates (centre-relative, radius 1) and pedestrians (height 1, feet at
# 0; x scaled by the person's width).
BAR = np.array(((-0.5, 0.12), (0.5, 0.12), (0.5, -0.12), (-0.5, -0.12)))
MARK = np.array(((-0.08, -0.25), (0.08, -0.25), (0.08, 0.25), (-0.08, 0.25)))
TRIANGLE = np.array(((0.0, -1.0), (0.95, 0.75), (-0.95, 0.75)))
OCTAGON = np.stack([np.cos(np.pi / 8 + np.arange(8) * np.pi / 4),
                    np.sin(np.pi / 8 + np.arange(8) * np.pi / 4)], 1)
DIAMOND = np.array(((0.0, -1.0), (1.0, 0.0), (0.0, 1.0), (-1.0, 0.0)))
PANEL = np.array(((-1.2, -0.75), (1.2, -0.75), (1.2, 0.75), (-1.2, 0.75)))
TEXT = np.array(((-0.7, -0.3), (0.7, -0.3), (0.7, -0.1), (-0.7, -0.1)))
# Person parts in units of body height (x right, y up from the feet); strides move the feet.
SIDE_LEGS = np.array((((-0.05, 0.52), (0.05, 0.52), (0.04, 0.0), (-0.05, 0.0)),
                      ((-0.05, 0.52), (0.05, 0.52), (0.04, 0.0), (-0.05, 0.0))))
SIDE_STRIDE = np.array((((0, 0), (0, 0), (1, 0), (1, 0)), ((0, 0), (0, 0), (-1, 0), (-1, 0))))
SIDE_TORSO = np.array(((-0.09, 0.5), (0.09, 0.5), (0.1, 0.82), (-0.08, 0.83)))
SIDE_ARMS = np.array((((-0.04, 0.81), (0.04, 0.81), (0.03, 0.47), (-0.04, 0.47)),))
SIDE_ARM_SWING = np.array((((0, 0), (0, 0), (1, 0), (1, 0)),))
FRONT_LEGS = np.array((((-0.14, 0.52), (-0.01, 0.52), (-0.035, 0.0), (-0.115, 0.0)),
                       ((0.01, 0.52), (0.14, 0.52), (0.115, 0.0), (0.035, 0.0))))
FRONT_STRIDE = np.array((((0, 0), (0, 0), (0, 0), (0, 1)), ((0, 0), (0, 0), (0, -1), (0, 0))))
FRONT_TORSO = np.array(((-0.14, 0.48), (0.14, 0.48), (0.16, 0.80), (0.12, 0.835),
                        (-0.12, 0.835), (-0.16, 0.80)))
FRONT_ARMS = np.array((((-0.19, 0.80), (-0.13, 0.80), (-0.15, 0.46), (-0.21, 0.46)),
                       ((0.13, 0.80), (0.19, 0.80), (0.21, 0.46), (0.15, 0.46))))
FRONT_ARM_SWING = np.array((((0, 0), (0, 0), (0, 0), (0, 1)), ((0, 0), (0, 0), (0, -1), (0, 0))))
NECK = np.array(((-0.035, 0.82), (0.035, 0.82), (0.035, 0.87), (-0.035, 0.87)))
BAG = np.array(((0.14, 0.6), (0.26, 0.6), (0.26, 0.42), (0.14, 0.42)))
