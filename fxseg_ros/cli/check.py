# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
`fxseg check`: which nodes each TensorRT version's ONNX parser or builder would reject, offline.

By default the check runs on what `fxseg build` hands to TensorRT for that version: a bare
network wrapped into the TensorRT deployment graph (float I/O where the version has no UINT8 I/O),
Q/DQ weights stored as float where the version takes no INT8 weights. `--as-is` checks the file
exactly as it is. Exit status: 0 when no version has an error, 1 when one has, 2 for bad input.
"""

import argparse
import logging
from typing import List

from fxseg_ros.cli.argtypes import comma_list, ListAction

NAME = 'check'
HELP = ('check an ONNX model against TensorRT 8.0 ... 11 offline: every node a version would '
        'reject, and what to change (no TensorRT needed)')

LOG = logging.getLogger(__name__)


def _versions():
    from fxseg_ros.runtime.trt_support import CHECK_VERSIONS

    return [name for name, _ in CHECK_VERSIONS]


def tensorrt_versions(text: str) -> List[str]:
    """Parse one word of --tensorrt: check version names or releases ('8.2,10.3.0')."""
    from fxseg_ros.runtime.trt_rules import check_version

    try:
        return [check_version(item) for item in comma_list(text)]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('model', metavar='MODEL',
                        help='ONNX model: bare network, deployment graph, Q/DQ or FP16')
    parser.add_argument('--tensorrt', action=ListAction, type=tensorrt_versions, metavar='V',
                        help='TensorRT version(s) to check, commas or spaces: %s (default: all; '
                             'each the strict rules of its line), or the release installed, '
                             'e.g. 8.4.1 (JetPack 5.0.2) or 10.3 (JetPack 6.1): limits newer '
                             "than the rules' sources are warnings there" % ','.join(_versions()))
    parser.add_argument('--dla', action='store_true',
                        help='also report the nodes DLA cannot run (GPU fallback) and versions '
                             'without DLA')
    parser.add_argument('--as-is', action='store_true',
                        help='check the file as it is, not the graph fxseg build would build')
    parser.add_argument('--output', choices=('camera', 'network'), default='camera',
                        help='label resolution of the deployment graph built from a bare '
                             'network (default %(default)s)')


def run(args: argparse.Namespace) -> int:
    from fxseg_ros.cli.checks import onnx_model
    from fxseg_ros.cli.errors import fail
    from fxseg_ros.model import deploy
    from fxseg_ros.runtime import trt_rules
    from fxseg_ros.runtime.trt_graph import graph_for_tensorrt

    source = onnx_model('MODEL', args.model)
    versions = trt_rules.check_versions(args.tensorrt)
    failed = []
    for version in versions:
        if args.as_is:
            model, note = source, 'as given'
        else:
            try:
                model, note = graph_for_tensorrt(source, version, output=args.output)
            except deploy.DeploymentGraphError as exc:
                fail('MODEL', '%s: %s' % (args.model, exc),
                     'check it as it is with --as-is, or give a bare network graph')
        findings = trt_rules.check_model(model, [version], dla=args.dla)
        errors = trt_rules.errors(findings)
        warnings = [f for f in findings if f.severity != 'error']
        print('TensorRT %-4s %s (%s): %s' % (
            version, 'FAIL' if errors else 'ok', note,
            '%d error(s), %d warning(s)' % (len(errors), len(warnings)) if findings else
            'no findings'))
        for finding in findings:
            print('  %-7s %s [%s] %s: %s' % (finding.severity, finding.node, finding.op,
                                             finding.rule, finding.message))
        if errors:
            failed.append(version)
    if failed:
        print('%s would be rejected by TensorRT %s' % (args.model, ', '.join(failed)))
        return 1
    return 0
