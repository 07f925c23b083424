# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Street furniture and buildings.

Facades with windows, trees, fences, hedges, street lamps, traffic signs and traffic lights.
"""

import math

from fxseg_ros.data.synth.canvas import fixed_point, ONE, scaled_color, Z_NEAR
from fxseg_ros.data.synth.drawing import Drawing
from fxseg_ros.data.synth.shapes import (BAR, BUILDING, DIAMOND, FENCE, MARK, OCTAGON, PANEL, POLE,
                                         TEXT, TRAFFIC_LIGHT, TRAFFIC_SIGN, TRIANGLE, VEGETATION)
import numpy as np


class StreetFurniture(Drawing):
    """Renderers of the static objects beside the road."""

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
        s_start = max(s0, Z_NEAR + 1.0)
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
                self.canvas.add_emissive(list(fixed_point(quads[lit])), (120, 200, 240))
            else:
                self.canvas.fill_many(quads, None, glass)
        if b['shop']:
            quad = self.cam.project(np.array((s_start, s1, s1, s_start)), lat,
                                    np.array((0.3, 0.3, 2.8, 2.8)))
            self.canvas.fill(quad, None, self.light.haze(scaled_color(b['glass'], 0.7), s_start))

    def _draw_tree(self, tr) -> None:
        s = self.rel(tr['s'])
        if s < Z_NEAR + 0.3:
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
                          scaled_color(fe['color'], 0.8), faces=True)
        if faces is None:
            return
        col = faces['color']
        s_start = max(s0, Z_NEAR + 0.5)
        if s1 <= s_start:
            return
        posts = np.arange(math.ceil(s_start / fe['post']) * fe['post'], s1, fe['post'])
        n = len(posts)
        if n:
            quads = self.cam.project(np.stack([posts, posts + 0.08, posts + 0.08, posts], 1),
                                     lat, np.tile((0.0, 0.0, h, h), (n, 1)))
            self.canvas.fill_many(quads, None, scaled_color(col, 1.35))
        for ya, yb in ((h - 0.08, h), (h * 0.45, h * 0.45 + 0.06)):
            quad = self.cam.project(np.array((s_start, s1, s1, s_start)), lat,
                                    np.array((ya, ya, yb, yb)))
            self.canvas.fill(quad, None, scaled_color(col, 1.3))

    def _draw_hedge(self, he) -> None:
        side = he['side']
        lat = he['lat']
        l0, l1 = sorted((lat, lat + side * he['width']))
        self._box(self.rel(he['s0']), self.rel(he['s1']), l0, l1, 0.0, he['height'],
                  VEGETATION, he['color'], shade=(1.0, 0.75, 0.75, 1.25))

    def _draw_lamp(self, lp) -> None:
        s = self.rel(lp['s'])
        if s < Z_NEAR + 0.3:
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
        head = self._quad(s, h0, h1, h - 0.42, h - 0.12, POLE, scaled_color(lp['color'], 0.8))
        if head is not None and self.light.lamps > 0:
            bottom = self.cam.project(np.array((s - 0.05, s - 0.05, s + 0.3, s + 0.3)),
                                      np.array((h0 + 0.05, h1 - 0.05, h1 - 0.05, h0 + 0.05)),
                                      h - 0.4)
            self.canvas.add_emissive([fixed_point(bottom)], (200, 235, 255))
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
        if s < Z_NEAR + 0.5:
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
                canvas.fill(poly(BAR, 1.0), None, haze(white, s))
            elif style == 2:
                canvas.fill(poly(BAR, 1.2), None, haze(red, s))
            else:
                canvas.disc(c, r * 0.3, None, haze(black, s))
        elif shape == 'triangle':
            canvas.fill(poly(TRIANGLE, 1.0), TRAFFIC_SIGN, haze(red, s))
            if detail:
                canvas.fill(poly(TRIANGLE, 0.62) + np.array((0, 0.06 * r)), None,
                            haze(white, s))
                canvas.fill(poly(MARK, 1.0), None, haze(black, s))
        elif shape == 'octagon':
            canvas.fill(poly(OCTAGON, 1.0), TRAFFIC_SIGN, haze(white, s))
            canvas.fill(poly(OCTAGON, 0.88), None, haze(red, s))
            if detail:
                canvas.fill(poly(BAR, 1.1), None, haze(white, s))
        elif shape == 'diamond':
            canvas.fill(poly(DIAMOND, 1.0), TRAFFIC_SIGN, haze(white, s))
            canvas.fill(poly(DIAMOND, 0.7), None, haze(yellow, s))
        else:
            back = (blue, green, white)[style]
            canvas.fill(poly(PANEL, 1.0), TRAFFIC_SIGN, haze(white, s))
            canvas.fill(poly(PANEL, 0.9), None, haze(back, s))
            if detail:
                canvas.fill(poly(TEXT, 1.0), None, haze(black if style == 2 else white, s))

    def _draw_signal(self, sg) -> None:
        s = self.rel(sg['s'])
        if s < Z_NEAR + 0.5:
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
        scale = self.cam.focal / max(s - 0.3, Z_NEAR)
        for k in range(3):
            c = self.cam.project(s - 0.31, hx, y0 + 1.0 - 0.4 * k)
            on = k == sg['state']
            color = colors[k] if on else scaled_color(colors[k], 0.25)
            self.canvas.disc(c, 0.13 * scale, None, self.light.haze(color, s))
            if on and self.light.car_lights > 0:
                cc = (int(round(c[0] * ONE)), int(round(c[1] * ONE)))
                self.canvas.add_emissive(('disc', cc, 0.13 * scale), colors[k])
                self.canvas.glows.append((c[0], c[1], 0.9 * scale,
                                          tuple(v / 255.0 for v in colors[k])))
