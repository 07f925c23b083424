# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Live evaluation's scoring.

The bag is played into the node (`fxseg_ros.ros.live`) and each mask is scored here as it
arrives, with the same accumulator and model description as the offline replay.
"""

from __future__ import annotations

from typing import Dict, Optional, Sequence

from fxseg_ros.eval.models import describe_model
from fxseg_ros.metrics.accumulate import AccuracyAccumulator
from fxseg_ros.metrics.defaults import DEFAULT_MAX_PIXELS, DEFAULT_SMALL_CLASSES


def evaluate_live(bag: str, model: Optional[str] = None, precision: Optional[str] = None,
                  small_max_pixels: int = DEFAULT_MAX_PIXELS,
                  small_classes: Sequence[int] = DEFAULT_SMALL_CLASSES,
                  **live_options) -> Dict[str, object]:
    """
    Play `bag` into segmentation_node running `model`; return the metrics.json run entry.

    live_options: the other `fxseg_ros.ros.live.LiveOptions` fields (rate, threads, connect,
    topics, ...). The entry gets the accuracy of the masks against the bag's ground truth,
    and the model's precision and weight bytes as the offline runs report them.
    """
    from fxseg_ros.ros.live import LiveOptions, run_live

    accuracy = AccuracyAccumulator(small_max_pixels=small_max_pixels,
                                   small_classes=small_classes)
    result = run_live(LiveOptions(bag, model=model, precision=precision, score=accuracy.update,
                                  **live_options))
    info = describe_model(model, precision) if model else {}
    result.update(accuracy=accuracy.compute(), precision=info.get('precision', precision),
                  weight_bytes=info.get('weight_bytes'))
    return result
