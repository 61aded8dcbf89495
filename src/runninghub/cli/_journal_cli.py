"""What ``history`` and ``spend`` share: opening the journal, ages like ``7d``, safe text.

Everything the journal holds may have come from a server (URLs, failure messages, outputs'
text) or from a file of inputs, so every string is shown with control and bidirectional
characters written out as escapes: nothing stored can move the cursor or recolour a terminal.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from runninghub import ConfigError

if TYPE_CHECKING:
    from runninghub.journal import Journal

__all__ = [
    "clock_time",
    "iso_time",
    "local_time",
    "open_journal",
    "parse_age",
    "safe",
    "safe_data",
    "since_timestamp",
]

_AGE = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# C0 and C1 controls, DEL, zero-width and bidirectional marks, the byte-order mark.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def parse_age(text: str, option: str) -> float:
    """``90d``, ``12h``, ``30m``, ``45s``, ``2w`` -> seconds; a usage error otherwise."""
    match = _AGE.fullmatch(text.strip().lower())
    if match is None:
        raise click.BadParameter(
            f"{text[:40]!r} is not an age; use a number and a unit, such as 7d, 12h or 30m",
            param_hint=option,
        )
    return float(match.group(1)) * _UNITS[match.group(2)]


def open_journal(*, create: bool) -> Journal | None:
    """The user's journal; ``None`` when it does not exist yet and ``create`` is false."""
    from runninghub.journal import Journal, JournalError, journal_path

    path = journal_path()
    if not create and not path.exists():
        return None
    try:
        return Journal(path)
    except JournalError as exc:
        raise ConfigError(exc.wording, hint=exc.hint_wording) from None


def safe(text: object) -> str:
    """``text`` with every control character written as an escape."""
    return _UNSAFE.sub(_escape, str(text))


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_data(value: Any) -> Any:
    """A JSON-ready copy of ``value`` with every string (keys too) made safe."""
    if isinstance(value, str):
        return safe(value)
    if isinstance(value, dict):
        return {safe(k): safe_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [safe_data(item) for item in value]
    return value


def iso_time(timestamp: float | None) -> str | None:
    """UTC, to the second: ``2026-12-01T08:30:01Z``."""
    if timestamp is None:
        return None
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def local_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


def clock_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%H:%M:%S")


def since_timestamp(age: str | None, option: str) -> float | None:
    return None if age is None else time.time() - parse_age(age, option)
