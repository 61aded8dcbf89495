"""SQLite helpers the journal and the batch ledger share: a write transaction, a migration
script split into statements, and a connection closed when opening it fails."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One ``BEGIN IMMEDIATE`` transaction: the write lock is taken first, so a busy
    database makes the writer wait (busy timeout) rather than fail half-way."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def statements(script: str) -> list[str]:
    """A migration script's statements, to run one by one."""
    # executescript() would COMMIT on its own; splitting keeps each migration atomic.
    return [s.strip() for s in script.split(";") if s.strip()]


@contextlib.contextmanager
def closed_on_failure(
    conn: sqlite3.Connection, refusal: Callable[[sqlite3.DatabaseError], Exception]
) -> Iterator[None]:
    """Close ``conn`` if the block fails; a database error becomes ``refusal(error)``, raised
    without the SQLite traceback (the caller's message says which file and why)."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise refusal(exc) from None
    except BaseException:
        conn.close()
        raise
