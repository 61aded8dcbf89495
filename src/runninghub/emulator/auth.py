"""API keys: which keys are valid, where each API family carries them, and how to name
a key without revealing it (stats and webhook details show a short hash or a mask).

Placement, as the contract describes it:
- legacy JSON routes: ``apiKey`` in the body, or ``Authorization: Bearer``;
- ``/uc/openapi/accountStatus``: lower-case ``apikey`` in the body, or Bearer;
- legacy upload: the multipart form field ``apiKey``, or Bearer;
- ``GET /api/webapp/apiCallDemo``: the query string ``apiKey``, or Bearer;
- v2 (``/openapi/v2/*``): Bearer only (``/openapi/v2/aiapp/list`` also takes the raw key
  without the ``Bearer`` prefix, as the official skill sends it).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping

from .options import SITES

_HEX32 = re.compile(r"[0-9a-fA-F]{32}")


class KeyPolicy:
    """Decides whether a key is valid for this emulator (and its site)."""

    def __init__(self, keys: Iterable[str] | None, site: str | None) -> None:
        self._site = site
        self._keys: dict[str, str | None] | None = None
        if keys is not None:
            # An entry may go on with the key's type and balance (keys.py): the key is first.
            self._keys = dict(_split_site(entry.split()[0]) for entry in keys if entry.split())

    def is_valid(self, key: str | None) -> bool:
        if not key:
            return False
        if self._keys is None:
            return _HEX32.fullmatch(key) is not None
        if key not in self._keys:
            return False
        key_site = self._keys[key]
        return self._site is None or key_site is None or key_site == self._site


def _split_site(entry: str) -> tuple[str, str | None]:
    prefix, sep, rest = entry.partition(":")
    if sep and prefix in SITES:
        return rest.strip(), prefix
    return entry.strip(), None


def key_hash(key: str) -> str:
    """A short, stable, non-reversible name for a key (used in stats and storage)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def mask(key: str) -> str:
    """The key as RunningHub shows it in webhook details: its ends only."""
    return f"{key[:4]}****{key[-4:]}" if len(key) >= 8 else "****"


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header, else None."""
    value = headers.get("authorization", "")
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def raw_or_bearer(headers: Mapping[str, str]) -> str | None:
    """The key of an Authorization header with or without the ``Bearer`` prefix."""
    token = bearer_token(headers)
    if token is not None:
        return token
    value = headers.get("authorization", "").strip()
    return value or None


def body_key(body: Mapping[str, object], field: str) -> str | None:
    value = body.get(field)
    return value.strip() if isinstance(value, str) and value.strip() else None
