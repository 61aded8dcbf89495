"""The graph cache: workflow graphs and app inputs, in memory (process-wide) and on disk.

Validation fetches a workflow's graph before each submit; a batch submits hundreds of
times against one workflow, so the graph is kept for ``GRAPH_TTL`` seconds.

Old entries are evicted so the cache never grows without end: each write to disk removes the
files past the TTL (they would never be served again) and then the oldest beyond
``GRAPH_MAX_ENTRIES``; the in-memory copy is bounded the same way.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from ._config import Settings

__all__ = ["GRAPH_MAX_ENTRIES", "GRAPH_TTL", "GraphCache"]

logger = logging.getLogger("runninghub")

GRAPH_TTL = 600.0
GRAPH_MAX_ENTRIES = 256  # graphs are a few kB to a few MB: a bound on count bounds the size

_MEMORY: dict[str, tuple[float, Any]] = {}
_MEMORY_LOCK = threading.Lock()


class GraphCache:
    """Workflow graphs and app inputs, kept for ``ttl`` seconds in memory and on disk.

    Entries are keyed by base URL, a short hash of the key (accounts see different
    workflows), kind and id; the disk copy lives in ``<config dir>/cache/graphs``.
    """

    def __init__(
        self, settings: Settings, ttl: float = GRAPH_TTL, max_entries: int = GRAPH_MAX_ENTRIES
    ) -> None:
        self._base = settings.base_url
        self._account = hashlib.sha256(settings.api_key.encode()).hexdigest()[:12]
        self._dir = settings.cache_dir / "graphs"
        self.ttl = ttl
        self.max_entries = max_entries

    def _key(self, kind: str, ident: str) -> str:
        return f"{self._base}|{self._account}|{kind}|{ident}"

    def _memory_key(self, key: str) -> str:
        # The memory mirrors one config dir's disk copy: two clients with separate config dirs
        # never share an entry (a service restarted on a reused port is a new service).
        return f"{self._dir}|{key}"

    def _file(self, key: str) -> Path:
        return self._dir / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".json")

    def get(self, kind: str, ident: str) -> Any | None:
        key = self._key(kind, ident)
        now = time.time()
        with _MEMORY_LOCK:
            hit = _MEMORY.get(self._memory_key(key))
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        stored = self._read(key)
        if stored is not None and now - stored[0] < self.ttl:
            with _MEMORY_LOCK:
                _MEMORY[self._memory_key(key)] = stored
            return stored[1]
        return None

    def put(self, kind: str, ident: str, data: Any) -> None:
        key = self._key(kind, ident)
        saved_at = time.time()
        with _MEMORY_LOCK:
            _MEMORY[self._memory_key(key)] = (saved_at, data)
            self._evict_from_memory(saved_at)
        self._write(key, {"key": key, "saved_at": saved_at, "data": data})
        self._evict_from_disk(saved_at)

    def _evict_from_memory(self, now: float) -> None:
        """Expired entries, then the oldest past the bound (the caller holds the lock)."""
        if len(_MEMORY) <= self.max_entries:
            return
        for name in [name for name, (at, _) in _MEMORY.items() if now - at >= self.ttl]:
            del _MEMORY[name]
        by_age = sorted(_MEMORY, key=lambda name: _MEMORY[name][0])
        for name in by_age[: max(0, len(_MEMORY) - self.max_entries)]:
            del _MEMORY[name]

    def _evict_from_disk(self, now: float) -> None:
        """Files past the TTL (and temporary files a crash left), then the oldest past the
        bound. Another process may remove a file first: that is fine."""
        entries = []
        for path in _listing(self._dir):
            with contextlib.suppress(OSError):
                entries.append((path.stat().st_mtime, path))
        entries.sort(reverse=True)  # newest first
        for index, (mtime, path) in enumerate(entries):
            if index >= self.max_entries or now - mtime >= self.ttl:
                with contextlib.suppress(OSError):
                    path.unlink()

    def _read(self, key: str) -> tuple[float, Any] | None:
        try:
            document = json.loads(self._file(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # no copy, or an unreadable one: fetch again
        if not isinstance(document, dict) or document.get("key") != key:
            return None
        saved_at = document.get("saved_at")
        if not isinstance(saved_at, (int, float)):
            return None
        return float(saved_at), document.get("data")

    def _write(self, key: str, document: dict[str, Any]) -> None:
        path = self._file(key)
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".graph-", dir=path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(document, handle)
            os.replace(tmp, path)
        except OSError as exc:  # the disk copy is an optimisation only
            logger.debug("graph cache not written: %s", exc.strerror)


def _listing(directory: Path) -> list[Path]:
    """The cache's own files: entries (``*.json``) and left-over temporary ``.graph-*`` files."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return [directory / n for n in names if n.endswith(".json") or n.startswith(".graph-")]
