"""The ledger file's schema: migrations by ``PRAGMA user_version``, and file-level helpers."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from .._sqlite import closed_on_failure, statements, transaction
from .errors import LedgerError, NotALedgerError
from .spec import BatchSpec, NewRow

__all__ = [
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "check_is_ledger",
    "connect",
    "flock_exclusive",
    "fsync_dir",
    "initialise",
    "migrate",
    "remove_database",
    "sync_write_ahead_log",
]

# "RHBT" in ASCII: marks a SQLite file as a runninghub batch ledger.
APPLICATION_ID = 0x52484254

# Each entry upgrades the schema by one version (PRAGMA user_version). Never edit a released one.
MIGRATIONS: tuple[str, ...] = (
    # 1: the batch description and one row per input.
    """
    CREATE TABLE batch_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE rows (
        row INTEGER PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        overrides TEXT NOT NULL,
        state TEXT NOT NULL,
        task_id TEXT,
        key_index INTEGER,
        attempt INTEGER NOT NULL DEFAULT 0,
        outputs TEXT NOT NULL DEFAULT '[]',
        coins TEXT,
        error TEXT,
        updated_at REAL NOT NULL
    );
    """,
    # 2: a history of attempts (kept across retries) and a state index for large batches.
    """
    CREATE TABLE attempts (
        row INTEGER NOT NULL REFERENCES rows(row),
        attempt INTEGER NOT NULL,
        key_index INTEGER,
        task_id TEXT,
        state TEXT NOT NULL,
        error TEXT,
        coins TEXT,
        started_at REAL NOT NULL,
        ended_at REAL,
        PRIMARY KEY (row, attempt)
    );
    INSERT INTO attempts (row, attempt, key_index, task_id, state, error, coins, started_at)
        SELECT row, attempt, key_index, task_id, state, error, coins, updated_at
        FROM rows WHERE attempt > 0;
    CREATE INDEX rows_by_state ON rows(state);
    """,
    # 3: which key submitted each attempt, by a hash (keys may be reordered between runs), and
    # an identity of the batch that its output folder is claimed with.
    """
    ALTER TABLE rows ADD COLUMN key_id TEXT;
    ALTER TABLE attempts ADD COLUMN key_id TEXT;
    INSERT OR IGNORE INTO batch_meta (key, value) VALUES ('batch_id', lower(hex(randomblob(16))));
    """,
    # 4: each row's input as read (its cells, and the local file it names), for the manifest
    # and the {stem} and {input} of output names.
    """
    ALTER TABLE rows ADD COLUMN input TEXT;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")


def sync_write_ahead_log(path: Path) -> None:
    """fsync the ledger's write-ahead log: what ``synchronous = FULL`` does after each commit,
    done here so that a commit made with ``NORMAL`` can reach the disk in another thread."""
    try:
        fd = os.open(f"{path}-wal", os.O_RDONLY)
    except FileNotFoundError:  # checkpointed into the file (and synced) when it was removed
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # some platforms cannot open a directory; the rename is still atomic
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> None:
    """Apply the missing migrations, each in one transaction with its version bump."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    for number in range(version + 1, target + 1):
        with transaction(conn):
            for statement in statements(MIGRATIONS[number - 1]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")


def flock_exclusive(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # not POSIX: no cross-process guard, the CAS transitions still hold
        return
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def initialise(conn: sqlite3.Connection, spec: BatchSpec, rows: Iterable[NewRow]) -> None:
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    migrate(conn)
    now = time.time()
    with transaction(conn):
        conn.execute("INSERT INTO batch_meta VALUES ('spec', ?)", (spec.to_json(),))
        conn.execute("INSERT INTO batch_meta VALUES ('created_at', ?)", (repr(now),))
        conn.executemany(
            "INSERT INTO rows (row, fingerprint, overrides, input, state, updated_at)"
            " VALUES (?, ?, ?, ?, 'pending', ?)",
            ((*row[:3], row[3] if len(row) > 3 else None, now) for row in rows),
        )


def connect(path: Path, *, identify: bool = False, read_only: bool = False) -> sqlite3.Connection:
    """Open the file; with ``identify``, refuse (without changing it) a file that is no ledger,
    or a damaged one. ``read_only`` never writes, so it works on a read-only disk too."""
    try:
        if read_only:
            conn = _open_read_only(path)
        else:
            conn = sqlite3.connect(path, isolation_level=None, timeout=10.0)
    except sqlite3.DatabaseError as exc:
        raise _database_error(path, exc) from None
    with closed_on_failure(conn, lambda exc: _database_error(path, exc)):
        if identify:
            check_is_ledger(conn, path)
        if not read_only:
            _prepare_for_writing(conn)
    return conn


def _prepare_for_writing(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA journal_mode = WAL")
    # FULL: a committed transition survives a power loss, not only a process crash.
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")


def _open_read_only(path: Path) -> sqlite3.Connection:
    uri = f"{path.resolve().as_uri()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=10.0)
    try:
        conn.execute("PRAGMA schema_version").fetchone()
    except sqlite3.OperationalError:
        # A WAL file on a read-only disk: its shared-memory index cannot be made there.
        # Nothing can write on that disk either, so the file may be read as immutable.
        conn.close()
        conn = sqlite3.connect(f"{uri}&immutable=1", uri=True, isolation_level=None)
    return conn


def _database_error(path: Path, exc: sqlite3.DatabaseError) -> LedgerError:
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    if code == _SQLITE_READONLY or (code == _SQLITE_CANTOPEN and not _writable(path)):
        return LedgerError(
            f"cannot write the ledger {path}: {exc}",
            hint="a batch records every step in its ledger: put it on a writable disk"
            " (`runninghub batch status` only reads it)",
        )
    if code == _SQLITE_CANTOPEN:
        return LedgerError(f"cannot open the ledger {path}: {exc}")
    if code == _SQLITE_CORRUPT:
        return LedgerError(f"the ledger {path} is damaged ({exc})")
    return NotALedgerError(f"{path} is not a batch ledger ({exc})")


_SQLITE_CORRUPT, _SQLITE_READONLY, _SQLITE_CANTOPEN = 11, 8, 14


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def check_is_ledger(conn: sqlite3.Connection, path: Path) -> None:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if app_id != APPLICATION_ID:
        raise NotALedgerError(f"{path} is not a batch ledger")
    if version > SCHEMA_VERSION:
        raise LedgerError(
            f"{path} was written by a newer runninghub (schema {version} > {SCHEMA_VERSION})",
            hint="upgrade runninghub to use this ledger",
        )
    problems = [row[0] for row in conn.execute("PRAGMA quick_check(3)")]
    if problems != ["ok"]:
        raise LedgerError(
            f"the ledger {path} is damaged ({'; '.join(map(str, problems))})",
            hint="restore it from a copy; the outputs already saved are listed in manifest.jsonl",
        )
