# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Per-scene lighting (day / dusk / night).

A colour transform on the albedo image, haze, and how strong lamps, car lights and lit windows
are.
"""

import math
from typing import Tuple

from fxseg_ros.data.synth.canvas import Rand
import numpy as np


class Lighting:
    """Per-scene lighting: a colour transform applied to the albedo image plus light sources."""

    def __init__(self, rng: Rand, condition: str):
        self.condition = condition
        if condition == 'day':
            gain = rng.uniform(0.88, 1.12)
            tint = 1.0 + rng.normal(0.0, 0.03, 3)
            desat, offset = 0.0, 0.0
            self.sky_top = np.array([205, 145, 85]) * rng.uniform(0.85, 1.1)
            self.sky_horizon = np.array([235, 210, 180]) * rng.uniform(0.9, 1.05)
            self.haze_m = rng.uniform(280.0, 600.0)
            self.lamps, self.car_lights, self.window_lit = 0.0, 0.0, 0.0
            self.noise_sigma = rng.uniform(1.5, 3.5)
            self.blur_sigma = rng.uniform(0.5, 0.9)
            self.clouds = rng.uniform(0.0, 1.0)
        elif condition == 'dusk':
            gain = rng.uniform(0.5, 0.7)
            tint = np.array([0.78, 0.92, 1.1]) * (1.0 + rng.normal(0.0, 0.03, 3))
            desat, offset = rng.uniform(0.0, 0.15), 0.0
            self.sky_top = np.array([120, 80, 75]) * rng.uniform(0.8, 1.1)
            self.sky_horizon = np.array([95, 160, 240]) * rng.uniform(0.85, 1.0)
            self.haze_m = rng.uniform(200.0, 400.0)
            self.lamps = rng.uniform(0.3, 0.7) if rng.random() < 0.6 else 0.0
            self.car_lights = rng.uniform(0.3, 0.7)
            self.window_lit = rng.uniform(0.05, 0.2)
            self.noise_sigma = rng.uniform(2.5, 5.0)
            self.blur_sigma = rng.uniform(0.6, 1.0)
            self.clouds = rng.uniform(0.0, 0.8)
        else:
            gain = rng.uniform(0.13, 0.24)
            if rng.random() < 0.5:   # sodium street lighting
                tint = np.array([0.7, 0.95, 1.25])
            else:                    # moonlight / LED
                tint = np.array([1.15, 1.0, 0.85])
            tint = tint * (1.0 + rng.normal(0.0, 0.04, 3))
            desat, offset = rng.uniform(0.3, 0.55), rng.uniform(3.0, 9.0)
            self.sky_top = np.array([22, 12, 8]) * rng.uniform(0.7, 1.3)
            self.sky_horizon = np.array([45, 42, 48]) * rng.uniform(0.7, 1.3)
            self.haze_m = rng.uniform(120.0, 250.0)
            self.lamps = rng.uniform(0.7, 1.0)
            self.car_lights = 1.0
            self.window_lit = rng.uniform(0.15, 0.4)
            self.noise_sigma = rng.uniform(5.0, 9.0)
            self.blur_sigma = rng.uniform(0.8, 1.4)
            self.clouds = 0.0
        gray = np.array([0.114, 0.587, 0.299])
        matrix = (1.0 - desat) * np.diag(gain * tint) + desat * np.outer(gain * tint, gray)
        self.matrix = np.hstack([matrix, np.full((3, 1), offset)]).astype(np.float32)
        self._inverse = np.linalg.inv(matrix)
        self._offset = offset
        self.sky_top_albedo = self.albedo_of(self.sky_top)
        self.sky_horizon_albedo = self.albedo_of(self.sky_horizon)
        self.haze_albedo = self.sky_horizon_albedo
        self._haze_tuple = tuple(float(c) for c in self.haze_albedo)

    def albedo_of(self, final_bgr) -> np.ndarray:
        """Return the albedo that the lighting maps to the given final colour (clipped)."""
        return np.clip(self._inverse @ (np.asarray(final_bgr, float) - self._offset), 0, 255)

    def haze(self, bgr, distance: float) -> Tuple[int, int, int]:
        """Blend an albedo colour towards the haze colour by distance (aerial perspective)."""
        a = 1.0 - math.exp(-max(distance, 0.0) / self.haze_m)
        b = 1.0 - a
        h = self._haze_tuple
        return (int(min(255.0, bgr[0] * b + h[0] * a)), int(min(255.0, bgr[1] * b + h[1] * a)),
                int(min(255.0, bgr[2] * b + h[2] * a)))
