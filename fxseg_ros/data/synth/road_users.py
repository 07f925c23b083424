# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Road users: cars and trucks (body, cabin, glass, wheels, lights, shadow), pedestrians."""

import math

from fxseg_ros.data.synth.canvas import fixed_point, scaled_color, Z_NEAR
from fxseg_ros.data.synth.drawing import Drawing
from fxseg_ros.data.synth.shapes import (BAG, CAR, FRONT_ARM_SWING, FRONT_ARMS, FRONT_LEGS,
                                         FRONT_STRIDE, FRONT_TORSO, NECK, PERSON, SIDE_ARM_SWING,
                                         SIDE_ARMS, SIDE_LEGS, SIDE_STRIDE, SIDE_TORSO, TRUCK)
import numpy as np


class RoadUsers(Drawing):
    """Renderers of the vehicles and people."""

    def _draw_car(self, car) -> None:
        s = self.rel(car['s'] + car['speed'] * self.t)
        length, w, lat = car['length'], car['width'], car['lat']
        if s + length <= Z_NEAR + 0.3:
            return
        l0, l1 = lat - w / 2, lat + w / 2
        s1 = s + length
        direction = car['direction']
        detail = w * self.cam.focal / max(s, Z_NEAR) > 24.0
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
        if s < Z_NEAR:
            return
        if detail:
            self._wheels(s, s1, l0, l1, body)
        self._lights(s, l0, l1, car['body'], direction, 0.3, detail)

    def _draw_truck(self, tr) -> None:
        s = self.rel(tr['s'] + tr['speed'] * self.t)
        length, w, lat, h = tr['length'], tr['width'], tr['lat'], tr['height']
        if s + length <= Z_NEAR + 0.3:
            return
        l0, l1 = lat - w / 2, lat + w / 2
        detail = w * self.cam.focal / max(s, Z_NEAR) > 24.0
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
                if faces is not None and detail and tr['direction'] > 0 and a > Z_NEAR:
                    door = self.cam.project(a - 0.01, np.array((lat - 0.03, lat + 0.03,
                                                                lat + 0.03, lat - 0.03)),
                                            np.array((1.0, 1.0, h, h)))
                    self.canvas.fill(door, None, scaled_color(faces['color'], 0.6))
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
        if s > Z_NEAR:
            self._lights(s, l0, l1, 1.1, tr['direction'], 0.35, detail)

    def _shadow(self, s0, s1, l0, l1) -> None:
        if s0 < Z_NEAR + 0.3:
            return
        quad = self.cam.project(np.array((s0, s0, s1, s1)), np.array((l0, l1, l1, l0)), 0.0)
        if self.cam.visible(quad):
            self.canvas.fill(quad, None, scaled_color(self.scene.road_color, 0.35))

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
        if s < Z_NEAR + 0.2:
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
            canvas.add_emissive(list(fixed_point(quads)), scaled_color(color, 1.25))
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
        if s < Z_NEAR + 1.0:
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
            legs = SIDE_LEGS + st * SIDE_STRIDE
            torso = SIDE_TORSO
            arms = SIDE_ARMS - st * SIDE_ARM_SWING
        else:
            st = 0.025 * swing
            legs = FRONT_LEGS + st * FRONT_STRIDE
            torso = FRONT_TORSO
            arms = FRONT_ARMS + st * FRONT_ARM_SWING
        canvas.fill_many(foot + legs * scale, PERSON, pants)
        canvas.fill(foot + torso * scale, PERSON, shirt)
        canvas.fill_many(foot + arms * scale, PERSON, scaled_color(shirt, 0.9))
        head = foot + np.array((0.0, 0.92)) * scale
        canvas.fill(foot + NECK * scale, PERSON, skin)
        canvas.disc(head, 0, PERSON, skin, axes=(0.062 * h * p['width'], 0.07 * h))
        if h > 24:
            canvas.disc(head - np.array((0, 0.03 * h)), 0, None, haze(p['hair'], s),
                        axes=(0.06 * h * p['width'], 0.045 * h))
        if p['bag']:
            canvas.fill(foot + BAG * scale, PERSON, haze((40, 50, 70), s))
