"""``python -m runninghub.emulator [options]``: run the emulator in the foreground."""

from __future__ import annotations

import sys

from .server import main

sys.exit(main())
