# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
`fxseg demo` / `make demo`: the article's experiment end to end on the CPU.

1. a demo bag: one synthetic drive by day and one by night (1280x720, 10 Hz, labels);
2. INT8 entropy calibration (TensorRT's EntropyCalibration2) on the day frames only, written
   as calib.json and a TensorRT calibration cache;
3. the coverage check of the night frames against that calibration (the article's night-time
   failure: a day-only calibration set);
4. the INT8 Q/DQ model (TensorRT rules), the FP16-emulated model, and an INT8 mixed-precision
   model (the most sensitive layers back in float until the drop is within budget on a
   held-out synthetic set);
5. the offline replay of the bag through the node's pipeline for FP32 / FP16 / INT8 / INT8
   mixed; 6. the same bag played live into segmentation_node over ROS 2;
7. the article's table, the coverage warning and the report folder.

Each step reuses its output when it exists (--force redoes everything).
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import shutil
import sys
import time
from pathlib import Path
from typing import Dict, List

LOG = logging.getLogger(__name__)

STEPS = 8
#: Runs of the demo: (name, file, precision).
RUN_NAMES = ('FP32', 'FP16 (emulated)', 'INT8 entropy', 'INT8 mixed')


class _Steps:
    """Numbered step banners with durations."""

    def __init__(self, total: int):
        self.total = total
        self.n = 0
        self.t0 = time.perf_counter()
        self._t = None

    def start(self, text: str) -> None:
        self.n += 1
        self._t = time.perf_counter()
        print('\n[%d/%d] %s' % (self.n, self.total, text), flush=True)

    def done(self, text: str = '') -> None:
        print('      done in %.1f s%s' % (time.perf_counter() - self._t,
                                          ('; ' + text) if text else ''), flush=True)

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0


def _heldout_frames(seed: int, per_condition: int, size_wh=(1280, 720)):
    """A small labelled synthetic set, not in the bag, for the mixed-precision budget."""
    from fxseg_ros.data.synth import SceneGenerator
    from fxseg_ros.eval.replay import EvalFrame

    gen = SceneGenerator(seed + 9973, size_wh=size_wh)
    frames = []
    for cond in ('day', 'night'):
        for i in range(per_condition):
            bgr, labels = gen.generate(i, cond)
            frames.append(EvalFrame(key='%s_%d' % (cond, i), load=(lambda b=bgr: b),
                                    labels=labels, condition=cond))
    return frames


def _forget_stale_outputs(out: Path, args, model: Path) -> None:
    """
    Delete reused outputs made with other settings or another model (state in demo_state.json).

    The bag depends on its frame count and seed; calibration, models and the mixed-precision
    choice also on the model file and their own settings.
    """
    import hashlib

    digest = hashlib.sha1(model.read_bytes()).hexdigest()
    state = {'bag': [args.frames_per_condition, args.seed],
             'models': [digest, args.calib_frames, args.heldout_frames, args.max_drop,
                        args.max_fallback, args.frames_per_condition, args.seed]}
    path = out / 'demo_state.json'
    old = json.loads(path.read_text()) if path.is_file() else {}
    if old.get('bag') != state['bag']:
        shutil.rmtree(out / 'bag', ignore_errors=True)
    if old.get('models') != state['models']:
        shutil.rmtree(out / 'models', ignore_errors=True)
        for name in ('calib_day_entropy.json', 'calibration.cache', 'mixed_precision.json'):
            if (out / name).exists():
                (out / name).unlink()
    path.write_text(json.dumps(state))


def _command_line(args) -> str:
    """The `fxseg demo` command that reproduces this run (for the report)."""
    from fxseg_ros.cli.demo import add_arguments

    defaults = argparse.ArgumentParser()
    add_arguments(defaults)
    parts = ['fxseg', 'demo']
    for action in defaults._actions:
        if not action.option_strings or action.dest == 'help':
            continue
        value = getattr(args, action.dest, action.default)
        if value == action.default and action.dest != 'out':
            continue
        flag = action.option_strings[0]
        if isinstance(value, bool):
            parts += [flag] if value else []
        else:
            parts += [flag, str(value)]
    return ' '.join(shlex.quote(p) for p in parts)


def run_demo(args) -> int:
    """The `fxseg demo` command. Returns the exit status."""
    from fxseg_ros import DEMO_MODEL
    from fxseg_ros.data.bag import BagSpec, write_synthetic_bag
    from fxseg_ros.data.readers import BagCalibrationReader
    from fxseg_ros.eval import replay
    from fxseg_ros.eval.cli_runner import print_summary
    from fxseg_ros.eval.report import write_report

    out = Path(args.out)
    model = Path(args.model) if args.model else Path(DEMO_MODEL)
    if not model.is_file():
        print('fxseg demo: error: model %s does not exist (the packaged demo model is missing; '
              'train and export one with `fxseg train` / `fxseg export`, or pass --model)'
              % model, file=sys.stderr)
        return 2
    if args.force and out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    _forget_stale_outputs(out, args, model)
    models = out / 'models'
    models.mkdir(exist_ok=True)
    steps = _Steps(STEPS - (1 if args.skip_live else 0))
    print('fxseg demo: model %s, output %s' % (model, out))

    # 1. The demo bag ---------------------------------------------------------------------------
    bag = out / 'bag'
    steps.start('demo bag: %d day + %d night frames, 1280x720, 10 Hz, with labels'
                % (args.frames_per_condition, args.frames_per_condition))
    if not (bag / 'metadata.yaml').is_file():
        if bag.exists():
            shutil.rmtree(bag)
        summary = write_synthetic_bag(bag, BagSpec(
            storage='mcap', frames_per_condition=args.frames_per_condition,
            conditions=('day', 'night'), seed=args.seed), progress=True)
        steps.done('%s, %.0f MB' % (bag, summary.size_bytes / 1e6))
    else:
        steps.done('reused %s' % bag)

    # 2. Calibration on day frames ----------------------------------------------------------------
    from fxseg_ros.quant.cache import write_calibration_cache
    from fxseg_ros.quant.calibrators import CalibrationResult, calibrate

    calib_json = out / 'calib_day_entropy.json'
    cache = out / 'calibration.cache'
    steps.start('INT8 calibration (entropy, TensorRT EntropyCalibration2) on %d day frames'
                % args.calib_frames)
    if calib_json.is_file():
        calib = CalibrationResult.load(calib_json)
        steps.done('reused %s' % calib_json)
    else:
        reader = BagCalibrationReader(bag, conditions=['day'], max_frames=args.calib_frames)
        calib = calibrate(str(model), reader, method='entropy', threads=args.threads)
        calib.meta.update({'data': str(bag), 'conditions': ['day']})
        calib.save(calib_json)
        write_calibration_cache(cache, calib.amax, algorithm='EntropyCalibration2')
        steps.done('%d tensors -> %s, %s' % (len(calib.amax), calib_json, cache))

    # 3. Coverage check of the night frames ------------------------------------------------------
    from fxseg_ros.quant.coverage import check_coverage, format_coverage

    steps.start('coverage check: night frames against the day calibration '
                '(fxseg calibrate --check)')
    coverage = check_coverage(str(model), calib,
                              BagCalibrationReader(bag, conditions=['night'],
                                                   max_frames=args.calib_frames),
                              threads=args.threads)
    coverage.save(out / 'coverage_night.json')
    if coverage.flagged:
        warning = ('WARNING: the night frames fall outside the day-only calibration: %s. '
                   'Calibrate on frames from every lighting condition the vehicle drives in.'
                   % coverage.reason())
    else:
        warning = 'OK: the night frames are covered by the day calibration (%s)' \
            % coverage.reason()
    steps.done(warning)

    # 4. INT8 Q/DQ, FP16 emulation, mixed precision ----------------------------------------------
    from fxseg_ros.quant.fp16 import emulate_fp16, save_model
    from fxseg_ros.quant.qdq import quantize_qdq
    from fxseg_ros.quant.sensitivity import isolated_sensitivity, mixed_precision_search

    int8 = models / 'int8_entropy.onnx'
    fp16 = models / 'fp16_emulated.onnx'
    steps.start('quantize: INT8 Q/DQ (symmetric, per-channel weights) and FP16 emulation')
    if not int8.is_file():
        quantize_qdq(str(model), calib.amax, int8)
    if not fp16.is_file():
        save_model(emulate_fp16(str(model)), fp16)
    steps.done('%s, %s' % (int8.name, fp16.name))

    mixed_info = out / 'mixed_precision.json'
    mixed = models / 'int8_mixed.onnx'
    steps.start('mixed precision: most sensitive layers back to float until the drop is '
                '<= %.2f points on a held-out synthetic set' % args.max_drop)
    if mixed.is_file() and mixed_info.is_file():
        mixed_result = json.loads(mixed_info.read_text())
        steps.done('reused %s' % mixed)
    else:
        heldout = _heldout_frames(args.seed, args.heldout_frames)
        feeds_reader = BagCalibrationReader(bag, conditions=['day'], max_frames=4)
        feeds = []
        while True:
            item = feeds_reader.get_next()
            if item is None:
                break
            feeds.append(item)
        work = out / 'work'
        ranking = isolated_sensitivity(str(model), calib.amax, feeds, work / 'sensitivity',
                                       threads=args.threads)

        def heldout_miou(path: str) -> float:
            source = replay.FrameSource(frames=heldout, total=len(heldout))
            ev = replay.evaluate(source, [replay.RunSpec(name='m', model=path,
                                                         threads=args.threads)],
                                 overlays=0, progress=False)
            return ev.runs[0].accuracy.cm.miou()

        result = mixed_precision_search(str(model), calib.amax, heldout_miou,
                                        [e.name for e in ranking], args.max_drop,
                                        work / 'mixed', max_fallback=args.max_fallback)
        shutil.copyfile(result.model_path, mixed)
        mixed_result = result.to_dict()
        mixed_result['model'] = str(mixed)
        mixed_result['ranking'] = [e.to_dict() for e in ranking]
        mixed_info.write_text(json.dumps(mixed_result, indent=1))
        shutil.rmtree(work, ignore_errors=True)
        steps.done('%d layer(s) kept in float %s, held-out drop %.2f points'
                   % (len(result.kept_float), result.kept_float, result.drop_points))

    # 5. Offline replay -------------------------------------------------------------------------
    specs = [replay.RunSpec(name=RUN_NAMES[0], model=str(model), precision='fp32',
                            threads=args.threads),
             replay.RunSpec(name=RUN_NAMES[1], model=str(fp16), precision='fp16',
                            threads=args.threads),
             replay.RunSpec(name=RUN_NAMES[2], model=str(int8), precision='int8',
                            threads=args.threads),
             replay.RunSpec(name=RUN_NAMES[3], model=str(mixed), precision='mixed',
                            threads=args.threads)]
    steps.start('offline replay of the bag through the node\'s pipeline: %s'
                % ', '.join(s.name for s in specs))
    evaluation = replay.evaluate(replay.bag_source(bag), specs, overlays=4)
    steps.done('%d frames' % evaluation.dataset['frames'])

    # 6. Live through the node ----------------------------------------------------------------
    live_runs: List[Dict[str, object]] = []
    if not args.skip_live:
        steps.start('live: the bag played into segmentation_node over ROS 2 (%s, rate %s)'
                    % (RUN_NAMES[2], args.live_rate))
        try:
            from fxseg_ros.ros.live import LiveOptions, run_live

            live_runs.append(run_live(LiveOptions(
                bag=str(bag), model=str(int8), precision='int8', name=RUN_NAMES[2],
                rate=args.live_rate, threads=args.threads, log_path=str(out / 'node.log'))))
            lr = live_runs[0]
            steps.done('%d of %d masks back, %d dropped, end-to-end p50 %.1f ms'
                       % (lr['received'], lr['published'], lr['dropped'],
                          lr['end_to_end_ms']['p50']))
        except ImportError as err:
            steps.done('skipped: ROS 2 is not installed (%s); pip install .[ros]' % err)
        except RuntimeError as err:
            steps.done('FAILED: %s' % err)

    # 7. Report --------------------------------------------------------------------------------
    steps.start('report')
    notes = [
        'Calibration: entropy (TensorRT EntropyCalibration2) on %d day frames of the bag only. '
        'Coverage check of the night frames: %s' % (calib.frames, warning),
        'FP16 (emulated): every tensor rounded to FP16 in a float32 graph, since ONNX Runtime '
        'on the CPU runs FP16 graphs in FP32; its latency is FP32 latency plus the rounding.',
        'INT8 mixed: %s kept in float (held-out drop %.2f points, budget %.2f).'
        % (', '.join(mixed_result.get('kept_float') or []) or 'no layer',
           mixed_result.get('drop_points', float('nan')), args.max_drop),
    ]
    report_dir = out / 'report'
    paths = write_report(
        evaluation, report_dir, live_runs=live_runs, title='fxseg_ros demo',
        command=_command_line(args), notes=notes,
        extra={'calibration': {'method': calib.method, 'frames': calib.frames,
                               'conditions': ['day'], 'file': str(calib_json),
                               'cache': str(cache)},
               'coverage_night': coverage.to_dict(),
               'mixed_precision': {k: v for k, v in mixed_result.items() if k != 'ranking'},
               'demo_wall_s': steps.elapsed()})
    steps.done(str(paths['report']))

    # The article's table and the warning -------------------------------------------------------
    metrics = json.loads(paths['metrics'].read_text())
    print('\n== The article\'s table for the demo model (%s) ==' % model.name)
    print_summary(metrics)
    print('\nNight-time calibration check (fxseg calibrate --check):')
    print(format_coverage(coverage) if coverage.flagged else '')
    print(warning)
    print('\nreport: %s   (metrics: %s)' % (paths['report'], paths['metrics']))
    print('demo finished in %.0f s' % steps.elapsed())
    return 0

