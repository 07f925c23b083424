# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The renderer: ground, sky and skyline, then every object far to near (painter's order)."""

import math
from typing import Tuple

import cv2
from fxseg_ros.data.synth.canvas import Camera, Canvas, S_FAR, scaled_color, Z_NEAR
from fxseg_ros.data.synth.furniture import StreetFurniture
from fxseg_ros.data.synth.road_users import RoadUsers
from fxseg_ros.data.synth.shapes import BUILDING, VEGETATION
import numpy as np


class Renderer(StreetFurniture, RoadUsers):
    """Draws a scene at one ego position into a canvas."""

    def render(self) -> Tuple[Canvas, Camera]:
        self._sky_and_ground()
        self._ground_marks()
        self._background()
        objs = []
        for obj in self.scene.objects:
            near, far = self._extent(obj)
            if far <= Z_NEAR or near > S_FAR:
                continue
            objs.append((obj['layer'], -near, len(objs), obj))
        objs.sort(key=lambda item: (item[0], item[1], item[2]))
        for number, (_, _, _, obj) in enumerate(objs):
            self.canvas.current_id = number + 1
            getattr(self, '_draw_' + obj['kind'])(obj)
        return self.canvas, self.cam

    def _extent(self, obj) -> Tuple[float, float]:
        kind = obj['kind']
        if kind in ('building', 'fence', 'hedge'):
            return self.rel(obj['s0']), self.rel(obj['s1'])
        s = self.rel(obj['s'] + obj.get('speed', 0.0) * self.t
                     + (obj['vel'][0] * self.t if kind == 'person' else 0.0))
        if kind in ('car', 'truck'):
            return s, s + obj['length']
        return s, s + 0.5

    def _sky_and_ground(self) -> None:
        """Sky gradient above the horizon; ground bands (road, sidewalks, terrain) below it."""
        cam, canvas, light = self.cam, self.canvas, self.light
        h, w = self.height, self.width
        v0 = int(min(h, max(0, math.floor(cam.horizon) + 1)))
        if v0 > 0:
            t = (np.arange(v0, dtype=np.float64) / max(cam.horizon, 1.0)) ** 1.6
            column = (light.sky_top_albedo[None, :] * (1.0 - t[:, None])
                      + light.sky_horizon_albedo[None, :] * t[:, None])
            column = np.clip(column, 0, 255).astype(np.uint8)[:, None, :]
            canvas.img[:v0] = cv2.resize(column, (w, v0), interpolation=cv2.INTER_NEAREST)
            self._clouds(v0)
        if v0 >= h:
            return
        bounds, band_labels, band_colors = self.scene.ground_bands()
        canvas.labels[v0:] = band_labels[0]
        cv2.rectangle(canvas.img, (0, v0), (w, h), band_colors[0], -1)
        # Ground bands as polygons between lateral boundaries, from just below the frame's
        # bottom edge to (nearly) the horizon; the road's curve is sampled along s.
        s_bottom = cam.focal * cam.height_m / max(h - cam.horizon, 1.0)
        n = 40 if cam.curvature else 2
        s = np.geomspace(max(Z_NEAR, 0.8 * s_bottom), 5000.0, n)
        edges = list(bounds) + [1.0e4]
        for k in range(1, len(band_labels)):
            lo, hi = edges[k - 1], edges[k]
            poly = np.concatenate([cam.project(s, lo, 0.0), cam.project(s[::-1], hi, 0.0)])
            canvas.fill_many([poly], int(band_labels[k]), band_colors[k])
        # Aerial perspective on the far ground, row by row.
        rows = np.arange(v0, h, dtype=np.float64) + 0.5
        z = cam.focal * cam.height_m / (rows - cam.horizon)
        far = np.nonzero(z > 25.0)[0]
        if len(far):
            a = (1.0 - np.exp(-z[far] / light.haze_m)).astype(np.float32)[:, None, None]
            block = canvas.img[v0 + far[0]: v0 + far[-1] + 1]
            mixed = block * (1.0 - a) + light.haze_albedo.astype(np.float32) * a
            block[...] = mixed.astype(np.uint8)

    def _clouds(self, v0: int) -> None:
        light = self.light
        if light.clouds < 0.3:
            return
        rng = np.random.default_rng(self.scene.texture_offset[0])
        white = light.albedo_of(light.sky_horizon * 0.3 + np.array([250, 250, 250]) * 0.7)
        for _ in range(int(light.clouds * 10)):
            cx = rng.uniform(0, self.width)
            cy = rng.uniform(0, max(1.0, v0 - 20))
            ax = rng.uniform(0.05, 0.2) * self.width
            ay = ax * rng.uniform(0.15, 0.35)
            mix = rng.uniform(0.25, 0.7)
            t = cy / max(v0, 1)
            sky = light.sky_top_albedo * (1 - t) + light.sky_horizon_albedo * t
            self.canvas.disc(np.array([cx, cy]), 0, None,
                             scaled_color(sky * (1 - mix) + white * mix), axes=(ax, ay))

    def _ground_marks(self) -> None:
        """Lane markings, tyre tracks, patches, crosswalks: image only (labels stay road)."""
        scene, canvas = self.scene, self.canvas
        road = np.asarray(scene.road_color, float)
        s_near = Z_NEAR + 0.5
        polys = []
        for lat in scene.lane_lat:
            for off in (-0.8, 0.8):
                strip = self._ground_strip(lat + off - 0.35, lat + off + 0.35, s_near, 120.0)
                if strip is not None:
                    polys.append(strip)
        canvas.fill_many(polys, None, scaled_color(road, scene.lane_tracks))
        for s, lat, ls, ll, dark in scene.patches:
            s = self.rel(s)
            if s > s_near:
                quad = self.cam.project([s, s, s + ls, s + ls], [lat, lat + ll, lat + ll, lat],
                                        0.0)
                canvas.fill(quad, None, scaled_color(road, dark))
        for side in (-1, 1):   # curb stones
            curb = scene.edge[side]
            strip = self._ground_strip(curb, curb + side * 0.25, s_near, 150.0)
            if strip is not None:
                canvas.fill_many([strip], None,
                                 scaled_color(scene.sidewalk_color[side], 1.12))
        for lat, kind, width, color in scene.markings:
            if kind == 'solid':
                strip = self._ground_strip(lat - width / 2, lat + width / 2, s_near, 160.0, n=32)
                if strip is not None:
                    canvas.fill_many([strip], None, color)
            else:
                _, dash, gap, phase = kind
                period = dash + gap
                first = math.floor((self.s_cam + s_near - phase) / period)
                starts = phase + period * np.arange(first, first + int(160 / period) + 2)
                starts = starts - self.s_cam
                ends = starts + dash
                keep = ends > s_near
                starts, ends = np.maximum(starts[keep], s_near), ends[keep]
                n = len(starts)
                quads = self.cam.project(
                    np.stack([starts, starts, ends, ends], 1),
                    np.stack([np.full(n, lat - width / 2), np.full(n, lat + width / 2),
                              np.full(n, lat + width / 2), np.full(n, lat - width / 2)], 1), 0.0)
                canvas.fill_many(list(quads), None, color)
        for s in scene.crosswalks:
            s = self.rel(s)
            if s < s_near:
                continue
            lats = np.arange(scene.edge[-1] + 0.3, scene.edge[1] - 0.5, 1.0)
            n = len(lats)
            quads = self.cam.project(
                np.stack([np.full(n, s), np.full(n, s), np.full(n, s + 3.5),
                          np.full(n, s + 3.5)], 1),
                np.stack([lats, lats + 0.5, lats + 0.5, lats], 1), 0.0)
            canvas.fill_many(list(quads), None, scene.marking_color)

    def _background(self) -> None:
        cam, canvas = self.cam, self.canvas
        for kind, lat, width, h, dist, color in self.scene.background:
            uv = cam.project([dist, dist, dist, dist], [lat, lat + width, lat + width, lat],
                             [0, 0, h, h])
            if not cam.visible(uv):
                continue
            col = self.light.haze(color, dist)
            if kind == 'building':
                canvas.fill(uv, BUILDING, col)
            else:
                top = uv[2, 1]
                base = uv[0, 1]
                radius = max(1.0, (base - top) * 0.6)
                x = uv[0, 0]
                while x < uv[1, 0]:
                    canvas.disc(np.array([x, top + radius * 0.8]), radius, VEGETATION, col)
                    x += radius
                canvas.fill(np.array([[uv[0, 0], base], [uv[1, 0], base],
                                      [uv[1, 0], top + radius * 0.8],
                                      [uv[0, 0], top + radius * 0.8]]), VEGETATION, col)
