# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Engine metadata, the platform description and the load-or-rebuild decision, in pure Python.

A TensorRT engine only loads on the TensorRT version and GPU that built it ("Version tag does not
match"), and an engine silently goes stale when its ONNX model or calibration cache changes. So
every engine `E` gets a metadata file `E.json` written by the builder::

    {"schema": 1, "tensorrt_version": "8.2.1.8", "gpu": {"name": "NVIDIA Tegra X2",
     "compute_capability": [6, 2]}, "precision": "fp16", "inputs": [...], "outputs": [...],
     "source_onnx": {"path": ..., "sha256": ...}, "calibration_cache": null, ...}

and `decide_engine_action` compares it with the machine before the runner loads the engine.
Nothing here imports TensorRT, so all of it is tested on machines without a GPU.
"""


import datetime
import hashlib
import json
import os
from pathlib import Path
import shlex
from typing import List, NamedTuple, Optional, Sequence, Tuple, Union

#: Version of the metadata layout.
SCHEMA_VERSION = 1
PRECISIONS = ('fp32', 'fp16', 'int8')

PathLike = Union[str, 'os.PathLike[str]']


class MetadataError(RuntimeError):
    """Metadata is missing, unreadable or incomplete; the message says what to do."""


class Platform(NamedTuple):
    """
    What the builder and loader need to know about the machine.

    tensorrt_version: e.g. '8.2.1.8' or '10.14.1.48'.
    compute_capability: (major, minor), e.g. (6, 2) for Jetson TX2, (6, 1) for Drive PX2's dGPU.
    fast_fp16 / fast_int8: TensorRT's `builder.platform_has_fast_fp16 / _int8`.
    dla_cores: `builder.num_DLA_cores` (0 except on Xavier / Orin).
    """

    tensorrt_version: str
    gpu_name: str
    compute_capability: Tuple[int, int]
    fast_fp16: bool = True
    fast_int8: bool = True
    dla_cores: int = 0

    @property
    def tensorrt_major(self) -> int:
        return version_tuple(self.tensorrt_version)[0]


class TensorSpec(NamedTuple):
    """One engine I/O tensor: name, shape (-1 for dynamic) and numpy dtype name."""

    name: str
    shape: Tuple[int, ...]
    dtype: str

    def to_json(self) -> dict:
        return {'name': self.name, 'shape': list(self.shape), 'dtype': self.dtype}

    @classmethod
    def from_json(cls, data: dict) -> 'TensorSpec':
        return cls(str(data['name']), tuple(int(d) for d in data['shape']), str(data['dtype']))


class Decision(NamedTuple):
    """
    What to do with an engine path.

    action: 'load', 'build' (no engine yet), 'rebuild' (engine does not match) or 'error'.
    reasons: why (mismatches found, missing files); empty for a clean 'load'.
    message: the text for the log or the error, naming the command that fixes it.
    """

    action: str
    reasons: Tuple[str, ...]
    message: str


def version_tuple(version) -> Tuple[int, ...]:
    """
    Parse '8.2.1.8' -> (8, 2, 1, 8); a tuple passes through. Non-numeric parts end the tuple.

    Raises ValueError for text without a leading number.
    """
    if isinstance(version, tuple):
        return version
    out = []
    for part in str(version).split('.'):
        if not part.isdigit():
            break
        out.append(int(part))
    if not out:
        raise ValueError('not a version: %r' % (version,))
    return tuple(out)


def metadata_path(engine_path: PathLike) -> Path:
    """Return the metadata file of an engine: the engine path with '.json' appended."""
    return Path(str(os.fspath(engine_path)) + '.json')


def sha256_file(path: PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(os.fspath(path), 'rb') as f:
        while True:
            block = f.read(chunk)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def _file_record(path: Optional[PathLike]) -> Optional[dict]:
    if path is None:
        return None
    return {'path': os.path.abspath(os.fspath(path)), 'sha256': sha256_file(path)}


def make_metadata(platform: Platform, precision: str, inputs: Sequence[TensorSpec],
                  outputs: Sequence[TensorSpec], source_onnx: PathLike,
                  calibration_cache: Optional[PathLike] = None,
                  build_seconds: float = 0.0, options: Optional[dict] = None) -> dict:
    """
    Describe a freshly built engine.

    options: the build settings worth repeating in a rebuild (camera_hw, output, float_io,
        max_batch, workspace_mib, dla_core, ...); kept verbatim (JSON types).
    """
    if precision not in PRECISIONS:
        raise ValueError('precision must be one of %s, got %r' % (PRECISIONS, precision))
    from fxseg_ros import __version__

    return {
        'schema': SCHEMA_VERSION,
        'fxseg_ros_version': __version__,
        'tensorrt_version': platform.tensorrt_version,
        'gpu': {'name': platform.gpu_name,
                'compute_capability': list(platform.compute_capability)},
        'precision': precision,
        'inputs': [t.to_json() for t in inputs],
        'outputs': [t.to_json() for t in outputs],
        'source_onnx': _file_record(source_onnx),
        'calibration_cache': _file_record(calibration_cache),
        'build_time': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'build_seconds': round(float(build_seconds), 3),
        'options': dict(options or {}),
    }


def write_metadata(engine_path: PathLike, meta: dict) -> Path:
    """Write `meta` next to the engine (atomically); returns the metadata path."""
    path = metadata_path(engine_path)
    tmp = path.with_name(path.name + '.tmp')
    tmp.write_text(json.dumps(meta, indent=2, sort_keys=True) + '\n')
    os.replace(str(tmp), str(path))
    return path


_REQUIRED = ('schema', 'tensorrt_version', 'gpu', 'precision', 'inputs', 'outputs')


def read_metadata(engine_path: PathLike) -> dict:
    """
    Read and validate an engine's metadata.

    Raises MetadataError when the file is missing, not JSON, or lacks required keys.
    """
    path = metadata_path(engine_path)
    if not path.is_file():
        raise MetadataError('no metadata file %s next to the engine' % path)
    try:
        meta = json.loads(path.read_text())
    except ValueError as exc:
        raise MetadataError('metadata file %s is not valid JSON (%s)' % (path, exc)) from exc
    if not isinstance(meta, dict):
        raise MetadataError('metadata file %s does not hold a JSON object' % path)
    missing = [k for k in _REQUIRED if k not in meta]
    if missing:
        raise MetadataError('metadata file %s lacks %s' % (path, ', '.join(missing)))
    if int(meta['schema']) > SCHEMA_VERSION:
        raise MetadataError('metadata file %s has schema %s, newer than this fxseg_ros '
                            'understands (%d)' % (path, meta['schema'], SCHEMA_VERSION))
    return meta


def compatibility_problems(meta: dict, platform: Platform,
                           source_onnx: Optional[PathLike] = None,
                           calibration_cache: Optional[PathLike] = None) -> List[str]:
    """
    List why an engine described by `meta` should not run on `platform` (empty: it matches).

    Checks the TensorRT version (engines do not load across versions), the GPU's compute
    capability and name, and — when given and present — that the source ONNX and calibration
    cache still have the hashes the engine was built from.
    """
    problems = []
    built = str(meta.get('tensorrt_version'))
    if built != platform.tensorrt_version:
        problems.append('built with TensorRT %s, this machine has TensorRT %s'
                        % (built, platform.tensorrt_version))
    gpu = meta.get('gpu') or {}
    cc = tuple(gpu.get('compute_capability') or ())
    if cc != tuple(platform.compute_capability):
        problems.append('built for compute capability %s (%s), this GPU is %s (%s)'
                        % ('.'.join(map(str, cc)) or '?', gpu.get('name', '?'),
                           '.'.join(map(str, platform.compute_capability)),
                           platform.gpu_name))
    elif gpu.get('name') != platform.gpu_name:
        problems.append('built on a %s, this GPU is a %s (same compute capability, but '
                        'TensorRT tunes engines per GPU model)'
                        % (gpu.get('name'), platform.gpu_name))
    for key, path, what in (('source_onnx', source_onnx, 'ONNX model'),
                            ('calibration_cache', calibration_cache, 'calibration cache')):
        record = meta.get(key)
        if path is None or not os.path.isfile(os.fspath(path)):
            continue
        if record is None:
            if key == 'calibration_cache':
                problems.append('built without the calibration cache %s' % path)
            continue
        if record.get('sha256') != sha256_file(path):
            problems.append('the %s %s changed since the engine was built' % (what, path))
    return problems


def option_problems(meta: dict, expected: Optional[dict]) -> List[str]:
    """
    List differences between the build options recorded in `meta` and the ones wanted now.

    Compared: camera_hw and output (what the engine computes), and max_batch (the engine must
    take at least the wanted batch).
    """
    if not expected:
        return []
    built = meta.get('options') or {}
    problems = []
    if expected.get('camera_hw') is not None and built.get('camera_hw') is not None and \
            tuple(built['camera_hw']) != tuple(expected['camera_hw']):
        problems.append('built for %dx%d camera frames, %dx%d wanted'
                        % (tuple(built['camera_hw']) + tuple(expected['camera_hw'])))
    if expected.get('output') and built.get('output') and built['output'] != expected['output']:
        problems.append('built for %s-resolution labels, %s wanted'
                        % (built['output'], expected['output']))
    if expected.get('max_batch') and built.get('max_batch') and \
            int(built['max_batch']) < int(expected['max_batch']):
        problems.append('built for batches up to %d, %d wanted'
                        % (int(built['max_batch']), int(expected['max_batch'])))
    return problems


def build_command(onnx_path: Optional[PathLike], engine_path: PathLike, precision: str,
                  calibration_cache: Optional[PathLike] = None,
                  options: Optional[dict] = None) -> str:
    """Return the `fxseg build` command line that (re)builds an engine."""
    args = ['fxseg', 'build', '--model', os.fspath(onnx_path) if onnx_path else 'MODEL.onnx',
            '--precision', precision]
    if calibration_cache:
        args += ['--calibration-cache', os.fspath(calibration_cache)]
    options = options or {}
    if options.get('camera_hw') and tuple(options['camera_hw']) != (720, 1280):
        height, width = options['camera_hw']
        args += ['--camera-wh', '%dx%d' % (width, height)]
    if options.get('output') and options['output'] != 'camera':
        args += ['--output', options['output']]
    if options.get('max_batch') and int(options['max_batch']) != 1:
        args += ['--max-batch', str(int(options['max_batch']))]
    if options.get('dla_core') is not None:
        args += ['--dla-core', str(int(options['dla_core']))]
    args += ['--out', os.fspath(engine_path)]
    return ' '.join(shlex.quote(a) for a in args)


def decide_engine_action(engine_path: PathLike, platform: Platform,
                         onnx_path: Optional[PathLike] = None, precision: str = 'fp16',
                         calibration_cache: Optional[PathLike] = None,
                         build_if_missing: bool = False, rebuild_on_mismatch: bool = False,
                         options: Optional[dict] = None) -> Decision:
    """
    Decide whether to load, build or rebuild an engine, or stop with an error.

    - no engine: 'build' when build_if_missing and the ONNX model exists, else 'error';
    - engine without readable metadata: 'load' (TensorRT itself still refuses a foreign engine),
      with the reason recorded so the caller logs a warning;
    - metadata mismatching the platform, the ONNX model, the calibration cache or the wanted
      options (camera_hw, output, max_batch): 'rebuild' when
      rebuild_on_mismatch and the ONNX model exists, else 'error';
    - otherwise 'load'.
    Every message names the `fxseg build` command that fixes the problem.
    """
    engine_path = Path(os.fspath(engine_path))
    have_onnx = onnx_path is not None and os.path.isfile(os.fspath(onnx_path))
    meta = None
    if engine_path.is_file():
        try:
            meta = read_metadata(engine_path)
        except MetadataError as exc:
            return Decision('load', (str(exc),),
                            'cannot check engine %s against this machine (%s); loading it '
                            'anyway' % (engine_path, exc))
    wanted = dict(options or {})
    if meta is not None:
        precision = str(meta.get('precision', precision))
        options = dict(meta.get('options') or {}, **wanted)
    command = build_command(onnx_path, engine_path, precision, calibration_cache, options)
    if meta is None:
        reason = 'engine %s does not exist' % engine_path
        return _build_or_refuse('build', 'build_if_missing', build_if_missing, have_onnx,
                                (reason,), reason, ':', onnx_path, command)
    problems = compatibility_problems(meta, platform, onnx_path, calibration_cache)
    problems += option_problems(meta, wanted)
    if not problems:
        return Decision('load', (), 'engine %s matches this machine' % engine_path)
    summary = 'engine %s does not match: %s' % (engine_path, '; '.join(problems))
    return _build_or_refuse('rebuild', 'rebuild_on_mismatch', rebuild_on_mismatch, have_onnx,
                            tuple(problems), summary, ';', onnx_path, command)


def _build_or_refuse(action: str, setting: str, allowed: bool, have_onnx: bool,
                     reasons: Tuple[str, ...], subject: str, separator: str, onnx_path,
                     command: str) -> Decision:
    """
    Return the Decision `action` ('build' / 'rebuild') where allowed and possible, else 'error'.

    setting: the parameter that allows it (build_if_missing / rebuild_on_mismatch); subject:
    what is wrong, followed by `separator` before the action; command: the `fxseg build`
    command that fixes it.
    """
    if allowed and have_onnx:
        return Decision(action, reasons, '%s%s %sing it from %s (a first build can take minutes)'
                        % (subject, separator, action, onnx_path))
    fix = '%s it on this machine with: %s' % (action, command)
    if allowed:
        fix = '%s is set but the ONNX model %s is missing; %s' % (
            setting, onnx_path or '(none given)', fix)
    else:
        fix += ' (or set %s with the ONNX model given)' % setting
    return Decision('error', reasons, '%s; %s' % (subject, fix))
