"""JSON from clients, parsed with a bound on nesting.

A body of 100,000 nested brackets makes the standard parser raise RecursionError, and one
nested a few hundred deep makes every recursive step after it (copying, hashing, saving)
raise it later. So nesting is limited where JSON enters, before it is parsed: a ValueError
names the limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from .options import MAX_JSON_DEPTH


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads_limited(
    text: str | bytes, max_depth: int = MAX_JSON_DEPTH, *, constants: bool = False
) -> Any:
    """``json.loads`` that refuses nesting deeper than ``max_depth`` (and, unless
    ``constants``, NaN and Infinity)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if _nesting_exceeds(text, max_depth):
        raise ValueError(_too_deep(max_depth))
    hook: Callable[[str], Any] | None = None if constants else _reject_constant
    try:
        return json.loads(text, parse_constant=hook)
    except RecursionError:
        raise ValueError(_too_deep(max_depth)) from None


_INNERMOST = re.compile(r"\[\]|\{\}")
# Every byte but the four brackets and the quote, deleted in one C pass. UTF-8 never uses
# these bytes inside a multi-byte character, so the bytes of the text can be filtered.
_ALL_BUT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')


def _brackets_outside_strings(text: str) -> str:
    """The text's brackets that are JSON structure, in order, the strings' dropped.

    Only C passes over the text: escaped backslashes and escaped quotes go first (left to
    right, as a JSON reader pairs them), then everything but brackets and quotes; what lies
    between two quotes was in a string. A regular expression matching strings with escapes
    took 25 ms on the event loop for a 1 MB body holding a graph as a string.
    """
    data = text.encode("utf-8", "surrogatepass")
    data = data.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _ALL_BUT_STRUCTURE)
    return b"".join(data.split(b'"')[::2]).decode("ascii")


def _nesting_exceeds(text: str, max_depth: int) -> bool:
    """Whether the JSON text nests deeper than ``max_depth``, found without parsing it.

    Strings are dropped, then the innermost pairs of brackets, one level per pass: a few
    passes in C, where walking a parsed 12,000-node graph in Python held the event loop for
    a tenth of a second.
    """
    brackets = _brackets_outside_strings(text)
    if len(brackets) <= 2 * max_depth:
        return False
    if re.search(f"[\\[{{]{{{max_depth + 1}}}", brackets):
        return True  # a run of openings deeper than the limit: one pass is enough
    for _ in range(max_depth):
        brackets, removed = _INNERMOST.subn("", brackets)
        if not brackets or not removed:
            return False  # fully nested within the limit (or malformed: json.loads says so)
    return bool(brackets)


def _too_deep(max_depth: int) -> str:
    return f"the JSON is nested deeper than the emulator's limit of {max_depth} levels"
