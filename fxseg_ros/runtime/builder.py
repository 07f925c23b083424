# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
TensorRT engine builder: deployment graph -> serialized engine + metadata file.

The public face of two modules: `build_plan` decides (builder settings per TensorRT version and
GPU, refusals with their fix, the checked graph; pure, tested without a GPU) and `trt_build`
calls TensorRT (parse, configure, calibrate, build, serialize). Neither imports this module, so
the imports point one way: builder -> trt_build -> build_plan. Importing it loads no TensorRT.
"""


from fxseg_ros.runtime.build_plan import (
    adapt_cache_header, BuildError, BuildOptions, BuildPlan, calibrator_class_name,
    CALIBRATOR_CLASSES, model_kind, needs_float_io, plan_build, precision_for_model,
    prepare_build,
)
from fxseg_ros.runtime.metadata import metadata_path
from fxseg_ros.runtime.trt_build import build_engine, current_platform

__all__ = ['adapt_cache_header', 'BuildError', 'BuildOptions', 'BuildPlan', 'build_engine',
           'calibrator_class_name', 'CALIBRATOR_CLASSES', 'current_platform', 'metadata_path',
           'model_kind', 'needs_float_io', 'plan_build', 'precision_for_model', 'prepare_build']
