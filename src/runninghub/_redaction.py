"""Keeping the API key out of sight: masking, redaction of text and JSON, a logging filter.

RunningHub puts ``apiKey`` in JSON bodies, so anything that echoes a request or an answer
(logs, exceptions, reprs) passes through here. A leaf module: the wire layer imports it
without importing settings.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

__all__ = ["install_log_redaction", "mask_key", "redact", "redact_data", "redact_secrets"]


def mask_key(key: str | None) -> str:
    """A recognisable but useless form of a key: ``0123…cdef``."""
    if not key:
        return ""
    if len(key) < 12:
        return "****"
    return f"{key[:4]}…{key[-4:]}"


# A run this long of the key's characters is a piece of the key (a server echoing the first
# 16 characters of it, say); a shorter one is as likely a task id or a word, left alone.
FRAGMENT_CHARS = 12
FRAGMENT_MASK = "****"


def redact(text: str, key: str | None) -> str:
    """Replace every occurrence of ``key`` (any letter case) in ``text`` by its mask, and
    every piece of it ``FRAGMENT_CHARS`` or more characters long by ``FRAGMENT_MASK``."""
    if not key or not text:
        return text
    # Every string of every answer passes here: the common case (no piece of the key in it)
    # costs a few substring searches, not the fragments' regex.
    folded = text.lower()
    if not any(anchor in folded for anchor in _anchors(key)):
        return text
    pieces, lowered = _fragments(key), key.lower()
    kept: list[str] = []
    position = 0
    while (found := pieces.search(text, position)) is not None:
        start, end = found.span()
        offset = max(lowered.find(text[start:end].lower()), 0)
        # Take the whole run the key and the text share from here, not just the first piece.
        while (
            end < len(text)
            and offset + end - start < len(key)
            and text[end].lower() == lowered[offset + end - start]
        ):
            end += 1
        whole = end - start == len(key)
        kept += [text[position:start], mask_key(key) if whole else FRAGMENT_MASK]
        position = end
    return "".join(kept) + text[position:] if kept else text


@functools.lru_cache(maxsize=8)
def _fragments(key: str) -> re.Pattern[str]:
    """A pattern matching any ``FRAGMENT_CHARS`` characters in a row of ``key`` (or all of a
    shorter key)."""
    size = min(FRAGMENT_CHARS, len(key))
    pieces = {key[i : i + size] for i in range(len(key) - size + 1)}
    return re.compile("|".join(map(re.escape, sorted(pieces))), re.IGNORECASE)


@functools.lru_cache(maxsize=8)
def _anchors(key: str) -> tuple[str, ...]:
    """Pieces of ``key`` of half a fragment's length, one at every multiple of that length:
    any fragment of the key holds one of them whole, so a text holding none holds no
    fragment."""
    half = max(1, min(FRAGMENT_CHARS, len(key)) // 2)
    lowered = key.lower()
    return tuple({lowered[j : j + half] for j in range(0, len(key) - half + 1, half)})


def redact_data(value: Any, key: str | None) -> Any:
    """``redact`` applied to every string inside a JSON value (a copy; the input is not changed)."""
    if not key:
        return value
    if isinstance(value, str):
        return redact(value, key)
    if isinstance(value, dict):
        return {k: redact_data(v, key) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_data(v, key) for v in value]
    return value


# Secrets as they look in URLs, headers and JSON bodies, whatever the key.
_SECRET_PATTERNS = (
    (re.compile(r"(?i)(\b(?:api_?key|rh-comfy-auth|access_?password)=)[^&\s\"'#]+"), r"\1***"),
    (re.compile(r"(?i)(\"(?:api_?key|access_?password)\"\s*:\s*\")[^\"]*"), r"\1***"),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1***"),
)


def redact_secrets(text: str) -> str:
    """Hide anything shaped like a credential (``apiKey=...``, ``"apiKey": "..."``, Bearer ...)."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class _RedactingFilter(logging.Filter):
    """Rewrites log records of the HTTP libraries so that no credential reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record that cannot format is left to the handler to report
            return True
        clean = redact_secrets(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


_FILTER = _RedactingFilter()
# httpx logs request URLs at INFO (apiCallDemo carries the key in its query string).
_THIRD_PARTY_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "runninghub",
    "runninghub.progress",
)


def install_log_redaction() -> None:
    """Attach the redacting filter to the loggers our requests go through (idempotent)."""
    for name in _THIRD_PARTY_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
