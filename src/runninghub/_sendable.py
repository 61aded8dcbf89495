"""Text that cannot be sent: refused locally, with where it is, before any request.

Python reads a command-line argument or a file name that is not UTF-8 with ``surrogateescape``:
each stray byte becomes a lone surrogate (U+DC80-U+DCFF), and JSON from a file may hold a lone
surrogate too (``"\\ud800"``). Neither can be encoded as UTF-8, so a request holding one would
fail deep in the HTTP layer (after a submit was journalled). It is refused here instead, naming
the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._errors import Wording
from ._fields import error

__all__ = ["check_sendable", "undecodable"]

_SURROGATE = re.compile("[\ud800-\udfff]")
_HINT = Wording(
    "pass text that is valid Unicode (no lone surrogates)",
    "the value must be UTF-8: check the terminal's encoding, or the bytes that were passed",
)


def undecodable(text: str) -> str | None:
    """What in ``text`` is not Unicode text (a stray byte, a lone surrogate), or None."""
    found = _SURROGATE.search(text)
    if found is None:
        return None
    code, at = ord(found.group()), found.start()
    if 0xDC80 <= code <= 0xDCFF:
        return f"the byte 0x{code - 0xDC00:02x} at character {at + 1} is not UTF-8"
    return f"a lone surrogate U+{code:04X} at character {at + 1}"


def check_sendable(body: Mapping[str, Any] | None, params: Mapping[str, str] | None) -> None:
    """Refuse (InvalidRequestError) a request body or query holding text that is not Unicode."""
    pending: list[tuple[str, Any]] = [("", body or {}), ("", params or {})]
    while pending:
        where, value = pending.pop()
        if isinstance(value, str):
            problem = undecodable(value)
            if problem is not None:
                raise error(f"{where or 'a value'} cannot be sent: {problem}", _HINT)
        elif isinstance(value, Mapping):
            pending += [(_place(where, value, key), item) for key, item in value.items()]
            pending += [(where or "a name", str(key)) for key in value]
        elif isinstance(value, list | tuple):
            pending += [(where, item) for item in value]


def _place(where: str, mapping: Mapping[str, Any], key: Any) -> str:
    """A readable name for ``mapping[key]``: ``NODE.FIELD`` inside a node override."""
    if "nodeId" in mapping and "fieldName" in mapping:
        return f"the value of {mapping['nodeId']}.{mapping['fieldName']}"
    return f"{where}.{key}" if where else str(key)
