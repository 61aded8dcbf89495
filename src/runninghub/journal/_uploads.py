"""The upload cache: a file this key uploaded recently is not uploaded again.

An entry is the key's hash, the file's SHA-256 and size, and what the service answered (its
file name and download URL). It is found only within the time to live (6 hours by default,
``RUNNINGHUB_UPLOAD_CACHE_TTL`` seconds, 0 = off), well inside the 24 hours an uploaded file's
signed URL lasts. A task that fails for a missing input should ``evict`` its entry and upload
again once.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import TYPE_CHECKING

from ._schema import locked, locked_transaction
from ._values import key_hash

if TYPE_CHECKING:
    from ._records import CachedUpload

__all__ = ["UploadCache"]


class UploadCache:
    """Lookup, store and evict uploads by (key, SHA-256, size). Reached as ``Journal.uploads``."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.Lock, ttl: float) -> None:
        self._conn = conn
        self._lock = lock
        self.ttl = ttl

    def lookup(
        self, api_key: str, sha256: str, size: int, *, now: float | None = None
    ) -> CachedUpload | None:
        """The earlier upload of this file by this key, if it is still fresh."""
        if self.ttl <= 0:
            return None
        from ._records import CachedUpload  # here: opening a journal to read it needs none

        now = time.time() if now is None else now
        with locked(self._lock):
            row = self._conn.execute(
                "SELECT file_name, download_url, uploaded_at FROM uploads"
                " WHERE key_hash = ? AND sha256 = ? AND size = ? AND uploaded_at > ?",
                (key_hash(api_key), sha256, size, now - self.ttl),
            ).fetchone()
        return None if row is None else CachedUpload(*row)

    def store(  # noqa: PLR0913 - the cache key and the answer; the clock by keyword
        self,
        api_key: str,
        sha256: str,
        size: int,
        file_name: str,
        download_url: str | None = None,
        *,
        now: float | None = None,
    ) -> None:
        """Remember an upload the service just answered (replacing an older one)."""
        if self.ttl <= 0:
            return
        row = (key_hash(api_key), sha256, size, file_name, download_url)
        with locked_transaction(self._lock, self._conn):
            self._conn.execute(
                "INSERT OR REPLACE INTO uploads VALUES (?, ?, ?, ?, ?, ?)",
                (*row, time.time() if now is None else now),
            )

    def evict(self, api_key: str, sha256: str, size: int) -> bool:
        """Forget one file's upload (the service no longer has it)."""
        with locked_transaction(self._lock, self._conn):
            cursor = self._conn.execute(
                "DELETE FROM uploads WHERE key_hash = ? AND sha256 = ? AND size = ?",
                (key_hash(api_key), sha256, size),
            )
        return cursor.rowcount > 0

    def evict_name(self, api_key: str, file_name: str) -> int:
        """Forget the uploads the service named ``file_name`` (what a failure names)."""
        with locked_transaction(self._lock, self._conn):
            cursor = self._conn.execute(
                "DELETE FROM uploads WHERE key_hash = ? AND file_name = ?",
                (key_hash(api_key), file_name),
            )
        return cursor.rowcount
