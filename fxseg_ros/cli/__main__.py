# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
import sys

from fxseg_ros.cli.main import main

sys.exit(main())
