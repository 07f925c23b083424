# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
`fxseg export`: FCN-AlexNet checkpoint to ONNX.

Writes the bare network graph (input `input` float32 [N,3,360,640], output `scores` float32
[N,19,360,640], N dynamic) for the quantization tools, and optionally the deployment graph (uint8
camera frames in, uint8 labels out) composed from it. FCN's fixed bilinear upscore is exported as
one `Resize` and each LRN as one `LRN` op. --random-init exports an untrained model of any width
(for speed measurements only).
"""

from __future__ import annotations

import argparse
import logging

from fxseg_ros.cli.argtypes import int_in, non_negative_int, size_wh
from fxseg_ros.cli.errors import fail
from fxseg_ros.cli.train import add_architecture_arguments
from fxseg_ros.data.sizes import CAMERA_WH, NET_INPUT_WH
from fxseg_ros.runtime.trt_support import UINT8_IO

NAME = 'export'
HELP = ('export an FCN-AlexNet checkpoint (or a random-init model) to the bare ONNX network graph '
        'and optionally the uint8-in / labels-out deployment graph')

LOG = logging.getLogger(__name__)

#: Smallest side of the exported graphs' input, pixels.
MIN_SIDE = 32
#: ONNX opsets the exporter writes (13: the newest TensorRT 8.2 parses).
OPSETS = (11, 20)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--checkpoint', default=None,
                        help='checkpoint written by `fxseg train` (model.ckpt or last.ckpt)')
    source.add_argument('--random-init', action='store_true',
                        help='export an untrained model built from the architecture options '
                             '(for speed benchmarks; never a deliverable)')
    parser.add_argument('--out', required=True, help='bare network ONNX graph to write')
    parser.add_argument('--deploy', default=None,
                        help='also write the deployment graph (uint8 NHWC frames in, labels out) '
                             'to this path')
    parser.add_argument('--deploy-output', choices=('camera', 'network'), default='camera',
                        help='deployment graph labels at the camera resolution (nearest '
                             'upsample) or at the network resolution (default: %(default)s)')
    parser.add_argument('--float-io', action='store_true',
                        help='deployment graph with float32 0..255 input and int32 labels '
                             '(TensorRT < %s has no UINT8 inputs)'
                             % '.'.join(str(p) for p in UINT8_IO))
    parser.add_argument('--camera-wh', type=size_wh(MIN_SIDE), default=CAMERA_WH, metavar='WxH',
                        help='camera resolution of the deployment graph (default: %dx%d)'
                             % CAMERA_WH)
    parser.add_argument('--input-wh', type=size_wh(MIN_SIDE), default=NET_INPUT_WH,
                        metavar='WxH',
                        help='network input resolution of the bare graph (default: %dx%d)'
                             % NET_INPUT_WH)
    parser.add_argument('--opset', type=int_in(OPSETS[0], OPSETS[1], 'ONNX opset'), default=13,
                        help='ONNX opset (default: %(default)s, the newest TensorRT 8.2 parses)')
    parser.add_argument('--upscore-op', choices=('resize', 'convtranspose'), default='resize',
                        help="how FCN's fixed bilinear upscore is exported: one Resize "
                             '(default) or the original ConvTranspose (for comparisons)')
    parser.add_argument('--seed', type=non_negative_int, default=0,
                        help='seed of the random initial weights with --random-init '
                             '(default: %(default)s)')
    parser.add_argument('--no-check', dest='check', action='store_false',
                        help='skip the ONNX Runtime vs PyTorch comparison after export')
    add_architecture_arguments(parser, width=1.0, conv1_pad=100, upscore='deconv', dropout=0.5)


def _check(args) -> None:
    """Check the checkpoint and both outputs, before torch is loaded."""
    import importlib.util

    from fxseg_ros.cli.checks import output_file

    output_file('--out', args.out, inputs=[args.checkpoint])
    if args.deploy:
        output_file('--deploy', args.deploy, inputs=[args.checkpoint, args.out])
    elif args.float_io or args.deploy_output != 'camera':
        fail('--float-io' if args.float_io else '--deploy-output',
             'applies to the deployment graph only', 'add --deploy FILE')
    if importlib.util.find_spec('torch') is None:   # last: the arguments above are named first
        fail('--checkpoint' if args.checkpoint else '--random-init',
             'exporting needs torch, which is not installed', 'pip install .[train]')


def run(args: argparse.Namespace) -> int:
    _check(args)
    from fxseg_ros.data.atomic import atomic_file
    from fxseg_ros.model import export as exporter
    from fxseg_ros.model.config import FCNConfig
    from fxseg_ros.cli.checks import checkpoint
    from fxseg_ros.model.fcn_alexnet import build_model

    if args.checkpoint:
        model = checkpoint('--checkpoint', args.checkpoint)
    else:
        config = FCNConfig(width=args.width, conv1_pad=args.conv1_pad, lrn=args.lrn,
                           upscore=args.upscore, upscore_kernel=args.upscore_kernel,
                           groups=args.groups, dropout=args.dropout,
                           output_stride=args.output_stride)
        model = build_model(config, seed=args.seed)
    input_hw = (args.input_wh[1], args.input_wh[0])
    with atomic_file(args.out) as staged:   # the ONNX Runtime check runs before the rename
        info = exporter.export_bare(model, staged, input_hw=input_hw, opset=args.opset,
                                    upscore_op=args.upscore_op)
        if args.check:
            diff = exporter.compare_with_torch(model, staged, batch=2)
    print('wrote %s (%s, %.2f M params, %.2f GMACs at %dx%d, %.1f MB)'
          % (args.out, info['config_text'], info['params'] / 1e6, info['macs'] / 1e9,
             input_hw[1], input_hw[0], info['bytes'] / 1e6))
    if args.check:
        print('ONNX Runtime vs PyTorch: max |diff| %.3g, argmax agreement %.5f'
              % (diff['max_abs_diff'], diff['argmax_agreement']))
    if args.deploy:
        with atomic_file(args.deploy) as staged:
            exporter.export_deployment(args.out, staged,
                                       camera_hw=(args.camera_wh[1], args.camera_wh[0]),
                                       output=args.deploy_output, float_io=args.float_io)
        print('wrote %s' % args.deploy)
    return 0
