"""Where the journal lives and whether it is on: the platform's data directory and two variables.

- ``RUNNINGHUB_DATA_DIR`` names the directory; else ``$XDG_DATA_HOME/runninghub`` (default
  ``~/.local/share/runninghub``) on Linux, ``~/Library/Application Support/runninghub`` on
  macOS, ``%LOCALAPPDATA%\\runninghub`` on Windows.
- ``RUNNINGHUB_NO_JOURNAL=1`` (or ``true``, ``yes``, ``on``) turns recording off.
- ``RUNNINGHUB_UPLOAD_CACHE_TTL`` (seconds) changes how long an upload is reused.

Read when asked, never at import.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from .._errors import ConfigError

__all__ = [
    "DEFAULT_UPLOAD_TTL",
    "ENV_DATA_DIR",
    "ENV_NO_JOURNAL",
    "ENV_UPLOAD_TTL",
    "JOURNAL_FILE",
    "data_dir",
    "journal_disabled",
    "journal_path",
    "upload_ttl",
]

ENV_DATA_DIR = "RUNNINGHUB_DATA_DIR"
ENV_NO_JOURNAL = "RUNNINGHUB_NO_JOURNAL"
ENV_UPLOAD_TTL = "RUNNINGHUB_UPLOAD_CACHE_TTL"
JOURNAL_FILE = "journal.sqlite"

# An uploaded file's signed URL is valid for 24 h (API contract, section 5.2); reusing it for a
# quarter of that leaves a wide margin for clock skew and for tasks that queue for hours.
DEFAULT_UPLOAD_TTL = 6 * 3600.0

_TRUE = frozenset({"1", "true", "yes", "on"})


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The directory of the journal: ``RUNNINGHUB_DATA_DIR``, else the platform's data dir."""
    env = os.environ if environ is None else environ
    if env.get(ENV_DATA_DIR):
        return Path(env[ENV_DATA_DIR])
    if sys.platform == "win32":
        base = env.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "runninghub"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "runninghub"
    xdg = env.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "runninghub"


def journal_path(environ: Mapping[str, str] | None = None) -> Path:
    """The journal's database file."""
    return data_dir(environ) / JOURNAL_FILE


def journal_disabled(environ: Mapping[str, str] | None = None) -> bool:
    """True when ``RUNNINGHUB_NO_JOURNAL`` asks for no recording."""
    env = os.environ if environ is None else environ
    return env.get(ENV_NO_JOURNAL, "").strip().lower() in _TRUE


def upload_ttl(environ: Mapping[str, str] | None = None) -> float:
    """Seconds an upload is reused: ``RUNNINGHUB_UPLOAD_CACHE_TTL``, else the default.

    Raises ConfigError for a value that is not a non-negative number of seconds.
    """
    env = os.environ if environ is None else environ
    text = env.get(ENV_UPLOAD_TTL, "").strip()
    if not text:
        return DEFAULT_UPLOAD_TTL
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise ConfigError(
            f"{ENV_UPLOAD_TTL} must be a number of seconds >= 0, not {text[:40]!r}",
            hint="unset it to use the default of 6 hours; 0 turns the upload cache off",
        )
    return value
