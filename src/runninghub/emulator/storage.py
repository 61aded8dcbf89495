"""Where the emulator keeps files and (with ``--state FILE``) its records.

Files (uploads, task outputs) live in a directory: ``<state file>.files/`` next to the state
file, or a temporary directory removed at shutdown. Records (tasks, uploads, webhook
events, a few settings) go to SQLite, one row per record, written as each one changes;
every write is its own transaction, so a crash never leaves a half-written record.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
import threading
from pathlib import Path
from typing import Any

_TABLES = ("tasks", "uploads", "webhooks", "meta", "loras")


class FileStore:
    """The emulator's file tree: ``uploads/``, ``outputs/<task id>/`` and ``tmp/``."""

    def __init__(self, root: Path | None) -> None:
        self._temporary = root is None
        self.root = Path(tempfile.mkdtemp(prefix="runninghub-emulator-")) if root is None else root
        for name in ("uploads", "outputs", "tmp"):
            (self.root / name).mkdir(parents=True, exist_ok=True)

    @property
    def uploads(self) -> Path:
        return self.root / "uploads"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def output_dir(self, task_id: str) -> Path:
        return self.root / "outputs" / task_id

    def new_temp_file(self) -> tuple[int, Path]:
        descriptor, name = tempfile.mkstemp(dir=self.tmp, prefix="part-")
        return descriptor, Path(name)

    def close(self) -> None:
        if self._temporary:
            shutil.rmtree(self.root, ignore_errors=True)


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` so that ``path`` is either absent or complete, never partial."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.part")
    temporary.write_bytes(data)
    os.replace(temporary, path)


class StateDB:
    """Records as JSON documents in SQLite tables; a no-op when there is no state file."""

    def __init__(self, path: Path | None) -> None:
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        for table in _TABLES:
            self._db.execute(f"CREATE TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY, doc TEXT)")

    @property
    def enabled(self) -> bool:
        return self._db is not None

    def put(self, table: str, record_id: str, document: Any) -> None:
        if self._db is None:
            return
        text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
        with self._lock:
            self._db.execute(
                f"INSERT OR REPLACE INTO {table} (id, doc) VALUES (?, ?)", (record_id, text)
            )

    def all(self, table: str) -> list[Any]:
        if self._db is None:
            return []
        with self._lock:
            rows = self._db.execute(f"SELECT doc FROM {table} ORDER BY rowid").fetchall()
        return [json.loads(row[0]) for row in rows]

    def get(self, table: str, record_id: str) -> Any:
        if self._db is None:
            return None
        with self._lock:
            row = self._db.execute(f"SELECT doc FROM {table} WHERE id = ?", (record_id,)).fetchone()
        return None if row is None else json.loads(row[0])

    def clear(self, table: str) -> None:
        if self._db is not None:
            with self._lock:
                self._db.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        if self._db is not None:
            with self._lock:
                self._db.close()
            self._db = None


def files_dir_for(state_file: Path | None) -> Path | None:
    """The file directory that belongs to a state file (None: use a temporary one)."""
    return None if state_file is None else state_file.with_name(state_file.name + ".files")
