# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
ONNX Runtime runner: the embedded default (CPU).

CUDA / TensorRT execution providers where onnxruntime-gpu is installed.

Session options, as tuned for the 2-core embedded CPU case:
- graph optimisation level ORT_ENABLE_ALL (constant folding, Conv+Relu fusion, NCHWc layout);
- intra-op threads as given (0: ONNX Runtime's default, one per physical core), inter-op 1 and
  sequential execution (the deployment graph is a chain; parallel execution only adds overhead);
- the CPU memory arena on (the same tensor sizes every frame, so the arena serves every call
  after the first without a malloc).
The optimised graph is written to a cache directory, keyed by the model bytes, the ONNX Runtime
version, the providers and the CPU, and later sessions load it with ORT_ENABLE_BASIC so they skip
the full optimisation pass (only for the CPU provider: graphs optimised for GPU providers hold
provider-specific nodes). Measured on the 2-core development machine with a 14 MB FCN-AlexNet
x0.25 graph: session start 0.16 s without, 0.10 s with the cached graph (medians of 8), identical
labels and no inference-time difference; for tiny graphs it makes no measurable difference.
"""


import hashlib
import logging
import os
from pathlib import Path
import platform
import tempfile
import time
from typing import List, Optional, Sequence, Tuple, Union

from fxseg_ros.runtime.base import Runner, RunnerError
from fxseg_ros.runtime.paths import default_cache_dir
from fxseg_ros.runtime.session import CPU_PROVIDER, make_session
import numpy as np

LOG = logging.getLogger(__name__)

#: Short names accepted for execution providers.
PROVIDER_ALIASES = {
    'cpu': CPU_PROVIDER,
    'cuda': 'CUDAExecutionProvider',
    'tensorrt': 'TensorrtExecutionProvider',
    'trt': 'TensorrtExecutionProvider',
}
_GPU_HINT = ('CUDA and TensorRT execution providers come with the onnxruntime-gpu package '
             '(pip uninstall onnxruntime && pip install onnxruntime-gpu, matching your CUDA '
             "version; on Jetson, NVIDIA's onnxruntime-gpu wheel for your JetPack)")

ProviderSpec = Union[str, Tuple[str, dict]]


#: First ONNX Runtime whose CPU Resize handles channels-last (NHWC) float tensors: the NHWC
#: bilinear path of microsoft/onnxruntime#10554 / #10824 (1.11); 1.10 (the last release for
#: Python 3.6) resizes them as if they were NCHW. 1.12 to keep clear of #12019 (1.11.1).
CHANNELS_LAST_RESIZE = (1, 12)


def channels_last_resize_ok(version: Optional[str] = None) -> bool:
    """Whether this ONNX Runtime may run the deployment graph's channels-last upscore."""
    from fxseg_ros.runtime.metadata import version_tuple

    if version is None:
        import onnxruntime as ort

        version = ort.__version__
    return version_tuple(version)[:2] >= CHANNELS_LAST_RESIZE


def normalize_providers(providers: Optional[Sequence[ProviderSpec]]) -> List[ProviderSpec]:
    """
    Expand aliases ('cpu', 'cuda', 'tensorrt') and default to the CPU provider.

    Entries are provider names or (name, options dict) pairs, as onnxruntime takes them.
    """
    if providers is None:
        return [CPU_PROVIDER]
    if isinstance(providers, str):
        providers = [p.strip() for p in providers.split(',') if p.strip()]
    out: List[ProviderSpec] = []
    for entry in providers:
        if isinstance(entry, (tuple, list)):
            name, options = entry[0], dict(entry[1])
            out.append((PROVIDER_ALIASES.get(name.lower(), name), options))
        else:
            out.append(PROVIDER_ALIASES.get(str(entry).lower(), str(entry)))
    if not out:
        raise RunnerError('the providers list is empty; give at least %s' % CPU_PROVIDER)
    return out


def provider_names(providers: Sequence[ProviderSpec]) -> List[str]:
    return [p[0] if isinstance(p, tuple) else p for p in providers]


def check_providers(requested: Sequence[str], available: Sequence[str]) -> None:
    """Raise RunnerError naming the missing providers, the available ones and where to get more."""
    missing = [p for p in requested if p not in available]
    if missing:
        hint = ''
        if any(p in ('CUDAExecutionProvider', 'TensorrtExecutionProvider') for p in missing):
            hint = '. ' + _GPU_HINT
        raise RunnerError('execution provider(s) %s not available in this onnxruntime '
                          '(available: %s)%s' % (', '.join(missing), ', '.join(available), hint))


def _cpu_signature() -> str:
    """Describe the CPU, since ORT_ENABLE_ALL graphs hold layouts picked for its vector width."""
    model = ''
    try:
        with open('/proc/cpuinfo', 'r') as f:
            for line in f:
                if line.startswith(('model name', 'Model', 'CPU part')):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        model = platform.processor()
    return '%s/%s' % (platform.machine(), model)


def cache_key(model_bytes: bytes, providers: Sequence[str], ort_version: str) -> str:
    """Return the file-name key of an optimised graph (hex, 24 chars)."""
    h = hashlib.sha256()
    h.update(model_bytes)
    h.update(('\0%s\0%s\0%s' % (ort_version, ','.join(providers), _cpu_signature())).encode())
    return h.hexdigest()[:24]


class OnnxRuntimeRunner(Runner):
    """
    Run a deployment graph (or a bare graph, wrapped on load) with ONNX Runtime.

    model: path to an ONNX file or an onnx.ModelProto; a bare network graph is wrapped into the
        deployment graph for camera_hw / output.
    providers: execution providers (names, aliases 'cpu' / 'cuda' / 'tensorrt', or
        (name, options) pairs); default the CPU provider.
    threads: intra-op threads, 0 for ONNX Runtime's default.
    cache_dir: where optimised graphs are kept (default `default_cache_dir()`); use_cache=False
        turns the cache off.
    """

    backend = 'onnxruntime'

    def __init__(self, model, camera_hw: Tuple[int, int] = (720, 1280), output: str = 'camera',
                 providers: Optional[Sequence[ProviderSpec]] = None, threads: int = 0,
                 cache_dir: Optional[Union[str, os.PathLike]] = None, use_cache: bool = True,
                 name: Optional[str] = None):
        super().__init__(name)
        if int(threads) < 0:
            raise ValueError('threads must be >= 0 (0: ONNX Runtime default), got %d' % threads)
        self.model = model
        self.camera_hw = (int(camera_hw[0]), int(camera_hw[1]))
        self.output = output
        self.providers = normalize_providers(providers)
        self.threads = int(threads)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.use_cache = bool(use_cache)
        self.session = None
        self.input_name: Optional[str] = None
        self.output_name: Optional[str] = None
        #: Whether the graph takes float32 frames (a float_io export); frames are cast on the host.
        self.float_input = False
        #: Path of the cached optimised graph this session used or wrote (None without a cache).
        self.cached_model_path: Optional[Path] = None
        #: True when the session was created from a cached optimised graph.
        self.cache_hit = False
        #: Seconds activate() took to create the session.
        self.load_seconds = 0.0

    # Loading ------------------------------------------------------------------------------
    def _model_bytes(self) -> bytes:
        from fxseg_ros.model import deploy

        try:
            model = deploy.ensure_deployment_graph(self.model, camera_hw=self.camera_hw,
                                                   output=self.output,
                                                   channels_last=channels_last_resize_ok())
        except deploy.DeploymentGraphError as exc:
            raise RunnerError(str(exc)) from exc
        return model.SerializeToString()

    def _create(self, source, level, optimized_path: Optional[str] = None):
        return make_session(source, threads=self.threads, providers=self.providers,
                            level=level, optimized_path=optimized_path)

    def activate_impl(self) -> None:
        import onnxruntime as ort

        start = time.perf_counter()
        check_providers(provider_names(self.providers), ort.get_available_providers())
        model_bytes = self._model_bytes()
        names = provider_names(self.providers)
        cacheable = self.use_cache and names == [CPU_PROVIDER]
        full = 'all'
        self.cache_hit = False
        self.cached_model_path = None
        session = None
        if cacheable:
            key = cache_key(model_bytes, names, ort.__version__)
            path = self.cache_dir / 'ort' / ('%s.onnx' % key)
            self.cached_model_path = path
            if path.is_file():
                try:
                    session = self._create(str(path), 'basic')
                    self.cache_hit = True
                    LOG.debug('loaded the optimised graph from %s', path)
                except Exception as exc:  # a truncated or stale cache file: rebuild it
                    LOG.warning('ignoring the unreadable cached graph %s (%s); re-optimising',
                                path, exc)
                    session = None
            if session is None:
                session = self._create_and_cache(model_bytes, path, full)
        if session is None:
            session = self._create_checked(model_bytes, full)
        self.session = session
        inputs, outputs = session.get_inputs(), session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1:
            raise RunnerError('expected a deployment graph with one input and one output, got '
                              '%d and %d' % (len(inputs), len(outputs)))
        self.input_name, self.output_name = inputs[0].name, outputs[0].name
        self.float_input = inputs[0].type == 'tensor(float)'
        in_shape, out_shape = inputs[0].shape, outputs[0].shape
        self.input_hw = (int(in_shape[1]), int(in_shape[2]))
        self.output_hw = (int(out_shape[1]), int(out_shape[2]))
        self.max_batch = in_shape[0] if isinstance(in_shape[0], int) else None
        self.load_seconds = time.perf_counter() - start
        LOG.info('ONNX Runtime %s session on %s (threads %s) ready in %.2f s%s',
                 ort.__version__, ', '.join(session.get_providers()), self.threads or 'default',
                 self.load_seconds, ' (cached optimised graph)' if self.cache_hit else '')

    def _create_checked(self, model_bytes: bytes, level, optimized_path: Optional[str] = None):
        try:
            return self._create(model_bytes, level, optimized_path)
        except Exception as exc:  # onnxruntime raises its own exception types
            raise RunnerError('ONNX Runtime cannot load %s: %s' % (self._model_label(), exc)) \
                from exc

    def _create_and_cache(self, model_bytes: bytes, path: Path, level):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(suffix='.onnx', dir=str(path.parent))
            os.close(fd)
        except OSError as exc:
            LOG.warning('optimised-graph cache %s not writable (%s); running without it',
                        path.parent, exc)
            self.cached_model_path = None
            return self._create_checked(model_bytes, level)
        try:
            session = self._create_checked(model_bytes, level, tmp)
            if os.path.getsize(tmp) > 0:
                os.replace(tmp, str(path))
                LOG.debug('cached the optimised graph at %s', path)
            else:
                self.cached_model_path = None
            return session
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def _model_label(self) -> str:
        if isinstance(self.model, (str, os.PathLike)):
            return str(self.model)
        return 'the model'

    def deactivate_impl(self) -> None:
        self.session = None

    # Inference ----------------------------------------------------------------------------
    def infer_impl(self, frames: np.ndarray) -> np.ndarray:
        host_pre = 0.0
        if self.float_input:
            t0 = time.perf_counter()
            frames = frames.astype(np.float32)
            host_pre = (time.perf_counter() - t0) * 1e3
        t0 = time.perf_counter()
        labels = self.session.run([self.output_name], {self.input_name: frames})[0]
        t1 = time.perf_counter()
        timings = {'upload': 0.0, 'inference': (t1 - t0) * 1e3, 'download': 0.0}
        if labels.dtype != np.uint8:
            labels = labels.astype(np.uint8)
            timings['host_post'] = (time.perf_counter() - t1) * 1e3
        if self.float_input:
            timings['host_pre'] = host_pre
        self.last_timings = timings
        return labels
