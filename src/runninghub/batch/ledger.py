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
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from .._sqlite import closed_on_failure, transaction
from ._rows import (
    ALLOWED_TRANSITIONS,
    ATTEMPT_SELECT,
    ROW_SELECT,
    Attempt,
    LedgerRow,
    RowState,
    attempt_from_db,
    row_from_db,
)
from ._schema import (
    SCHEMA_VERSION,
    connect,
    flock_exclusive,
    fsync_dir,
    initialise,
    migrate,
    remove_database,
    sync_write_ahead_log,
)
from .errors import (
    IllegalTransitionError,
    LedgerBusyError,
    LedgerError,
    NotALedgerError,
    OutputFolderTakenError,
    StaleStateError,
)
from .spec import BatchSpec, NewRow, decode_overrides, encode_overrides

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
    "OutputFolderTakenError",
    "RowState",
    "RunnerLock",
    "StaleStateError",
    "decode_overrides",
    "encode_overrides",
]


class RunnerLock:
    """The lock that gives one process the right to run a ledger (``LEDGER.lock``, flock).

    Released by :meth:`release`, or by the system when the process dies.
    """

    def __init__(self, ledger_path: Path) -> None:
        self.ledger_path = ledger_path
        self._fd: int | None = None

    def acquire(self) -> RunnerLock:
        """Take the lock now or raise LedgerBusyError (idempotent)."""
        if self._fd is not None:
            return self
        fd = os.open(f"{self.ledger_path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            flock_exclusive(fd)
        except BlockingIOError:
            os.close(fd)
            raise LedgerBusyError(
                f"another batch is running on {self.ledger_path}",
                hint="wait for it to finish, or stop it first",
            ) from None
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Ledger:
    """A batch ledger file. Open with :meth:`create` or :meth:`open`; close when done."""

    def __init__(self, path: Path, conn: sqlite3.Connection, lock: RunnerLock | None = None):
        self.path = path
        self._conn = conn
        self._lock = lock or RunnerLock(path)
        # Only a write-ahead log lets a commit's fsync be made apart from the commit.
        self._wal = conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        spec: BatchSpec,
        rows: Iterable[NewRow] = (),
        *,
        lock: RunnerLock | None = None,
    ) -> Ledger:
        """Make a new ledger holding ``spec`` and ``(row, fingerprint, overrides_json)`` rows.

        The runner lock is taken first (and kept by the returned ledger), so that two runs
        started at once cannot both create it. The file appears complete or not at all (built
        beside the target, then linked into place), and an existing file is never replaced.
        """
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        lock = (lock or RunnerLock(target)).acquire()
        try:
            if target.exists():
                raise _exists(target)
            _build(target, spec, rows)
            return cls.open(target, lock=lock)
        except BaseException:
            lock.release()
            raise

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        lock: RunnerLock | None = None,
        read_only: bool = False,
    ) -> Ledger:
        """Open an existing ledger, upgrading its schema if it is older than this version.

        ``read_only`` changes nothing (no upgrade either), so a ledger on a read-only disk can
        be inspected; ``lock`` is a runner lock already held for this path, handed over.
        """
        target = Path(path)
        if not target.is_file():
            raise LedgerError(f"no batch ledger at {target}")
        conn = connect(target, identify=True, read_only=read_only)
        if not read_only:
            with closed_on_failure(
                conn, lambda exc: LedgerError(f"cannot upgrade the ledger {target}: {exc}")
            ):
                migrate(conn)
        return cls(target, conn, lock)

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
        self._lock.acquire()

    def unlock(self) -> None:
        self._lock.release()

    # -- description -----------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    @property
    def spec(self) -> BatchSpec:
        text = self._meta("spec")
        try:
            return BatchSpec.from_json(text)
        except (ValueError, TypeError, AttributeError, RecursionError) as exc:
            raise LedgerError(f"the batch description in {self.path} is garbled ({exc})") from None

    @property
    def batch_id(self) -> str:
        """This batch's identity (random, made with the ledger): what its --out is claimed by."""
        return self._meta("batch_id")

    def _meta(self, key: str) -> str:
        row = self._conn.execute("SELECT value FROM batch_meta WHERE key = ?", (key,)).fetchone()
        if row is None or not isinstance(row[0], str):
            raise LedgerError(f"{self.path} has no batch {key.replace('_', ' ')}")
        return row[0]

    def update_spec(self, spec: BatchSpec) -> None:
        """Record changed settings (a resume with new limits)."""
        with self._transaction() as conn:
            conn.execute("UPDATE batch_meta SET value = ? WHERE key = 'spec'", (spec.to_json(),))

    # -- rows ------------------------------------------------------------------------------

    def row(self, number: int) -> LedgerRow:
        found = self._conn.execute(f"{ROW_SELECT} WHERE row = ?", (number,)).fetchone()
        if found is None:
            raise LedgerError(f"row {number} is not in {self.path}")
        return row_from_db(found)

    def rows(self, states: Iterable[RowState] | None = None) -> list[LedgerRow]:
        """Rows in input order, optionally only those in ``states``."""
        if states is None:
            cursor = self._conn.execute(f"{ROW_SELECT} ORDER BY row")
        else:
            names = [s.value for s in states]
            marks = ",".join("?" * len(names))
            cursor = self._conn.execute(
                f"{ROW_SELECT} WHERE state IN ({marks}) ORDER BY row", names
            )
        return [row_from_db(r) for r in cursor]

    def row_identities(self) -> list[str]:
        """Each row's identity (``inputs.row_identity``; the ``fingerprint`` column), in order."""
        return [r[0] for r in self._conn.execute("SELECT fingerprint FROM rows ORDER BY row")]

    def counts(self) -> dict[RowState, int]:
        """How many rows are in each state (every state present, zero when empty)."""
        result = dict.fromkeys(RowState, 0)
        for state, count in self._conn.execute("SELECT state, COUNT(*) FROM rows GROUP BY state"):
            try:
                result[RowState(state)] = count
            except ValueError:
                raise LedgerError(f"{self.path} is garbled: rows in state {state!r}") from None
        return result

    def attempts(self, row: int | None = None) -> list[Attempt]:
        sql = ATTEMPT_SELECT
        args: tuple[Any, ...] = ()
        if row is not None:
            sql += " WHERE row = ?"
            args = (row,)
        cursor = self._conn.execute(sql + " ORDER BY row, attempt", args)
        return [attempt_from_db(r) for r in cursor]

    def tasks_created(self) -> int:
        """Attempts that created (or may have created) a task: what the spend guard counts."""
        sql = "SELECT COUNT(*) FROM attempts WHERE task_id IS NOT NULL OR state = 'unknown'"
        return int(self._conn.execute(sql).fetchone()[0])

    def coins_spent(self) -> Decimal:
        total = Decimal(0)
        for (coins,) in self._conn.execute("SELECT coins FROM attempts WHERE coins IS NOT NULL"):
            total += Decimal(coins)
        return total

    def highest_coins(self) -> Decimal | None:
        """The most a task of this batch cost (None: no task reported a cost yet)."""
        sql = "SELECT coins FROM attempts WHERE coins IS NOT NULL"
        costs = [Decimal(coins) for (coins,) in self._conn.execute(sql)]
        return max(costs, default=None)

    # -- transitions -----------------------------------------------------------------------

    def claim(
        self, row: int, key_index: int, key_id: str | None = None, *, wait_for_disk: bool = True
    ) -> int:
        """``pending -> submitting`` for a submit about to be sent; returns the attempt number.

        ``key_id`` names the key (by a hash, see :func:`runninghub.batch.key_id`), so that a
        resume finds the key the task belongs to even if the keys were reordered. With
        ``wait_for_disk=False`` the commit does not wait for the disk: the caller must call
        :meth:`sync` (e.g. in a thread) before it sends the submit.
        """
        now = time.time()
        with self._transaction(wait_for_disk=wait_for_disk) as conn:
            current = self._expect(conn, row, RowState.PENDING, RowState.SUBMITTING)
            attempt = current.attempt + 1
            conn.execute(
                "UPDATE rows SET state = 'submitting', attempt = ?, key_index = ?, key_id = ?,"
                " task_id = NULL, error = NULL, outputs = '[]', coins = NULL, updated_at = ?"
                " WHERE row = ? AND state = 'pending'",
                (attempt, key_index, key_id, now, row),
            )
            conn.execute(
                "INSERT INTO attempts (row, attempt, key_index, key_id, state, started_at)"
                " VALUES (?, ?, ?, ?, 'submitting', ?)",
                (row, attempt, key_index, key_id, now),
            )
        return attempt

    def mark_submitted(self, row: int, task_id: str, *, wait_for_disk: bool = True) -> None:
        """``submitting -> submitted``: the task id, committed before anything else happens
        (``wait_for_disk=False``: on disk once :meth:`sync` returns, as for :meth:`claim`)."""
        self._move(
            row, RowState.SUBMITTING, RowState.SUBMITTED, task_id=task_id,
            wait_for_disk=wait_for_disk,
        )  # fmt: skip

    def sync(self) -> None:
        """Make every transition committed so far survive a power cut, not only a crash.

        Blocks for an fsync (milliseconds on a busy disk); safe to call from another thread,
        as it does not touch the connection. A runner commits a claim without waiting for the
        disk and syncs in a thread, so that the other tasks' work never waits on this one's.
        """
        if self._wal:
            sync_write_ahead_log(self.path)

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
        """``submitted -> succeeded | failed | canceled`` with what the task produced.

        The one transition committed without waiting for the disk (a crash of the process
        loses nothing; the next claim's sync writes it too): lost to a power cut, the row is
        still ``submitted`` and a resume follows its task and saves its outputs again. That
        keeps one fsync per task off the event loop the other tasks' submits wait on.
        """
        self._move(
            row, RowState.SUBMITTED, state, outputs=outputs, coins=coins, error=error,
            ended=True, wait_for_disk=False,
        )  # fmt: skip

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
        wait_for_disk: bool = True,
    ) -> None:
        now = time.time()
        coins_text = None if coins is None else str(coins)
        with self._transaction(wait_for_disk=wait_for_disk) as conn:
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
        found = conn.execute(f"{ROW_SELECT} WHERE row = ?", (row,)).fetchone()
        if found is None:
            raise LedgerError(f"row {row} is not in {self.path}")
        current = row_from_db(found)
        if current.state is not frm:
            raise StaleStateError(
                f"row {row} is {current.state.value}, not {frm.value}; cannot move to {to.value}"
            )
        return current

    @contextlib.contextmanager
    def _transaction(self, *, wait_for_disk: bool = True) -> Iterator[sqlite3.Connection]:
        # NORMAL commits without the log's fsync, which sync() makes (FULL = NORMAL + that).
        # The level cannot change inside a transaction: it is set around it.
        deferred = self._wal and not wait_for_disk
        if deferred:
            self._conn.execute("PRAGMA synchronous = NORMAL")
        try:
            # IMMEDIATE takes the write lock up front, so a compare-and-set cannot interleave.
            with transaction(self._conn):
                yield self._conn
        finally:
            if deferred:
                self._conn.execute("PRAGMA synchronous = FULL")


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


def _exists(target: Path) -> LedgerError:
    return LedgerError(f"{target} already exists; resume it or choose another --ledger")


def _build(target: Path, spec: BatchSpec, rows: Iterable[NewRow]) -> None:
    """Write the new ledger beside ``target``, then link it into place (never over a file)."""
    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    remove_database(staging)
    try:
        conn = connect(staging)
        try:
            initialise(conn, spec, rows)
        finally:
            conn.close()  # checkpoints the WAL into the main file
        try:
            os.link(staging, target)
        except FileExistsError:
            raise _exists(target) from None
        fsync_dir(target.parent)
    finally:
        remove_database(staging)
