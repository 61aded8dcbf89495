"""The studio's batches: each one a ledger run by the project's own batch runner.

A batch started here lives in ``OUT/batches/ID/`` (its inputs, its ``batch.sqlite`` ledger and
its outputs), so ``runninghub batch resume --ledger OUT/batches/ID/batch.sqlite`` finishes it
from a shell, with every guarantee of the runner: a row is never submitted twice, limits hold,
a crash leaves each row in one known state. A batch started from the CLI is opened by its
ledger path and shown the same way. The page reads the ledger, never a copy of it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import runninghub
from runninghub import AsyncClient, RetryPolicy
from runninghub.batch import BatchRunner, BatchSpec, Ledger, LedgerRow, RowState, state_counts
from runninghub.batch.ledger import RunnerLock

__all__ = ["BATCH_ID", "BatchShelf", "BatchSnapshot", "Limits"]

BATCH_ID = re.compile(r"(?:b\d{8}-\d{6}-[0-9a-f]{6}|ledger-[0-9a-f]{16})")
LEDGER_NAME = "batch.sqlite"
# The states a row leaves only through a runner: while one holds them, someone is running it.
_IN_FLIGHT = (RowState.SUBMITTING, RowState.SUBMITTED)
_RETRIED = (RowState.FAILED, RowState.CANCELED)  # never unknown: that task may exist already


@dataclass(frozen=True)
class Limits:
    """At most this many more tasks / coins for one run of a batch (None: no limit)."""

    max_tasks: int | None = None
    max_coins: Decimal | None = None


@dataclass(frozen=True)
class BatchSnapshot:
    batch_id: str
    ledger: Path
    spec: BatchSpec
    rows: list[LedgerRow]
    counts: dict[str, int]
    coins: Decimal
    running_here: bool
    problem: str | None  # why the last run here stopped early, if it did

    @property
    def live(self) -> bool:
        """Still changing: run by this studio, or rows in flight (a CLI may be running it)."""
        return self.running_here or any(row.state in _IN_FLIGHT for row in self.rows)


class BatchShelf:
    """The batches this studio knows: its own folders, and ledgers opened by path."""

    def __init__(self, client: runninghub.Client, out_dir: Path) -> None:
        self.client = client
        self.root = out_dir / "batches"
        self._opened: dict[str, Path] = {}
        self._runs: dict[str, threading.Thread] = {}
        self._problems: dict[str, str] = {}
        self._lock = threading.Lock()

    def new_folder(self) -> tuple[str, Path]:
        batch_id = time.strftime("b%Y%m%d-%H%M%S-") + secrets.token_hex(3)
        folder = self.root / batch_id
        folder.mkdir(parents=True)
        return batch_id, folder

    def own_batches(self) -> list[str]:
        if not self.root.is_dir():
            return []
        found = [p.parent.name for p in self.root.glob(f"*/{LEDGER_NAME}")]
        return sorted((name for name in found if BATCH_ID.fullmatch(name)), reverse=True)

    def open_ledger(self, path: Path) -> str:
        """Register a ledger made elsewhere (the CLI); its id. LedgerError when it is not one."""
        target = path.expanduser().resolve()
        Ledger.open(target, read_only=True).close()
        batch_id = "ledger-" + hashlib.sha256(str(target).encode()).hexdigest()[:16]
        with self._lock:
            self._opened[batch_id] = target
        return batch_id

    def ledger_path(self, batch_id: str) -> Path | None:
        if not BATCH_ID.fullmatch(batch_id):
            return None
        with self._lock:
            opened = self._opened.get(batch_id)
        own = self.root / batch_id / LEDGER_NAME
        return opened or (own if own.is_file() else None)

    def snapshot(self, batch_id: str) -> BatchSnapshot | None:
        path = self.ledger_path(batch_id)
        if path is None:
            return None
        with Ledger.open(path, read_only=True) as ledger:
            rows, spec = ledger.rows(), ledger.spec
            counts, coins = state_counts(ledger.counts()), ledger.coins_spent()
        with self._lock:
            thread, problem = self._runs.get(batch_id), self._problems.get(batch_id)
        running = thread is not None and thread.is_alive()
        return BatchSnapshot(batch_id, path, spec, rows, counts, coins, running, problem)

    def run(self, batch_id: str, limits: Limits, *, retry_failed: bool = False) -> int:
        """Run (resume) the batch in the background; with ``retry_failed`` its failed and
        canceled rows go back to pending first. The number of rows that will be submitted.
        LedgerBusyError when it is running already (here, or in another process)."""
        path = self.ledger_path(batch_id)
        if path is None:
            raise runninghub.NotFoundError("no such batch in this studio")
        # The runner lock is taken here and handed to the runner's thread (SQLite connections
        # stay in their thread; the lock is a file descriptor): nobody else runs it meanwhile.
        lock = RunnerLock(path).acquire()
        try:
            with Ledger.open(path) as ledger:
                ledger.update_spec(_limited(ledger, limits))
                if retry_failed:
                    ledger.reset_for_retry(_RETRIED)
                waiting = ledger.counts().get(RowState.PENDING, 0)
        except BaseException:
            lock.release()
            raise
        thread = threading.Thread(target=self._drive, args=(batch_id, path, lock), daemon=True)
        with self._lock:
            self._problems.pop(batch_id, None)
            self._runs[batch_id] = thread
        thread.start()
        return waiting

    def wait(self, batch_id: str, timeout: float) -> bool:
        """Block until this studio's run of the batch ends; False if still running at timeout."""
        with self._lock:
            thread = self._runs.get(batch_id)
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def _drive(self, batch_id: str, path: Path, lock: RunnerLock) -> None:
        problem = None
        try:
            with Ledger.open(path, lock=lock) as ledger:
                report = BatchRunner(ledger, [self._batch_client()]).run()
            problem = "; ".join(filter(None, [report.stopped, *report.errors])) or None
        except runninghub.RunningHubError as exc:
            problem = exc.message
        except Exception as exc:  # shown on the grid: the ledger keeps every row's state
            problem = f"the batch stopped: {exc}"
        finally:
            lock.release()
        if problem:
            with self._lock:
                self._problems[batch_id] = problem

    def _batch_client(self) -> AsyncClient:
        """An async twin of the studio's client: same key, site, config and journal. Capacity
        refusals come straight back, as in `batch run`: the runner knows when a slot frees."""
        # The key the studio's client resolved is on purpose not public; the twin must use
        # exactly that one (the runner checks running tasks against it), so it is read here.
        settings = self.client._settings
        return AsyncClient(
            api_key=settings.api_key,
            base_url=settings.base_url,
            config_dir=settings.config_dir,
            journal=self.client.journal,
            retry=RetryPolicy(capacity_timeout=0.0),
        )


def _limited(ledger: Ledger, limits: Limits) -> BatchSpec:
    """The stored spec with this run's limits as the runner counts them: over the whole batch
    (tasks created and coins spent so far included)."""
    tasks = None if limits.max_tasks is None else ledger.tasks_created() + limits.max_tasks
    coins = None if limits.max_coins is None else str(ledger.coins_spent() + limits.max_coins)
    return replace(ledger.spec, max_tasks=tasks, max_coins=coins)
