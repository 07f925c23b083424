# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Held-out mIoU of a model on generated frames, per lighting condition (`fxseg train`).

The frames are `SceneGenerator(seed)` scenes 0..count-1 of each condition, with a seed other than
the training frames'; a bare ONNX graph runs on ONNX Runtime at its own input size (frames are
resized to it, as the node and `fxseg eval` do), a checkpoint in torch (through
`fxseg_ros.model.train`, which holds the torch side).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

from fxseg_ros.data.conditions import CONDITIONS
from fxseg_ros.data.labels import CLASS_NAMES
from fxseg_ros.data.preprocess import NET_INPUT_NAME, NET_INPUT_WH, postprocess, preprocess
from fxseg_ros.data.synth.seeds import HELDOUT_SEED
from fxseg_ros.metrics.confusion import ConfusionMatrix
from fxseg_ros.model.deploy import network_input_wh
from fxseg_ros.runtime.session import make_session
import numpy as np

#: Default held-out frames per condition and their generator seed.
DEFAULT_COUNT = 60
DEFAULT_SEED = HELDOUT_SEED

Predictor = Callable[[np.ndarray], np.ndarray]


def onnx_predictor(path: Union[str, Path], threads: int = 2) -> Predictor:
    """Return predict(blob float32 (N, 3, h, w)) -> scores (N, C, h, w) of a bare ONNX graph."""
    session = make_session(path, threads=threads)
    names = [i.name for i in session.get_inputs()]
    input_name = NET_INPUT_NAME if NET_INPUT_NAME in names else names[0]

    def predict(blob: np.ndarray) -> np.ndarray:
        return session.run(None, {input_name: blob})[0]
    return predict


def evaluate(predict: Predictor, count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED,
             conditions: Sequence[str] = CONDITIONS, progress: bool = True,
             input_wh: Tuple[int, int] = NET_INPUT_WH) -> Dict[str, object]:
    """
    Measure the mIoU on generated frames: per condition, frames 0..count-1 of SceneGenerator(seed).

    Frames are preprocessed at `input_wh` (the network's input size); predictions are
    `postprocess(scores)` resized (nearest) to the label resolution, i.e. the camera resolution
    of the generated frames. mIoU is over the classes present in the ground truth of that
    condition.
    """
    from fxseg_ros.data.synth import SceneGenerator
    from tqdm import tqdm

    generator = SceneGenerator(seed)
    result = {'seed': seed, 'count': count, 'conditions': {}}
    bar = tqdm(total=count * len(conditions), desc='held-out', unit='frame',
               disable=not progress)
    for condition in conditions:
        matrix = ConfusionMatrix()
        for index in range(count):
            bgr, labels = generator.generate(index, condition)
            scores = predict(preprocess(bgr, input_wh))
            pred = postprocess(scores, (labels.shape[1], labels.shape[0]))[0]
            matrix.update(labels, pred)
            result['resolution_wh'] = [int(labels.shape[1]), int(labels.shape[0])]
            bar.update(1)
        metrics = matrix.compute()
        metrics['frames'] = count
        result['conditions'][condition] = metrics
    bar.close()
    return result


def evaluate_path(path: Union[str, Path], count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED,
                  conditions: Sequence[str] = CONDITIONS, threads: int = 2,
                  progress: bool = True) -> Dict[str, object]:
    """`evaluate` a checkpoint (.ckpt / .pt, needs torch) or a bare ONNX graph (.onnx)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError('no model at %s: pass a checkpoint written by `fxseg train` '
                                'or a bare ONNX graph' % path)
    input_wh = NET_INPUT_WH
    if path.suffix == '.onnx':
        predict = onnx_predictor(path, threads)
        input_wh = network_input_wh(path)
    else:
        from fxseg_ros.model.fcn_alexnet import load_checkpoint
        from fxseg_ros.model.train import torch_predictor

        predict = torch_predictor(load_checkpoint(path), threads)
    result = evaluate(predict, count, seed, conditions, progress, input_wh)
    result['input_wh'] = list(input_wh)
    result['model'] = str(path)
    return result


def class_table(result: Dict[str, object]) -> List[Tuple[str, Dict[str, Optional[float]]]]:
    """Rows (class name, {condition: IoU or None}) in train-ID order."""
    rows = []
    for name in CLASS_NAMES:
        values = {c: m['iou'].get(name) for c, m in result['conditions'].items()}
        if any(name in m['iou'] for m in result['conditions'].values()):
            rows.append((name, values))
    return rows
