"""Tolerant readers of wire values: the service sends numbers as strings, JSON inside strings,
and the same field under more than one name. They return ``None`` instead of raising.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = [
    "MAX_JSON_DEPTH",
    "TooDeep",
    "as_dict",
    "as_int",
    "json_object",
    "json_value",
    "load_json",
    "text_field",
]

# No answer of this API nests anywhere near this deep; a document that does would overflow the
# recursion of every reader after the parser (redaction, models, printing).
MAX_JSON_DEPTH = 200


class TooDeep(ValueError):
    """A JSON document nested deeper than ``MAX_JSON_DEPTH``."""


def load_json(text: str | bytes) -> Any:
    """``json.loads``, refusing (``TooDeep``) a document nested deeper than ``MAX_JSON_DEPTH``."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise TooDeep(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    if _too_deep(value):
        raise TooDeep(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def _too_deep(value: Any) -> bool:
    """Whether ``value`` nests deeper than the limit (a loop, not recursion, for that reason)."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item
        if not isinstance(item, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def text_field(data: Mapping[str, Any], *names: str) -> str | None:
    """The first of ``names`` present, as stripped text."""
    for name in names:
        value = data.get(name)
        if value is not None:
            return str(value).strip()
    return None


def json_value(text: str) -> Any:
    try:
        return load_json(text)
    except ValueError:
        return None


def json_object(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip():
        decoded = json_value(value)
        return decoded if isinstance(decoded, dict) else None
    return None


def as_dict(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def as_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None
