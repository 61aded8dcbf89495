"""The recorder: what the client flows call around every submit, each call one short transaction.

Order of calls for one submit (the flows make them; a failed call never stops a run):

1. ``record_intent(...)`` before the submit is sent -> ``intent_id``;
2. ``attach_task(intent_id, task_id)`` with the answer, or ``record_refused`` when the service
   created nothing, or ``mark_unknown`` when the answer was lost;
3. ``record_task(task)`` (or the single ``record_status``, ``record_failure``,
   ``record_outputs``, ``record_usage``) as the task is followed, by task id.

An intent left ``submitting`` by a process that died becomes ``unknown`` when the journal is
next read (``reconcile``); ``resolve(intent_id, task_id)`` attaches the task id the user found
in RunningHub's web console.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _query
from ._entries import HistoryEntry, IntentState
from ._liveness import host_name, is_orphan
from ._paths import journal_path
from ._paths import upload_ttl as _default_upload_ttl
from ._query import HistoryFilter
from ._schema import JournalError, connect, has_search_index, locked, locked_transaction
from ._task_rows import TEXT_LIMIT, write_failure, write_outputs, write_status, write_usage
from ._uploads import UploadCache
from ._values import (
    canonical_json,
    fingerprint,
    key_hash,
    normalise_params,
    scrub,
    search_text,
)

if TYPE_CHECKING:  # only as annotations: listing the journal loads neither
    from .._models import Output, Task, TaskFailure, TaskStatus, Usage
    from .._outputs import SavedFile
    from ._records import Intent, LocalInput, PruneResult, SpendRow, TaskRecord

__all__ = ["KINDS", "Journal", "ResolveConflictError", "UnknownIntentError"]

KINDS = ("workflow", "app", "model")
_TASK_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_TARGET_LIMIT = 300
_ORPHAN_NOTE = "the process that sent this submit ended before recording its answer"


class UnknownIntentError(JournalError):
    """No intent (or task) by that id in the journal."""


class ResolveConflictError(JournalError):
    """The intent cannot take that task id (already settled, or the id is another's)."""


class Journal:
    """The local journal of every submit: a SQLite file shared by all processes of the user.

    ``Journal.open()`` opens ``RUNNINGHUB_DATA_DIR/journal.sqlite`` (else the platform's data
    directory); ``Journal(path)`` any file. Safe to share between threads; open one per process.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        secrets: Iterable[str] = (),
        upload_ttl: float | None = None,
    ) -> None:
        self.path = Path(path)
        ttl = _default_upload_ttl() if upload_ttl is None else upload_ttl
        self._conn = connect(self.path)
        self._lock = threading.Lock()
        self._secrets = {s for s in secrets if s and len(s) >= 8}
        self.searchable = has_search_index(self._conn)
        self.uploads = UploadCache(self._conn, self._lock, ttl)

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None, **options: Any) -> Journal:
        """The user's journal (or the one at ``path``); options as for the constructor."""
        return cls(journal_path() if path is None else path, **options)

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    def close(self) -> None:
        with locked(self._lock):
            self._conn.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- before and right after the submit ---------------------------------------------

    def record_intent(self, intent: Intent) -> int:
        """Write what is about to be submitted; returns the intent id. The key is only hashed
        (and scrubbed from every text this journal writes from now on)."""
        if intent.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {intent.kind!r}")
        if intent.api_key:
            self._secrets.add(intent.api_key)
        values = normalise_params(intent.params)
        params_json = self._clean(canonical_json(values)) or "{}"
        target = self._target(intent.target)
        names = [Path(item.path).name for item in intent.inputs]
        row = {
            "created_at": time.time() if intent.at is None else intent.at,
            "kind": intent.kind,
            "target": target,
            "params": params_json,
            "fingerprint": self._fingerprint(intent),
            "site": self._clean(intent.site),
            "base_url": self._clean(intent.base_url),
            "key_hash": key_hash(intent.api_key) if intent.api_key else None,
            "batch": self._clean(intent.batch),
            "batch_row": intent.batch_row,
            "state": IntentState.SUBMITTING.value,
            "writer_pid": os.getpid(),
            "writer_host": host_name(),
            "search_text": self._clean(search_text(target, values, names)) or "",
        }
        return self._store_intent(row, intent.inputs)

    def attach_task(self, intent_id: int, task_id: str) -> None:
        """The service answered the submit with ``task_id``."""
        self._settle(intent_id, task_id, note=None, allowed=(IntentState.SUBMITTING,))

    def resolve(self, intent_id: int, task_id: str) -> None:
        """Attach the task id of an ``unknown`` submit, found in RunningHub's web console.

        Raises UnknownIntentError, or ResolveConflictError when the intent has a task already
        or the task id belongs to another intent."""
        self.reconcile()
        allowed = (IntentState.UNKNOWN, IntentState.SUBMITTING)
        self._settle(intent_id, task_id, note="task id attached by hand", allowed=allowed)

    def record_refused(self, intent_id: int, reason: str | None = None) -> bool:
        """The service refused the submit and created nothing (no task, nothing billed)."""
        return self._leave_submitting(intent_id, IntentState.REFUSED, reason)

    def mark_unknown(self, intent_id: int, reason: str | None = None) -> bool:
        """The submit's answer was lost: a task may or may not exist."""
        return self._leave_submitting(intent_id, IntentState.UNKNOWN, reason)

    # -- following the task --------------------------------------------------------------

    def record_task(self, task: Task, saved: Sequence[SavedFile] = ()) -> bool:
        """Everything a query answered, in one transaction; False when the task is not ours."""

        def write(intent_id: int) -> None:
            write_status(self._conn, intent_id, task.status)
            if task.failure is not None or task.error_message:
                write_failure(self._conn, self._clean, intent_id, task.failure, task.error_message)
            if task.outputs or saved:
                write_outputs(self._conn, self._clean, intent_id, task.outputs, saved)
            if task.usage is not None:
                write_usage(self._conn, intent_id, task.usage)

        return self._for_task(task.task_id, write)

    def record_status(
        self, task_id: str, status: TaskStatus | str, at: float | None = None
    ) -> bool:
        """A status seen for the task; only a change is kept (with its time)."""
        return self._for_task(task_id, lambda i: write_status(self._conn, i, status, at))

    def record_failure(
        self, task_id: str, failure: TaskFailure | None, message: str | None = None
    ) -> bool:
        """Why the task failed: the node and exception, or the service's message."""
        return self._for_task(
            task_id, lambda i: write_failure(self._conn, self._clean, i, failure, message)
        )

    def record_outputs(
        self, task_id: str, outputs: Sequence[Output], saved: Sequence[SavedFile] = ()
    ) -> bool:
        """The task's outputs, with the local path and SHA-256 of those saved."""
        return self._for_task(
            task_id, lambda i: write_outputs(self._conn, self._clean, i, outputs, saved)
        )

    def record_usage(self, task_id: str, usage: Usage) -> bool:
        """What the task cost: coins, money, seconds."""
        return self._for_task(task_id, lambda i: write_usage(self._conn, i, usage))

    def reconcile(self, now: float | None = None) -> int:
        """Mark ``unknown`` every submit whose process died before recording its answer."""
        now = time.time() if now is None else now
        with locked(self._lock):
            rows = self._conn.execute(
                "SELECT id, created_at, writer_pid, writer_host FROM intents WHERE state = ?",
                (IntentState.SUBMITTING.value,),
            ).fetchall()
        orphans = [row[0] for row in rows if is_orphan(row[1], row[2], row[3], now)]
        for intent_id in orphans:
            self._leave_submitting(intent_id, IntentState.UNKNOWN, _ORPHAN_NOTE)
        return len(orphans)

    # -- reading -------------------------------------------------------------------------

    def history(self, wanted: HistoryFilter | None = None) -> list[HistoryEntry]:
        """Recorded submits, newest first, filtered (see HistoryFilter)."""
        with locked(self._lock):
            return _query.history(self._conn, wanted or HistoryFilter(), searchable=self.searchable)

    def show(self, ref: str) -> TaskRecord:
        """Everything recorded for a task id (or an intent id written ``i17``)."""
        from . import _reports  # here: `runninghub history` lists lines and never needs it

        with locked(self._lock):
            record = _reports.show(self._conn, ref)
        if record is None:
            raise UnknownIntentError(f"no task or intent {ref[:80]!r} in the journal")
        return record

    def spend(self, *, since: float | None = None, by: str = "day") -> list[SpendRow]:
        """Recorded usage grouped by ``day``, ``workflow`` (and apps), ``model`` or ``key``."""
        from . import _reports  # see show

        with locked(self._lock):
            return _reports.spend(self._conn, since, by)

    def prune(self, older_than: float, *, include_unknown: bool = False) -> PruneResult:
        """Forget what was submitted more than ``older_than`` seconds ago, and stale uploads.

        Unknown submits are kept unless ``include_unknown``: each still needs a decision."""
        from . import _reports  # see show

        now = time.time()
        with self._write():
            return _reports.prune(
                self._conn,
                now - older_than,
                include_unknown=include_unknown,
                uploads_before=now - self.uploads.ttl,
                searchable=self.searchable,
            )

    def unknown_like(self, intent: Intent) -> list[HistoryEntry]:
        """Earlier submits of exactly this input whose outcome is unknown (those of processes
        that died before recording an answer included)."""
        self.reconcile()
        wanted = self._fingerprint(intent)
        with locked(self._lock):
            return _query.by_fingerprint(self._conn, wanted, IntentState.UNKNOWN)

    def open_tasks(self, api_key: str, *, since: float) -> int:
        """Tasks of this key submitted since ``since`` that the journal has not seen end:
        compare with the account's running-task count to tell whether an unknown submit ran."""
        with locked(self._lock):
            return _query.open_tasks(self._conn, key_hash(api_key), since)

    # -- internals -------------------------------------------------------------------------

    def _write(self) -> contextlib.AbstractContextManager[None]:
        return locked_transaction(self._lock, self._conn)

    def _for_task(self, task_id: str, write: Callable[[int], None]) -> bool:
        """Run ``write`` on the intent of ``task_id`` in one transaction; False when the
        journal never saw that task (started elsewhere, or before the journal)."""
        with self._write():
            intent_id = self._intent_of(task_id)
            if intent_id is not None:
                write(intent_id)
        return intent_id is not None

    def _store_intent(self, row: dict[str, Any], inputs: Sequence[LocalInput]) -> int:
        with self._write():
            intent_id = self._insert("intents", {**row, "updated_at": row["created_at"]})
            self._insert_inputs(intent_id, inputs)
            if self.searchable:
                self._conn.execute(
                    "INSERT INTO search (rowid, text) VALUES (?, ?)",
                    (intent_id, row["search_text"]),
                )
        return intent_id

    def _fingerprint(self, intent: Intent) -> str:
        """Which input this is. A local file counts by its address and SHA-256, not by the
        name an upload gave it, so a file uploaded again is still the same input."""
        files = {item.address for item in intent.inputs}
        values = {k: v for k, v in normalise_params(intent.params).items() if k not in files}
        params_json = self._clean(canonical_json(values)) or "{}"
        hashes = (f"{item.address}={item.sha256}" for item in intent.inputs)
        return fingerprint(intent.kind, self._target(intent.target), params_json, hashes)

    def _target(self, target: str) -> str:
        return self._clean(target[:_TARGET_LIMIT]) or ""

    def _clean(self, text: str | None) -> str | None:
        return scrub(text, self._secrets)

    def _insert(self, table: str, row: dict[str, Any]) -> int:
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        cursor = self._conn.execute(
            f"INSERT INTO {table} ({names}) VALUES ({marks})", tuple(row.values())
        )
        return int(cursor.lastrowid or 0)

    def _insert_inputs(self, intent_id: int, inputs: Sequence[LocalInput]) -> None:
        self._conn.executemany(
            "INSERT INTO inputs VALUES (?, ?, ?, ?, ?, ?)",
            [
                (intent_id, n, self._clean(i.address), self._clean(i.path), i.size, i.sha256)
                for n, i in enumerate(inputs)
            ],
        )

    def _state_of(self, intent_id: int) -> tuple[IntentState, str | None]:
        row = self._conn.execute(
            "SELECT state, task_id FROM intents WHERE id = ?", (intent_id,)
        ).fetchone()
        if row is None:
            raise UnknownIntentError(f"no intent i{intent_id} in the journal")
        return IntentState(row[0]), row[1]

    def _settle(
        self, intent_id: int, task_id: str, *, note: str | None, allowed: tuple[IntentState, ...]
    ) -> None:
        if not _TASK_ID.fullmatch(task_id):
            raise ValueError(f"not a task id: {task_id[:80]!r}")
        with self._write():
            state, current = self._state_of(intent_id)
            if state is IntentState.SUBMITTED and current == task_id:
                return  # said twice: nothing to change
            if state not in allowed:
                raise ResolveConflictError(
                    f"intent i{intent_id} is {state.value}"
                    + (f" with task {current}" if current else "")
                    + f"; it cannot take task {task_id}"
                )
            owner = self._intent_of(task_id)
            if owner is not None:
                raise ResolveConflictError(f"task {task_id} belongs to intent i{owner} already")
            self._conn.execute(
                "UPDATE intents SET state = ?, task_id = ?, note = COALESCE(?, note),"
                " updated_at = ? WHERE id = ?",
                (IntentState.SUBMITTED.value, task_id, note, time.time(), intent_id),
            )

    def _leave_submitting(self, intent_id: int, state: IntentState, reason: str | None) -> bool:
        with self._write():
            cursor = self._conn.execute(
                "UPDATE intents SET state = ?, note = ?, updated_at = ? WHERE id = ? AND state = ?",
                (
                    state.value,
                    self._clean((reason or "")[:TEXT_LIMIT]) or None,
                    time.time(),
                    intent_id,
                    IntentState.SUBMITTING.value,
                ),
            )
        return cursor.rowcount == 1

    def _intent_of(self, task_id: str) -> int | None:
        row = self._conn.execute("SELECT id FROM intents WHERE task_id = ?", (task_id,)).fetchone()
        return None if row is None else int(row[0])
