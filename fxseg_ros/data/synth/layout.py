# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Scene layout in road coordinates, drawn from one random stream.

Lanes, markings, sidewalks, buildings, vegetation, street furniture, traffic and pedestrians.
"""

import math
from typing import List, Tuple

from fxseg_ros.data.synth.canvas import jitter, Rand, scaled_color
from fxseg_ros.data.synth.lighting import Lighting
from fxseg_ros.data.synth.shapes import (BUILDING_COLORS, CAR_COLORS, CLOTHES, PANTS, ROAD,
                                         SIDEWALK, SKIN, TERRAIN, TRUCK_COLORS)
import numpy as np


class Scene:
    """A road scene in road coordinates; rendered at any ego position along the road."""

    def __init__(self, rng: Rand, condition: str, s_hi: float, ego_speed: float,
                 signals: bool = False):
        self.condition = condition
        self.signals = signals
        self.light = Lighting(rng, condition)
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
    def _layout_road(self, rng: Rand) -> None:
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
        self.road_color = scaled_color((road, road, road * rng.uniform(0.98, 1.06)))
        self.sidewalk_color = {}
        for side in (-1, 1):
            if rng.random() < 0.6:
                g = rng.uniform(140, 185)
                self.sidewalk_color[side] = scaled_color((g * 0.97, g, g * 1.02))
            else:   # brick / red paving
                self.sidewalk_color[side] = jitter(rng, (110, 125, 170), 0.08)
        self.terrain_color = jitter(rng, (60, 150, 130), 0.1)
        self.marking_color = scaled_color((225, 228, 230), rng.uniform(0.8, 1.0))
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

    def _layout_background(self, rng: Rand) -> None:
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
                                        jitter(rng, BUILDING_COLORS[
                                            int(rng.integers(len(BUILDING_COLORS)))])))
            else:
                h = rng.uniform(5.0, 16.0)
                self.background.append(('trees', lat, width, h, dist + rng.uniform(0, 40),
                                        jitter(rng, (45, 95, 60), 0.15)))
            lat += width * rng.uniform(0.7, 1.0)

    def _layout_side(self, rng: Rand, side: int, s_hi: float) -> None:
        """Lay out everything beside the road on one side, in a fixed order of random draws."""
        self._layout_buildings(rng, side, s_hi)
        self._layout_verge_and_fences(rng, side, s_hi)
        self._layout_curb(rng, side, s_hi)

    def _layout_buildings(self, rng: Rand, side: int, s_hi: float) -> None:
        """Place buildings (urban) or woods (rural) beyond the building line."""
        line = self.lateral(side, 'building')
        s = rng.uniform(-30.0, 10.0)
        while s < s_hi:
            length = rng.uniform(10.0, 40.0)
            if self.urban[side] and rng.random() < 0.85:
                height = rng.uniform(7.0, 32.0) if rng.random() < 0.8 else rng.uniform(30, 55)
                depth = rng.uniform(10.0, 20.0)
                inner = line + side * rng.uniform(0.0, 1.5)
                color = jitter(rng, BUILDING_COLORS[int(rng.integers(len(BUILDING_COLORS)))])
                window = (rng.uniform(2.5, 4.5), rng.uniform(3.0, 3.8), rng.uniform(0.35, 0.6),
                          rng.uniform(0.4, 0.65))
                glass = jitter(rng, (120, 105, 90) if rng.random() < 0.6 else (70, 60, 55))
                self.objects.append({
                    'kind': 'building', 'layer': 1, 's0': s, 's1': s + length, 'inner': inner,
                    'outer': inner + side * depth, 'side': side, 'height': height,
                    'color': color, 'window': window, 'glass': glass,
                    'shop': rng.random() < 0.5, 'lit_seed': int(rng.integers(1 << 30))})
            else:
                for _ in range(int(length / rng.uniform(4.0, 8.0)) + 1):
                    self._add_tree(rng, s + rng.uniform(0, length),
                                   line + side * rng.uniform(0.5, 6.0), layer=1)
            s += length + (rng.uniform(2.0, 15.0) if rng.random() < 0.35 else 0.0)

    def _layout_verge_and_fences(self, rng: Rand, side: int, s_hi: float) -> None:
        """Place trees on the verge, fences and hedges on the outer sidewalk edge."""
        walk = self.lateral(side, 'sidewalk')
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
                self.objects.append({
                    'kind': 'fence', 'layer': 3, 's0': s, 's1': s + length,
                    'lat': walk - side * 0.1, 'side': side, 'height': rng.uniform(1.0, 2.0),
                    'color': jitter(rng, (110, 115, 110) if rng.random() < 0.6
                                    else (70, 100, 130), 0.15),
                    'post': rng.uniform(1.8, 3.0)})
            elif r < 0.36:
                self.objects.append({
                    'kind': 'hedge', 'layer': 3, 's0': s, 's1': s + length,
                    'lat': walk - side * 0.1, 'side': side, 'height': rng.uniform(0.8, 1.6),
                    'width': rng.uniform(0.6, 1.2), 'color': jitter(rng, (40, 95, 45))})
            s += length + rng.uniform(5.0, 40.0)

    def _layout_curb(self, rng: Rand, side: int, s_hi: float) -> None:
        """Place street lamps, street trees, signs, traffic lights and parked cars at the curb."""
        curb = self.lateral(side, 'curb')
        if rng.random() < 0.85:
            s = rng.uniform(-10.0, 15.0)
            spacing = rng.uniform(22.0, 40.0)
            height = rng.uniform(6.0, 9.0)
            color = jitter(rng, (95, 100, 100) if rng.random() < 0.6 else (60, 80, 60), 0.2)
            width = rng.uniform(0.5, 0.7)
            while s < s_hi:
                self.objects.append({
                    'kind': 'lamp', 'layer': 4, 's': s, 'lat': curb + side * 0.6, 'side': side,
                    'height': height, 'width': width, 'arm': rng.uniform(1.2, 2.8),
                    'color': color})
                s += spacing
        if rng.random() < 0.4:
            s = rng.uniform(0.0, 20.0)
            while s < s_hi:
                self._add_tree(rng, s, curb + side * rng.uniform(0.8, 1.2), layer=4, street=True)
                s += rng.uniform(10.0, 20.0)
        for _ in range(int(rng.integers(1, 4))):
            self._add_sign(rng, rng.uniform(6.0, 50.0), curb + side * rng.uniform(0.5, 1.0), side)
        # Traffic lights at an intersection-like spot.
        if self.signals and rng.random() < 0.35:
            self.objects.append({
                'kind': 'signal', 'layer': 4, 's': rng.uniform(12.0, 60.0),
                'lat': curb + side * 0.7, 'side': side,
                'height': rng.uniform(2.6, 3.6), 'state': int(rng.integers(3)),
                'over': rng.random() < 0.5, 'arm': rng.uniform(3.0, 6.0),
                'color': jitter(rng, (40, 40, 40), 0.3), 'plate': rng.random() < 0.5})
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
        self.objects.append({'kind': 'tree', 'layer': layer, 's': s, 'lat': lat, 'trunk': trunk,
                             'radius': radius, 'blobs': blobs,
                             'color': jitter(rng, (40, 105, 55) if rng.random() < 0.7
                                             else (35, 120, 95), 0.15),
                             'bark': jitter(rng, (45, 60, 80), 0.2)})

    def _add_sign(self, rng, s, lat, side) -> None:
        shape = rng.choice(('circle', 'circle', 'triangle', 'rect', 'octagon', 'diamond'))
        self.objects.append({'kind': 'sign', 'layer': 4, 's': s, 'lat': lat, 'side': side,
                             'shape': shape, 'size': rng.uniform(1.2, 1.7),
                             'height': rng.uniform(2.0, 2.8), 'pole': rng.uniform(0.3, 0.45),
                             'style': int(rng.integers(3)), 'second': rng.random() < 0.25})

    def _add_vehicle(self, rng, s, lat, direction, speed, truck) -> None:
        if truck:
            w, length = rng.uniform(2.35, 2.55), rng.uniform(6.5, 10.0)
            obj = {'kind': 'truck', 'width': w, 'length': length, 'height': rng.uniform(3.0, 3.9),
                   'color': jitter(rng, TRUCK_COLORS[int(rng.integers(len(TRUCK_COLORS)))]),
                   'cab': jitter(rng, TRUCK_COLORS[int(rng.integers(len(TRUCK_COLORS)))])}
        else:
            w, length = rng.uniform(1.7, 1.95), rng.uniform(3.9, 4.9)
            tall = rng.random() < 0.25
            obj = {'kind': 'car', 'width': w, 'length': length,
                   'body': rng.uniform(0.85, 1.0) + (0.15 if tall else 0.0),
                   'roof': rng.uniform(1.38, 1.52) + (0.25 if tall else 0.0),
                   'cabin': (rng.uniform(0.18, 0.3), rng.uniform(0.68, 0.8)),
                   'color': jitter(rng, CAR_COLORS[int(rng.integers(len(CAR_COLORS)))], 0.08)}
        obj.update(layer=4, s=s, lat=lat, direction=direction, speed=speed)
        self.objects.append(obj)

    def _layout_traffic(self, rng: Rand, s_hi: float) -> None:
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

    def _layout_people(self, rng: Rand, s_hi: float) -> None:
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
                self.objects.append({
                    'kind': 'person', 'layer': 4, 's': s + g * rng.uniform(-0.6, 0.6),
                    'lat': lat + (g - 0.5 * (group - 1)) * rng.uniform(0.45, 0.7) * (
                        1 if view == 'front' else 0),
                    'height': rng.uniform(1.55, 1.92), 'view': view, 'vel': vel,
                    'phase': rng.uniform(0, 2 * math.pi),
                    'skin': SKIN[int(rng.integers(len(SKIN)))],
                    'shirt': jitter(rng, CLOTHES[int(rng.integers(len(CLOTHES)))]),
                    'pants': jitter(rng, PANTS[int(rng.integers(len(PANTS)))]),
                    'hair': jitter(rng, (25, 30, 40) if rng.random() < 0.7 else (60, 110, 150)),
                    'bag': rng.random() < 0.3, 'width': rng.uniform(1.0, 1.3)})
