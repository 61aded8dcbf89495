"""Turning what a submit was given into what the journal stores: JSON, search text, hashes.

Nothing here stores a key: a key is reduced to a salted hash, and any text that contains a
key the journal was shown is scrubbed before it is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:  # the domain types are not needed to read the journal (`history` stays fast)
    from .._models import NodeOverride

__all__ = [
    "Params",
    "canonical_json",
    "fingerprint",
    "key_hash",
    "normalise_params",
    "scrub",
    "search_text",
]

Params: TypeAlias = "Mapping[str, Any] | Sequence[NodeOverride]"

# The hash says which key, never the key: salted so that it is no plain SHA-256 of the key
# anyone could look up, and short enough to read in a table.
_KEY_SALT = b"runninghub-journal-key:"
KEY_HASH_LENGTH = 16
SEARCH_TEXT_LIMIT = 20_000


def key_hash(api_key: str) -> str:
    """A short, stable name for ``api_key`` that does not reveal it."""
    import hashlib  # here, not at import: OpenSSL's start-up slows `runninghub history`

    return hashlib.sha256(_KEY_SALT + api_key.strip().encode()).hexdigest()[:KEY_HASH_LENGTH]


def normalise_params(params: Params) -> dict[str, Any]:
    """Overrides as ``{"NODE.FIELD": value}``; a mapping (model params, overrides) as given."""
    if isinstance(params, Mapping):
        return {str(key): value for key, value in params.items()}
    return {f"{item.node_id}.{item.field}": item.value for item in params}


def canonical_json(value: Any) -> str:
    """Stable JSON (sorted keys); paths and other objects become their text."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def fingerprint(kind: str, target: str, params_json: str, input_hashes: Iterable[str]) -> str:
    """Which input this is: equal for two submits of the same thing with the same files."""
    import hashlib

    digest = hashlib.sha256()
    for part in (kind, target, params_json, *sorted(input_hashes)):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def search_text(target: str, params: Mapping[str, Any], extra: Iterable[str] = ()) -> str:
    """The words ``history --search`` looks in: the target and every string value."""
    parts = [target, *_strings(params), *extra]
    return "\n".join(part for part in parts if part)[:SEARCH_TEXT_LIMIT]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def scrub(text: str | None, secrets: Iterable[str]) -> str | None:
    """``text`` with every secret (in any case) replaced by ``[redacted]``."""
    if text is None:
        return None
    for secret in secrets:
        text = re.sub(re.escape(secret), "[redacted]", text, flags=re.IGNORECASE)
    return text
