# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The one place ONNX Runtime sessions are made.

The runner, calibration, the quantization report, export checks and evaluation all get their
`InferenceSession` from `make_session`.

Options, as tuned for the 2-core embedded CPU case: intra-op threads as given (0: ONNX Runtime's
default, one per physical core), inter-op 1 and sequential execution (the graphs are chains;
parallel execution only adds overhead), the CPU memory arena on (the same tensor sizes every
call), warnings and errors only in the log.

A leaf module: it imports nothing from fxseg_ros (the import contract in `.importlinter` holds
it to that), so the quantization and model layers may use it without depending on the runtime
layer. onnxruntime is imported when a session is made. Python 3.6 compatible (runtime path).
"""

import os
from typing import Dict, Optional, Sequence, Union

CPU_PROVIDER = 'CPUExecutionProvider'
#: Graph optimisation levels by name.
LEVELS = ('disable', 'basic', 'extended', 'all')
#: Session config that keeps int8 x int8 kernels on x86 (no conversion of int8 activations to
#: uint8): exact int32 accumulation like dp4a, but much slower there (see `fxseg_ros.quant.mac`).
EXACT_INT8_CONFIG = {'session.qdqisint8allowed': '1'}


def _level(ort, name: str):
    levels = ort.GraphOptimizationLevel
    return {'disable': levels.ORT_DISABLE_ALL, 'basic': levels.ORT_ENABLE_BASIC,
            'extended': levels.ORT_ENABLE_EXTENDED, 'all': levels.ORT_ENABLE_ALL}[name]


def make_session(model, threads: int = 0, providers: Optional[Sequence] = None,
                 level: str = 'all', optimized_path: Optional[Union[str, os.PathLike]] = None,
                 config: Optional[Dict[str, str]] = None, profile_prefix: Optional[str] = None):
    """
    Create an ONNX Runtime session.

    model: a path (str / os.PathLike), serialized model bytes, or an onnx.ModelProto.
    threads: intra-op threads (0: ONNX Runtime's default). providers: execution providers as
    onnxruntime takes them (names or (name, options) pairs; default the CPU provider).
    level: graph optimisation, one of LEVELS. optimized_path: where ONNX Runtime writes the
    graph after its optimisations. config: session config entries, e.g. EXACT_INT8_CONFIG.
    profile_prefix: turn ONNX Runtime's profiler on, its JSON written under this prefix.
    Errors are ONNX Runtime's own; callers turn them into their messages.
    """
    import onnxruntime as ort

    if level not in LEVELS:
        raise ValueError('level must be one of %s, got %r' % (', '.join(LEVELS), level))
    options = ort.SessionOptions()
    options.graph_optimization_level = _level(ort, level)
    options.intra_op_num_threads = int(threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.enable_cpu_mem_arena = True
    options.log_severity_level = 3
    if optimized_path:
        options.optimized_model_filepath = str(optimized_path)
    for key, value in (config or {}).items():
        options.add_session_config_entry(key, value)
    if profile_prefix:
        options.enable_profiling = True
        options.profile_file_prefix = str(profile_prefix)
    if isinstance(model, (str, os.PathLike)):
        source = str(model)
    elif isinstance(model, (bytes, bytearray)):
        source = bytes(model)
    else:
        source = model.SerializeToString()
    return ort.InferenceSession(source, sess_options=options,
                                providers=list(providers) if providers else [CPU_PROVIDER])
