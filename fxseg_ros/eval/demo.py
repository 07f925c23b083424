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

A step that completed with the same inputs in an earlier run is reused (`demo_state.StepLedger`
hashes the inputs and the outputs); any other is run again, so an interrupted demo resumes
with the result an uninterrupted one gives. Every output appears under its name only once
complete, and the demo deletes or overwrites only what its ledger says it wrote: a file of
someone else's at an output path stops it (`ForeignOutputError`). --force redoes every step.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
import shutil
import sys
import time
from typing import Dict, List, Optional

from fxseg_ros.data.atomic import atomic_file, partial_name, write_text
from fxseg_ros.eval.demo_state import file_digest, StepLedger
from fxseg_ros.model.deploy import network_input_wh

LOG = logging.getLogger(__name__)

STEPS = 8
#: Runs of the demo: (name, precision), for the FP32 model, the FP16 emulation, INT8 entropy and
#: INT8 mixed.
RUNS = (('FP32', 'fp32'), ('FP16 (emulated)', 'fp16'), ('INT8 entropy', 'int8'),
        ('INT8 mixed', 'mixed'))
#: The run played live into the node.
LIVE_RUN = 2
#: Lighting conditions of the demo bag (and of the held-out frames).
BAG_CONDITIONS = ('day', 'night')
#: Day frames of the bag the sensitivity ranking is measured on.
SENSITIVITY_FRAMES = 4


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
    """Generate a small labelled set, not in the bag, for the mixed-precision budget."""
    from fxseg_ros.data.synth import SceneGenerator
    from fxseg_ros.eval.sources import EvalFrame

    gen = SceneGenerator(seed + 9973, size_wh=size_wh)
    frames = []
    for cond in BAG_CONDITIONS:
        for i in range(per_condition):
            bgr, labels = gen.generate(i, cond)
            frames.append(EvalFrame(key='%s_%d' % (cond, i), load=(lambda b=bgr: b),
                                    labels=labels, condition=cond))
    return frames


class _Demo:
    """The demo's steps in order; each reads what the steps before it left on the instance."""

    def __init__(self, args, model: Path, command: Optional[str]):
        self.args = args
        self.model = model
        self.command = command
        self.out = Path(args.out)
        self.models = self.out / 'models'
        self.bag = self.out / 'bag'
        self.calib_json = self.out / 'calib_day_entropy.json'
        self.cache = self.out / 'calibration.cache'
        self.int8 = self.models / 'int8_entropy.onnx'
        self.fp16 = self.models / 'fp16_emulated.onnx'
        self.mixed = self.models / 'int8_mixed.onnx'
        self.mixed_info = self.out / 'mixed_precision.json'
        self.coverage_json = self.out / 'coverage_night.json'
        self.node_log = self.out / 'node.log'
        self.report_dir = self.out / 'report'
        self.steps = _Steps(STEPS - (1 if args.skip_live else 0))
        self.ledger = StepLedger(self.out, force=bool(getattr(args, 'force', False)),
                                 unrecorded={'coverage': [self.coverage_json],
                                             'live': [self.node_log],
                                             'report': [self.report_dir]})
        self.model_digest = file_digest(model)
        self.input_wh = network_input_wh(model)

    def outputs(self) -> List[Path]:
        """Every file and folder the demo writes in its output folder (the ledger's own aside)."""
        return [self.bag, self.calib_json, self.cache, self.coverage_json, self.int8,
                self.fp16, self.mixed, self.mixed_info, self.node_log, self.report_dir]

    def _inputs(self, **settings) -> Dict[str, object]:
        """Return a step's inputs: its settings and the digest of the demo model."""
        return dict(settings, model=self.model_digest)

    def bag_step(self) -> None:
        from fxseg_ros.data.bag import BagSpec, write_synthetic_bag

        spec = BagSpec(storage='mcap', frames_per_condition=self.args.frames_per_condition,
                       conditions=BAG_CONDITIONS, seed=self.args.seed)
        self.steps.start('demo bag: %s frames, %dx%d, %g Hz, with labels' % (
            ' + '.join('%d %s' % (spec.frames_per_condition, c) for c in spec.conditions),
            spec.size_wh[0], spec.size_wh[1], spec.rate_hz))
        inputs = {'spec': sorted(vars(spec).items())}
        if self.ledger.completed('bag', inputs, [self.bag]):
            self.steps.done('reused %s (complete, same settings)' % self.bag)
            return
        summary = write_synthetic_bag(self.bag, spec, progress=True)
        self.ledger.record('bag', inputs, [self.bag])
        self.steps.done('%s, %.0f MB' % (self.bag, summary.size_bytes / 1e6))

    def _bag_digest(self) -> Optional[str]:
        return self.ledger.digest_of('bag', self.bag)

    def calibration_step(self) -> None:
        from fxseg_ros.data.readers import BagCalibrationReader
        from fxseg_ros.quant.cache import write_calibration_cache
        from fxseg_ros.quant.calibrators import calibrate, CalibrationResult

        self.steps.start('INT8 calibration (entropy, TensorRT EntropyCalibration2) on %d day '
                         'frames' % self.args.calib_frames)
        inputs = self._inputs(bag=self._bag_digest(), frames=self.args.calib_frames,
                              method='entropy')
        outputs = [self.calib_json, self.cache]
        if self.ledger.completed('calibration', inputs, outputs):
            self.calib = CalibrationResult.load(self.calib_json)
            self.steps.done('reused %s' % self.calib_json)
            return
        reader = BagCalibrationReader(self.bag, conditions=['day'],
                                      max_frames=self.args.calib_frames, size_wh=self.input_wh)
        self.calib = calibrate(str(self.model), reader, method='entropy',
                               threads=self.args.threads, progress=True)
        self.calib.meta.update({'data': str(self.bag), 'conditions': ['day']})
        self.calib.save(self.calib_json)
        write_calibration_cache(self.cache, self.calib.amax, algorithm='EntropyCalibration2')
        self.ledger.record('calibration', inputs, outputs)
        self.steps.done('%d tensors -> %s, %s'
                        % (len(self.calib.amax), self.calib_json, self.cache))

    def _calib_digest(self) -> Optional[str]:
        return self.ledger.digest_of('calibration', self.calib_json)

    def coverage_step(self) -> None:
        from fxseg_ros.data.readers import BagCalibrationReader
        from fxseg_ros.quant.coverage import check_coverage

        self.steps.start('coverage check: night frames against the day calibration '
                         '(fxseg calibrate --check)')
        self.ledger.claim('coverage', [self.coverage_json])
        self.coverage = check_coverage(
            str(self.model), self.calib,
            BagCalibrationReader(self.bag, conditions=['night'],
                                 max_frames=self.args.calib_frames, size_wh=self.input_wh),
            threads=self.args.threads, progress=True)
        self.coverage.save(self.coverage_json)
        self.ledger.record('coverage', {}, [self.coverage_json])
        if self.coverage.flagged:
            self.warning = ('WARNING: the night frames fall outside the day-only calibration: '
                            '%s. Calibrate on frames from every lighting condition the vehicle '
                            'drives in.' % self.coverage.reason())
        else:
            self.warning = ('OK: the night frames are covered by the day calibration (%s)'
                            % self.coverage.reason())
        self.steps.done(self.warning)

    def quantize_step(self) -> None:
        from fxseg_ros.quant.fp16 import emulate_fp16, save_model
        from fxseg_ros.quant.qdq import quantize_qdq

        self.steps.start('quantize: INT8 Q/DQ (symmetric, per-channel weights) and FP16 '
                         'emulation')
        reused = []
        inputs = self._inputs(calibration=self._calib_digest())
        if self.ledger.completed('int8', inputs, [self.int8]):
            reused.append(self.int8.name)
        else:
            quantize_qdq(str(self.model), self.calib.amax, self.int8)
            self.ledger.record('int8', inputs, [self.int8])
        if self.ledger.completed('fp16', self._inputs(), [self.fp16]):
            reused.append(self.fp16.name)
        else:
            save_model(emulate_fp16(str(self.model)), self.fp16)
            self.ledger.record('fp16', self._inputs(), [self.fp16])
        self.steps.done('%s, %s%s' % (self.int8.name, self.fp16.name,
                                      ' (reused %s)' % ', '.join(reused) if reused else ''))

    def mixed_step(self) -> None:
        self.steps.start('mixed precision: most sensitive layers back to float until the drop '
                         'is <= %.2f points on a held-out synthetic set' % self.args.max_drop)
        args = self.args
        inputs = self._inputs(calibration=self._calib_digest(), bag=self._bag_digest(),
                              heldout=args.heldout_frames, seed=args.seed,
                              max_drop=args.max_drop, max_fallback=args.max_fallback,
                              sensitivity_frames=SENSITIVITY_FRAMES)
        outputs = [self.mixed, self.mixed_info]
        if self.ledger.completed('mixed', inputs, outputs):
            self.mixed_result = json.loads(self.mixed_info.read_text())
            self.steps.done('reused %s' % self.mixed)
            return
        # Intermediate models under a temporary name of the demo's own (see remove_leftovers).
        work = partial_name(self.out / 'work', keep_suffix=False)
        try:
            result, ranking = self._search_mixed(work)
            with atomic_file(self.mixed) as staged:
                shutil.copyfile(str(result.model_path), str(staged))
        finally:
            shutil.rmtree(str(work), ignore_errors=True)
        self.mixed_result = result.to_dict()
        self.mixed_result['model'] = str(self.mixed)
        self.mixed_result['ranking'] = [e.to_dict() for e in ranking]
        write_text(self.mixed_info, json.dumps(self.mixed_result, indent=1))
        self.ledger.record('mixed', inputs, outputs)
        self.steps.done('%d layer(s) kept in float %s, held-out drop %.2f points'
                        % (len(result.kept_float), result.kept_float, result.drop_points))

    def _search_mixed(self, work: Path):
        from fxseg_ros.data.readers import BagCalibrationReader
        from fxseg_ros.eval import replay
        from fxseg_ros.eval.sources import FrameSource
        from fxseg_ros.quant.collect import iterate_feeds
        from fxseg_ros.quant.sensitivity import isolated_sensitivity, mixed_precision_search

        heldout = _heldout_frames(self.args.seed, self.args.heldout_frames)
        feeds = list(iterate_feeds(BagCalibrationReader(self.bag, conditions=['day'],
                                                        max_frames=SENSITIVITY_FRAMES,
                                                        size_wh=self.input_wh)))
        ranking = isolated_sensitivity(str(self.model), self.calib.amax, feeds,
                                       work / 'sensitivity', threads=self.args.threads)

        def heldout_miou(path: str) -> float:
            source = FrameSource(frames=heldout, total=len(heldout))
            ev = replay.evaluate(source, [replay.RunSpec(name='m', model=path,
                                                         threads=self.args.threads)],
                                 overlays=0, progress=False)
            return ev.runs[0].accuracy.cm.miou()

        result = mixed_precision_search(str(self.model), self.calib.amax, heldout_miou,
                                        [e.name for e in ranking], self.args.max_drop,
                                        work / 'mixed', max_fallback=self.args.max_fallback)
        return result, ranking

    def replay_step(self) -> None:
        from fxseg_ros.eval import replay
        from fxseg_ros.eval.sources import bag_source

        files = (self.model, self.fp16, self.int8, self.mixed)
        specs = [replay.RunSpec(name=name, model=str(path), precision=precision,
                                threads=self.args.threads)
                 for (name, precision), path in zip(RUNS, files)]
        self.steps.start("offline replay of the bag through the node's pipeline: %s"
                         % ', '.join(s.name for s in specs))
        self.evaluation = replay.evaluate(bag_source(self.bag), specs, overlays=4)
        self.steps.done('%d frames' % self.evaluation.dataset['frames'])

    def live_step(self) -> None:
        self.live_runs: List[Dict[str, object]] = []
        if self.args.skip_live:
            return
        name, precision = RUNS[LIVE_RUN]
        self.steps.start('live: the bag played into segmentation_node over ROS 2 (%s, rate %s)'
                         % (name, self.args.live_rate))
        self.ledger.claim('live', [self.node_log])
        try:
            from fxseg_ros.eval.live import evaluate_live

            run = evaluate_live(str(self.bag), model=str(self.int8), precision=precision,
                                name=name, rate=self.args.live_rate, threads=self.args.threads,
                                log_path=str(self.node_log))
            self.live_runs.append(run)
            self.steps.done('%d of %d masks back, %d dropped, end-to-end p50 %.1f ms'
                            % (run['received'], run['published'], run['dropped'],
                               run['end_to_end_ms']['p50']))
        except ImportError as err:
            self.steps.done('skipped: ROS 2 is not installed (%s); pip install .[ros]' % err)
        except RuntimeError as err:
            self.steps.done('FAILED: %s' % err)

    def report_step(self) -> Dict[str, Path]:
        from fxseg_ros.eval.report import write_report

        self.steps.start('report')
        mixed = self.mixed_result
        notes = [
            'Calibration: entropy (TensorRT EntropyCalibration2) on %d day frames of the bag '
            'only. Coverage check of the night frames: %s' % (self.calib.frames, self.warning),
            'FP16 (emulated): every tensor rounded to FP16 in a float32 graph, since ONNX '
            'Runtime on the CPU runs FP16 graphs in FP32; its latency is FP32 latency plus the '
            'rounding.',
            'INT8 mixed: %s kept in float (held-out drop %.2f points, budget %.2f).'
            % (', '.join(mixed.get('kept_float') or []) or 'no layer',
               mixed.get('drop_points', float('nan')), self.args.max_drop),
        ]
        self.ledger.claim('report', [self.report_dir])
        paths = write_report(
            self.evaluation, self.report_dir, live_runs=self.live_runs,
            title='fxseg_ros demo', command=self.command, notes=notes,
            extra={'calibration': {'method': self.calib.method, 'frames': self.calib.frames,
                                   'conditions': ['day'], 'file': str(self.calib_json),
                                   'cache': str(self.cache)},
                   'coverage_night': self.coverage.to_dict(),
                   'mixed_precision': {k: v for k, v in mixed.items() if k != 'ranking'},
                   'demo_wall_s': self.steps.elapsed()})
        self.ledger.record('report', {}, [self.report_dir])
        self.steps.done(str(paths['report']))
        return paths

    def print_results(self, paths: Dict[str, Path]) -> None:
        """Print the article's table and the coverage warning."""
        from fxseg_ros.eval.cli_runner import print_summary
        from fxseg_ros.quant.coverage import format_coverage

        metrics = json.loads(paths['metrics'].read_text())
        print("\n== The article's table for the demo model (%s) ==" % self.model.name)
        print_summary(metrics)
        print('\nNight-time calibration check (fxseg calibrate --check):')
        print(format_coverage(self.coverage) if self.coverage.flagged else '')
        print(self.warning)
        print('\nreport: %s   (metrics: %s)' % (paths['report'], paths['metrics']))
        print('demo finished in %.0f s' % self.steps.elapsed())


def run_demo(args, command: Optional[str] = None) -> int:
    """
    Run the `fxseg demo` command. Returns the exit status.

    command: the command line that reproduces the run, for the report.
    """
    from fxseg_ros import DEMO_MODEL

    model = Path(args.model) if args.model else Path(DEMO_MODEL)
    if not model.is_file():
        print('fxseg demo: error: model %s does not exist (the packaged demo model is missing; '
              'train and export one with `fxseg train` / `fxseg export`, or pass --model)'
              % model, file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    demo = _Demo(args, model, command)
    # Before any work: an output path holding what the demo did not write stops it here.
    demo.ledger.refuse_foreign(demo.outputs())
    demo.ledger.remove_leftovers([demo.out, demo.models])
    demo.models.mkdir(exist_ok=True)
    print('fxseg demo: model %s, output %s' % (model, demo.out))
    for step in (demo.bag_step, demo.calibration_step, demo.coverage_step, demo.quantize_step,
                 demo.mixed_step, demo.replay_step, demo.live_step):
        step()
    demo.print_results(demo.report_step())
    return 0
