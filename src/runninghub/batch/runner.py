"""Run a batch from its ledger: bounded concurrency, never a double submit, resumable.

How a row goes through (each step committed to the ledger before the next one starts):

1. its local files are uploaded (harmless to repeat: uploads are content-addressed);
2. ``pending -> submitting`` is committed, then the submit is sent;
3. the answer's task id is committed at once (``submitted``); a lost answer makes the row
   ``unknown``, and a refusal that created nothing (421...) puts it back to ``pending``;
4. the slot is given back the moment the task ends, and the outputs are downloaded;
5. ``succeeded`` (with the local paths and the coins), ``failed`` or ``canceled``.

A resume re-attaches to every ``submitted`` row by its task id, and submits only rows that
were never submitted. A row found ``submitting`` after a crash may or may not have a task on
the service (the API offers no way to find out), so it becomes ``unknown``: ``batch retry
--unknown`` resubmits those on request, accepting that a task might run twice.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from .. import _errors as errors
from .._models import NodeOverride, Task, TaskStatus
from .._recording import may_have_created
from ..journal import batch_label
from ._keys import client_key_id, keys_of_running_tasks
from ._limits import SubmitLimits
from ._outdir import claim_out_dir
from ._queue_pauses import QueuePauses
from ._saving import save_row_outputs
from ._slots import SlotPool
from ._targets import ExpectedSpend, submit_row, task_cost, uploaded_value
from .ledger import Ledger, LedgerRow, RowState
from .report import BatchProgress, BatchReport, Manifest, failures_of, state_counts

if TYPE_CHECKING:
    from .._async_client import AsyncClient, AsyncTaskHandle

__all__ = ["BatchProgressCallback", "BatchRunner", "ProgressCallback"]

BatchProgressCallback = Callable[[BatchProgress], None]
# The name before the batch's callback got its own: kept, as it is public.
ProgressCallback = BatchProgressCallback

_TRANSIENT_TRIES = 3  # submits refused by a transient error, per row and run, before giving up
_FOLLOW_TRIES = 5  # waits broken by transient errors, per row and run, before leaving it


class _Outcome(enum.Enum):
    SUBMITTED = "submitted"
    CAPACITY = "capacity"
    TRANSIENT = "transient"
    DONE = "done"  # the row reached a final state (failed or unknown) without a task to follow
    STOPPED = "stopped"


@dataclass
class _Result:
    outcome: _Outcome
    handle: AsyncTaskHandle | None = None  # the submitted task, with the submit's answer
    error: str | None = None


class BatchRunner:
    """Runs the rows of a :class:`Ledger` through one or more :class:`AsyncClient` (one per key).

    The workflow, output directory, name template, concurrency and spend guards come from the
    ledger's :class:`BatchSpec`. ``clients[i]`` serves the rows recorded with key index ``i``.

    Example::

        async with AsyncClient() as client:
            with Ledger.open("out/batch.sqlite") as ledger:
                report = await BatchRunner(ledger, [client]).run_async()

    :meth:`run` is the synchronous form (it runs its own event loop).
    """

    def __init__(
        self,
        ledger: Ledger,
        clients: Sequence[AsyncClient],
        *,
        on_progress: BatchProgressCallback | None = None,
    ) -> None:
        if not clients:
            raise errors.ConfigError("a batch needs at least one client")
        self._ledger = ledger
        self._clients = list(clients)
        self._key_ids = [client_key_id(client) for client in self._clients]
        self._on_progress = on_progress
        self._spec = ledger.spec
        self._label = str(ledger.path)
        self._out_dir = Path(self._spec.out_dir)
        self._manifest = Manifest(self._out_dir / "manifest.jsonl")
        self._counts: collections.Counter[RowState] = collections.Counter()
        self._started = time.monotonic()
        self._finished_this_run = 0
        self._downloading = 0
        self._submitted_this_run = 0
        self._limits = SubmitLimits(
            self._spec, tasks_before=0, coins_before=Decimal(0), last_price=None
        )
        self._stopped: str | None = None
        self._fatal: BaseException | None = None
        self._errors: list[str] = []
        self._uploads: dict[tuple[int, Path], str] = {}
        self._pauses = QueuePauses()

    # -- entry points ----------------------------------------------------------------------

    def run(self) -> BatchReport:
        """Run to the end (or to a spend guard) and return the report. Blocks.

        It runs its own event loop and closes the clients at the end: an ``AsyncClient``
        cannot outlive the loop it was used in. Example::

            with Ledger.open("out/batch.sqlite") as ledger:
                report = BatchRunner(ledger, [AsyncClient()]).run()
        """

        async def run_then_close() -> BatchReport:
            try:
                return await self.run_async()
            finally:
                for client in self._clients:
                    await client.close()

        return asyncio.run(run_then_close())

    async def run_async(self) -> BatchReport:
        """Run to the end (or to a spend guard) and return the report.

        Raises LedgerBusyError when another process runs this ledger, OutputFolderTakenError
        when the output folder belongs to another batch, InsufficientFundsError
        when the balance is empty before the first submit, and the error that stopped the batch
        when a key is refused for good (authentication, funds, unknown workflow).
        """
        self._ledger.lock()
        try:
            # Before anything is written there: another batch's files are never replaced.
            tasks = {a.task_id for a in self._ledger.attempts() if a.task_id}
            claim_out_dir(self._out_dir, self._ledger.batch_id, self._ledger.path, tasks)
        except BaseException:
            self._ledger.unlock()
            raise
        try:
            return await self._run_locked()
        except BaseExceptionGroup as group:
            raise _first_leaf(group) from None
        finally:
            self._manifest.compact(self._ledger.rows())
            with contextlib.suppress(OSError):  # only when empty: a crash may leave parts
                (self._out_dir / ".staging").rmdir()
            self._ledger.unlock()

    async def _run_locked(self) -> BatchReport:
        attached = self._ledger.rows([RowState.SUBMITTED])
        keys = keys_of_running_tasks(attached, self._key_ids)  # before anything is changed
        self._ledger.recover_interrupted()
        self._counts.update(self._ledger.counts())
        self._limits = SubmitLimits(
            self._spec,
            tasks_before=self._ledger.tasks_created(),
            coins_before=self._ledger.coins_spent(),
            last_price=self._ledger.highest_coins(),
            list_prices=ExpectedSpend(self._spec, self._clients[0]),
        )
        self._started = time.monotonic()
        pending = self._ledger.rows([RowState.PENDING])
        if pending and self._limits.reason_to_stop() is None:
            await self._check_balance()
        pool = SlotPool(await self._ceilings())
        self._emit()
        async with asyncio.TaskGroup() as group:
            for row in attached:
                key = keys[row.row]
                pool.occupy(key)
                self._limits.attached()
                handle = self._clients[key].task(str(row.task_id))
                group.create_task(self._follow(row.row, key, handle, pool))
            await self._dispatch(pending, pool, group)
        if self._fatal is not None:
            raise self._fatal
        return self._report()

    # -- setup -----------------------------------------------------------------------------

    async def _check_balance(self) -> None:
        for index, client in enumerate(self._clients):
            try:
                account = await client.account()
            except (errors.AuthenticationError, errors.InsufficientFundsError):
                raise
            except errors.APIError as exc:
                # A guard, not a precondition: an outage that outlasted the client's retries
                # must not end the batch here (a submit refused for funds still stops it).
                self._errors.append(f"balance of key #{index + 1} not checked: {exc}")
                continue
            coins, money = account.remain_coins, account.remain_money
            if coins is not None and coins <= 0 and not (money is not None and money > 0):
                raise errors.InsufficientFundsError(
                    f"the balance of key #{index + 1} is empty ({coins} coins); nothing submitted",
                    hint="top up the account balance",
                )

    async def _ceilings(self) -> list[int]:
        if self._spec.concurrency is not None:
            return [self._spec.concurrency] * len(self._clients)
        limits = []
        for client in self._clients:
            try:
                status = await client.queue_status()
                limits.append(max(1, status.concurrent_limit or 1))
            except errors.APIError as exc:
                self._errors.append(f"queue status unavailable ({exc}); using concurrency 1")
                limits.append(1)
        return limits

    # -- submitting ------------------------------------------------------------------------

    async def _dispatch(
        self, pending: list[LedgerRow], pool: SlotPool, group: asyncio.TaskGroup
    ) -> None:
        queue = collections.deque(pending)
        while queue and self._may_submit():
            await self._limits.wait_for_price(queue[0])
            key = await pool.acquire()
            if not self._may_submit(queue[0]):
                await pool.release(key, finished=False)
                break
            self._limits.reserve(queue[0])  # given back if the attempt creates nothing
            group.create_task(self._run_row(queue.popleft(), key, pool))

    def _may_submit(self, row: LedgerRow | None = None) -> bool:
        if self._fatal is not None:
            return False
        self._stopped = self._stopped or self._limits.reason_to_stop(row)
        return self._stopped is None

    async def _run_row(self, row: LedgerRow, key: int, pool: SlotPool) -> None:
        try:
            await self._attempt_row(row, key, pool)
        finally:  # given up (the batch stops) or submitted: it waits for no queue
            self._pauses.settled(row.row)

    async def _attempt_row(self, row: LedgerRow, key: int, pool: SlotPool) -> None:
        """Submit (again after capacity refusals or transient errors), then follow the task."""
        transient = 0
        while True:
            result = await self._submit(row, key)
            if result.outcome is _Outcome.SUBMITTED:
                assert result.handle is not None
                await self._follow(row.row, key, result.handle, pool)
                return
            if result.outcome is _Outcome.CAPACITY:
                await pool.refused(key)
                pauses, client = self._pauses, self._clients[key]
                await pauses.refused(key, row.row, result.error or "", client, self._emit)
            else:
                await pool.release(key, finished=False)
            if result.outcome is _Outcome.TRANSIENT:
                transient += 1
                if transient >= _TRANSIENT_TRIES:
                    self._errors.append(f"row {row.row}: not submitted: {result.error}")
                    return
                await asyncio.sleep(min(8.0, 0.5 * 2**transient))
            if result.outcome in (_Outcome.DONE, _Outcome.STOPPED) or not self._may_submit():
                return
            await self._limits.wait_for_price(row)
            key = await pool.acquire()
            if not self._may_submit(row):
                await pool.release(key, finished=False)
                return
            self._limits.reserve(row)

    async def _submit(self, row: LedgerRow, key: int) -> _Result:
        try:
            overrides = await self._with_uploads(row, key)
        except (OSError, errors.InvalidRequestError) as exc:
            self._claim(row.row, key)
            self._record_refusal(row.row, f"input file unusable: {exc}")
            return _Result(_Outcome.DONE)
        except errors.APIError as exc:
            self._limits.unreserve(row.row)
            return self._stop_if_fatal(exc) or _Result(_Outcome.TRANSIENT, error=str(exc))
        self._claim(row.row, key)
        # The claim's sync, the send and the recording of its answer finish even if the run is
        # interrupted, so that a Ctrl-C never leaves a task whose id was not written down.
        critical = asyncio.ensure_future(self._send(row.row, key, overrides))
        try:
            return await asyncio.shield(critical)
        except asyncio.CancelledError:
            await asyncio.wait([critical])
            raise

    def _claim(self, row: int, key: int) -> None:
        """Committed at once, on disk once :meth:`_on_disk` returns (before the send)."""
        self._ledger.claim(row, key, self._key_ids[key], wait_for_disk=False)
        self._moved(RowState.PENDING, RowState.SUBMITTING)

    async def _on_disk(self) -> None:
        """Wait for the ledger's commits to reach the disk, in a thread: the event loop goes
        on with the other tasks (their notices, submits, downloads) during the fsync."""
        await asyncio.to_thread(self._ledger.sync)

    async def _send(self, row: int, key: int, overrides: list[NodeOverride]) -> _Result:
        client = self._clients[key]
        await self._on_disk()  # the claim survives a power cut before anything is paid
        try:
            with batch_label(self._label, row):  # the journal's intent names batch and row
                handle = await submit_row(client, self._spec, overrides)
        except errors.SubmitOutcomeUnknownError as exc:
            self._mark_unknown(row, f"submit outcome unknown: {exc}")
            return _Result(_Outcome.DONE)
        except errors.CapacityError as exc:
            self._release(row, str(exc))
            return _Result(_Outcome.CAPACITY, error=exc.message)
        except (errors.InvalidRequestError, errors.ContentPolicyError) as exc:
            self._record_refusal(row, str(exc))
            return _Result(_Outcome.DONE)
        except errors.APIError as exc:
            if may_have_created(exc):
                self._mark_unknown(row, f"submit refused ambiguously: {exc}")
                return _Result(_Outcome.DONE)
            self._release(row, str(exc))
            return self._stop_if_fatal(exc) or _Result(_Outcome.TRANSIENT, error=str(exc))
        except BaseException as exc:
            self._mark_unknown(row, f"interrupted while submitting: {exc!r}")
            raise
        self._ledger.mark_submitted(row, handle.task_id, wait_for_disk=False)
        self._pauses.submitted(key, row)  # shown by the next snapshot, just below
        await self._on_disk()
        self._moved(RowState.SUBMITTING, RowState.SUBMITTED)
        self._submitted_this_run += 1
        return _Result(_Outcome.SUBMITTED, handle=handle)

    def _mark_unknown(self, row: int, reason: str) -> None:
        self._ledger.mark_unknown(row, reason)
        self._moved(RowState.SUBMITTING, RowState.UNKNOWN)
        self._limits.left_unpriced()

    def _release(self, row: int, reason: str) -> None:
        self._ledger.release(row, reason)
        self._moved(RowState.SUBMITTING, RowState.PENDING)
        self._limits.unreserve(row)

    def _record_refusal(self, row: int, reason: str) -> None:
        self._ledger.mark_refused(row, reason)
        self._moved(RowState.SUBMITTING, RowState.FAILED)
        self._limits.unreserve(row)
        self._finished(row)

    def _stop_if_fatal(self, exc: errors.APIError) -> _Result | None:
        """A refusal that will hit every row (key, funds, workflow) stops the batch."""
        if isinstance(
            exc, errors.AuthenticationError | errors.InsufficientFundsError | errors.NotFoundError
        ):
            self._fatal = self._fatal or exc
            return _Result(_Outcome.STOPPED, error=str(exc))
        return None

    async def _with_uploads(self, row: LedgerRow, key: int) -> list[NodeOverride]:
        """The row's overrides with local files replaced by their uploaded names."""
        result = []
        for item in row.overrides:
            value = item.value
            if isinstance(value, Path):
                cached = self._uploads.get((key, value))
                if cached is None:
                    cached = await uploaded_value(self._clients[key], self._spec, value)
                    self._uploads[(key, value)] = cached
                value = cached
            result.append(NodeOverride(item.node_id, item.field, value))
        return result

    # -- following -------------------------------------------------------------------------

    async def _follow(self, row: int, key: int, handle: AsyncTaskHandle, pool: SlotPool) -> None:
        """Wait for the task, free its slot at once, then download and record the outcome."""
        task_id = handle.task_id
        try:
            task, state, error = await self._wait(row, handle)
        except BaseException:
            await pool.release(key, finished=False)
            raise
        coins = task_cost(self._spec, task.usage if task is not None else None)
        # Counted before the slot is handed on, so that the spend guard sees it in time.
        if state is None:
            self._limits.left_unpriced()
        else:
            self._limits.settled(coins, row)
        await pool.release(key, finished=task is not None)
        if state is None:
            return  # left submitted: a later resume re-attaches to it
        outputs: list[str] = []
        if state is RowState.SUCCEEDED and task is not None:
            self._downloading += 1  # its slot is free: not counted as running any more
            try:
                template, ended = self._spec.name_template, self._ledger.row(row)
                outputs = await save_row_outputs(
                    self._clients[key], template, ended, task, self._out_dir
                )
            except (errors.RunningHubError, OSError) as exc:
                self._errors.append(f"row {row}: outputs of task {task_id} not saved: {exc}")
                return  # still submitted: the next resume downloads again
            finally:
                self._downloading -= 1
        self._ledger.finish(row, state, outputs=outputs, coins=coins, error=error)
        self._moved(RowState.SUBMITTED, state)
        self._finished(row)

    def _finished(self, row: int) -> None:
        """A row ended in this run: the manifest and the progress display hear of it."""
        self._finished_this_run += 1
        ended = self._ledger.row(row)
        self._manifest.append(ended)
        self._emit(ended)

    async def _wait(
        self, row: int, handle: AsyncTaskHandle
    ) -> tuple[Task | None, RowState | None, str | None]:
        """The outcome of the task; a handle from the submit starts from its answer (one
        query fewer per task than a handle made from the id)."""
        task_id = handle.task_id
        failures = 0
        while True:
            try:
                return await handle.wait(), RowState.SUCCEEDED, None
            except errors.TaskFailedError as exc:
                canceled = exc.task.status is TaskStatus.CANCEL
                return exc.task, RowState.CANCELED if canceled else RowState.FAILED, exc.message
            except errors.NotFoundError as exc:
                return None, RowState.FAILED, f"task {task_id} not found (expired?): {exc}"
            except (errors.APIError, errors.WaitTimeoutError) as exc:
                failures += 1
                if failures >= _FOLLOW_TRIES:
                    self._errors.append(f"row {row}: lost track of task {task_id}: {exc}")
                    return None, None, None
                await asyncio.sleep(min(10.0, 2.0**failures))

    # -- progress and report ---------------------------------------------------------------

    def _moved(self, frm: RowState, to: RowState) -> None:
        self._counts[frm] -= 1
        self._counts[to] += 1
        self._emit()

    def _emit(self, finished: LedgerRow | None = None) -> None:
        if self._on_progress is not None:
            elapsed = time.monotonic() - self._started
            counts = self._counts, self._downloading, elapsed, self._finished_this_run, finished
            progress = BatchProgress.of(*counts)
            self._on_progress(replace(progress, queue_full=self._pauses.current()))

    def _report(self) -> BatchReport:
        return BatchReport(
            counts=state_counts(self._ledger.counts()),
            tasks_submitted=self._submitted_this_run,
            elapsed=time.monotonic() - self._started,
            coins=self._limits.coins_this_run,
            coins_total=self._ledger.coins_spent(),
            manifest=self._manifest.path,
            stopped=self._stopped,
            errors=list(self._errors),
            failures=failures_of(self._ledger),
            ledger=self._ledger.path,
            limits=self._limits.to_dict(),
        )


def _first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    if isinstance(first, BaseExceptionGroup):
        return _first_leaf(first)
    return first
