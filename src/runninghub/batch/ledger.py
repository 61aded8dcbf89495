"""The durable record of a batch: one SQLite row per input, moved through an explicit state machine.

Every transition is a compare-and-set (``UPDATE ... WHERE state = ?``) inside its own committed
transaction, so a crash at any moment leaves each row in exactly one well-defined state:

``pending -> submitting -> submitted(task_id) -> succeeded | failed | canceled``, plus ``unknown``
for a submit whose outcome was lost. ``submitting`` is written *before* the submit request and
``submitted`` (with the task id) right after the answer, before anything else happens. A row
still ``submitting`` after a crash may or may not have a task on the service, so it becomes
``unknown`` and is never resubmitted without an explicit ``retry``.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from .._models import NodeOverride
from ._schema import (
    SCHEMA_VERSION,
    connect,
    flock_exclusive,
    fsync_dir,
    initialise,
    migrate,
    remove_database,
)
from .errors import (
    IllegalTransitionError,
    LedgerBusyError,
    LedgerError,
    NotALedgerError,
    StaleStateError,
)
from .spec import BatchSpec, decode_overrides, encode_overrides

__all__ = [
    "ALLOWED_TRANSITIONS",
    "SCHEMA_VERSION",
    "Attempt",
    "BatchSpec",
    "IllegalTransitionError",
    "Ledger",
    "LedgerBusyError",
    "LedgerError",
    "LedgerRow",
    "NotALedgerError",
    "RowState",
    "StaleStateError",
    "decode_overrides",
    "encode_overrides",
]


class RowState(enum.Enum):
    """Where one input row stands."""

    PENDING = "pending"
    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    UNKNOWN = "unknown"

    @property
    def is_final(self) -> bool:
        return self in (RowState.SUCCEEDED, RowState.FAILED, RowState.CANCELED, RowState.UNKNOWN)


_S = RowState
ALLOWED_TRANSITIONS: frozenset[tuple[RowState, RowState]] = frozenset(
    {
        (_S.PENDING, _S.SUBMITTING),
        (_S.SUBMITTING, _S.SUBMITTED),  # the service answered with a task id
        (_S.SUBMITTING, _S.PENDING),  # the service refused and provably created nothing
        (_S.SUBMITTING, _S.FAILED),  # refused for good (bad input, funds...): nothing created
        (_S.SUBMITTING, _S.UNKNOWN),  # the answer was lost, or the process died meanwhile
        (_S.SUBMITTED, _S.SUCCEEDED),
        (_S.SUBMITTED, _S.FAILED),
        (_S.SUBMITTED, _S.CANCELED),
        (_S.FAILED, _S.PENDING),  # retry, on request
        (_S.CANCELED, _S.PENDING),
        (_S.UNKNOWN, _S.PENDING),
    }
)


@dataclass(frozen=True)
class LedgerRow:
    """One input row as the ledger last recorded it."""

    row: int
    state: RowState
    fingerprint: str  # the row identity (inputs.row_identity), as the column is named
    overrides_json: str = field(repr=False)
    task_id: str | None = None
    key_index: int | None = None
    attempt: int = 0
    outputs: tuple[str, ...] = ()
    coins: Decimal | None = None
    error: str | None = None

    @property
    def overrides(self) -> list[NodeOverride]:
        return decode_overrides(self.overrides_json)


@dataclass(frozen=True)
class Attempt:
    """One submission of a row (the history survives retries)."""

    row: int
    attempt: int
    key_index: int | None
    task_id: str | None
    state: RowState
    error: str | None
    coins: Decimal | None
    started_at: float
    ended_at: float | None


class Ledger:
    """A batch ledger file. Open with :meth:`create` or :meth:`open`; close when done."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn
        self._lock_fd: int | None = None

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        spec: BatchSpec,
        rows: Iterable[tuple[int, str, str]] = (),
    ) -> Ledger:
        """Make a new ledger holding ``spec`` and ``(row, fingerprint, overrides_json)`` rows.

        The file appears complete or not at all (built beside the target, then renamed), and a
        path where a file already exists is refused.
        """
        target = Path(path)
        if target.exists():
            raise LedgerError(f"{target} already exists; resume it or choose another --ledger")
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        remove_database(staging)
        try:
            conn = connect(staging)
            try:
                initialise(conn, spec, rows)
            finally:
                conn.close()  # checkpoints the WAL into the main file
            os.replace(staging, target)
            fsync_dir(target.parent)
        finally:
            remove_database(staging)
        return cls.open(target)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Ledger:
        """Open an existing ledger, upgrading its schema if it is older than this version."""
        target = Path(path)
        if not target.is_file():
            raise LedgerError(f"no batch ledger at {target}")
        conn = connect(target, identify=True)
        try:
            migrate(conn)
        except BaseException:
            conn.close()
            raise
        return cls(target, conn)

    def close(self) -> None:
        self.unlock()
        self._conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- exclusive use by one runner -------------------------------------------------------

    def lock(self) -> None:
        """Take the runner lock (released by :meth:`close` or when the process dies)."""
        if self._lock_fd is not None:
            return
        fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            flock_exclusive(fd)
        except BlockingIOError:
            os.close(fd)
            raise LedgerBusyError(
                f"another batch is running on {self.path}",
                hint="wait for it to finish, or stop it first",
            ) from None
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- description -----------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    @property
    def spec(self) -> BatchSpec:
        row = self._conn.execute("SELECT value FROM batch_meta WHERE key = 'spec'").fetchone()
        if row is None:
            raise LedgerError(f"{self.path} has no batch description")
        return BatchSpec.from_json(row[0])

    def update_spec(self, spec: BatchSpec) -> None:
        """Record changed settings (a resume with new limits)."""
        with self._transaction() as conn:
            conn.execute("UPDATE batch_meta SET value = ? WHERE key = 'spec'", (spec.to_json(),))

    # -- rows ------------------------------------------------------------------------------

    def row(self, number: int) -> LedgerRow:
        found = self._conn.execute(f"{_ROW_SELECT} WHERE row = ?", (number,)).fetchone()
        if found is None:
            raise LedgerError(f"row {number} is not in {self.path}")
        return _row_from_db(found)

    def rows(self, states: Iterable[RowState] | None = None) -> list[LedgerRow]:
        """Rows in input order, optionally only those in ``states``."""
        if states is None:
            cursor = self._conn.execute(f"{_ROW_SELECT} ORDER BY row")
        else:
            names = [s.value for s in states]
            marks = ",".join("?" * len(names))
            cursor = self._conn.execute(
                f"{_ROW_SELECT} WHERE state IN ({marks}) ORDER BY row", names
            )
        return [_row_from_db(r) for r in cursor]

    def row_identities(self) -> list[str]:
        """Each row's identity (``inputs.row_identity``; the ``fingerprint`` column), in order."""
        return [r[0] for r in self._conn.execute("SELECT fingerprint FROM rows ORDER BY row")]

    def counts(self) -> dict[RowState, int]:
        """How many rows are in each state (every state present, zero when empty)."""
        result = dict.fromkeys(RowState, 0)
        for state, count in self._conn.execute("SELECT state, COUNT(*) FROM rows GROUP BY state"):
            result[RowState(state)] = count
        return result

    def attempts(self, row: int | None = None) -> list[Attempt]:
        sql = "SELECT row, attempt, key_index, task_id, state, error, coins, started_at, ended_at"
        sql += " FROM attempts"
        args: tuple[Any, ...] = ()
        if row is not None:
            sql += " WHERE row = ?"
            args = (row,)
        cursor = self._conn.execute(sql + " ORDER BY row, attempt", args)
        return [_attempt_from_db(r) for r in cursor]

    def tasks_created(self) -> int:
        """Attempts that created (or may have created) a task: what the spend guard counts."""
        sql = "SELECT COUNT(*) FROM attempts WHERE task_id IS NOT NULL OR state = 'unknown'"
        return int(self._conn.execute(sql).fetchone()[0])

    def coins_spent(self) -> Decimal:
        total = Decimal(0)
        for (coins,) in self._conn.execute("SELECT coins FROM attempts WHERE coins IS NOT NULL"):
            total += Decimal(coins)
        return total

    # -- transitions -----------------------------------------------------------------------

    def claim(self, row: int, key_index: int) -> int:
        """``pending -> submitting`` for a submit about to be sent; returns the attempt number."""
        now = time.time()
        with self._transaction() as conn:
            current = self._expect(conn, row, RowState.PENDING, RowState.SUBMITTING)
            attempt = current.attempt + 1
            conn.execute(
                "UPDATE rows SET state = 'submitting', attempt = ?, key_index = ?, task_id = NULL,"
                " error = NULL, outputs = '[]', coins = NULL, updated_at = ?"
                " WHERE row = ? AND state = 'pending'",
                (attempt, key_index, now, row),
            )
            conn.execute(
                "INSERT INTO attempts (row, attempt, key_index, state, started_at)"
                " VALUES (?, ?, ?, 'submitting', ?)",
                (row, attempt, key_index, now),
            )
        return attempt

    def mark_submitted(self, row: int, task_id: str) -> None:
        """``submitting -> submitted``: the task id, committed before anything else happens."""
        self._move(row, RowState.SUBMITTING, RowState.SUBMITTED, task_id=task_id)

    def release(self, row: int, reason: str) -> None:
        """``submitting -> pending``: the service refused and created nothing (e.g. capacity)."""
        self._move(row, RowState.SUBMITTING, RowState.PENDING, error=reason, ended=True)

    def mark_unknown(self, row: int, reason: str) -> None:
        """``submitting -> unknown``: a task may exist; never resubmitted automatically."""
        self._move(row, RowState.SUBMITTING, RowState.UNKNOWN, error=reason, ended=True)

    def mark_refused(self, row: int, reason: str) -> None:
        """``submitting -> failed``: refused for good; nothing was created."""
        self._move(row, RowState.SUBMITTING, RowState.FAILED, error=reason, ended=True)

    def finish(
        self,
        row: int,
        state: RowState,
        *,
        outputs: Sequence[str] = (),
        coins: Decimal | None = None,
        error: str | None = None,
    ) -> None:
        """``submitted -> succeeded | failed | canceled`` with what the task produced."""
        self._move(
            row, RowState.SUBMITTED, state, outputs=outputs, coins=coins, error=error, ended=True
        )

    def recover_interrupted(self) -> list[int]:
        """After a crash: rows left ``submitting`` become ``unknown``. Returns their numbers."""
        stuck = [r.row for r in self.rows([RowState.SUBMITTING])]
        for number in stuck:
            self.mark_unknown(number, "interrupted while submitting: a task may exist")
        return stuck

    def reset_for_retry(self, states: Iterable[RowState]) -> list[int]:
        """Move rows in ``states`` (failed, canceled, unknown) back to pending; history stays."""
        chosen = list(states)
        moved = []
        for current in self.rows(chosen):
            self._move(current.row, current.state, RowState.PENDING)
            moved.append(current.row)
        return moved

    def _move(  # noqa: PLR0913 - keyword-only fields of one transition
        self,
        row: int,
        frm: RowState,
        to: RowState,
        *,
        task_id: str | None = None,
        outputs: Sequence[str] | None = None,
        coins: Decimal | None = None,
        error: str | None = None,
        ended: bool = False,
    ) -> None:
        now = time.time()
        coins_text = None if coins is None else str(coins)
        with self._transaction() as conn:
            current = self._expect(conn, row, frm, to)
            sets = ["state = ?", "updated_at = ?", "error = ?"]
            args: list[Any] = [to.value, now, error]
            if task_id is not None:
                sets.append("task_id = ?")
                args.append(task_id)
            if outputs is not None:
                sets += ["outputs = ?", "coins = ?"]
                args += [json.dumps(list(outputs)), coins_text]
            if to is RowState.PENDING:  # a fresh start: forget the last attempt's results
                sets += ["task_id = NULL", "outputs = '[]'", "coins = NULL"]
            cursor = conn.execute(
                f"UPDATE rows SET {', '.join(sets)} WHERE row = ? AND state = ?",
                (*args, row, frm.value),
            )
            if cursor.rowcount != 1:
                raise StaleStateError(f"row {row} moved away from {frm.value} concurrently")
            _record_attempt(
                conn,
                current,
                to,
                task_id=task_id,
                error=error,
                coins=coins_text,
                ended_at=now if ended else None,
            )

    def _expect(self, conn: sqlite3.Connection, row: int, frm: RowState, to: RowState) -> LedgerRow:
        if (frm, to) not in ALLOWED_TRANSITIONS:
            raise IllegalTransitionError(f"row {row}: {frm.value} -> {to.value} is not allowed")
        found = conn.execute(f"{_ROW_SELECT} WHERE row = ?", (row,)).fetchone()
        if found is None:
            raise LedgerError(f"row {row} is not in {self.path}")
        current = _row_from_db(found)
        if current.state is not frm:
            raise StaleStateError(
                f"row {row} is {current.state.value}, not {frm.value}; cannot move to {to.value}"
            )
        return current

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front, so a compare-and-set cannot interleave.
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")


_ROW_SELECT = (
    "SELECT row, state, fingerprint, overrides, task_id, key_index, attempt, outputs, coins, error"
    " FROM rows"
)


def _row_from_db(r: Sequence[Any]) -> LedgerRow:
    return LedgerRow(
        row=r[0],
        state=RowState(r[1]),
        fingerprint=r[2],
        overrides_json=r[3],
        task_id=r[4],
        key_index=r[5],
        attempt=r[6],
        outputs=tuple(json.loads(r[7])),
        coins=None if r[8] is None else Decimal(r[8]),
        error=r[9],
    )


def _attempt_from_db(r: Sequence[Any]) -> Attempt:
    return Attempt(
        row=r[0],
        attempt=r[1],
        key_index=r[2],
        task_id=r[3],
        state=RowState(r[4]),
        error=r[5],
        coins=None if r[6] is None else Decimal(r[6]),
        started_at=r[7],
        ended_at=r[8],
    )


def _record_attempt(  # noqa: PLR0913 - keyword-only fields of one attempt row
    conn: sqlite3.Connection,
    current: LedgerRow,
    to: RowState,
    *,
    task_id: str | None,
    error: str | None,
    coins: str | None,
    ended_at: float | None,
) -> None:
    # A retry (final -> pending) leaves the finished attempt untouched: that is the history.
    if current.state.is_final:
        return
    conn.execute(
        "UPDATE attempts SET state = ?, task_id = COALESCE(?, task_id), error = ?,"
        " coins = COALESCE(?, coins), ended_at = ? WHERE row = ? AND attempt = ?",
        (to.value, task_id, error, coins, ended_at, current.row, current.attempt),
    )
