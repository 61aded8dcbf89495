#!/usr/bin/env python3
"""The earlier runninghub-comfyui skill's script, now a door to the ``runninghub`` command.

Written by ``runninghub skill install``. Every command that script documented
(``--save-key``, ``--workflow-id ID --action submit``, ``--action run-with-image``,
``--action query``, ``--action wait``) is passed unchanged to ``runninghub``, which prints
what the script printed and exits with its documented codes.

It runs the ``runninghub`` found on PATH, else the Python that had the package when this
file was written. Nothing else is read or stored here: the key lives in runninghub's own
config file (``runninghub auth show``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

# The interpreter that ran ``runninghub skill install`` (filled in when the file is written).
INSTALLED_PYTHON = "__INSTALLED_PYTHON__"
NOT_FOUND = (
    "error: the runninghub command is not installed "
    "(uv tool install runninghub, or pip install runninghub)\n"
)
EXIT_CONFIG = 3


def runninghub_command() -> list[str] | None:
    """How to start runninghub here, or None when it cannot be found."""
    on_path = shutil.which("runninghub")
    if on_path:
        return [on_path]
    if os.path.isfile(INSTALLED_PYTHON) and os.access(INSTALLED_PYTHON, os.X_OK):
        return [INSTALLED_PYTHON, "-m", "runninghub"]
    return None


def main() -> int:
    command = runninghub_command()
    if command is None:
        sys.stderr.write(NOT_FOUND)
        return EXIT_CONFIG
    argv = [*command, *sys.argv[1:]]
    if os.name == "posix":
        sys.stdout.flush()
        os.execv(argv[0], argv)  # same process: stdout, signals and exit code pass through
    return subprocess.call(argv)


if __name__ == "__main__":
    sys.exit(main())
