# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Every `fxseg` subcommand against bad input: one line naming the argument, exit code 2.

Each case runs the real command line in this process on real files (tiny models, a small bag,
a small Cityscapes-layout tree, broken copies of them) and asserts: exit status 2, no error or
result on stdout, exactly one line on stderr that names the argument, no traceback, no file in the
case's output folder, and no file added or changed beside the inputs or in the package. The
read-only cases run in a child process whose output folder is read-only (a read-only bind mount
when running as root, who may write anywhere else).
"""

import json
import os
from pathlib import Path
import re
import shutil
import subprocess
import sys

from cli_helpers import read_only_command
import fxseg_ros
from fxseg_ros.cli.main import main
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = Path(fxseg_ros.__file__).resolve().parent

#: (command line with {placeholders}, the argument the error line must name). {o} is an empty
#: folder of the case's own; the other placeholders are the files of the `files` fixture.
CASES = [
    # fxseg itself
    ('', 'COMMAND'),
    ('frobnicate', 'COMMAND'),
    ('--bogus synth --out {o}/s --count 1', '--bogus'),
    # synth
    ('synth --count 2', '--out'),
    ('synth --out {o}/s --count 0', '--count'),
    ('synth --out {o}/s --count -1', '--count'),
    ('synth --out {o}/s --count two', '--count'),
    ('synth --out {o}/s --count 1 --conditions day,fog', '--conditions'),
    ('synth --out {o}/s --count 1 --conditions ,', '--conditions'),
    ('synth --out {o}/s --count 1 --size 1280', '--size'),
    ('synth --out {o}/s --count 1 --size 10x10', '--size'),
    ('synth --out {o}/s --count 1 --size 99999x720', '--size'),
    ('synth --out {o}/s --count 1 --split holdout', '--split'),
    ('synth --out {o}/s --count 1 --workers 0', '--workers'),
    ('synth --out {o}/s --count 1 --start -1', '--start'),
    ('synth --out {o}/s --count 1 --seed -3', '--seed'),
    ('synth --out {file} --count 1', '--out'),
    ('synth --out {file}/s --count 1', '--out'),
    ('synth --out {pkg}/s --count 1', '--out'),
    ('synth --out {o}/s --count 1 --colour red', '--colour'),
    ('synth --out {blank} --count 1', '--out'),
    ('synth --out {bag} --count 1', '--out'),
    ('synth --out {userdata} --count 1', '--out'),
    # make-bag
    ('make-bag', '--out'),
    ('make-bag --out {bag}', '--out'),
    ('make-bag --out {file}', '--out'),
    ('make-bag --out {file}/b', '--out'),
    ('make-bag --out {pkg}/b', '--out'),
    ('make-bag --out {o}/b --storage rosbag', '--storage'),
    ('make-bag --out {o}/b --jpeg-quality 101', '--jpeg-quality'),
    ('make-bag --out {o}/b --jpeg-quality high', '--jpeg-quality'),
    ('make-bag --out {o}/b --cameras 0', '--cameras'),
    ('make-bag --out {o}/b --frames-per-condition 0', '--frames-per-condition'),
    ('make-bag --out {o}/b --conditions rain', '--conditions'),
    ('make-bag --out {o}/b --seed x', '--seed'),
    ('make-bag --out {o}/b --size 1x1', '--size'),
    ('make-bag --out {o}/b --rate 0', '--rate'),
    ('make-bag --out {o}/b --rate -5', '--rate'),
    ('make-bag --out {o}/b --rate inf', '--rate'),
    ('make-bag --out {o}/b --rate nan', '--rate'),
    # train
    ('train --evaluate-only --model {o}/missing.onnx', '--model'),
    ('train --evaluate-only --model {text_onnx}', '--model'),
    ('train --evaluate-only --model {cut_onnx}', '--model'),
    ('train --evaluate-only --model {deploy}', '--model'),
    ('train --evaluate-only --model {file}', '--model'),
    ('train --evaluate-only --out {o}/run', '--model'),
    ('train --evaluate-only --model {tiny} --eval-count 0', '--eval-count'),
    ('train --evaluate-only --model {tiny} --eval-conditions rain', '--eval-conditions'),
    ('train --evaluate-only --model {tiny} --eval-json {o}', '--eval-json'),
    ('train --evaluate-only --model {tiny} --eval-json {file}/e.json', '--eval-json'),
    ('train --evaluate-only --model {tiny} --eval-json {tiny}', '--eval-json'),
    ('train --evaluate-only --model {tiny10} --eval-count 2', '--model'),
    ('train --out {cs}/t --data {cs}', '--out'),
    ('train --out {o}/t --steps 0', '--steps'),
    ('train --out {o}/t --lr 0', '--lr'),
    ('train --out {o}/t --batch-size -1', '--batch-size'),
    ('train --out {o}/t --width 5', '--width'),
    ('train --out {o}/t --dropout 1.0', '--dropout'),
    ('train --out {o}/t --input-wh 640', '--input-wh'),
    ('train --out {o}/t --weight-decay -1', '--weight-decay'),
    ('train --out {o}/t --loss-stride 3', '--loss-stride'),
    ('train --out {o}/t --class-weights inverse', '--class-weights'),
    ('train --out {o}/t --conditions rain', '--conditions'),
    ('train --out {o}/t --data {o}/none', '--data'),
    ('train --out {o}/t --data {unlabelled}', '--data'),
    ('train --out {o}/t --data {cs} --split val', '--split'),
    ('train --out {o}/t --data {cs} --conditions paris', '--conditions'),
    ('train --out {o}/t --resume', '--resume'),
    ('train --out {o}/t --init-from {o}/missing.ckpt', '--init-from'),
    ('train --out {file}', '--out'),
    ('train --out {o}/t --export {o}', '--export'),
    # export
    ('export --out {o}/m.onnx', '--checkpoint'),
    ('export --random-init --checkpoint {file} --out {o}/m.onnx', '--checkpoint'),
    ('export --checkpoint {o}/missing.ckpt --out {o}/m.onnx', '--checkpoint'),
    ('export --checkpoint {file} --out {o}/m.onnx', '--checkpoint'),
    ('export --random-init --out {o}', '--out'),
    ('export --random-init --out {file}/m.onnx', '--out'),
    ('export --random-init --out {pkg}/m.onnx', '--out'),
    ('export --random-init --out {o}/m.onnx --deploy {o}', '--deploy'),
    ('export --random-init --out {o}/m.onnx --deploy {o}/m.onnx', '--deploy'),
    ('export --random-init --out {o}/m.onnx --float-io', '--float-io'),
    ('export --random-init --out {o}/m.onnx --deploy-output network', '--deploy-output'),
    ('export --random-init --out {o}/m.onnx --opset 7', '--opset'),
    ('export --random-init --out {o}/m.onnx --camera-wh 10x10', '--camera-wh'),
    ('export --random-init --out {o}/m.onnx --input-wh axb', '--input-wh'),
    ('export --random-init --out {o}/m.onnx --upscore-op deconv', '--upscore-op'),
    # calibrate
    ('calibrate --out {o}/c.json', '--data'),
    ('calibrate --data {o}/none --out {o}/c.json', '--data'),
    ('calibrate --data {cs}', '--out'),
    ('calibrate --data {cs} --out {o}/c.json --model {o}/missing.onnx', '--model'),
    ('calibrate --data {cs} --out {o}/c.json --model {text_onnx}', '--model'),
    ('calibrate --data {cs} --out {o}/c.json --model {empty_onnx}', '--model'),
    ('calibrate --data {cs} --out {o}/c.json --model {cut_onnx}', '--model'),
    ('calibrate --data {cs} --out {o}/c.json --model {deploy}', '--model'),
    ('calibrate --data {cs} --out {o}/c.json --model {onnx_txt}', '--model'),
    ('calibrate --data {cs} --out {o}/c.json --split val', '--split'),
    ('calibrate --data {cs} --out {o}/c.json --conditions fog', '--conditions'),
    ('calibrate --data {cs} --out {o}/c.json --topic /camera/image_raw', '--topic'),
    ('calibrate --data {bag} --out {o}/c.json --topic /nope', '--topic'),
    ('calibrate --data {bag} --out {o}/c.json --topic /fxseg/condition', '--topic'),
    ('calibrate --data {bag2} --out {o}/c.json', '--topic'),
    ('calibrate --data {bag_cut} --out {o}/c.json', '--data'),
    ('calibrate --data {no_metadata} --out {o}/c.json', '--data'),
    ('calibrate --data {empty} --out {o}/c.json', '--data'),
    ('calibrate --data {file} --out {o}/c.json', '--data'),
    ('calibrate --data {cs} --out {o}', '--out'),
    ('calibrate --data {cs} --out {file}/c.json', '--out'),
    ('calibrate --data {cs} --out {pkg}/c.json', '--out'),
    ('calibrate --data {cs} --out {tiny} --model {tiny}', '--out'),
    ('calibrate --data {cs} --cache {o}', '--cache'),
    ('calibrate --data {cs} --cache {file}/x.cache', '--cache'),
    ('calibrate --data {cs} --out {o}/c.json --cache {o}/c.json', '--cache'),
    ('calibrate --data {cs} --out {o}/c.json --method kl', '--method'),
    ('calibrate --data {cs} --out {o}/c.json --percentile 101', '--percentile'),
    ('calibrate --data {cs} --out {o}/c.json --percentile lots', '--percentile'),
    ('calibrate --data {cs} --out {o}/c.json --frames 0', '--frames'),
    ('calibrate --data {cs} --out {o}/c.json --num-bins 0', '--num-bins'),
    ('calibrate --data {cs} --out {o}/c.json --num-bins 100 --method minmax', '--num-bins'),
    ('calibrate --data {cs} --out {o}/c.json --num-bins 128', '--num-bins'),
    ('calibrate --data {cs} --cache {o}/c.cache --trt-version 7.0', '--trt-version'),
    ('calibrate --data {cs} --out {cs}/c.json --model {tiny}', '--out'),
    ('calibrate --data {cs} --check {calib_nan} --model {tiny}', '--check'),
    ('calibrate --data {cs} --check {png} --model {tiny}', '--check'),
    ('calibrate --data {cs} --cache {o}/c.cache --trt-version x', '--trt-version'),
    ('calibrate --data {cs} --cache {o}/c.cache --trt-version 8.-1', '--trt-version'),
    ('calibrate --data {cs} --cache {o}/c.cache --cache-algorithm Foo', '--cache-algorithm'),
    ('calibrate --data {cs} --out {o}/c.json --cache-algorithm MinMaxCalibration',
     '--cache-algorithm'),
    ('calibrate --data {cs} --out {o}/c.json --trt-version 10.14.1', '--trt-version'),
    ('calibrate --data {cs} --check {o}/missing.json', '--check'),
    ('calibrate --data {cs} --check {calib_bad} --model {tiny}', '--check'),
    ('calibrate --data {cs} --check {calib_list} --model {tiny}', '--check'),
    ('calibrate --data {cs} --check {calib_other} --model {tiny}', '--check'),
    ('calibrate --data {cs} --check {calib} --model {tiny} --json {o}', '--json'),
    ('calibrate --data {cs} --check {calib} --max-clip 1.5', '--max-clip'),
    ('calibrate --data {cs} --check {calib} --max-shift -0.1', '--max-shift'),
    # quantize
    ('quantize', 'MODE'),
    ('quantize int4', 'MODE'),
    ('quantize int8 --out {o}/q.onnx', '--calib'),
    ('quantize int8 --model {tiny} --calib {o}/missing.json --out {o}/q.onnx', '--calib'),
    ('quantize int8 --model {tiny} --calib {calib_bad} --out {o}/q.onnx', '--calib'),
    ('quantize int8 --model {tiny} --calib {calib_empty} --out {o}/q.onnx', '--calib'),
    ('quantize int8 --model {tiny} --calib {calib_list} --out {o}/q.onnx', '--calib'),
    ('quantize int8 --model {tiny} --calib {calib_wrong} --out {o}/q.onnx', '--calib'),
    ('quantize int8 --model {tiny} --calib {calib_none} --out {o}/q.onnx', '--calib'),
    ('quantize int8 --model {tiny} --calib {calib_other} --out {o}/q.onnx', '--calib'),
    ('quantize int8 --model {tiny} --calib {calib_nan} --out {o}/q.onnx', '--calib'),
    ('quantize int8 --model {tiny} --calib {calib_neg} --out {o}/q.onnx', '--calib'),
    ('quantize int8 --model {qdq} --calib {calib} --out {o}/q.onnx', '--model'),
    ('quantize int8 --model {fp16} --calib {calib} --out {o}/q.onnx', '--model'),
    ('quantize int8 --model {tiny} --calib {o} --out {o}/q.onnx', '--calib'),
    ('quantize int8 --model {text_onnx} --calib {calib} --out {o}/q.onnx', '--model'),
    ('quantize int8 --model {onnx_txt} --calib {calib} --out {o}/q.onnx', '--model'),
    ('quantize int8 --model {deploy} --calib {calib} --out {o}/q.onnx', '--model'),
    ('quantize int8 --model {o}/missing.onnx --calib {calib} --out {o}/q.onnx', '--model'),
    ('quantize int8 --model {tiny} --calib {calib} --out {o}/q.onnx --op-types Foo',
     '--op-types'),
    ('quantize int8 --model {tiny} --calib {calib} --out {o}/q.onnx --op-types Resize',
     '--op-types'),
    ('quantize int8 --model {tiny} --calib {calib} --out {o}/q.onnx --keep-fp conv9',
     '--keep-fp'),
    ('quantize int8 --model {tiny} --calib {calib} --out {o}/q.onnx --activations fp8',
     '--activations'),
    ('quantize int8 --model {tiny} --calib {calib} --out {o}', '--out'),
    ('quantize int8 --model {tiny} --calib {calib} --out {file}/q.onnx', '--out'),
    ('quantize int8 --model {tiny} --calib {calib} --out {tiny}', '--out'),
    ('quantize int8 --model {tiny} --calib {calib} --out {calib}', '--out'),
    ('quantize int8 --model {tiny} --calib {calib} --out {pkg}/q.onnx', '--out'),
    ('quantize int8 --model {tiny} --calib {calib} --out {o}/q.onnx --threads -1', '--threads'),
    ('quantize fp16', '--out'),
    ('quantize fp16 --model {text_onnx} --out {o}/f.onnx', '--model'),
    ('quantize fp16 --model {tiny} --out {o}', '--out'),
    ('quantize fp16 --model {tiny} --out {o}/f.onnx --calib {calib}', '--calib'),
    ('quantize fp16 --model {qdq} --out {o}/f.onnx', '--model'),
    ('quantize fp16 --model {fp16} --out {o}/f.onnx', '--model'),
    ('quantize mixed --model {qdq} --calib {calib} --out {o}/m.onnx --max-drop 1', '--model'),
    ('quantize analyze --model {tiny}', '--calib'),
    ('quantize analyze --model {tiny} --calib {calib} --analyze-frames 0', '--analyze-frames'),
    ('quantize analyze --model {tiny} --calib {calib} --data {o}/none', '--data'),
    ('quantize analyze --model {tiny} --calib {calib} --topic /camera/image_raw', '--topic'),
    ('quantize analyze --model {tiny} --calib {calib} --json {o}', '--json'),
    ('quantize analyze --model {tiny} --calib {calib} --workdir {file}', '--workdir'),
    ('quantize analyze --model {tiny} --calib {calib} --seed -1', '--seed'),
    ('quantize mixed --model {tiny} --calib {calib} --out {o}/m.onnx', '--max-drop'),
    ('quantize mixed --model {tiny} --calib {calib} --out {o}/m.onnx --max-drop -1',
     '--max-drop'),
    ('quantize mixed --model {tiny} --calib {calib} --out {o}/m.onnx --max-drop 1 '
     '--eval-data {o}/none', '--eval-data'),
    ('quantize mixed --model {tiny} --calib {calib} --out {o}/m.onnx --max-drop 1 '
     '--eval-data {unlabelled}', '--eval-data'),
    ('quantize mixed --model {tiny} --calib {calib} --out {o}/m.onnx --max-drop 1 '
     '--eval-data {cs} --eval-split val', '--eval-split'),
    ('quantize mixed --model {tiny} --calib {calib} --out {o}/m.onnx --max-drop 1 '
     '--int8-kernels fast', '--int8-kernels'),
    ('quantize mixed --model {tiny} --calib {calib} --out {o}/m.onnx --max-drop 1 '
     '--max-fallback 0', '--max-fallback'),
    ('quantize mixed --model {tiny} --calib {calib} --out {o} --max-drop 1', '--out'),
    ('quantize report --out {o}/r.onnx', '--out'),
    ('quantize report --model {tiny} --markdown {o}', '--markdown'),
    ('quantize report --model {tiny} --json {file}/r.json', '--json'),
    ('quantize report --model {tiny} --latency-runs 0', '--latency-runs'),
    ('quantize report --model {tiny} --calib-frames 0', '--calib-frames'),
    ('quantize report --model {deploy}', '--model'),
    # build (all checked before TensorRT is needed)
    ('build --out {o}/e.engine', '--model'),
    ('build --model {o}/missing.onnx --out {o}/e.engine', '--model'),
    ('build --model {text_onnx} --out {o}/e.engine', '--model'),
    ('build --model {tiny}', '--out'),
    ('build --model {tiny} --out {o}', '--out'),
    ('build --model {tiny} --out {file}/e.engine', '--out'),
    ('build --model {tiny} --out {tiny}', '--out'),
    ('build --model {tiny} --out {o}/e.engine --precision int4', '--precision'),
    ('build --model {tiny} --out {o}/e.engine --precision int8', '--calibration-cache'),
    ('build --model {tiny} --out {o}/e.engine --precision int8 --calibration-cache '
     '{o}/missing.cache', '--calibration-cache'),
    ('build --model {tiny} --out {o}/e.engine --precision int8 --calib-data {o}/none '
     '--calibration-cache {o}/c.cache', '--calib-data'),
    ('build --model {tiny} --out {o}/e.engine --precision int8 --calib-data {bag} '
     '--calib-topic /nope --calibration-cache {o}/c.cache', '--calib-topic'),
    ('build --model {tiny} --out {o}/e.engine --precision int8 --calib-data {cs}',
     '--calibration-cache'),
    ('build --model {tiny} --out {o}/e.engine --precision fp16 --calibration-cache {cache}',
     '--calibration-cache'),
    ('build --model {qdq} --out {o}/e.engine --precision fp16', '--precision'),
    ('build --model {tiny} --out {o}/e.engine --dla-core -1', '--dla-core'),
    ('build --model {tiny} --out {o}/e.engine --workspace 0', '--workspace'),
    ('build --model {tiny} --out {o}/e.engine --camera-wh 0x0', '--camera-wh'),
    ('build --model {tiny} --out {o}/e.engine --max-batch 0', '--max-batch'),
    ('build --model {tiny} --out {o}/e.engine --float-io maybe', '--float-io'),
    ('build --model {tiny} --out {o}/e.engine --timing-cache {o}', '--timing-cache'),
    # bench
    ('bench --model {o}/missing.onnx', '--model'),
    ('bench --model {text_onnx}', '--model'),
    ('bench --model {file}', '--model'),
    ('bench --model {tiny10}', '--model'),
    ('bench --model int8={tiny}', '--model'),
    ('bench --model a={tiny} --model a={tiny}', '--model'),
    ('bench --model {tiny} --frames 0', '--frames'),
    ('bench --model {tiny} --warmup -1', '--warmup'),
    ('bench --model {tiny} --batch 0', '--batch'),
    ('bench --model {tiny} --threads -2', '--threads'),
    ('bench --model {tiny} --tensorrt maybe', '--tensorrt'),
    ('bench --model {tiny} --profile maybe', '--profile'),
    ('bench --model {tiny} --json {o}', '--json'),
    ('bench --node --rate 0', '--rate'),
    ('bench --node --rate -5', '--rate'),
    ('bench --node --rate fast', '--rate'),
    ('bench --node --cameras 0', '--cameras'),
    ('bench --node --duration 0', '--duration'),
    ('bench --node --params-file {o}/missing.yaml', '--params-file'),
    ('bench --node --params-file {bad_yaml}', '--params-file'),
    ('bench --node --params-file {calib}', '--params-file'),
    ('bench --node --params-file {png}', '--params-file'),
    ('bench --node --model {tiny} --model {tiny}', '--model'),
    ('bench --node --model {text_onnx}', '--model'),
    ('bench --node --json {o}/b.json', '--json'),
    ('bench --node --large-data maybe', '--large-data'),
    # eval
    ('eval --model {tiny}', '--bag'),
    ('eval --bag {bag} --data {cs} --model {tiny}', '--data'),
    ('eval --bag {bag}', '--model'),
    ('eval --bag {o}/none --model {tiny}', '--bag'),
    ('eval --bag {cs} --model {tiny}', '--bag'),
    ('eval --bag {bag_cut} --model {tiny}', '--bag'),
    ('eval --bag {file} --model {tiny}', '--bag'),
    ('eval --data {o}/none --model {tiny}', '--data'),
    ('eval --data {empty} --model {tiny}', '--data'),
    ('eval --data {cs} --split val --model {tiny}', '--split'),
    ('eval --data {cs} --split train --model {tiny} --image-topic /camera/image_raw',
     '--image-topic'),
    ('eval --bag {bag} --model {tiny} --image-topic /nope', '--image-topic'),
    ('eval --bag {bag} --model {tiny} --image-topic /fxseg/condition', '--image-topic'),
    ('eval --bag {bag} --model {tiny} --label-topic /nope', '--label-topic'),
    ('eval --bag {bag} --model {tiny} --condition-topic /nope', '--condition-topic'),
    ('eval --bag {bag2} --model {tiny}', '--image-topic'),
    ('eval --bag {bag} --model {o}/missing.onnx', '--model'),
    ('eval --bag {bag} --model {text_onnx}', '--model'),
    ('eval --bag {bag} --model {empty_onnx}', '--model'),
    ('eval --bag {bag} --model {cut_onnx}', '--model'),
    ('eval --bag {bag} --model {tiny10}', '--model'),
    ('eval --bag {bag} --model {file}', '--model'),
    ('eval --bag {bag} --model {tiny} --precision int4', '--precision'),
    ('eval --bag {bag} --model {tiny} --precision int8', '--precision'),
    ('eval --bag {bag} --model {tiny} --precision fp16', '--precision'),
    ('eval --bag {bag} --model {qdq} --precision fp32', '--precision'),
    ('eval --bag {bag} --model {tiny} --precision fp32,int8', '--precision'),
    ('eval --bag {bag} --model {tiny} {qdq} --precision fp32', '--precision'),
    ('eval --bag {bag} --model {tiny} --name a,b', '--name'),
    ('eval --bag {bag} --model {tiny} {qdq} --name a,a', '--name'),
    ('eval --bag {bag} --model {tiny} {tiny}', '--name'),
    ('eval --bag {bag} --model {tiny} --small-classes unicorn', '--small-classes'),
    ('eval --bag {bag} --model {tiny} --reference X', '--reference'),
    ('eval --bag {bag} --model {tiny} --report {file}', '--report'),
    ('eval --bag {bag} --model {tiny} --report {file}/r', '--report'),
    ('eval --bag {bag} --model {tiny} --report {pkg}/r', '--report'),
    ('eval --bag {bag} --model {tiny} --rate 5', '--rate'),
    ('eval --bag {bag} --model {tiny} --connect', '--connect'),
    ('eval --bag {bag} --model {tiny} --params-file {file}', '--params-file'),
    ('eval --data {cs} --split train --model {tiny} --live', '--live'),
    ('eval --bag {bag} --model {tiny} --live --params-file {o}/missing.yaml', '--params-file'),
    ('eval --bag {bag} --model {tiny} --batch 0', '--batch'),
    ('eval --bag {bag} --model {tiny} --max-frames 0', '--max-frames'),
    ('eval --bag {bag} --model {tiny} --overlays -1', '--overlays'),
    ('eval --bag {bag} --model {tiny} --threads -1', '--threads'),
    ('eval --bag {bag} --model {tiny} --node-timeout 0', '--node-timeout'),
    ('eval --bag {bag} --model {tiny} --backend gpu', '--backend'),
    ('eval --bag {bag} --model {tiny} --small-max-pixels 0', '--small-max-pixels'),
    ('eval --data {cs} --split train --model {tiny} --report {cs}/gtFine/train', '--report'),
    ('eval --bag {bag} --model {tiny} --live --params-file {list_yaml}', '--params-file'),
    # demo
    ('demo', '--out'),
    ('demo --out {file}', '--out'),
    ('demo --out {file}/d', '--out'),
    ('demo --out {pkg}/d', '--out'),
    ('demo --out {o}/d --model {o}/missing.onnx', '--model'),
    ('demo --out {o}/d --model {text_onnx}', '--model'),
    ('demo --out {o}/d --model {deploy}', '--model'),
    ('demo --out {o}/d --frames-per-condition 0', '--frames-per-condition'),
    ('demo --out {o}/d --calib-frames 0', '--calib-frames'),
    ('demo --out {o}/d --calib-frames 30', '--calib-frames'),
    ('demo --out {o}/d --heldout-frames 0', '--heldout-frames'),
    ('demo --out {o}/d --max-drop -1', '--max-drop'),
    ('demo --out {o}/d --max-fallback 0', '--max-fallback'),
    ('demo --out {o}/d --live-rate 0', '--live-rate'),
    ('demo --out {o}/d --threads -1', '--threads'),
    ('demo --out {o}/d --seed -1', '--seed'),
    ('demo --out {userdata} --model {tiny}', '--out'),
    ('demo --out {bag} --model {tiny}', '--out'),
    ('demo --out {o}/d --model {tiny10}', '--model'),
    # check
    ('check', 'MODEL'),
    ('check {o}/missing.onnx', 'MODEL'),
    ('check {text_onnx}', 'MODEL'),
    ('check {empty_onnx}', 'MODEL'),
    ('check {cut_onnx}', 'MODEL'),
    ('check {onnx_txt}', 'MODEL'),
    ('check {tiny} --tensorrt 7.0', '--tensorrt'),
    ('check {tiny} --output pixels', '--output'),
]

#: Outputs in a read-only folder ({ro}); run in a child process (see `test_read_only_outputs`).
READ_ONLY_CASES = [
    ('synth --out {ro}/s --count 1 --size 160x96', '--out'),
    ('make-bag --out {ro}/b --frames-per-condition 1 --size 160x96', '--out'),
    ('calibrate --data {cs} --model {tiny} --out {ro}/c.json', '--out'),
    ('calibrate --data {cs} --model {tiny} --cache {ro}/c.cache', '--cache'),
    ('calibrate --data {cs} --model {tiny} --check {calib} --json {ro}/c.json', '--json'),
    ('quantize int8 --model {tiny} --calib {calib} --out {ro}/q.onnx', '--out'),
    ('quantize fp16 --model {tiny} --out {ro}/f.onnx', '--out'),
    ('quantize report --model {tiny} --markdown {ro}/r.md', '--markdown'),
    ('eval --bag {bag} --model {tiny} --report {ro}/r', '--report'),
    ('export --random-init --out {ro}/m.onnx', '--out'),
    ('train --evaluate-only --model {tiny} --eval-json {ro}/e.json', '--eval-json'),
    ('demo --out {ro}/d --model {tiny}', '--out'),
    ('bench --model {tiny} --json {ro}/b.json', '--json'),
    ('build --model {tiny} --out {ro}/e.engine', '--out'),
    ('train --out {ro}/t', '--out'),
]


def _tree(root: Path):
    """Relative path -> (size, mtime) of every file under root (no __pycache__)."""
    out = {}
    for path in root.rglob('*'):
        if path.is_file() and '__pycache__' not in path.parts:
            stat = path.stat()
            out[path.relative_to(root).as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return out


def _write_tiny_bag(path: Path, cameras: int = 1) -> Path:
    from conftest import frame_source
    from fxseg_ros.data.bag import BagSpec, write_synthetic_bag

    write_synthetic_bag(path, BagSpec(frames_per_condition=2, size_wh=(96, 64),
                                      cameras=cameras), frame_source=frame_source)
    return path


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    """Return the inputs of the cases: real files, and broken copies of them."""
    from conftest import make_tiny_net
    from fxseg_ros.data.synth import write_cityscapes
    from fxseg_ros.model.deploy import ensure_deployment_graph
    from fxseg_ros.quant.cache import write_calibration_cache
    from fxseg_ros.quant.calibrators import calibrate
    from fxseg_ros.quant.collect import ArrayReader
    from fxseg_ros.quant.fp16 import convert_to_fp16, save_model
    from fxseg_ros.quant.qdq import quantize_qdq
    import onnx

    root = tmp_path_factory.mktemp('inputs')
    f = {'root': root, 'pkg': PACKAGE / 'assets'}
    f['tiny'] = make_tiny_net(root / 'tiny.onnx', input_wh=(96, 64))
    f['tiny10'] = make_tiny_net(root / 'tiny10.onnx', input_wh=(96, 64), num_classes=10)
    other = make_tiny_net(root / 'other.onnx', input_wh=(96, 64), seed=5)
    onnx.save(ensure_deployment_graph(str(f['tiny']), camera_hw=(64, 96)),
              str(root / 'deploy.onnx'))
    f['deploy'] = root / 'deploy.onnx'
    data = f['tiny'].read_bytes()
    for name, content in (('text_onnx', b'not a model\n'), ('empty_onnx', b''),
                          ('cut_onnx', data[:len(data) // 2])):
        f[name] = root / (name + '.onnx')
        f[name].write_bytes(content)
    f['onnx_txt'] = root / 'model.txt'
    f['onnx_txt'].write_bytes(data)
    blobs = [np.random.default_rng(i).standard_normal((1, 3, 64, 96)).astype(np.float32)
             for i in range(2)]
    calib = calibrate(str(f['tiny']), ArrayReader(blobs))
    f['calib'] = calib.save(root / 'calib.json')
    f['calib_other'] = calibrate(str(other), ArrayReader(blobs)).save(root / 'other.json')
    f['cache'] = write_calibration_cache(root / 'tiny.cache', calib.amax)
    for name, text in (('calib_bad', '{'), ('calib_list', '[1, 2]'), ('calib_empty', ''),
                       ('calib_wrong', '{"format": "other", "amax": {}}'),
                       ('calib_none', json.dumps({'format': 'fxseg_ros.calibration',
                                                  'amax': {'input': None}})),
                       ('calib_nan', json.dumps(dict(calib.to_dict(), amax=dict(
                           calib.amax, input=float('nan'))))),
                       ('calib_neg', json.dumps(dict(calib.to_dict(), amax=dict(
                           calib.amax, input=-1.0))))):
        f[name] = root / (name + '.json')
        f[name].write_text(text)
    f['qdq'] = quantize_qdq(str(f['tiny']), calib.amax, root / 'qdq.onnx')
    f['fp16'] = save_model(convert_to_fp16(str(f['tiny'])), root / 'fp16.onnx')
    f['cs'] = root / 'cs'
    write_cityscapes(f['cs'], 1, seed=3, size_wh=(160, 96), progress=False)
    f['unlabelled'] = root / 'unlabelled'
    shutil.copytree(str(f['cs'] / 'leftImg8bit'), str(f['unlabelled'] / 'leftImg8bit'))
    f['bag'] = _write_tiny_bag(root / 'bag')
    f['bag2'] = _write_tiny_bag(root / 'bag2', cameras=2)
    f['bag_cut'] = root / 'bag_cut'
    shutil.copytree(str(f['bag']), str(f['bag_cut']))
    storage = next(f['bag_cut'].glob('*.mcap'))
    storage.write_bytes(storage.read_bytes()[:len(storage.read_bytes()) // 3])
    f['no_metadata'] = root / 'no_metadata'
    f['no_metadata'].mkdir()
    shutil.copy(str(storage), str(f['no_metadata']))
    f['empty'] = root / 'empty'
    f['empty'].mkdir()
    f['file'] = root / 'afile.txt'
    f['file'].write_text('a file, not a folder\n')
    f['png'] = root / 'pic.png'
    f['png'].write_bytes(b'\x89PNG\r\n\x1a\n' + bytes(range(256)))
    for name, text in (('bad_yaml', '{[\n'), ('list_yaml', '- a\n- b\n')):
        f[name] = root / (name + '.yaml')
        f[name].write_text(text)
    f['userdata'] = root / 'userdata'   # someone's folder: no output of fxseg demo
    (f['userdata'] / 'bag').mkdir(parents=True)
    (f['userdata'] / 'bag' / 'my_recording.mcap').write_bytes(b'a recording')
    (f['userdata'] / 'calibration.cache').write_text('TRT-8201-EntropyCalibration2\n')
    f['blank'] = ''
    return f


def _argv(template: str, files, **extra):
    values = {k: str(v) for k, v in files.items()}
    values.update({k: str(v) for k, v in extra.items()})
    return [word.format(**values) for word in template.split()]


def test_the_table_covers_every_subcommand_with_at_least_150_cases():
    from fxseg_ros.cli.main import build_parser, COMMAND_MODULES

    assert len(CASES) + len(READ_ONLY_CASES) >= 150
    parser = build_parser()
    names = set(parser._subparsers._group_actions[0].choices)
    commands = {template.split()[0] for template, _ in CASES if template} & names
    assert names == commands, names - commands
    assert len(names) == len(COMMAND_MODULES)


@pytest.mark.parametrize('template, argument', CASES,
                         ids=['%03d %s' % (i, t) for i, (t, _) in enumerate(CASES)])
def test_bad_input_is_one_line_naming_the_argument(template, argument, files, tmp_path,
                                                   capsys):
    out = tmp_path / 'o'
    out.mkdir()
    inputs, package = _tree(files['root']), _tree(PACKAGE)
    code = main(_argv(template, files, o=out))
    printed = capsys.readouterr()
    lines = [line for line in printed.err.splitlines() if line.strip()]
    assert code == 2, printed
    # stdout: at most the start of the work (a check that needs the work's result comes last)
    assert not re.search(r'\berror\b|\bwrote\b', printed.out, re.IGNORECASE), printed
    assert len(lines) == 1, printed.err
    assert 'Traceback' not in printed.err
    assert lines[0].startswith('fxseg') and ': error: ' in lines[0], lines[0]
    mode = (template.split() + ['', ''])[:2]
    if mode[0] == 'quantize' and mode[1] in ('int8', 'fp16', 'analyze', 'mixed', 'report'):
        assert lines[0].startswith('fxseg quantize %s: error: ' % mode[1]), lines[0]  # as argparse
    assert argument in lines[0], lines[0]
    assert [p for p in out.rglob('*') if not p.is_dir()] == []
    assert _tree(files['root']) == inputs
    assert _tree(PACKAGE) == package


#: Runs each command line of argv (a JSON list of lists) in this one child process and prints
#: [exit status, stdout, stderr] per command as JSON.
_CHILD = """
import contextlib, io, json, sys
from fxseg_ros.cli.main import main
results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    results.append([code, out.getvalue(), err.getvalue()])
print(json.dumps(results))
"""


def test_read_only_outputs(files, tmp_path):
    ro = tmp_path / 'ro'
    ro.mkdir()
    argvs = [_argv(template, files, ro=ro) for template, _ in READ_ONLY_CASES]
    command = read_only_command([sys.executable, '-c', _CHILD, json.dumps(argvs)], [ro])
    if command is None:
        pytest.skip('cannot make a folder read-only here (root without unshare / mount)')
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=600, cwd=str(tmp_path))
    finally:
        os.chmod(str(ro), 0o755)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout.splitlines()[-1])
    for (template, argument), (code, out, err) in zip(READ_ONLY_CASES, results):
        lines = [line for line in err.splitlines() if line.strip()]
        assert code == 2 and out == '' and len(lines) == 1, (template, code, out, err)
        assert argument in lines[0] and 'not writable' in lines[0], (template, lines)
    assert list(ro.iterdir()) == []
