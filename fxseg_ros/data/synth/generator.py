# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""SceneGenerator: layout, rendering, then texture, lighting, light sources, blur and noise."""

import math
from typing import Iterator, Tuple

import cv2
from fxseg_ros.data.conditions import CONDITIONS
from fxseg_ros.data.sizes import CAMERA_WH, SYNTH_MIN_SIDE
from fxseg_ros.data.synth.canvas import (Camera, Canvas, CONDITION_ID, LINE, ONE, Rand, S_FAR,
                                         seed_sequence, SHIFT)
from fxseg_ros.data.synth.layout import Scene
from fxseg_ros.data.synth.lighting import Lighting
from fxseg_ros.data.synth.render import Renderer
from fxseg_ros.data.synth.shapes import TEXTURE_COARSE, TEXTURE_FINE
import numpy as np


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

    def __init__(self, seed: int = 0, size_wh: Tuple[int, int] = CAMERA_WH,
                 traffic_lights: bool = False):
        self.seed = int(seed)
        self.traffic_lights = bool(traffic_lights)
        self.size_wh = (int(size_wh[0]), int(size_wh[1]))
        width, height = self.size_wh
        if width < SYNTH_MIN_SIDE or height < SYNTH_MIN_SIDE:
            raise ValueError('frame size %dx%d too small (min %dx%d)'
                             % (width, height, SYNTH_MIN_SIDE, SYNTH_MIN_SIDE))
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
        rng = seed_sequence(self.seed, index, condition)
        scene = Scene(Rand(rng), condition, S_FAR, ego_speed=rng.uniform(8.0, 14.0),
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
        rng = seed_sequence(self.seed, index, condition, stream=1)
        speed = rng.uniform(8.0, 14.0)
        duration = (start + count) / fps
        scene = Scene(Rand(rng), condition, S_FAR + speed * duration, ego_speed=speed,
                      signals=self.traffic_lights)
        for k in range(start, start + count):
            t = k / fps
            frame_rng = seed_sequence(self.seed, index, condition, stream=2, frame=k)
            yield self._render(scene, frame_rng, speed * t, t)

    # ------------------------------------------------------------ internals
    @staticmethod
    def _check_condition(condition: str) -> None:
        if condition not in CONDITION_ID:
            raise ValueError('unknown condition %r; expected one of %s'
                             % (condition, ', '.join(CONDITIONS)))

    def _render(self, scene: Scene, rng: Rand, s_cam: float,
                t: float) -> Tuple[np.ndarray, np.ndarray]:
        width, height = self.size_wh
        canvas, cam = Renderer(scene, width, height, s_cam, t).render()
        img, labels = canvas.img, canvas.labels
        light = scene.light
        m = self._margin
        # Texture: multiplicative, amplitude per class, field offset fixed per scene.
        ty = scene.texture_offset[0] % m
        tx = scene.texture_offset[1] % m
        fine = self._fine[ty:ty + height, tx:tx + width]
        coarse = self._coarse[ty:ty + height, tx:tx + width]
        tex = cv2.LUT(labels, TEXTURE_FINE).astype(np.int16) * fine
        tex += cv2.LUT(labels, TEXTURE_COARSE).astype(np.int16) * coarse
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

    def _light_sources(self, img: np.ndarray, canvas: Canvas, cam: Camera,
                       light: Lighting) -> None:
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
        offset = np.array((x0 << SHIFT, y0 << SHIFT), np.int32)
        lamps = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
        owner = np.full((y1 - y0, x1 - x0), 0xFFFF, np.uint16)   # no object has this id
        for shapes, color, owner_id in canvas.emissive:
            if isinstance(shapes, tuple):
                _, centre, radius = shapes
                r = max(1, int(round(radius * ONE)))
                c = (centre[0] - int(offset[0]), centre[1] - int(offset[1]))
                cv2.circle(lamps, c, r, color, -1, LINE, SHIFT)
                cv2.circle(owner, c, r, owner_id, -1, LINE, SHIFT)
            elif len(shapes):
                moved = [p - offset for p in shapes]
                cv2.fillPoly(lamps, moved, color, LINE, SHIFT)
                cv2.fillPoly(owner, moved, owner_id, LINE, SHIFT)
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
                c = np.asarray(centre, float) / ONE
                lo = np.minimum(lo, c - radius - 1)
                hi = np.maximum(hi, c + radius + 1)
            elif len(shapes):
                pts = np.concatenate([np.asarray(p).reshape(-1, 2) for p in shapes]) / ONE
                lo = np.minimum(lo, pts.min(axis=0) - 1)
                hi = np.maximum(hi, pts.max(axis=0) + 1)
        if not np.isfinite(lo).all():
            return 0, 0, 0, 0
        x0, y0 = max(0, int(lo[0])), max(0, int(lo[1]))
        x1, y1 = min(width, int(math.ceil(hi[0])) + 1), min(height, int(math.ceil(hi[1])) + 1)
        return x0, y0, x1, y1


def generate_sequence(seed: int, start: int, count: int, condition: str = 'day',
                      size_wh: Tuple[int, int] = CAMERA_WH, index: int = 0,
                      fps: float = 10.0) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
    """Frames `start` .. `start + count - 1` of drive `index`; see SceneGenerator."""
    return SceneGenerator(seed, size_wh).generate_sequence(index, count, condition, start=start,
                                                           fps=fps)
