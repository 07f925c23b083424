# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Drawing a laid-out scene from one ego position.

The camera pose, the canvas, and the box / quad / ground-strip helpers every object renderer
uses.
"""

import math
from typing import Optional

import cv2
from fxseg_ros.data.synth.canvas import (Camera, Canvas, fixed_point, LEFT_FACE, LINE, RIGHT_FACE,
                                         scaled_color, SHIFT, TOP_FACE, Z_NEAR)
from fxseg_ros.data.synth.layout import Scene
import numpy as np


class Drawing:
    """A scene seen from one ego position: its camera, canvas and the shape helpers."""

    def __init__(self, scene: Scene, width: int, height: int, s_cam: float, t: float):
        self.scene = scene
        self.width, self.height = width, height
        self.s_cam = s_cam
        self.t = t
        pitch = 0.004 * height * math.sin(2.2 * t + scene.pitch_phase) if t else 0.0
        self.cam = Camera(width, height, scene.focal_rel * width, scene.cx_rel * width,
                          scene.horizon_rel * height + pitch, scene.cam_height,
                          scene.curvature)
        light = scene.light
        self.canvas = Canvas(width, height,
                             track_ids=light.lamps > 0 or light.car_lights > 0
                             or light.window_lit > 0)
        self.light = scene.light

    # ---------------------------------------------------------------- helpers
    def rel(self, s: float) -> float:
        return s - self.s_cam

    def _box(self, s0, s1, l0, l1, y0, y1, label, color, shade=(1.0, 0.78, 0.9, 1.12),
             faces=False):
        """
        Draw an axis-aligned box (road frame); with `faces`, return its visible faces.

        The label is the convex hull of the projected corners; the image gets the hull in the
        near-face colour and then each visible side / top face shaded. Returns None when the box
        is out of view, else a dict of visible faces (pixel polygons, float (4, 2)) and 'color'.
        """
        if s1 <= Z_NEAR:
            return None
        cam = self.cam
        s0 = max(s0, Z_NEAR)
        uv = cam.project(np.array((s0, s0, s0, s0, s1, s1, s1, s1)),
                         np.array((l0, l1, l1, l0, l0, l1, l1, l0)),
                         np.array((y0, y0, y1, y1, y0, y0, y1, y1)))
        if not cam.visible(uv):
            return None
        col = self.light.haze(color, s0)
        p = fixed_point(uv)
        hull = cv2.convexHull(p)
        img, labels = self.canvas.img, self.canvas.labels
        cv2.fillConvexPoly(labels, hull, label, LINE, SHIFT)
        if self.canvas.ids is not None:
            cv2.fillConvexPoly(self.canvas.ids, hull, self.canvas.current_id, LINE, SHIFT)
        cv2.fillConvexPoly(img, hull, col, LINE, SHIFT)
        # A side face is seen when the camera is on its outer side: with the road bending by
        # x = k s^2, the face normal is (-1, 2ks) (left face), so the test is lat - k s^2 vs 0.
        sm = 0.5 * (s0 + s1)
        bend = cam.curvature * sm * sm
        out = {'near': uv[:4], 'color': col} if faces else {}
        if l0 - bend > 0.0:
            cv2.fillConvexPoly(img, p[LEFT_FACE], scaled_color(col, shade[1]), LINE, SHIFT)
            if faces:
                out['left'] = uv[LEFT_FACE]
        if l1 - bend < 0.0:
            cv2.fillConvexPoly(img, p[RIGHT_FACE], scaled_color(col, shade[2]), LINE, SHIFT)
            if faces:
                out['right'] = uv[RIGHT_FACE]
        if y1 < cam.height_m:
            cv2.fillConvexPoly(img, p[TOP_FACE], scaled_color(col, shade[3]), LINE, SHIFT)
        return out

    def _quad(self, s, l0, l1, y0, y1, label, color) -> Optional[np.ndarray]:
        """Draw a rectangle facing the camera at distance s; returns its pixel corners."""
        if s <= Z_NEAR:
            return None
        uv = self.cam.project(s, np.array((l0, l1, l1, l0)), np.array((y0, y0, y1, y1)))
        if not self.cam.visible(uv):
            return None
        self.canvas.fill(uv, label, None if color is None else self.light.haze(color, s))
        return uv

    def _ground_strip(self, lat_a, lat_b, s_from, s_to, n=24) -> Optional[np.ndarray]:
        s_from = max(s_from, Z_NEAR + 0.5)
        if s_to <= s_from:
            return None
        s = np.geomspace(s_from, s_to, n)
        left = self.cam.project(s, np.full(n, lat_a), 0.0)
        right = self.cam.project(s[::-1], np.full(n, lat_b), 0.0)
        return np.concatenate([left, right])
