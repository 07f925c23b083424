# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Seeded synthetic driving scenes with exact per-pixel labels in Cityscapes train IDs.

A scene is laid out in road coordinates (distance `s` along the road, lateral offset `lat`, height
`y`, metres) and rendered through a pinhole camera mounted on the ego vehicle. Image and labels
are drawn from the same projected geometry, far to near (painter's algorithm); labels are drawn
without antialiasing, so they are the geometric truth, while the image additionally gets
per-class texture, lighting (day / dusk / night), light glow, blur and sensor noise.

Everything random comes from a numpy Generator seeded with (seed, index, condition), and OpenCV
drawing is deterministic, so one seed always gives byte-identical frames. The frames stand in for
camera data on machines without a data set.
"""

import logging
import math
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from fxseg_ros.data.labels import TRAIN_ID

LOG = logging.getLogger(__name__)

#: Lighting conditions; for Cityscapes-layout output each one is a 'city' directory.
CONDITIONS = ('day', 'dusk', 'night')
_CONDITION_ID = {name: i for i, name in enumerate(CONDITIONS)}

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

_SHIFT = 4            # fractional bits of the fixed-point polygon coordinates given to OpenCV
_ONE = 1 << _SHIFT
_Z_NEAR = 0.5         # metres; geometry closer than this is cut off
_S_FAR = 170.0        # metres; scene content is laid out up to this distance ahead
_LINE = cv2.LINE_8    # labels and image use the same rasterisation: no antialiasing
_LEFT = np.array((0, 3, 7, 4))    # box corner indices of its faces
_RIGHT = np.array((1, 2, 6, 5))
_TOP = np.array((3, 2, 6, 7))

# Per-class texture amplitude (fine grain, coarse blotches), multiplicative, in 1/64 units.
_TEXTURE_FINE = np.zeros(256, np.uint8)
_TEXTURE_COARSE = np.zeros(256, np.uint8)
for _cls, _fine, _coarse in ((ROAD, 6, 5), (SIDEWALK, 7, 6), (BUILDING, 5, 9), (FENCE, 6, 4),
                             (POLE, 3, 3), (TRAFFIC_LIGHT, 2, 2), (TRAFFIC_SIGN, 2, 2),
                             (VEGETATION, 20, 12), (TERRAIN, 11, 9), (SKY, 0, 3), (PERSON, 4, 3),
                             (CAR, 2, 3), (TRUCK, 3, 5)):
    _TEXTURE_FINE[_cls] = _fine
    _TEXTURE_COARSE[_cls] = _coarse

# Albedo palettes, BGR.
_CAR_COLORS = ((225, 225, 228), (182, 182, 178), (32, 32, 34), (72, 72, 76), (40, 38, 165),
               (140, 70, 30), (95, 45, 20), (60, 92, 45), (150, 180, 200), (40, 185, 220),
               (120, 120, 125), (25, 60, 120))
_TRUCK_COLORS = ((230, 230, 230), (200, 200, 205), (150, 90, 40), (40, 40, 170), (40, 120, 60),
                 (40, 170, 215), (90, 90, 95), (180, 150, 110))
_SKIN = ((140, 170, 220), (110, 145, 200), (80, 110, 160), (55, 75, 115))
_CLOTHES = ((40, 40, 40), (150, 60, 20), (40, 40, 160), (200, 200, 200), (60, 110, 50),
            (30, 140, 200), (120, 80, 120), (90, 90, 90), (20, 20, 90), (170, 120, 60))
_PANTS = ((50, 35, 25), (25, 25, 25), (90, 90, 90), (110, 140, 160), (80, 50, 30))
_BUILDING_COLORS = ((150, 160, 175), (120, 130, 150), (95, 110, 140), (160, 165, 165),
                    (80, 90, 120), (180, 190, 200), (110, 115, 120), (70, 80, 110),
                    (140, 150, 190), (125, 125, 110))


def _seed_sequence(seed: int, index: int, condition: str, stream: int = 0,
                   frame: int = 0) -> np.random.Generator:
    """
    The Generator for one (seed, index, condition) and one use of it.

    stream 0: a single frame; 1: the layout of a sequence; 2: frame `frame` of a sequence.
    """
    cond = _CONDITION_ID[condition]
    entropy = [int(seed) & 0xFFFFFFFF, int(index) & 0xFFFFFFFF, cond, stream, int(frame),
               0x5EED]
    return np.random.default_rng(np.random.SeedSequence(entropy))


class _Rand:
    """
    Scalar random draws for scene layout, served from blocks drawn by a numpy Generator.

    Layout needs thousands of single numbers; one Generator call per number costs more than
    rendering. Drawing blocks keeps the stream a pure function of the Generator's seed.
    """

    _BLOCK = 2048

    def __init__(self, rng: np.random.Generator):
        self._rng = rng
        self._uniform: List[float] = []
        self._normal: List[float] = []

    def random(self) -> float:
        if not self._uniform:
            self._uniform = self._rng.random(self._BLOCK).tolist()
        return self._uniform.pop()

    def uniform(self, lo: float = 0.0, hi: float = 1.0, size: Optional[int] = None):
        if size is not None:
            return np.array([self.uniform(lo, hi) for _ in range(size)])
        return lo + (hi - lo) * self.random()

    def normal(self, mean: float = 0.0, sigma: float = 1.0, size: Optional[int] = None):
        if size is not None:
            return np.array([self.normal(mean, sigma) for _ in range(size)])
        if not self._normal:
            self._normal = self._rng.standard_normal(self._BLOCK).tolist()
        return mean + sigma * self._normal.pop()

    def integers(self, lo: int, hi: Optional[int] = None) -> int:
        if hi is None:
            lo, hi = 0, lo
        return lo + min(int(self.random() * (hi - lo)), hi - lo - 1)

    def choice(self, options: Sequence):
        return options[self.integers(len(options))]


def _fx(uv: np.ndarray) -> np.ndarray:
    """Pixel coordinates, float (..., 2), to OpenCV's fixed point with _SHIFT fractional bits."""
    return np.rint(uv * _ONE).astype(np.int32)


def _color(bgr, scale: float = 1.0) -> Tuple[int, int, int]:
    return (int(min(255, max(0, bgr[0] * scale))), int(min(255, max(0, bgr[1] * scale))),
            int(min(255, max(0, bgr[2] * scale))))


def _jitter(rng: _Rand, bgr, amount: float = 0.12) -> Tuple[int, int, int]:
    gain = 1.0 + rng.uniform(-amount, amount)
    return _color([c * gain * (1.0 + rng.uniform(-amount / 3, amount / 3)) for c in bgr])


class _Camera:
    """Pinhole camera at lateral 0, height `height_m`, looking along the road; road may curve."""

    def __init__(self, width: int, height: int, focal: float, cx: float, horizon: float,
                 height_m: float, curvature: float):
        self.width = width
        self.height = height
        self.focal = focal
        self.cx = cx
        self.horizon = horizon
        self.height_m = height_m
        self.curvature = curvature

    def project(self, s, lat, y) -> np.ndarray:
        """Road coordinates (s > 0 ahead, lat right, y up; metres) to pixels; shape (..., 2)."""
        s = np.asarray(s, dtype=np.float64)
        inv = self.focal / s
        u = (lat + self.curvature * s * s) * inv + self.cx
        v = (self.height_m - np.asarray(y, dtype=np.float64)) * inv + self.horizon
        if u.shape != v.shape:
            u, v = np.broadcast_arrays(u, v)
        out = np.empty(u.shape + (2,))
        out[..., 0] = u
        out[..., 1] = v
        return out

    def visible(self, uv: np.ndarray) -> bool:
        """Whether the bounding box of pixel points (N, 2) overlaps the frame."""
        lo = uv.min(axis=0)
        hi = uv.max(axis=0)
        return bool(hi[0] >= 0 and lo[0] < self.width and hi[1] >= 0 and lo[1] < self.height)


class _Canvas:
    """
    The frame being drawn: albedo image, labels, and the light sources found on the way.

    With `track_ids`, an object-id buffer records which object owns each pixel, so light
    sources drawn after lighting (lit windows, lamps, car lights) stay hidden where a nearer
    object covers them.
    """

    def __init__(self, width: int, height: int, track_ids: bool = False):
        self.img = np.empty((height, width, 3), np.uint8)
        self.labels = np.full((height, width), SKY, np.uint8)
        self.ids = np.zeros((height, width), np.uint16) if track_ids else None
        self.current_id = 0
        self.emissive: List[Tuple[object, Tuple[int, int, int], int]] = []
        self.glows: List[Tuple[float, float, float, Tuple[float, float, float]]] = []
        self.pools: List[Tuple[float, float, float, float, Tuple[float, float, float]]] = []

    def add_emissive(self, shapes, color) -> None:
        """Remember a light source (fixed-point polygons, or ('disc', centre, radius))."""
        if self.ids is not None:
            self.emissive.append((shapes, color, self.current_id))

    def fill(self, pts: np.ndarray, label: Optional[int], color) -> None:
        """Fill one convex polygon (pixels, float (N, 2)) into labels (if label) and image."""
        p = _fx(pts)
        if label is not None:
            cv2.fillConvexPoly(self.labels, p, label, _LINE, _SHIFT)
            if self.ids is not None:
                cv2.fillConvexPoly(self.ids, p, self.current_id, _LINE, _SHIFT)
        if color is not None:
            cv2.fillConvexPoly(self.img, p, color, _LINE, _SHIFT)

    def fill_many(self, polys: Sequence[np.ndarray], label: Optional[int], color) -> None:
        """Fill non-overlapping polygons in one call."""
        if not len(polys):
            return
        p = list(_fx(np.asarray(polys))) if isinstance(polys, np.ndarray) else \
            [_fx(poly) for poly in polys]
        if label is not None:
            cv2.fillPoly(self.labels, p, label, _LINE, _SHIFT)
            if self.ids is not None:
                cv2.fillPoly(self.ids, p, self.current_id, _LINE, _SHIFT)
        if color is not None:
            cv2.fillPoly(self.img, p, color, _LINE, _SHIFT)

    def disc(self, center: np.ndarray, radius: float, label: Optional[int], color,
             axes: Optional[Tuple[float, float]] = None) -> None:
        """Fill a circle (radius) or an axis-aligned ellipse (axes), pixels."""
        c = (int(round(center[0] * _ONE)), int(round(center[1] * _ONE)))
        targets = []
        if label is not None:
            targets.append((self.labels, label))
            if self.ids is not None:
                targets.append((self.ids, self.current_id))
        if color is not None:
            targets.append((self.img, color))
        if axes is None:
            r = max(1, int(round(radius * _ONE)))
            for target, value in targets:
                cv2.circle(target, c, r, value, -1, _LINE, _SHIFT)
        else:
            ax = (max(1, int(round(axes[0] * _ONE))), max(1, int(round(axes[1] * _ONE))))
            for target, value in targets:
                cv2.ellipse(target, c, ax, 0, 0, 360, value, -1, _LINE, _SHIFT)


class _Lighting:
    """Per-scene lighting: a colour transform applied to the albedo image plus light sources."""

    def __init__(self, rng: _Rand, condition: str):
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
        """The albedo that the lighting transform maps to the given final colour (clipped)."""
        return np.clip(self._inverse @ (np.asarray(final_bgr, float) - self._offset), 0, 255)

    def haze(self, bgr, distance: float) -> Tuple[int, int, int]:
        """Blend an albedo colour towards the haze colour by distance (aerial perspective)."""
        a = 1.0 - math.exp(-max(distance, 0.0) / self.haze_m)
        b = 1.0 - a
        h = self._haze_tuple
        return (int(min(255.0, bgr[0] * b + h[0] * a)), int(min(255.0, bgr[1] * b + h[1] * a)),
                int(min(255.0, bgr[2] * b + h[2] * a)))


class _Scene:
    """A road scene in road coordinates; rendered at any ego position along the road."""

    def __init__(self, rng: _Rand, condition: str, s_hi: float, ego_speed: float,
                 signals: bool = False):
        self.condition = condition
        self.signals = signals
        self.light = _Lighting(rng, condition)
        self.focal_rel = rng.uniform(1.0, 1.25)
        self.cx_rel = 0.5 + rng.normal(0.0, 0.015)
        self.horizon_rel = rng.uniform(0.40, 0.48)
        self.cam_height = rng.uniform(1.25, 1.6)
        self.curvature = rng.uniform(-0.0012, 0.0012) if rng.random() < 0.45 else 0.0
        self.ego_speed = ego_speed
        self.pitch_phase = rng.uniform(0, 2 * math.pi)
        self.texture_offset = (int(rng.integers(0, 1 << 30)), int(rng.integers(0, 1 << 30)))
        self._layout_road(rng)
        self.objects: List[dict] = []
        self._layout_background(rng)
        for side in (-1, 1):
            self._layout_side(rng, side, s_hi)
        self._layout_traffic(rng, s_hi)
        self._layout_people(rng, s_hi)

    # ---------------------------------------------------------------- layout
    def _layout_road(self, rng: _Rand) -> None:
        lane_w = rng.uniform(3.0, 3.7)
        n_lanes = int(rng.choice((2, 2, 3, 4)))
        n_opp = 0 if rng.random() < 0.2 else n_lanes // 2
        ego_lane = int(rng.integers(n_opp, n_lanes))
        offset = rng.normal(0.0, 0.25)
        self.lane_w = lane_w
        self.n_lanes = n_lanes
        self.n_opp = n_opp
        self.lane_lat = [(i - ego_lane) * lane_w - offset for i in range(n_lanes)]
        left = self.lane_lat[0] - lane_w / 2
        right = self.lane_lat[-1] + lane_w / 2
        self.parking = {-1: rng.random() < 0.35, 1: rng.random() < 0.45}
        self.lanes_edge = {-1: left, 1: right}
        self.edge = {-1: left - (2.2 if self.parking[-1] else 0.0),
                     1: right + (2.2 if self.parking[1] else 0.0)}
        self.urban = {s: rng.random() < 0.8 for (s) in (-1, 1)}
        self.sidewalk_w = {s: rng.uniform(2.0, 4.5) for s in (-1, 1)}
        self.verge_w = {s: (rng.uniform(2.5, 8.0) if (not self.urban[s] or rng.random() < 0.3)
                            else 0.0) for s in (-1, 1)}
        self.setback = {s: rng.uniform(0.0, 4.0) for s in (-1, 1)}
        road = rng.uniform(80, 112)
        self.road_color = _color((road, road, road * rng.uniform(0.98, 1.06)))
        self.sidewalk_color = {}
        for side in (-1, 1):
            if rng.random() < 0.6:
                g = rng.uniform(140, 185)
                self.sidewalk_color[side] = _color((g * 0.97, g, g * 1.02))
            else:   # brick / red paving
                self.sidewalk_color[side] = _jitter(rng, (110, 125, 170), 0.08)
        self.terrain_color = _jitter(rng, (60, 150, 130), 0.1)
        self.marking_color = _color((225, 228, 230), rng.uniform(0.8, 1.0))
        centre_yellow = rng.random() < 0.3
        self.markings = []
        dash_len, dash_gap = rng.uniform(2.5, 4.0), rng.uniform(5.0, 9.0)
        phase = rng.uniform(0, 12)
        for i in range(1, n_lanes):
            lat = self.lane_lat[i] - lane_w / 2
            if i == n_opp:
                color = (40, 190, 225) if centre_yellow else self.marking_color
                self.markings.append((lat, 'solid', 0.15, color))
            else:
                self.markings.append((lat, ('dashed', dash_len, dash_gap, phase), 0.14,
                                      self.marking_color))
        for side in (-1, 1):
            self.markings.append((self.lanes_edge[side] - side * 0.3, 'solid', 0.14,
                                  self.marking_color))
        self.crosswalks = []
        if rng.random() < 0.3:
            self.crosswalks.append(rng.uniform(10.0, 45.0))
        self.patches = [(rng.uniform(5, 80), rng.uniform(left, right), rng.uniform(1, 4),
                         rng.uniform(1, 3), rng.uniform(0.75, 0.92))
                        for _ in range(int(rng.integers(0, 4)))]
        self.lane_tracks = rng.uniform(0.88, 0.96)

    def lateral(self, side: int, zone: str) -> float:
        """Lateral position of a zone boundary on one side of the road."""
        lat = self.edge[side]
        if zone == 'curb':
            return lat
        lat += side * self.sidewalk_w[side]
        if zone == 'sidewalk':
            return lat
        lat += side * self.verge_w[side]
        if zone == 'verge':
            return lat
        return lat + side * self.setback[side]

    def ground_bands(self) -> Tuple[np.ndarray, np.ndarray, list]:
        """Lateral boundaries (ascending) and the label / colour of each band between them."""
        def outside(side):
            if self.verge_w[side] > 0 or not self.urban[side]:
                return TERRAIN, self.terrain_color
            return SIDEWALK, self.sidewalk_color[side]

        left_beyond, right_beyond = outside(-1), outside(1)
        bounds, bands = [], []
        if left_beyond[0] == TERRAIN:
            bands.append(left_beyond)
            bounds.append(self.lateral(-1, 'sidewalk'))
        bands.append((SIDEWALK, self.sidewalk_color[-1]))
        bounds.append(self.edge[-1])
        bands.append((ROAD, self.road_color))
        bounds.append(self.edge[1])
        bands.append((SIDEWALK, self.sidewalk_color[1]))
        if right_beyond[0] == TERRAIN:
            bounds.append(self.lateral(1, 'sidewalk'))
            bands.append(right_beyond)
        return (np.array(bounds, np.float32), np.array([b[0] for b in bands], np.uint8),
                [b[1] for b in bands])

    def _layout_background(self, rng: _Rand) -> None:
        """Distant skyline / tree line closing the view at the horizon."""
        self.background = []
        dist = rng.uniform(180.0, 260.0)
        lat = -dist * 1.6
        urban = self.urban[-1] or self.urban[1]
        while lat < dist * 1.6:
            width = rng.uniform(8.0, 35.0)
            if urban and rng.random() < 0.7:
                h = rng.uniform(6.0, 45.0)
                self.background.append(('building', lat, width, h, dist + rng.uniform(0, 40),
                                        _jitter(rng, _BUILDING_COLORS[
                                            int(rng.integers(len(_BUILDING_COLORS)))])))
            else:
                h = rng.uniform(5.0, 16.0)
                self.background.append(('trees', lat, width, h, dist + rng.uniform(0, 40),
                                        _jitter(rng, (45, 95, 60), 0.15)))
            lat += width * rng.uniform(0.7, 1.0)

    def _layout_side(self, rng: _Rand, side: int, s_hi: float) -> None:
        objs = self.objects
        curb = self.lateral(side, 'curb')
        walk = self.lateral(side, 'sidewalk')
        line = self.lateral(side, 'building')
        # Buildings (urban) or woods (rural) beyond the building line.
        s = rng.uniform(-30.0, 10.0)
        while s < s_hi:
            length = rng.uniform(10.0, 40.0)
            if self.urban[side] and rng.random() < 0.85:
                height = rng.uniform(7.0, 32.0) if rng.random() < 0.8 else rng.uniform(30, 55)
                depth = rng.uniform(10.0, 20.0)
                inner = line + side * rng.uniform(0.0, 1.5)
                color = _jitter(rng, _BUILDING_COLORS[int(rng.integers(len(_BUILDING_COLORS)))])
                window = (rng.uniform(2.5, 4.5), rng.uniform(3.0, 3.8), rng.uniform(0.35, 0.6),
                          rng.uniform(0.4, 0.65))
                glass = _jitter(rng, (120, 105, 90) if rng.random() < 0.6 else (70, 60, 55))
                objs.append(dict(kind='building', layer=1, s0=s, s1=s + length, inner=inner,
                                 outer=inner + side * depth, side=side, height=height,
                                 color=color, window=window, glass=glass,
                                 shop=rng.random() < 0.5, lit_seed=int(rng.integers(1 << 30))))
            else:
                for _ in range(int(length / rng.uniform(4.0, 8.0)) + 1):
                    self._add_tree(rng, s + rng.uniform(0, length),
                                   line + side * rng.uniform(0.5, 6.0), layer=1)
            s += length + (rng.uniform(2.0, 15.0) if rng.random() < 0.35 else 0.0)
        # Trees on the verge, fences and hedges on the outer sidewalk edge.
        if self.verge_w[side] > 0:
            s = rng.uniform(-10, 10)
            while s < s_hi:
                s += rng.uniform(8.0, 25.0)
                if rng.random() < 0.7:
                    depth = self.verge_w[side] * rng.uniform(0.3, 0.7)
                    self._add_tree(rng, s, walk + side * depth, layer=2)
        s = rng.uniform(-20, 30)
        while s < s_hi:
            length = rng.uniform(10.0, 50.0)
            r = rng.random()
            if r < 0.22:
                objs.append(dict(kind='fence', layer=3, s0=s, s1=s + length,
                                 lat=walk - side * 0.1, side=side, height=rng.uniform(1.0, 2.0),
                                 color=_jitter(rng, (110, 115, 110) if rng.random() < 0.6
                                               else (70, 100, 130), 0.15),
                                 post=rng.uniform(1.8, 3.0)))
            elif r < 0.36:
                objs.append(dict(kind='hedge', layer=3, s0=s, s1=s + length,
                                 lat=walk - side * 0.1, side=side, height=rng.uniform(0.8, 1.6),
                                 width=rng.uniform(0.6, 1.2), color=_jitter(rng, (40, 95, 45))))
            s += length + rng.uniform(5.0, 40.0)
        # Street lamps along the curb.
        if rng.random() < 0.85:
            s = rng.uniform(-10.0, 15.0)
            spacing = rng.uniform(22.0, 40.0)
            height = rng.uniform(6.0, 9.0)
            color = _jitter(rng, (95, 100, 100) if rng.random() < 0.6 else (60, 80, 60), 0.2)
            width = rng.uniform(0.5, 0.7)
            while s < s_hi:
                objs.append(dict(kind='lamp', layer=4, s=s, lat=curb + side * 0.6, side=side,
                                 height=height, width=width, arm=rng.uniform(1.2, 2.8),
                                 color=color))
                s += spacing
        # Street trees on the sidewalk.
        if rng.random() < 0.4:
            s = rng.uniform(0.0, 20.0)
            while s < s_hi:
                self._add_tree(rng, s, curb + side * rng.uniform(0.8, 1.2), layer=4, street=True)
                s += rng.uniform(10.0, 20.0)
        # Traffic signs.
        for _ in range(int(rng.integers(1, 4))):
            self._add_sign(rng, rng.uniform(6.0, 50.0), curb + side * rng.uniform(0.5, 1.0), side)
        # Traffic lights at an intersection-like spot.
        if self.signals and rng.random() < 0.35:
            s = rng.uniform(12.0, 60.0)
            objs.append(dict(kind='signal', layer=4, s=s, lat=curb + side * 0.7, side=side,
                             height=rng.uniform(2.6, 3.6), state=int(rng.integers(3)),
                             over=rng.random() < 0.5, arm=rng.uniform(3.0, 6.0),
                             color=_jitter(rng, (40, 40, 40), 0.3),
                             plate=rng.random() < 0.5))
        # Parked cars.
        if self.parking[side]:
            s = rng.uniform(-5.0, 10.0)
            while s < s_hi:
                if rng.random() < 0.75:
                    self._add_vehicle(rng, s, self.edge[side] - side * 1.15,
                                      direction=1 if rng.random() < 0.8 else -1, speed=0.0,
                                      truck=rng.random() < 0.05)
                s += rng.uniform(5.5, 9.0)

    def _add_tree(self, rng, s, lat, layer, street=False) -> None:
        radius = rng.uniform(1.4, 2.4) if street else rng.uniform(1.8, 3.5)
        trunk = rng.uniform(1.8, 3.0)
        blobs = [(rng.normal(0, radius * 0.45), rng.normal(0, radius * 0.4),
                  radius * rng.uniform(0.5, 0.85), rng.uniform(0.75, 1.2))
                 for _ in range(int(rng.integers(4, 7)))]
        self.objects.append(dict(kind='tree', layer=layer, s=s, lat=lat, trunk=trunk,
                                 radius=radius, blobs=blobs,
                                 color=_jitter(rng, (40, 105, 55) if rng.random() < 0.7
                                               else (35, 120, 95), 0.15),
                                 bark=_jitter(rng, (45, 60, 80), 0.2)))

    def _add_sign(self, rng, s, lat, side) -> None:
        shape = rng.choice(('circle', 'circle', 'triangle', 'rect', 'octagon', 'diamond'))
        self.objects.append(dict(kind='sign', layer=4, s=s, lat=lat, side=side, shape=shape,
                                 size=rng.uniform(1.2, 1.7), height=rng.uniform(2.0, 2.8),
                                 pole=rng.uniform(0.3, 0.45), style=int(rng.integers(3)),
                                 second=rng.random() < 0.25))

    def _add_vehicle(self, rng, s, lat, direction, speed, truck) -> None:
        if truck:
            w, length = rng.uniform(2.35, 2.55), rng.uniform(6.5, 10.0)
            obj = dict(kind='truck', width=w, length=length, height=rng.uniform(3.0, 3.9),
                       color=_jitter(rng, _TRUCK_COLORS[int(rng.integers(len(_TRUCK_COLORS)))]),
                       cab=_jitter(rng, _TRUCK_COLORS[int(rng.integers(len(_TRUCK_COLORS)))]))
        else:
            w, length = rng.uniform(1.7, 1.95), rng.uniform(3.9, 4.9)
            tall = rng.random() < 0.25
            obj = dict(kind='car', width=w, length=length,
                       body=rng.uniform(0.85, 1.0) + (0.15 if tall else 0.0),
                       roof=rng.uniform(1.38, 1.52) + (0.25 if tall else 0.0),
                       cabin=(rng.uniform(0.18, 0.3), rng.uniform(0.68, 0.8)),
                       color=_jitter(rng, _CAR_COLORS[int(rng.integers(len(_CAR_COLORS)))], 0.08))
        obj.update(layer=4, s=s, lat=lat, direction=direction, speed=speed)
        self.objects.append(obj)

    def _layout_traffic(self, rng: _Rand, s_hi: float) -> None:
        for i, lat in enumerate(self.lane_lat):
            same = i >= self.n_opp
            ego_lane = abs(lat) < self.lane_w / 2
            s = rng.uniform(7.0, 25.0) if ego_lane else rng.uniform(-6.0, 20.0)
            while s < s_hi:
                if rng.random() < 0.8:
                    truck = rng.random() < 0.15
                    if same:
                        speed = self.ego_speed * rng.uniform(0.6, 1.1)
                    else:
                        speed = -rng.uniform(7.0, 14.0)
                    self._add_vehicle(rng, s, lat + rng.normal(0, 0.2), 1 if same else -1,
                                      speed, truck)
                s += rng.uniform(9.0, 40.0)

    def _layout_people(self, rng: _Rand, s_hi: float) -> None:
        n = int(rng.integers(3, 10))
        for _ in range(n):
            side = -1 if rng.random() < 0.5 else 1
            curb = self.lateral(side, 'curb')
            walk = self.lateral(side, 'sidewalk')
            r = rng.random()
            if r < 0.12:   # crossing the road
                s = self.crosswalks[0] + rng.uniform(0.5, 3.5) if self.crosswalks else \
                    rng.uniform(8.0, 35.0)
                lat = rng.uniform(self.edge[-1], self.edge[1])
                vel = (0.0, -side * rng.uniform(1.0, 1.6))
                view = 'side'
            else:
                s = rng.uniform(4.0, 25.0) if r < 0.8 else rng.uniform(25.0, min(100, s_hi))
                lat = rng.uniform(min(curb, walk), max(curb, walk))
                lat = float(np.clip(lat, min(curb, walk) + 0.4, max(curb, walk) - 0.4)) \
                    if abs(walk - curb) > 0.9 else 0.5 * (curb + walk)
                vel = (rng.choice((-1.0, 1.0)) * rng.uniform(0.0, 1.6), 0.0)
                view = 'front'
            group = int(rng.choice((1, 1, 2, 2, 3)))
            for g in range(group):
                self.objects.append(dict(
                    kind='person', layer=4, s=s + g * rng.uniform(-0.6, 0.6),
                    lat=lat + (g - 0.5 * (group - 1)) * rng.uniform(0.45, 0.7) * (
                        1 if view == 'front' else 0),
                    height=rng.uniform(1.55, 1.92), view=view, vel=vel,
                    phase=rng.uniform(0, 2 * math.pi),
                    skin=_SKIN[int(rng.integers(len(_SKIN)))],
                    shirt=_jitter(rng, _CLOTHES[int(rng.integers(len(_CLOTHES)))]),
                    pants=_jitter(rng, _PANTS[int(rng.integers(len(_PANTS)))]),
                    hair=_jitter(rng, (25, 30, 40) if rng.random() < 0.7 else (60, 110, 150)),
                    bag=rng.random() < 0.3, width=rng.uniform(1.0, 1.3)))


class _Renderer:
    """Draws a scene at one ego position into a canvas."""

    def __init__(self, scene: _Scene, width: int, height: int, s_cam: float, t: float):
        self.scene = scene
        self.width, self.height = width, height
        self.s_cam = s_cam
        self.t = t
        pitch = 0.004 * height * math.sin(2.2 * t + scene.pitch_phase) if t else 0.0
        self.cam = _Camera(width, height, scene.focal_rel * width, scene.cx_rel * width,
                           scene.horizon_rel * height + pitch, scene.cam_height,
                           scene.curvature)
        light = scene.light
        self.canvas = _Canvas(width, height,
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
        if s1 <= _Z_NEAR:
            return None
        cam = self.cam
        s0 = max(s0, _Z_NEAR)
        uv = cam.project(np.array((s0, s0, s0, s0, s1, s1, s1, s1)),
                         np.array((l0, l1, l1, l0, l0, l1, l1, l0)),
                         np.array((y0, y0, y1, y1, y0, y0, y1, y1)))
        if not cam.visible(uv):
            return None
        col = self.light.haze(color, s0)
        p = _fx(uv)
        hull = cv2.convexHull(p)
        img, labels = self.canvas.img, self.canvas.labels
        cv2.fillConvexPoly(labels, hull, label, _LINE, _SHIFT)
        if self.canvas.ids is not None:
            cv2.fillConvexPoly(self.canvas.ids, hull, self.canvas.current_id, _LINE, _SHIFT)
        cv2.fillConvexPoly(img, hull, col, _LINE, _SHIFT)
        # A side face is seen when the camera is on its outer side: with the road bending by
        # x = k s^2, the face normal is (-1, 2ks) (left face), so the test is lat - k s^2 vs 0.
        sm = 0.5 * (s0 + s1)
        bend = cam.curvature * sm * sm
        out = {'near': uv[:4], 'color': col} if faces else {}
        if l0 - bend > 0.0:
            cv2.fillConvexPoly(img, p[_LEFT], _color(col, shade[1]), _LINE, _SHIFT)
            if faces:
                out['left'] = uv[_LEFT]
        if l1 - bend < 0.0:
            cv2.fillConvexPoly(img, p[_RIGHT], _color(col, shade[2]), _LINE, _SHIFT)
            if faces:
                out['right'] = uv[_RIGHT]
        if y1 < cam.height_m:
            cv2.fillConvexPoly(img, p[_TOP], _color(col, shade[3]), _LINE, _SHIFT)
        return out

    def _quad(self, s, l0, l1, y0, y1, label, color) -> Optional[np.ndarray]:
        """Draw a rectangle facing the camera at distance s; returns its pixel corners."""
        if s <= _Z_NEAR:
            return None
        uv = self.cam.project(s, np.array((l0, l1, l1, l0)), np.array((y0, y0, y1, y1)))
        if not self.cam.visible(uv):
            return None
        self.canvas.fill(uv, label, None if color is None else self.light.haze(color, s))
        return uv

    def _ground_strip(self, lat_a, lat_b, s_from, s_to, n=24) -> Optional[np.ndarray]:
        s_from = max(s_from, _Z_NEAR + 0.5)
        if s_to <= s_from:
            return None
        s = np.geomspace(s_from, s_to, n)
        left = self.cam.project(s, np.full(n, lat_a), 0.0)
        right = self.cam.project(s[::-1], np.full(n, lat_b), 0.0)
        return np.concatenate([left, right])

    # ---------------------------------------------------------------- layers
    def render(self) -> Tuple[_Canvas, _Camera]:
        self._sky_and_ground()
        self._ground_marks()
        self._background()
        objs = []
        for obj in self.scene.objects:
            near, far = self._extent(obj)
            if far <= _Z_NEAR or near > _S_FAR:
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
        s = np.geomspace(max(_Z_NEAR, 0.8 * s_bottom), 5000.0, n)
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
            self.canvas.disc(np.array([cx, cy]), 0, None, _color(sky * (1 - mix) + white * mix),
                             axes=(ax, ay))

    def _ground_marks(self) -> None:
        """Lane markings, tyre tracks, patches, crosswalks: image only (labels stay road)."""
        scene, canvas = self.scene, self.canvas
        road = np.asarray(scene.road_color, float)
        s_near = _Z_NEAR + 0.5
        polys = []
        for lat in scene.lane_lat:
            for off in (-0.8, 0.8):
                strip = self._ground_strip(lat + off - 0.35, lat + off + 0.35, s_near, 120.0)
                if strip is not None:
                    polys.append(strip)
        canvas.fill_many(polys, None, _color(road, scene.lane_tracks))
        for s, lat, ls, ll, dark in scene.patches:
            s = self.rel(s)
            if s > s_near:
                quad = self.cam.project([s, s, s + ls, s + ls], [lat, lat + ll, lat + ll, lat],
                                        0.0)
                canvas.fill(quad, None, _color(road, dark))
        for side in (-1, 1):   # curb stones
            curb = scene.edge[side]
            strip = self._ground_strip(curb, curb + side * 0.25, s_near, 150.0)
            if strip is not None:
                canvas.fill_many([strip], None,
                                 _color(scene.sidewalk_color[side], 1.12))
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

    # ---------------------------------------------------------------- objects
    def _draw_building(self, b) -> None:
        s0, s1 = self.rel(b['s0']), self.rel(b['s1'])
        l0, l1 = sorted((b['inner'], b['outer']))
        faces = self._box(s0, s1, l0, l1, 0.0, b['height'], BUILDING, b['color'],
                          shade=(0.85, 0.95, 0.8, 1.0) if b['side'] > 0 else (0.85, 0.8, 0.95, 1))
        if faces is None:
            return
        # Windows on the facade facing the road (image only; the label stays building).
        col_sp, row_sp, wfrac, hfrac = b['window']
        lat = b['inner']
        s_start = max(s0, _Z_NEAR + 1.0)
        if s1 <= s_start:
            return
        cols = np.arange(math.ceil((s_start - s0) / col_sp), math.floor((s1 - s0) / col_sp))
        y_first = 3.5 if b['shop'] else 1.0
        rows = np.arange(0, int((b['height'] - y_first - 0.8) / row_sp))
        if len(cols) and len(rows) and s_start < 120.0:
            cc, rr = np.meshgrid(cols, rows)
            cc, rr = cc.ravel(), rr.ravel()
            sa = s0 + (cc + 0.5 - wfrac / 2) * col_sp
            sb = sa + wfrac * col_sp
            ya = y_first + (rr + 0.3) * row_sp
            yb = ya + hfrac * row_sp
            quads = self.cam.project(np.stack([sa, sb, sb, sa], 1), lat,
                                     np.stack([ya, ya, yb, yb], 1))
            glass = self.light.haze(b['glass'], s_start)
            lit_frac = self.light.window_lit
            if lit_frac > 0:
                lit = np.random.default_rng(b['lit_seed']).random(len(sa)) < lit_frac
                self.canvas.fill_many(quads[~lit], None, glass)
                self.canvas.add_emissive(list(_fx(quads[lit])), (120, 200, 240))
            else:
                self.canvas.fill_many(quads, None, glass)
        if b['shop']:
            quad = self.cam.project(np.array((s_start, s1, s1, s_start)), lat,
                                    np.array((0.3, 0.3, 2.8, 2.8)))
            self.canvas.fill(quad, None, self.light.haze(_color(b['glass'], 0.7), s_start))

    def _draw_tree(self, tr) -> None:
        s = self.rel(tr['s'])
        if s < _Z_NEAR + 0.3:
            return
        scale = self.cam.focal / s
        radius = tr['radius']
        centre = self.cam.project(s, tr['lat'], tr['trunk'] + radius)
        reach = 2.0 * radius * scale
        if (centre[1] + reach < 0 or centre[0] + reach < 0 or centre[0] - reach > self.width
                or centre[1] - reach > self.height):
            return
        self._quad(s, tr['lat'] - 0.15, tr['lat'] + 0.15, 0.0, tr['trunk'] + radius * 0.5,
                   VEGETATION, tr['bark'])
        base = tr['color']
        haze = self.light.haze
        big = radius * scale > 12.0
        for k, (dx, dy, r, shade) in enumerate(tr['blobs']):
            if not big and k >= 3:
                break
            c = centre + np.array((dx, -dy)) * scale
            self.canvas.disc(c, r * scale, VEGETATION,
                             haze((base[0] * shade, base[1] * shade, base[2] * shade), s))
        if big:
            for dx, dy, r, shade in tr['blobs'][:2]:
                c = centre + np.array((dx - r * 0.2, -dy + r * 0.25)) * scale
                f = shade * 0.7
                self.canvas.disc(c, r * 0.5 * scale, None,
                                 haze((base[0] * f, base[1] * f, base[2] * f), s))

    def _draw_fence(self, fe) -> None:
        s0, s1 = self.rel(fe['s0']), self.rel(fe['s1'])
        lat, h = fe['lat'], fe['height']
        faces = self._box(s0, s1, lat - 0.03, lat + 0.03, 0.0, h, FENCE,
                          _color(fe['color'], 0.8), faces=True)
        if faces is None:
            return
        col = faces['color']
        s_start = max(s0, _Z_NEAR + 0.5)
        if s1 <= s_start:
            return
        posts = np.arange(math.ceil(s_start / fe['post']) * fe['post'], s1, fe['post'])
        n = len(posts)
        if n:
            quads = self.cam.project(np.stack([posts, posts + 0.08, posts + 0.08, posts], 1),
                                     lat, np.tile((0.0, 0.0, h, h), (n, 1)))
            self.canvas.fill_many(quads, None, _color(col, 1.35))
        for ya, yb in ((h - 0.08, h), (h * 0.45, h * 0.45 + 0.06)):
            quad = self.cam.project(np.array((s_start, s1, s1, s_start)), lat,
                                    np.array((ya, ya, yb, yb)))
            self.canvas.fill(quad, None, _color(col, 1.3))

    def _draw_hedge(self, he) -> None:
        side = he['side']
        lat = he['lat']
        l0, l1 = sorted((lat, lat + side * he['width']))
        self._box(self.rel(he['s0']), self.rel(he['s1']), l0, l1, 0.0, he['height'],
                  VEGETATION, he['color'], shade=(1.0, 0.75, 0.75, 1.25))

    def _draw_lamp(self, lp) -> None:
        s = self.rel(lp['s'])
        if s < _Z_NEAR + 0.3:
            return
        w, h, lat, side = lp['width'], lp['height'], lp['lat'], lp['side']
        arm_end = lat - side * lp['arm']
        h0, h1 = sorted((arm_end, arm_end - side * 0.7))
        box = self.cam.project(np.array((s, s)), np.array((lat, arm_end)), np.array((0.0, h)))
        if not self.cam.visible(box + np.array(((-w, 0.0), (w, 0.0))) * self.cam.focal / s):
            return
        self._quad(s, lat - w / 2, lat + w / 2, 0.0, h, POLE, lp['color'])
        a0, a1 = sorted((lat, arm_end))
        self._quad(s, a0, a1, h - 0.3, h - 0.05, POLE, lp['color'])
        head = self._quad(s, h0, h1, h - 0.42, h - 0.12, POLE, _color(lp['color'], 0.8))
        if head is not None and self.light.lamps > 0:
            bottom = self.cam.project(np.array((s - 0.05, s - 0.05, s + 0.3, s + 0.3)),
                                      np.array((h0 + 0.05, h1 - 0.05, h1 - 0.05, h0 + 0.05)),
                                      h - 0.4)
            self.canvas.add_emissive([_fx(bottom)], (200, 235, 255))
            c = self.cam.project(s + 0.1, 0.5 * (h0 + h1), h - 0.4)
            r = self.cam.focal * 0.9 / s
            k = self.light.lamps
            self.canvas.glows.append((c[0], c[1], r, (0.75 * k, 0.9 * k, 1.0 * k)))
            g = self.cam.project(s + 0.1, 0.5 * (h0 + h1), 0.0)
            self.canvas.pools.append((g[0], g[1], self.cam.focal * 4.0 / s,
                                      self.cam.focal * 4.0 * self.cam.height_m / (s * s),
                                      (0.5 * k, 0.65 * k, 0.75 * k)))

    def _draw_sign(self, sg) -> None:
        s = self.rel(sg['s'])
        if s < _Z_NEAR + 0.5:
            return
        cam = self.cam
        size, lat = sg['size'], sg['lat']
        top = sg['height'] + size * (2.0 if sg['second'] else 1.0)
        pw = sg['pole']
        if self._quad(s, lat - pw / 2, lat + pw / 2, 0.0, top - size * 0.2, POLE,
                      (120, 120, 125)) is None:
            return
        centres = [sg['height'] + size * 0.5]
        if sg['second']:
            centres.append(sg['height'] + size * 1.5)
        scale = cam.focal / s
        for k, yc in enumerate(centres):
            c = cam.project(s - 0.02, lat, yc)
            r = 0.5 * size * scale
            shape = sg['shape'] if k == 0 else 'rect'
            style = (sg['style'] + k) % 3
            self._sign_plate(c, r, shape, style, s)

    def _sign_plate(self, c, r, shape, style, s) -> None:
        canvas, haze = self.canvas, self.light.haze
        red, white, blue = (35, 35, 200), (235, 235, 235), (160, 80, 20)
        yellow, green, black = (40, 200, 235), (60, 120, 20), (30, 30, 30)
        detail = r > 3.0

        def poly(unit, scale):
            return c + unit * (r * scale)

        if shape == 'circle':
            outer, inner = (red, white) if style != 1 else (blue, blue)
            canvas.disc(c, r, TRAFFIC_SIGN, haze(outer, s))
            if not detail:
                return
            canvas.disc(c, r * 0.78, None, haze(inner, s))
            if style == 1:
                canvas.fill(poly(_BAR, 1.0), None, haze(white, s))
            elif style == 2:
                canvas.fill(poly(_BAR, 1.2), None, haze(red, s))
            else:
                canvas.disc(c, r * 0.3, None, haze(black, s))
        elif shape == 'triangle':
            canvas.fill(poly(_TRIANGLE, 1.0), TRAFFIC_SIGN, haze(red, s))
            if detail:
                canvas.fill(poly(_TRIANGLE, 0.62) + np.array((0, 0.06 * r)), None,
                            haze(white, s))
                canvas.fill(poly(_MARK, 1.0), None, haze(black, s))
        elif shape == 'octagon':
            canvas.fill(poly(_OCTAGON, 1.0), TRAFFIC_SIGN, haze(white, s))
            canvas.fill(poly(_OCTAGON, 0.88), None, haze(red, s))
            if detail:
                canvas.fill(poly(_BAR, 1.1), None, haze(white, s))
        elif shape == 'diamond':
            canvas.fill(poly(_DIAMOND, 1.0), TRAFFIC_SIGN, haze(white, s))
            canvas.fill(poly(_DIAMOND, 0.7), None, haze(yellow, s))
        else:
            back = (blue, green, white)[style]
            canvas.fill(poly(_PANEL, 1.0), TRAFFIC_SIGN, haze(white, s))
            canvas.fill(poly(_PANEL, 0.9), None, haze(back, s))
            if detail:
                canvas.fill(poly(_TEXT, 1.0), None, haze(black if style == 2 else white, s))

    def _draw_signal(self, sg) -> None:
        s = self.rel(sg['s'])
        if s < _Z_NEAR + 0.5:
            return
        lat, side, h = sg['lat'], sg['side'], sg['height']
        pw = 0.3
        top = h + 1.3 if not sg['over'] else h + 2.6
        self._quad(s, lat - pw / 2, lat + pw / 2, 0.0, top, POLE, (90, 90, 95))
        if sg['over']:
            end = lat - side * sg['arm']
            a0, a1 = sorted((lat, end))
            self._quad(s, a0, a1, top - 0.18, top, POLE, (90, 90, 95))
            hx, y0 = end + side * 0.3, top - 1.4
        else:
            hx, y0 = lat, h
        hw = 0.45
        if sg['plate']:
            self._quad(s - 0.02, hx - 0.38, hx + 0.38, y0 - 0.12, y0 + 1.32, TRAFFIC_LIGHT,
                       (40, 40, 40))
        faces = self._box(s - 0.3, s, hx - hw / 2, hx + hw / 2, y0, y0 + 1.2, TRAFFIC_LIGHT,
                          sg['color'])
        if faces is None:
            return
        colors = ((40, 40, 230), (40, 200, 240), (120, 230, 60))
        scale = self.cam.focal / max(s - 0.3, _Z_NEAR)
        for k in range(3):
            c = self.cam.project(s - 0.31, hx, y0 + 1.0 - 0.4 * k)
            on = k == sg['state']
            color = colors[k] if on else _color(colors[k], 0.25)
            self.canvas.disc(c, 0.13 * scale, None, self.light.haze(color, s))
            if on and self.light.car_lights > 0:
                cc = (int(round(c[0] * _ONE)), int(round(c[1] * _ONE)))
                self.canvas.add_emissive(('disc', cc, 0.13 * scale), colors[k])
                self.canvas.glows.append((c[0], c[1], 0.9 * scale,
                                          tuple(v / 255.0 for v in colors[k])))

    def _draw_car(self, car) -> None:
        s = self.rel(car['s'] + car['speed'] * self.t)
        length, w, lat = car['length'], car['width'], car['lat']
        if s + length <= _Z_NEAR + 0.3:
            return
        l0, l1 = lat - w / 2, lat + w / 2
        s1 = s + length
        direction = car['direction']
        detail = w * self.cam.focal / max(s, _Z_NEAR) > 24.0
        if detail:
            self._shadow(s, s1, l0, l1)
            self._box(s + 0.3, s1 - 0.3, l0 + 0.08, l1 - 0.08, 0.0, 0.36, CAR, (22, 22, 22))
            body = self._box(s, s1, l0, l1, 0.3, car['body'], CAR, car['color'], faces=True)
        else:
            body = self._box(s, s1, l0, l1, 0.1, car['body'], CAR, car['color'], faces=True)
        if body is None:
            return
        fa, fb = car['cabin']
        if direction < 0:
            fa, fb = 1.0 - fb, 1.0 - fa
        ca, cb = s + fa * length, s + fb * length
        inset = 0.09 * w
        cabin = self._box(ca, cb, l0 + inset, l1 - inset, car['body'] - 0.01, car['roof'], CAR,
                          car['color'], faces=True)
        if cabin is not None:
            glass = self.light.haze((80, 62, 52), s)
            for name in ('near', 'left', 'right'):
                if name in cabin:
                    quad = cabin[name]
                    centre = quad.mean(axis=0)
                    self.canvas.fill(centre + (quad - centre) * 0.8, None, glass)
        if s < _Z_NEAR:
            return
        if detail:
            self._wheels(s, s1, l0, l1, body)
        self._lights(s, l0, l1, car['body'], direction, 0.3, detail)

    def _draw_truck(self, tr) -> None:
        s = self.rel(tr['s'] + tr['speed'] * self.t)
        length, w, lat, h = tr['length'], tr['width'], tr['lat'], tr['height']
        if s + length <= _Z_NEAR + 0.3:
            return
        l0, l1 = lat - w / 2, lat + w / 2
        detail = w * self.cam.focal / max(s, _Z_NEAR) > 24.0
        if detail:
            self._shadow(s, s + length, l0, l1)
        cab_len = 2.3
        if tr['direction'] > 0:
            cargo = (s, s + length - cab_len - 0.2)
            cab = (s + length - cab_len, s + length)
        else:
            cab = (s, s + cab_len)
            cargo = (s + cab_len + 0.2, s + length)
        if self._box(s + 0.4, s + length - 0.4, l0 + 0.1, l1 - 0.1, 0.0, 1.0, TRUCK,
                     (25, 25, 25)) is None:
            return
        parts = [(cargo, 'cargo'), (cab, 'cab')]
        parts.sort(key=lambda p: -p[0][0])
        glass = self.light.haze((80, 62, 52), s)
        for (a, b), name in parts:
            if name == 'cargo':
                faces = self._box(a, b, l0, l1, 0.9, h, TRUCK, tr['color'], faces=True)
                if faces is not None and detail and tr['direction'] > 0 and a > _Z_NEAR:
                    door = self.cam.project(a - 0.01, np.array((lat - 0.03, lat + 0.03,
                                                                lat + 0.03, lat - 0.03)),
                                            np.array((1.0, 1.0, h, h)))
                    self.canvas.fill(door, None, _color(faces['color'], 0.6))
                continue
            faces = self._box(a, b, l0 + 0.05, l1 - 0.05, 0.6, min(h, 3.0), TRUCK, tr['cab'],
                              faces=True)
            if faces is None:
                continue
            for side in ('near', 'left', 'right'):
                if side in faces and (side != 'near' or tr['direction'] < 0):
                    q = faces[side]
                    top = q[[3, 2]] if side == 'near' else q[[1, 2]]
                    bottom = q[[0, 1]] if side == 'near' else q[[0, 3]]
                    gl = np.concatenate([bottom * 0.45 + top * 0.55,
                                         (bottom * 0.12 + top * 0.88)[::-1]])
                    centre = gl.mean(axis=0)
                    self.canvas.fill(centre + (gl - centre) * 0.9, None, glass)
        if s > _Z_NEAR:
            self._lights(s, l0, l1, 1.1, tr['direction'], 0.35, detail)

    def _shadow(self, s0, s1, l0, l1) -> None:
        if s0 < _Z_NEAR + 0.3:
            return
        quad = self.cam.project(np.array((s0, s0, s1, s1)), np.array((l0, l1, l1, l0)), 0.0)
        if self.cam.visible(quad):
            self.canvas.fill(quad, None, _color(self.scene.road_color, 0.35))

    def _wheels(self, s0, s1, l0, l1, faces) -> None:
        for name, lat in (('left', l0), ('right', l1)):
            if name not in faces:
                continue
            for sw in (s0 + 0.75, s1 - 0.75):
                c = self.cam.project(sw, lat, 0.32)
                r = 0.32 * self.cam.focal / sw
                x = lat + self.cam.curvature * sw * sw
                self.canvas.disc(c, 0, CAR, (18, 18, 18),
                                 axes=(max(r * abs(x) / sw, 0.5), r))

    def _lights(self, s, l0, l1, top, direction, size, detail) -> None:
        cam, canvas = self.cam, self.canvas
        if s < _Z_NEAR + 0.2:
            return
        lit = self.light.car_lights > 0
        if not (detail or lit):
            return
        ya, yb = top - 0.28, top - 0.1
        color = (35, 35, 190) if direction > 0 else (210, 225, 230)
        glow = (0.15, 0.15, 1.0) if direction > 0 else (0.9, 0.95, 1.0)
        quads = cam.project(s - 0.01, np.array(((l0 + 0.06, l0 + 0.06 + size,
                                                  l0 + 0.06 + size, l0 + 0.06),
                                                 (l1 - 0.06 - size, l1 - 0.06, l1 - 0.06,
                                                  l1 - 0.06 - size))),
                            np.array((ya, ya, yb, yb)))
        canvas.fill_many(quads, None, self.light.haze(color, s))
        if lit:
            canvas.add_emissive(list(_fx(quads)), _color(color, 1.25))
            strength = (1.4 if direction < 0 else 0.7) * cam.focal * 0.5 / s
            for quad in quads:
                c = quad.mean(axis=0)
                canvas.glows.append((c[0], c[1], strength, glow))
        if detail:
            mid = 0.5 * (l0 + l1)
            plate = cam.project(s - 0.01, np.array((mid - 0.26, mid + 0.26, mid + 0.26,
                                                    mid - 0.26)),
                                np.array((0.42, 0.42, 0.54, 0.54)))
            canvas.fill(plate, None, self.light.haze((215, 215, 215), s))

    def _draw_person(self, p) -> None:
        s = self.rel(p['s'] + p['vel'][0] * self.t)
        lat = p['lat'] + p['vel'][1] * self.t
        if s < _Z_NEAR + 1.0:
            return
        cam, canvas, haze = self.cam, self.canvas, self.light.haze
        foot = cam.project(s, lat, 0.0)
        h = p['height'] * cam.focal / s
        if foot[1] - h > self.height or foot[1] < 0 or foot[0] < -h or foot[0] > self.width + h:
            return
        scale = np.array((p['width'] * h, -h))
        swing = math.sin(p['phase'] + 6.0 * self.t)
        skin, shirt, pants = haze(p['skin'], s), haze(p['shirt'], s), haze(p['pants'], s)
        if p['view'] == 'side':
            st = 0.14 * swing
            legs = _SIDE_LEGS + st * _SIDE_STRIDE
            torso = _SIDE_TORSO
            arms = _SIDE_ARMS - st * _SIDE_ARM_SWING
        else:
            st = 0.025 * swing
            legs = _FRONT_LEGS + st * _FRONT_STRIDE
            torso = _FRONT_TORSO
            arms = _FRONT_ARMS + st * _FRONT_ARM_SWING
        canvas.fill_many(foot + legs * scale, PERSON, pants)
        canvas.fill(foot + torso * scale, PERSON, shirt)
        canvas.fill_many(foot + arms * scale, PERSON, _color(shirt, 0.9))
        head = foot + np.array((0.0, 0.92)) * scale
        canvas.fill(foot + _NECK * scale, PERSON, skin)
        canvas.disc(head, 0, PERSON, skin, axes=(0.062 * h * p['width'], 0.07 * h))
        if h > 24:
            canvas.disc(head - np.array((0, 0.03 * h)), 0, None, haze(p['hair'], s),
                        axes=(0.06 * h * p['width'], 0.045 * h))
        if p['bag']:
            canvas.fill(foot + _BAG * scale, PERSON, haze((40, 50, 70), s))


_BAR = np.array(((-0.5, 0.12), (0.5, 0.12), (0.5, -0.12), (-0.5, -0.12)))
_MARK = np.array(((-0.08, -0.25), (0.08, -0.25), (0.08, 0.25), (-0.08, 0.25)))
_TRIANGLE = np.array(((0.0, -1.0), (0.95, 0.75), (-0.95, 0.75)))
_OCTAGON = np.stack([np.cos(np.pi / 8 + np.arange(8) * np.pi / 4),
                     np.sin(np.pi / 8 + np.arange(8) * np.pi / 4)], 1)
_DIAMOND = np.array(((0.0, -1.0), (1.0, 0.0), (0.0, 1.0), (-1.0, 0.0)))
_PANEL = np.array(((-1.2, -0.75), (1.2, -0.75), (1.2, 0.75), (-1.2, 0.75)))
_TEXT = np.array(((-0.7, -0.3), (0.7, -0.3), (0.7, -0.1), (-0.7, -0.1)))
# Person parts in units of body height (x right, y up from the feet); strides move the feet.
_SIDE_LEGS = np.array((((-0.05, 0.52), (0.05, 0.52), (0.04, 0.0), (-0.05, 0.0)),
                       ((-0.05, 0.52), (0.05, 0.52), (0.04, 0.0), (-0.05, 0.0))))
_SIDE_STRIDE = np.array((((0, 0), (0, 0), (1, 0), (1, 0)), ((0, 0), (0, 0), (-1, 0), (-1, 0))))
_SIDE_TORSO = np.array(((-0.09, 0.5), (0.09, 0.5), (0.1, 0.82), (-0.08, 0.83)))
_SIDE_ARMS = np.array((((-0.04, 0.81), (0.04, 0.81), (0.03, 0.47), (-0.04, 0.47)),))
_SIDE_ARM_SWING = np.array((((0, 0), (0, 0), (1, 0), (1, 0)),))
_FRONT_LEGS = np.array((((-0.14, 0.52), (-0.01, 0.52), (-0.035, 0.0), (-0.115, 0.0)),
                        ((0.01, 0.52), (0.14, 0.52), (0.115, 0.0), (0.035, 0.0))))
_FRONT_STRIDE = np.array((((0, 0), (0, 0), (0, 0), (0, 1)), ((0, 0), (0, 0), (0, -1), (0, 0))))
_FRONT_TORSO = np.array(((-0.14, 0.48), (0.14, 0.48), (0.16, 0.80), (0.12, 0.835),
                         (-0.12, 0.835), (-0.16, 0.80)))
_FRONT_ARMS = np.array((((-0.19, 0.80), (-0.13, 0.80), (-0.15, 0.46), (-0.21, 0.46)),
                        ((0.13, 0.80), (0.19, 0.80), (0.21, 0.46), (0.15, 0.46))))
_FRONT_ARM_SWING = np.array((((0, 0), (0, 0), (0, 0), (0, 1)), ((0, 0), (0, 0), (0, -1), (0, 0))))
_NECK = np.array(((-0.035, 0.82), (0.035, 0.82), (0.035, 0.87), (-0.035, 0.87)))
_BAG = np.array(((0.14, 0.6), (0.26, 0.6), (0.26, 0.42), (0.14, 0.42)))


class SceneGenerator:
    """
    Seeded generator of synthetic driving frames with exact Cityscapes train-ID labels.

    `generate(index, condition)` is a pure function of (seed, index, condition, size_wh):
    calling it twice, in any order, in any process, gives identical arrays.

    Thin and small classes are drawn larger than in real streets (poles 0.3-0.7 m, sign plates
    1.2-1.7 m, most pedestrians within 25 m) so that a stride-32 network can learn them; a few
    distant pedestrians remain. Traffic lights are off by default (`traffic_lights=True` adds
    them): at stride 32 they are mostly below one output cell.
    """

    def __init__(self, seed: int = 0, size_wh: Tuple[int, int] = (1280, 720),
                 traffic_lights: bool = False):
        self.seed = int(seed)
        self.traffic_lights = bool(traffic_lights)
        self.size_wh = (int(size_wh[0]), int(size_wh[1]))
        width, height = self.size_wh
        if width < 32 or height < 32:
            raise ValueError('frame size %dx%d too small' % (width, height))
        self._margin = 64
        rng = np.random.default_rng(np.random.SeedSequence([self.seed & 0xFFFFFFFF, 0xBA4C]))
        self._fine, self._coarse = self._texture_fields(rng, width + self._margin,
                                                        height + self._margin)
        noise = rng.normal(0.0, 32.0, (height + self._margin, width + self._margin, 3))
        self._noise = np.clip(noise + 128.0, 0, 255).astype(np.uint8)

    @staticmethod
    def _texture_fields(rng, width, height) -> Tuple[np.ndarray, np.ndarray]:
        """Two zero-mean texture fields, int16 in about [-64, 64]: fine grain and coarse."""
        fine = rng.normal(0.0, 1.0, (height, width)).astype(np.float32)
        fine = cv2.GaussianBlur(fine, (0, 0), 0.8)
        medium = cv2.resize(rng.normal(0.0, 1.0, (height // 6 + 1, width // 6 + 1))
                            .astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
        fine = fine / (fine.std() + 1e-6) + 0.8 * medium / (medium.std() + 1e-6)
        coarse = np.zeros((height, width), np.float32)
        for cell, weight in ((48, 1.0), (16, 0.6)):
            small = rng.normal(0.0, 1.0, (height // cell + 2, width // cell + 2))
            coarse += weight * cv2.resize(small.astype(np.float32), (width, height),
                                          interpolation=cv2.INTER_CUBIC)
        to_i16 = [np.clip(f / (f.std() + 1e-6) * 24.0, -64, 64).astype(np.int16)
                  for f in (fine, coarse)]
        return to_i16[0], to_i16[1]

    # ------------------------------------------------------------------ API
    def generate(self, index: int, condition: str = 'day') -> Tuple[np.ndarray, np.ndarray]:
        """
        Render scene `index` under a lighting condition.

        Returns (frame, labels): frame shape (H, W, 3) uint8 BGR; labels shape (H, W) uint8
        Cityscapes train IDs (every pixel one of RENDERED_CLASSES).
        """
        self._check_condition(condition)
        rng = _seed_sequence(self.seed, index, condition)
        scene = _Scene(_Rand(rng), condition, _S_FAR, ego_speed=rng.uniform(8.0, 14.0),
                       signals=self.traffic_lights)
        return self._render(scene, rng, 0.0, 0.0)

    def generate_sequence(self, index: int, count: int, condition: str = 'day', start: int = 0,
                          fps: float = 10.0) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
        """
        Yield frames `start` .. `start + count - 1` of a driving sequence with ego motion.

        The ego vehicle drives along one consistent scene at a constant speed (8-14 m/s); other
        road users move too, so objects approach the camera frame to frame. Each frame is
        computed on its own (random access): frame k is the same whatever `start` was.
        Yields (frame BGR uint8 (H, W, 3), labels uint8 (H, W)).
        """
        self._check_condition(condition)
        if count < 0 or start < 0:
            raise ValueError('count and start must be >= 0')
        if fps <= 0:
            raise ValueError('fps must be > 0')
        rng = _seed_sequence(self.seed, index, condition, stream=1)
        speed = rng.uniform(8.0, 14.0)
        duration = (start + count) / fps
        scene = _Scene(_Rand(rng), condition, _S_FAR + speed * duration, ego_speed=speed,
                       signals=self.traffic_lights)
        for k in range(start, start + count):
            t = k / fps
            frame_rng = _seed_sequence(self.seed, index, condition, stream=2, frame=k)
            yield self._render(scene, frame_rng, speed * t, t)

    # ------------------------------------------------------------ internals
    @staticmethod
    def _check_condition(condition: str) -> None:
        if condition not in _CONDITION_ID:
            raise ValueError('unknown condition %r; expected one of %s'
                             % (condition, ', '.join(CONDITIONS)))

    def _render(self, scene: _Scene, rng: _Rand, s_cam: float,
                t: float) -> Tuple[np.ndarray, np.ndarray]:
        width, height = self.size_wh
        canvas, cam = _Renderer(scene, width, height, s_cam, t).render()
        img, labels = canvas.img, canvas.labels
        light = scene.light
        m = self._margin
        # Texture: multiplicative, amplitude per class, field offset fixed per scene.
        ty = scene.texture_offset[0] % m
        tx = scene.texture_offset[1] % m
        fine = self._fine[ty:ty + height, tx:tx + width]
        coarse = self._coarse[ty:ty + height, tx:tx + width]
        tex = cv2.LUT(labels, _TEXTURE_FINE).astype(np.int16) * fine
        tex += cv2.LUT(labels, _TEXTURE_COARSE).astype(np.int16) * coarse
        tex >>= 6
        tex += 128
        tex = np.clip(tex, 0, 255).astype(np.uint8)
        tex3 = cv2.cvtColor(tex, cv2.COLOR_GRAY2BGR)
        img = cv2.multiply(img, tex3, scale=1.0 / 128.0)
        # Lighting.
        img = cv2.transform(img, light.matrix)
        self._light_sources(img, canvas, cam, light)
        if light.blur_sigma > 0:
            ksize = 5 if light.blur_sigma <= 1.0 else 7   # truncated at ~2.5 sigma
            img = cv2.GaussianBlur(img, (ksize, ksize), light.blur_sigma)
        ny, nx = int(rng.integers(0, m)), int(rng.integers(0, m))
        noise = self._noise[ny:ny + height, nx:nx + width]
        beta = light.noise_sigma / 32.0
        img = cv2.addWeighted(img, 1.0, noise, beta, -128.0 * beta)
        return img, labels

    def _light_sources(self, img: np.ndarray, canvas: _Canvas, cam: _Camera,
                       light: _Lighting) -> None:
        """Add glow and light pools (low resolution, blurred, upsampled), then lamps on top."""
        width, height = self.size_wh
        strength = light.car_lights   # the ego vehicle's own headlights
        if canvas.glows or canvas.pools or strength > 0:
            f = 8
            small = np.zeros((height // f + 1, width // f + 1, 3), np.float32)
            pools = np.zeros_like(small)
            for u, v, r, color in canvas.glows:
                cv2.circle(small, (int(u / f), int(v / f)), max(1, int(r / f)),
                           tuple(c * 110.0 for c in color), -1)
            for u, v, ax, ay, color in canvas.pools:
                cv2.ellipse(pools, (int(u / f), int(v / f)),
                            (max(1, int(ax / f)), max(1, int(ay / f))), 0, 0, 360,
                            tuple(c * 60.0 for c in color), -1)
            if strength > 0:   # the ego vehicle's own headlights on the road ahead
                cv2.ellipse(pools, (int(cam.cx / f), int(height / f)),
                            (int(width * 0.35 / f), int((height - cam.horizon) * 0.45 / f)),
                            0, 0, 360, tuple(c * strength for c in (45.0, 55.0, 60.0)), -1)
            small = cv2.GaussianBlur(small, (0, 0), 1.5)
            small += cv2.GaussianBlur(pools, (0, 0), 5.0)
            glow = cv2.resize(np.clip(small, 0, 255).astype(np.uint8), (width, height),
                              interpolation=cv2.INTER_LINEAR)
            cv2.add(img, glow, dst=img)
        if not canvas.emissive:
            return
        # Light sources on top of the lit image, only where their owner is the visible object;
        # worked out inside the bounding box of all sources.
        x0, y0, x1, y1 = self._emissive_box(canvas.emissive, width, height)
        if x1 <= x0 or y1 <= y0:
            return
        offset = np.array((x0 << _SHIFT, y0 << _SHIFT), np.int32)
        lamps = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
        owner = np.full((y1 - y0, x1 - x0), 0xFFFF, np.uint16)   # no object has this id
        for shapes, color, owner_id in canvas.emissive:
            if isinstance(shapes, tuple):
                _, centre, radius = shapes
                r = max(1, int(round(radius * _ONE)))
                c = (centre[0] - int(offset[0]), centre[1] - int(offset[1]))
                cv2.circle(lamps, c, r, color, -1, _LINE, _SHIFT)
                cv2.circle(owner, c, r, owner_id, -1, _LINE, _SHIFT)
            elif len(shapes):
                moved = [p - offset for p in shapes]
                cv2.fillPoly(lamps, moved, color, _LINE, _SHIFT)
                cv2.fillPoly(owner, moved, owner_id, _LINE, _SHIFT)
        shown = cv2.compare(owner, canvas.ids[y0:y1, x0:x1], cv2.CMP_EQ)
        region = img[y0:y1, x0:x1]
        cv2.copyTo(lamps, shown, region)
        img[y0:y1, x0:x1] = region

    @staticmethod
    def _emissive_box(emissive, width: int, height: int) -> Tuple[int, int, int, int]:
        """Pixel bounding box (x0, y0, x1, y1), clipped to the frame, of all light sources."""
        lo = np.array([np.inf, np.inf])
        hi = np.array([-np.inf, -np.inf])
        for shapes, _, _ in emissive:
            if isinstance(shapes, tuple):
                _, centre, radius = shapes
                c = np.asarray(centre, float) / _ONE
                lo = np.minimum(lo, c - radius - 1)
                hi = np.maximum(hi, c + radius + 1)
            elif len(shapes):
                pts = np.concatenate([np.asarray(p).reshape(-1, 2) for p in shapes]) / _ONE
                lo = np.minimum(lo, pts.min(axis=0) - 1)
                hi = np.maximum(hi, pts.max(axis=0) + 1)
        if not np.isfinite(lo).all():
            return 0, 0, 0, 0
        x0, y0 = max(0, int(lo[0])), max(0, int(lo[1]))
        x1, y1 = min(width, int(math.ceil(hi[0])) + 1), min(height, int(math.ceil(hi[1])) + 1)
        return x0, y0, x1, y1


def write_cityscapes(out_dir, count: int, seed: int = 0, split: str = 'train',
                     conditions: Sequence[str] = CONDITIONS,
                     size_wh: Tuple[int, int] = (1280, 720),
                     start: int = 0, workers: int = 1, progress: Optional[bool] = None,
                     traffic_lights: bool = False) -> List[Path]:
    """
    Write generated frames in the Cityscapes layout (`fxseg_ros.data.cityscapes`).

    `<out_dir>/leftImg8bit/<split>/<condition>/<condition>_<index:06d>_000000_leftImg8bit.png`
    and the matching `gtFine/..._gtFine_labelTrainIds.png`; returns the image paths.
    """
    from fxseg_ros.data.cityscapes import write_cityscapes as _write

    return _write(out_dir, count, seed, split=split, conditions=conditions, size_wh=size_wh,
                  start=start, workers=workers, progress=progress, traffic_lights=traffic_lights)


def generate_sequence(seed: int, start: int, count: int, condition: str = 'day',
                      size_wh: Tuple[int, int] = (1280, 720), index: int = 0,
                      fps: float = 10.0) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
    """Frames `start` .. `start + count - 1` of drive `index`; see SceneGenerator."""
    return SceneGenerator(seed, size_wh).generate_sequence(index, count, condition, start=start,
                                                           fps=fps)
