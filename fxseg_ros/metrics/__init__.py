# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Metrics layer: streaming confusion matrices, small-object IoU, per-run accumulators and tables.

Depends only on `fxseg_ros.data` (the label set), so training, quantization, the node's live
evaluation and the reports all score and print the same way.
"""
