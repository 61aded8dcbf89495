"""Where runninghub keeps its files, found with ``os`` alone.

No pathlib and no other import: the start-up path of ``runninghub --help`` uses it.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["ENV_CONFIG_DIR", "default_config_dir"]

ENV_CONFIG_DIR = "RUNNINGHUB_CONFIG_DIR"


def default_config_dir(environ: Mapping[str, str] = os.environ) -> str:
    """``RUNNINGHUB_CONFIG_DIR``, else the platform's: ``%APPDATA%\\runninghub`` on Windows,
    ``$XDG_CONFIG_HOME/runninghub``, else ``~/.config/runninghub``."""
    chosen = environ.get(ENV_CONFIG_DIR)
    if chosen:
        return chosen
    if sys.platform == "win32" and environ.get("APPDATA"):
        return os.path.join(environ["APPDATA"], "runninghub")
    base = environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "runninghub")
