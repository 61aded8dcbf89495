"""JSON from clients, parsed with a bound on nesting.

A body of 100,000 nested brackets makes the standard parser raise RecursionError, and one
nested a few hundred deep makes every recursive step after it (copying, hashing, saving)
raise it later. So nesting is limited where JSON enters: a ValueError names the limit.
"""

from __future__ import annotations

import json
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
    hook: Callable[[str], Any] | None = None if constants else _reject_constant
    try:
        value = json.loads(text, parse_constant=hook)
    except RecursionError:
        raise ValueError(_too_deep(max_depth)) from None
    check_depth(value, max_depth)
    return value


def check_depth(value: Any, max_depth: int) -> None:
    """ValueError when ``value`` nests lists and objects more than ``max_depth`` levels."""
    if not isinstance(value, dict | list):
        return
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > max_depth:
            raise ValueError(_too_deep(max_depth))
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def _too_deep(max_depth: int) -> str:
    return f"the JSON is nested deeper than the emulator's limit of {max_depth} levels"
