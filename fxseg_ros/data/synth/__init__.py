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

Modules: `canvas` (random streams, camera, canvas), `lighting`, `layout` (the scene in road
coordinates), `drawing` / `furniture` / `road_users` / `render` (the renderers), `shapes`
(classes, palettes, outlines), `generator` (SceneGenerator) and `writer` (Cityscapes layout).
The package stays importable on Python 3.6 (the runtime tests draw frames from it).
"""

from fxseg_ros.data.synth.generator import generate_sequence, SceneGenerator
from fxseg_ros.data.synth.shapes import RENDERED_CLASSES
from fxseg_ros.data.synth.writer import SPLIT_INDEX_BASE, write_cityscapes

__all__ = ['generate_sequence', 'RENDERED_CLASSES', 'SceneGenerator', 'SPLIT_INDEX_BASE',
           'write_cityscapes']
