"""Tolerant readers of wire values: the service sends numbers as strings, JSON inside strings,
and the same field under more than one name. They return ``None`` instead of raising.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["as_dict", "as_int", "json_object", "json_value", "text_field"]


def text_field(data: Mapping[str, Any], *names: str) -> str | None:
    """The first of ``names`` present, as stripped text."""
    for name in names:
        value = data.get(name)
        if value is not None:
            return str(value).strip()
    return None


def json_value(text: str) -> Any:
    try:
        return json.loads(text)
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
