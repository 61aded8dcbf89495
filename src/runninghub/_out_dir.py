"""Can outputs be saved under this folder? Asked before a submit, so that a folder that cannot
be made or written, or whose names the file system cannot hold, costs no paid task.

The command line (``--out``) and the MCP server (``download_dir``) ask the same question.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["out_dir_problem"]

# Judge by the identity that will write the files (where the platform can).
_EFFECTIVE = os.access in os.supports_effective_ids
# Room left in a path for the output file names the client makes (each bounded well below).
_FILE_NAME_ROOM = 256


def out_dir_problem(out: Path) -> str | None:
    """Why outputs cannot be saved under ``out`` (one line), or None when they can."""
    existing = out
    while not _exists(existing) and existing != existing.parent:
        existing = existing.parent  # the deepest part that exists
    if not existing.is_dir():
        problem = f"{existing} is not a directory"
        return f"cannot create {out}: {problem}" if existing != out else problem
    if not os.access(existing, os.W_OK | os.X_OK, effective_ids=_EFFECTIVE):
        return f"cannot write in {existing}"
    return _name_problem(out, existing)


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a name too long to look up: _name_problem says so
        return False


def _name_problem(out: Path, existing: Path) -> str | None:
    """Names the file system under ``existing`` cannot hold: every save would fail after the
    task was paid for."""
    name_max, path_max = _limits(existing)
    for part in out.parts:
        size = len(os.fsencode(part))
        if size > name_max:
            return (
                f"a folder name of {size} bytes ({part[:24]}...) is too long;"
                f" this file system allows {name_max}"
            )
    size = len(os.fsencode(out.absolute()))
    if size + _FILE_NAME_ROOM > path_max:
        return f"the path is {size} bytes, too long for file names under it (limit {path_max})"
    return None


def _limits(existing: Path) -> tuple[int, int]:
    """The longest name and path the file system under ``existing`` takes."""
    try:
        return os.pathconf(existing, "PC_NAME_MAX"), os.pathconf(existing, "PC_PATH_MAX")
    except (OSError, ValueError):
        return 255, 4096  # the common limits where the platform cannot say
