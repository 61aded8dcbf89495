"""Where presets are stored and how: one TOML file, read with ``tomllib``, written atomically.

The file is the config directory's ``presets.toml`` unless one is named explicitly (an
argument, or ``RUNNINGHUB_PRESETS``); it is never looked for in the current directory, so a
checked-out project cannot slip tools into an agent. The writer is small and strict: it
writes only what the presets hold (text, numbers, booleans, lists and tables of those).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ._config import _write_private, config_dir
from ._errors import ConfigError

__all__ = [
    "ENV_PRESETS",
    "PRESETS_FILE",
    "dump_toml",
    "locked",
    "presets_path",
    "read_toml",
    "write_toml",
]

ENV_PRESETS = "RUNNINGHUB_PRESETS"
PRESETS_FILE = "presets.toml"
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")


def presets_path(
    path: str | os.PathLike[str] | None = None, directory: str | os.PathLike[str] | None = None
) -> Path:
    """The presets file: ``path``, else ``$RUNNINGHUB_PRESETS``, else the config directory's."""
    if path is not None:
        return Path(path).expanduser()
    named = os.environ.get(ENV_PRESETS, "").strip()
    return Path(named).expanduser() if named else config_dir(directory) / PRESETS_FILE


def read_toml(path: Path) -> dict[str, Any]:
    """The file's tables ({} when it does not exist); a broken file is one ConfigError line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the presets file {path}: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"the presets file {path} is not valid TOML: {exc}",
            hint="fix it by hand, or remove it and add the presets again",
        ) from None


def write_toml(path: Path, document: Mapping[str, Any]) -> None:
    """Replace the file at once (a crash leaves the old one whole)."""
    _write_private(path, dump_toml(document))


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the presets file's lock (``FILE.lock``, flock) for one read-modify-write.

    Two ``preset add`` at once would each read the file, add their own preset and replace
    the file: the later rename would drop the other's preset. Under the lock the second one
    reads what the first wrote. The lock file is left in place: removing it would let a
    third process lock a new inode while the second still holds the old one.
    """
    try:
        import fcntl
    except ImportError:  # not POSIX: no cross-process guard, the atomic rename still holds
        yield
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise ConfigError(f"cannot lock the presets file {path}: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # held for milliseconds: waiting is the right answer
        yield
    finally:
        os.close(fd)  # closing releases the lock


def dump_toml(document: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> str:
    """TOML text: each mapping a [table], the rest ``key = value`` lines."""
    lines, tables = [], []
    for key, value in document.items():
        if isinstance(value, Mapping):
            tables.append((key, value))
        else:
            lines.append(f"{_key(key)} = {_value(value)}")
    text = ""
    if prefix and (lines or not tables):
        text = "[" + ".".join(_key(k) for k in prefix) + "]\n"
    text += "".join(line + "\n" for line in lines)
    for key, table in tables:
        text += ("\n" if text else "") + dump_toml(table, (*prefix, key))
    return text


def _key(key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"a TOML key must be text, not {type(key).__name__}")
    return key if _BARE_KEY.match(key) else _string(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} cannot be stored in a preset")
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"a {type(value).__name__} cannot be stored in a preset")


def _string(text: str) -> str:
    """A basic string: JSON's escapes are TOML's, plus DEL, which TOML also wants escaped."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")
