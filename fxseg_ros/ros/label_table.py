# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The label table a segmentation node publishes: class names and display colours by label ID.

Plain Python (no rclpy). The default is the 19 Cityscapes train IDs of `fxseg_ros.data.labels`;
a YAML file can replace it:

    labels:
      - {id: 0, name: road, color: [128, 64, 128]}
      - {id: 1, name: sidewalk, color: [244, 35, 232]}
"""


from typing import List, NamedTuple, Optional

from fxseg_ros.data.labels import CITYSCAPES_CLASSES, IGNORE_LABEL
import numpy as np
import yaml


class LabelTable(NamedTuple):
    """Class names and RGB colours indexed by label ID (IDs without a class: '' and black)."""

    names: List[str]
    colors_rgb: List[List[int]]
    ignore_label: int = IGNORE_LABEL

    def palette(self) -> np.ndarray:
        """Shape: (256, 3), uint8, RGB; labels outside the table map to black."""
        table = np.zeros((256, 3), dtype=np.uint8)
        table[:len(self.colors_rgb)] = np.asarray(self.colors_rgb, dtype=np.uint8)
        return table

    def hex_colors(self) -> List[str]:
        return ['#%02x%02x%02x' % tuple(c) for c in self.colors_rgb]

    def to_yaml(self) -> str:
        """Return the table as the YAML document published on segmentation/labels."""
        entries = [{'id': i, 'name': n, 'color': list(c)}
                   for i, (n, c) in enumerate(zip(self.names, self.colors_rgb)) if n]
        return yaml.safe_dump({'labels': entries, 'ignore_label': self.ignore_label},
                              sort_keys=False, default_flow_style=None)


def cityscapes_table() -> LabelTable:
    return LabelTable([c.name for c in CITYSCAPES_CLASSES],
                      [list(c.color_rgb) for c in CITYSCAPES_CLASSES])


def load_label_table(path: Optional[str] = None) -> LabelTable:
    """
    Read a label table YAML file (see the module docstring); None or '' gives Cityscapes.

    Raises ValueError naming the entry that is wrong (missing name, ID outside 0..254, colour
    that is not three values in 0..255, duplicate ID).
    """
    if not path:
        return cityscapes_table()
    with open(path, 'r', encoding='utf-8') as f:
        doc = yaml.safe_load(f)
    entries = doc.get('labels') if isinstance(doc, dict) else doc
    if not isinstance(entries, list) or not entries:
        raise ValueError('%s: expected a list of {id, name, color} under `labels`' % path)
    by_id = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or 'name' not in entry:
            raise ValueError('%s: entry %d has no name: %r' % (path, i, entry))
        label_id = entry.get('id', i)
        if not isinstance(label_id, int) or not 0 <= label_id < IGNORE_LABEL:
            raise ValueError('%s: entry %d: id %r is not in 0..%d'
                             % (path, i, label_id, IGNORE_LABEL - 1))
        if label_id in by_id:
            raise ValueError('%s: id %d is listed twice' % (path, label_id))
        color = entry.get('color', [0, 0, 0])
        if (not isinstance(color, (list, tuple)) or len(color) != 3
                or not all(isinstance(v, int) and 0 <= v <= 255 for v in color)):
            raise ValueError('%s: entry %d: color %r is not [r, g, b] in 0..255'
                             % (path, i, color))
        by_id[label_id] = (str(entry['name']), list(color))
    size = max(by_id) + 1
    names = [by_id.get(i, ('', [0, 0, 0]))[0] for i in range(size)]
    colors = [by_id.get(i, ('', [0, 0, 0]))[1] for i in range(size)]
    return LabelTable(names, colors)
