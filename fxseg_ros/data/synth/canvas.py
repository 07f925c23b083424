# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The generator's drawing primitives: random streams, the pinhole camera and the canvas.

Everything random comes from a numpy Generator seeded with (seed, index, condition); OpenCV
draws in fixed point without antialiasing, so labels are the geometric truth and one seed always
gives byte-identical frames.
"""

from typing import List, Optional, Sequence, Tuple

import cv2
from fxseg_ros.data.conditions import CONDITIONS
from fxseg_ros.data.synth.shapes import SKY
import numpy as np

CONDITION_ID = {name: i for i, name in enumerate(CONDITIONS)}

SHIFT = 4            # fractional bits of the fixed-point polygon coordinates given to OpenCV
ONE = 1 << SHIFT
Z_NEAR = 0.5         # metres; geometry closer than this is cut off
S_FAR = 170.0        # metres; scene content is laid out up to this distance ahead
LINE = cv2.LINE_8    # labels and image use the same rasterisation: no antialiasing
LEFT_FACE = np.array((0, 3, 7, 4))    # box corner indices of its faces
RIGHT_FACE = np.array((1, 2, 6, 5))
TOP_FACE = np.array((3, 2, 6, 7))


def seed_sequence(seed: int, index: int, condition: str, stream: int = 0,
                  frame: int = 0) -> np.random.Generator:
    """
    Return the Generator for one (seed, index, condition) and one use of it.

    stream 0: a single frame; 1: the layout of a sequence; 2: frame `frame` of a sequence.
    """
    cond = CONDITION_ID[condition]
    entropy = [int(seed) & 0xFFFFFFFF, int(index) & 0xFFFFFFFF, cond, stream, int(frame),
               0x5EED]
    return np.random.default_rng(np.random.SeedSequence(entropy))


class Rand:
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


def fixed_point(uv: np.ndarray) -> np.ndarray:
    """Pixel coordinates, float (..., 2), to OpenCV's fixed point with SHIFT fractional bits."""
    return np.rint(uv * ONE).astype(np.int32)


def scaled_color(bgr, scale: float = 1.0) -> Tuple[int, int, int]:
    return (int(min(255, max(0, bgr[0] * scale))), int(min(255, max(0, bgr[1] * scale))),
            int(min(255, max(0, bgr[2] * scale))))


def jitter(rng: Rand, bgr, amount: float = 0.12) -> Tuple[int, int, int]:
    gain = 1.0 + rng.uniform(-amount, amount)
    return scaled_color([c * gain * (1.0 + rng.uniform(-amount / 3, amount / 3)) for c in bgr])


class Camera:
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


class Canvas:
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

    def _targets(self, label: Optional[int], color) -> List[Tuple[np.ndarray, object]]:
        """Return (array, value) to paint: labels (and object ids) with label, image with color."""
        targets = []
        if label is not None:
            targets.append((self.labels, label))
            if self.ids is not None:
                targets.append((self.ids, self.current_id))
        if color is not None:
            targets.append((self.img, color))
        return targets

    def fill(self, pts: np.ndarray, label: Optional[int], color) -> None:
        """Fill one convex polygon (pixels, float (N, 2)) into labels (if label) and image."""
        p = fixed_point(pts)
        for target, value in self._targets(label, color):
            cv2.fillConvexPoly(target, p, value, LINE, SHIFT)

    def fill_many(self, polys: Sequence[np.ndarray], label: Optional[int], color) -> None:
        """Fill non-overlapping polygons in one call."""
        if not len(polys):
            return
        p = list(fixed_point(np.asarray(polys))) if isinstance(polys, np.ndarray) else \
            [fixed_point(poly) for poly in polys]
        for target, value in self._targets(label, color):
            cv2.fillPoly(target, p, value, LINE, SHIFT)

    def disc(self, center: np.ndarray, radius: float, label: Optional[int], color,
             axes: Optional[Tuple[float, float]] = None) -> None:
        """Fill a circle (radius) or an axis-aligned ellipse (axes), pixels."""
        c = (int(round(center[0] * ONE)), int(round(center[1] * ONE)))
        targets = self._targets(label, color)
        if axes is None:
            r = max(1, int(round(radius * ONE)))
            for target, value in targets:
                cv2.circle(target, c, r, value, -1, LINE, SHIFT)
        else:
            ax = (max(1, int(round(axes[0] * ONE))), max(1, int(round(axes[1] * ONE))))
            for target, value in targets:
                cv2.ellipse(target, c, ax, 0, 0, 360, value, -1, LINE, SHIFT)
