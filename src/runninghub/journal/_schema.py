"""The journal file: connection settings, migrations by ``PRAGMA user_version``, the search index.

Several processes (a batch, a CLI run, the MCP server) write one file at once, so every
connection waits for the lock (busy timeout) instead of failing, every write is one short
``BEGIN IMMEDIATE`` transaction, and a migration re-reads the version under the lock (the
process that loses the race finds the work done).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from .._errors import RunningHubError
from .._sqlite import closed_on_failure, statements, transaction

__all__ = [
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "JournalError",
    "connect",
    "has_search_index",
    "locked",
    "locked_transaction",
    "migrate",
    "transaction",
]

# "RHJL" in ASCII: marks a SQLite file as a runninghub journal.
APPLICATION_ID = 0x52484A4C
BUSY_TIMEOUT_MS = 15_000


class JournalError(RunningHubError):
    """The journal cannot be opened or written (not a journal, newer schema, disk trouble)."""


# Each entry upgrades the schema by one version. Never edit a released one.
MIGRATIONS: tuple[str, ...] = (
    # 1: intents (one per submit, written before it is sent), their local inputs, the task's
    # status changes and outputs, and the upload cache.
    """
    CREATE TABLE intents (
        id INTEGER PRIMARY KEY,
        created_at REAL NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('workflow', 'app', 'model')),
        target TEXT NOT NULL,
        params TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        site TEXT,
        base_url TEXT,
        key_hash TEXT,
        batch TEXT,
        batch_row INTEGER,
        state TEXT NOT NULL,
        note TEXT,
        writer_pid INTEGER,
        writer_host TEXT,
        task_id TEXT UNIQUE,
        status TEXT,
        status_at REAL,
        failure_node TEXT,
        failure_exception TEXT,
        failure_message TEXT,
        coins TEXT,
        money TEXT,
        third_party_money TEXT,
        seconds TEXT,
        search_text TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX intents_by_time ON intents(created_at);
    CREATE INDEX intents_by_target ON intents(kind, target, created_at);
    CREATE INDEX intents_by_state ON intents(state);
    CREATE INDEX intents_by_fingerprint ON intents(fingerprint);
    CREATE TABLE inputs (
        intent_id INTEGER NOT NULL REFERENCES intents(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        address TEXT NOT NULL,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        PRIMARY KEY (intent_id, position)
    );
    CREATE TABLE statuses (
        intent_id INTEGER NOT NULL REFERENCES intents(id) ON DELETE CASCADE,
        status TEXT NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX statuses_by_intent ON statuses(intent_id, at);
    CREATE TABLE outputs (
        intent_id INTEGER NOT NULL REFERENCES intents(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        url TEXT,
        type TEXT,
        node_id TEXT,
        text TEXT,
        path TEXT,
        sha256 TEXT,
        size INTEGER,
        PRIMARY KEY (intent_id, position)
    );
    CREATE TABLE uploads (
        key_hash TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        file_name TEXT NOT NULL,
        download_url TEXT,
        uploaded_at REAL NOT NULL,
        PRIMARY KEY (key_hash, sha256, size)
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

# The search index is a separate FTS5 table when this Python's SQLite has FTS5 (the trigram
# tokenizer finds any substring of three or more characters, in any script); without it,
# search falls back to LIKE over intents.search_text.
_SEARCH_INDEX = "CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5(text, tokenize = 'trigram')"


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating when absent, mode 0600 in a 0700 directory) and migrate the journal."""
    _create_private(path)
    try:
        conn = sqlite3.connect(
            path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise JournalError(f"cannot open the journal {path}: {exc}") from None

    def unusable(exc: sqlite3.DatabaseError) -> JournalError:
        return JournalError(f"the journal {path} cannot be used: {exc}")

    with closed_on_failure(conn, unusable):
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _check_identity(conn, path)
        _enable_wal(conn)
        # NORMAL in WAL mode: a commit survives a killed process (what the journal must
        # survive) without an fsync per record; see README "Journal".
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn)
    return conn


def _create_private(path: Path) -> None:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    except OSError as exc:
        raise JournalError(
            f"cannot create the journal {path}: {exc.strerror or exc}",
            hint="set RUNNINGHUB_DATA_DIR to a writable directory, or RUNNINGHUB_NO_JOURNAL=1",
        ) from None


def _check_identity(conn: sqlite3.Connection, path: Path) -> None:
    # One statement, one snapshot: read apart, another process's first migration could
    # commit in between and make a fresh journal look like a foreign file.
    app_id, version = conn.execute(
        "SELECT a.application_id, v.user_version FROM pragma_application_id AS a,"
        " pragma_user_version AS v"
    ).fetchone()
    if app_id not in (0, APPLICATION_ID) or (app_id == 0 and version != 0):
        raise JournalError(f"{path} is not a runninghub journal")
    if version > SCHEMA_VERSION:
        raise JournalError(
            f"{path} was written by a newer runninghub (schema {version} > {SCHEMA_VERSION})",
            hint="upgrade runninghub to use this journal",
        )


def _enable_wal(conn: sqlite3.Connection) -> None:
    # Switching a fresh file to WAL takes a lock without waiting on the busy handler, so
    # several processes creating the journal at once retry here for a while.
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
    if str(mode).lower() != "wal":
        raise JournalError(f"the journal cannot use WAL mode (got {mode!r})")


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> None:
    """Apply the missing migrations, each in one transaction with its version bump."""
    if int(conn.execute("PRAGMA user_version").fetchone()[0]) >= target:
        return
    with transaction(conn):
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])  # under the lock
        if version == 0:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            with contextlib.suppress(sqlite3.OperationalError):  # no FTS5 here: LIKE search
                conn.execute(_SEARCH_INDEX)
        for number in range(version + 1, target + 1):
            for statement in statements(MIGRATIONS[number - 1]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")


def has_search_index(conn: sqlite3.Connection) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'search'").fetchone()
    return row is not None


@contextlib.contextmanager
def locked_transaction(lock: threading.Lock, conn: sqlite3.Connection) -> Iterator[None]:
    """The connection's thread lock and one write transaction, together; a database error
    (disk full, the lock held past the busy timeout) becomes a JournalError."""
    with locked(lock), transaction(conn):
        yield


@contextlib.contextmanager
def locked(lock: threading.Lock) -> Iterator[None]:
    """The connection's thread lock; a database error inside becomes a JournalError, the one
    exception the client flows catch so that a journal in trouble never stops a run."""
    with lock:
        try:
            yield
        except sqlite3.Error as exc:
            raise JournalError(f"the journal could not be used: {exc}") from exc
