# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The lighting conditions of frames.

Synthetic scenes are rendered under them, bags log them, and evaluations report accuracy per
condition. Python 3.6 compatible (runtime path).
"""

from typing import Iterable, List

#: Lighting conditions, in the order reports list them; for Cityscapes-layout output each one
#: is a 'city' directory.
CONDITIONS = ('day', 'dusk', 'night')


def sorted_conditions(names: Iterable[str]) -> List[str]:
    """Distinct condition names in CONDITIONS order; other names (real cities) after them."""
    return sorted(set(names), key=lambda name: (CONDITIONS.index(name) if name in CONDITIONS
                                                else len(CONDITIONS), name))
