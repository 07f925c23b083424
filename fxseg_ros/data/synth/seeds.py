# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The generator seeds and scene indices behind the demo model (fxseg_ros/assets/MODEL_CARD.md).

The demo model was trained on scenes 0 .. TRAINING_FRAMES - 1 of `SceneGenerator(TRAINING_SEED)`
per lighting condition and measured on scenes of `SceneGenerator(HELDOUT_SEED)`. `fxseg synth`
writes held-out scenes by default and warns when asked for training scenes, so the demo model
is never evaluated on frames it was trained on without a word.
"""

from typing import Sequence

#: Seed of the demo model's training frames (`fxseg train --data-seed` default).
TRAINING_SEED = 0
#: Training frames per lighting condition: scene indices 0 .. TRAINING_FRAMES - 1.
TRAINING_FRAMES = 400
#: Seed of the held-out frames (`fxseg train --eval-seed`, `fxseg synth --seed` defaults).
HELDOUT_SEED = 1000


def overlaps_training(seed: int, first_index: int, count: int) -> bool:
    """Return True when scenes first_index .. first_index + count - 1 of `seed` are in training."""
    return seed == TRAINING_SEED and count > 0 and first_index < TRAINING_FRAMES \
        and first_index + count > 0


def training_overlap_warning(seed: int, first_index: int, count: int,
                             conditions: Sequence[str]) -> str:
    """Return the warning printed when a request reproduces training scenes ('' when not)."""
    if not overlaps_training(seed, first_index, count):
        return ''
    last = min(first_index + count, TRAINING_FRAMES) - 1
    return ("scenes %d..%d of seed %d (%s) are the demo model's training frames: accuracy "
            'measured on them is not held-out accuracy; use another --seed (default %d) for '
            'evaluation data' % (max(first_index, 0), last, seed, ','.join(conditions),
                                 HELDOUT_SEED))
