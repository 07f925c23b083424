# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Message stamps as integer nanoseconds: builtin_interfaces/Time (sec, nanosec) <-> ns.

One definition for the node, the bag reader / writer and the tools; plain integers, so it works
with rclpy messages, rosbags messages and anything with `sec` / `nanosec` fields. Python 3.6
compatible (runtime path).
"""

from typing import Tuple

NS_PER_S = 1000000000


def stamp_to_ns(stamp) -> int:
    """Return a builtin_interfaces/Time (fields sec, nanosec) as integer nanoseconds."""
    return int(stamp.sec) * NS_PER_S + int(stamp.nanosec)


def ns_to_sec_nanosec(ns: int) -> Tuple[int, int]:
    """Split integer nanoseconds into the (sec, nanosec) fields of a builtin_interfaces/Time."""
    sec, nanosec = divmod(int(ns), NS_PER_S)
    return sec, nanosec
