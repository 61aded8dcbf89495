"""The emulator's state: tasks and their lifecycle, uploads, webhooks, counters, settings.

Everything here is touched from the event loop thread only, except what the execution
pool's threads do (reading a task's media for its worker process, appending its events).
Each task costs two timers: one starts its execution when it leaves the queue, one handles
its end (coins, webhook). States in between are computed from timestamps.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import hmac
import random
import secrets
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import catalog, workers
from ._node_types import EngineLimits
from .auth import KeyPolicy, key_hash, mask
from .clock import EmulatedClock
from .execution import ExecutionResult, unexpected_failure
from .guard import ControlGuard, check_webhook_target
from .keys import KeyBook, Spending, admit
from .lora_store import LoraStore
from .media import fetch_outside, host_allowed, own_file
from .model_catalogue import load_catalogue
from .options import EmulatorOptions, apply_changes
from .storage import FileStore, StateDB, files_dir_for
from .submit import PreparedGraph, Submission, check_graph_size
from .tasks import CANCEL, FAILED, QUEUED, RUNNING, TERMINAL, TaskRecord, webhook_payload
from .uploads import UploadStore
from .webhooks import PENDING, WebhookDispatcher, WebhookRecord
from .wire import ApiProblem, Problem


@dataclass
class Counters:
    """What ``GET /__emulator__/stats`` reports (besides states computed on demand)."""

    requests: Counter[str] = field(default_factory=Counter)
    tasks_created: int = 0
    tasks_by_key: Counter[str] = field(default_factory=Counter)
    tasks_by_fingerprint: Counter[str] = field(default_factory=Counter)
    uploads: int = 0
    webhooks: Counter[str] = field(default_factory=Counter)
    max_running: int = 0
    faults: Counter[str] = field(default_factory=Counter)

    def count_task(self, task: TaskRecord) -> None:
        self.tasks_created += 1
        self.tasks_by_key[task.key_hash] += 1
        self.tasks_by_fingerprint[task.fingerprint] += 1


class EmulatorState:
    """Tasks, uploads and webhooks of one emulator, with their persistence."""

    def __init__(self, options: EmulatorOptions) -> None:
        self.options = options
        # The catalogue first: a bad workflows directory must fail before anything opens.
        self.workflows = catalog.load_workflows(options.workflows_dir)
        self.apps = catalog.load_apps()
        self.models = load_catalogue(options.catalogue)
        self.db = StateDB(options.state_file)
        self.files = FileStore(files_dir_for(options.state_file))
        offset = self.db.get("meta", "clock_offset") or 0.0
        self.clock = EmulatedClock(options.time_scale, float(offset))
        self.secret = self._load_secret()
        self.policy = KeyPolicy(options.keys, options.site)
        self.key_book = KeyBook.from_options(self.options)
        self.uploads = UploadStore(self.files, self.db, self.clock, self.secret)
        self.loras = LoraStore(self.files, self.db, self.clock, self.secret)
        self.tasks: dict[str, TaskRecord] = {}
        self.webhooks: dict[str, WebhookRecord] = {}
        self.webhook_of_task: dict[str, str] = {}
        self.active: dict[str, set[str]] = {}
        self.spending = Spending()
        self.counters = Counters()
        self.fault_rng = random.Random(options.fault_seed)
        self.generation = 0
        self.base_url = f"http://{options.host}:{options.port}"  # the listening address
        self.control_guard = ControlGuard(options.host, options.port, options.control_token)
        self.executor = workers.ExecutionPool(options.workers, self._worker_event)
        self.dispatcher = WebhookDispatcher(lambda: self.options, self.clock, self._webhook_done)
        self._last_id = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        # Set when the server stops: running graphs end at their next step, so SIGTERM
        # does not wait for a long task (a persisted one runs again on the next start).
        self.stopping = threading.Event()

    @property
    def public_base(self) -> str:
        """Where every URL the emulator hands out points: ``public_url`` or its address."""
        return self.options.public_url or self.base_url

    def _load_secret(self) -> bytes:
        stored = self.db.get("meta", "secret")
        if isinstance(stored, str):
            return bytes.fromhex(stored)
        secret = secrets.token_bytes(32)
        self.db.put("meta", "secret", secret.hex())
        return secret

    # ---- lifecycle of the server -------------------------------------------------------

    async def startup(self) -> None:
        """Bind to the running loop and pick up persisted tasks and webhooks."""
        self._loop = asyncio.get_running_loop()
        for document in self.db.all("tasks"):
            task = TaskRecord.from_document(document)
            self.tasks[task.task_id] = task
            self.counters.count_task(task)
            if task.status() not in TERMINAL:
                self.active.setdefault(task.key_hash, set()).add(task.task_id)
            self._resume(task)
        for document in self.db.all("webhooks"):
            record = WebhookRecord(**document)
            self.webhooks[record.webhook_id] = record
            self.webhook_of_task[record.task_id] = record.webhook_id
            if record.status == PENDING:
                self.dispatcher.dispatch(record)

    def _resume(self, task: TaskRecord) -> None:
        """Continue a persisted task: execute it again if it never finished (same result)."""
        if task.cancelled_at is None and task.done_at is None:
            self._schedule_start(task)
        elif not task.ended:
            self._schedule_end(task)

    async def shutdown(self) -> None:
        self.stopping.set()
        await self.dispatcher.close()
        self.close()

    def close(self) -> None:
        """Release threads, the database and temporary files (idempotent)."""
        self.stopping.set()
        self.executor.close()
        self.db.close()
        self.files.close()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        assert self._loop is not None, "the state is used before the server started"
        return self._loop

    # ---- tasks ---------------------------------------------------------------------------

    def new_id(self) -> str:
        """A 19-digit snowflake-like id, increasing, as the service issues them."""
        candidate = (int(time.time() * 1000) << 20) | random.getrandbits(20)
        self._last_id = max(candidate, self._last_id + 1)
        return str(self._last_id)

    def active_tasks(self, key_digest: str) -> list[TaskRecord]:
        """The key's queued and running tasks (pruning those that ended)."""
        ids = self.active.get(key_digest, set())
        now = time.time()
        live = [self.tasks[i] for i in ids if i in self.tasks]
        for task in live:  # charge a task that just ended now: a balance read must see it
            if not task.ended and task.status(now) in TERMINAL:
                self._end(task.task_id, self.generation)
        live = [task for task in live if task.status(now) not in TERMINAL]
        self.active[key_digest] = {task.task_id for task in live}
        return live

    def create_task(  # noqa: PLR0913 - price, output type and instant are keyword-only
        self,
        key: str,
        submission: Submission,
        prepared: PreparedGraph,
        *,
        price: Decimal | None = None,
        output_type: str | None = None,
        instant: bool = False,
    ) -> TaskRecord:
        """Register a task, or raise (and create nothing): QUEUE_FULL at the key's limit
        (INSTANCE_BUSY for an exclusive key; with its personal queue the task waits, up to
        PERSONAL_QUEUE_FULL), WALLET_TOO_LOW when a wallet key cannot pay ``price`` (a
        model's list price; None: the configured price of a task). An ``instant`` task is
        not scheduled: the caller executes it at once with :meth:`finish_now`."""
        digest = key_hash(key)
        profile = self.key_book.profile(key)
        if submission.webhook_url is not None:
            self.check_webhook(submission.webhook_url)
        check_graph_size(prepared, self.options.max_graph_nodes)
        now = time.time()
        active = self.active_tasks(digest)
        start = admit(profile, submission.personal_queue, active, now, self.options)
        start = now if instant else start
        money = self.spending.wallet_charge(key, profile, price, self.options.money_price)
        task = TaskRecord(
            task_id=self.new_id(),
            key_hash=digest,
            key_mask=mask(key),
            source=submission.source,
            source_id=submission.source_id,
            client_id=secrets.token_hex(16),
            graph=prepared.graph,
            outputs_to_execute=prepared.outputs_to_execute,
            fingerprint=prepared.fingerprint,
            add_metadata=submission.add_metadata,
            webhook_url=submission.webhook_url,
            created_at=now,
            start_at=start,
            min_end_at=start if instant else start + self.options.task_seconds,
            money=money,
            coin_price=None if profile.has_wallet else self.options.coin_price,
            output_type=output_type,
        )
        self.tasks[task.task_id] = task
        self.active.setdefault(digest, set()).add(task.task_id)
        self.counters.count_task(task)
        self._save(task)
        if not instant:
            self._schedule_start(task)
        return task

    def find_task(self, key: str, task_id: str) -> TaskRecord:
        """The key's task, or UNKNOWN_TASK (another key's task does not exist for it)."""
        task = self.tasks.get(task_id)
        if task is None or task.key_hash != key_hash(key):
            raise ApiProblem(Problem.UNKNOWN_TASK, f"task {task_id}")
        return task

    def cancel(self, task: TaskRecord) -> None:
        """Cancel a queued or running task; a finished one stays as it is."""
        if task.status() in TERMINAL:
            return
        task.cancelled_at = time.time()
        self._save(task)
        self._end(task.task_id, self.generation)

    def _save(self, task: TaskRecord) -> None:
        if self.db.enabled:
            self.db.put("tasks", task.task_id, task.to_document())

    def _schedule_start(self, task: TaskRecord) -> None:
        delay = max(0.0, task.start_at - time.time())
        self.loop.call_later(delay, self._start, task.task_id, self.generation)

    def _start(self, task_id: str, generation: int) -> None:
        task = self.tasks.get(task_id)
        if generation != self.generation or task is None or task.cancelled_at is not None:
            return
        running = sum(1 for t in self.active_tasks(task.key_hash) if t.status() == RUNNING)
        self.counters.max_running = max(self.counters.max_running, running)
        try:
            future = self.executor.submit(self._job(task))
        except RuntimeError:  # the executor is shutting down with the server
            return
        future.add_done_callback(functools.partial(self._post_result, task, generation))

    def _job(self, task: TaskRecord) -> Callable[[], workers.Job]:
        """What a worker needs to execute the task; called in a thread, it reads the media."""
        out_dir = self.files.output_dir(task.task_id)
        graph = task.graph
        if task.source == "model":
            return lambda: workers.ModelJob(
                task.source_id, task.output_type or "image", graph,
                workers.read_media(workers.model_media_values(graph), self.load_media), out_dir,
            )  # fmt: skip
        limits = self._engine_limits()
        return lambda: workers.GraphJob(
            graph, task.task_id, task.add_metadata,
            workers.read_media(workers.graph_media_values(graph), self.load_media), out_dir, limits,
        )  # fmt: skip

    def _worker_event(self, task_id: str, kind: str, data: dict[str, Any]) -> None:
        """A progress event from a worker (called in the pool's drain thread)."""
        task = self.tasks.get(task_id)
        if task is not None:
            task.add_event(kind, data)

    async def finish_now(self, task: TaskRecord) -> None:
        """Execute a task inside its submit request (a model that answers SUCCESS at once)."""
        future = self.executor.submit(self._job(task))
        await asyncio.wrap_future(future)
        self._executed(task, future, self.generation)

    def _engine_limits(self) -> EngineLimits:
        options = self.options
        return EngineLimits(
            max_frames=options.max_frames,
            max_outputs=options.max_outputs,
            max_task_pixels=options.max_task_pixels,
        )

    def _post_result(
        self, task: TaskRecord, generation: int, done: Future[ExecutionResult]
    ) -> None:
        """Called in the worker thread: hand the result to the loop (gone if stopping)."""
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self._executed, task, done, generation)

    def _executed(self, task: TaskRecord, done: Future[ExecutionResult], generation: int) -> None:
        if generation != self.generation or done.cancelled():
            return
        error = done.exception()
        result = ExecutionResult(failure=unexpected_failure(error)) if error else done.result()
        if self.stopping.is_set() and (result.failure or {}).get("exception_type") == (
            "InterruptedError"
        ):
            return  # cut short by the stop, not failed: a persisted task runs again on restart
        task.outputs, task.failure = result.outputs, result.failure
        task.done_at = time.time()
        self._save(task)
        if task.cancelled_at is None:
            self._schedule_end(task)

    def _schedule_end(self, task: TaskRecord) -> None:
        delay = max(0.0, task.finish_at - time.time())
        self.loop.call_later(delay, self._end, task.task_id, self.generation)

    def _end(self, task_id: str, generation: int) -> None:
        """A task reached SUCCESS, FAILED or CANCEL: charge it and send its webhook."""
        task = self.tasks.get(task_id)
        if generation != self.generation or task is None or task.ended:
            return
        task.ended = True
        if task.status() not in (CANCEL, FAILED):
            money = None if task.money is None else Decimal(task.money)
            self.spending.charge(task.key_hash, task.coins(), money)
        self._save(task)
        if task.webhook_url:
            self._send_webhook(task, task.webhook_url)

    # ---- webhooks --------------------------------------------------------------------------

    def _send_webhook(self, task: TaskRecord, url: str) -> None:
        now = self.clock.now()
        record = WebhookRecord(
            webhook_id=self.new_id(),
            task_id=task.task_id,
            key_hash=task.key_hash,
            key_mask=task.key_mask,
            url=url,
            payload=webhook_payload(task, self.public_base),
            created_at=now,
            updated_at=now,
        )
        self.webhooks[record.webhook_id] = record
        self.webhook_of_task[task.task_id] = record.webhook_id
        self.db.put("webhooks", record.webhook_id, record.to_document())
        self.dispatcher.dispatch(record)

    def check_webhook(self, url: str) -> None:
        """ApiProblem(BAD_REQUEST) for a target webhooks may not go to (see :mod:`.guard`)."""
        try:
            check_webhook_target(url, self.options.webhook_allow)
        except ValueError as error:
            raise ApiProblem(Problem.BAD_REQUEST, str(error)) from None

    def retry_webhook(self, key: str, webhook_id: str, url: str | None) -> None:
        record = self.webhooks.get(webhook_id)
        if record is None or record.key_hash != key_hash(key):
            raise ApiProblem(Problem.NO_WEBHOOK)
        self.check_webhook(url or record.url)
        record.url = url or record.url
        record.status, record.retry_count = PENDING, 0
        self.db.put("webhooks", record.webhook_id, record.to_document())
        self.dispatcher.dispatch(record)

    def webhook_for(self, key: str, task_id: str) -> WebhookRecord:
        self.find_task(key, task_id)
        webhook_id = self.webhook_of_task.get(task_id)
        if webhook_id is None:
            raise ApiProblem(Problem.NO_WEBHOOK)
        return self.webhooks[webhook_id]

    def _webhook_done(self, record: WebhookRecord, outcome: str | None) -> None:
        if self.webhooks.get(record.webhook_id) is not record:
            return  # forgotten by a reset while it was being delivered
        if outcome:
            self.counters.webhooks[outcome] += 1
        self.db.put("webhooks", record.webhook_id, record.to_document())

    # ---- media -----------------------------------------------------------------------------

    def load_media(self, value: str) -> bytes:
        """Bytes for a loader node's value: an upload name, a URL of this emulator or of an
        allowed host, or a bundled default name. Called from worker threads."""
        text = value.strip()
        if text.startswith(("http://", "https://")):
            return self._load_url(text)
        upload = self.uploads.lookup(text)
        if upload is not None:
            return self.uploads.path_of(upload).read_bytes()
        if text in catalog.DEFAULT_MEDIA:
            return catalog.default_media(text)
        raise FileNotFoundError(f"no uploaded file named {text!r}")

    def _load_url(self, url: str) -> bytes:
        path = own_file(url, self.uploads, self.output_path)
        if path is not None:
            return path.read_bytes()
        if host_allowed(urlsplit(url), self.options.fetch_hosts):
            return fetch_outside(url, self.options.upload_limit)
        raise FileNotFoundError(
            f"cannot fetch {url}: the emulator is offline; "
            "allow the host with --fetch-host if it is your own server"
        )

    def output_path(self, task_id: str, name: str) -> Path | None:
        task = self.tasks.get(task_id)
        if task is None or not any(item.name == name for item in task.outputs):
            return None
        return self.files.output_dir(task_id) / name

    def ws_token(self, task_id: str) -> str:
        return hmac.new(self.secret, task_id.encode(), hashlib.sha256).hexdigest()[:32]

    # ---- accounts, stats, control ----------------------------------------------------------

    def account_counts(self, key: str) -> tuple[int, int]:
        """(running, queued) tasks of the key right now."""
        now = time.time()
        states = [task.status(now) for task in self.active_tasks(key_hash(key))]
        return states.count(RUNNING), states.count(QUEUED)

    def remaining_coins(self, key: str) -> int:
        return self.balance(key)[0]

    def balance(self, key: str) -> tuple[int, Decimal | None]:
        """Coins and wallet money the key has left, after charging tasks that just ended."""
        self.active_tasks(key_hash(key))
        return self.spending.remaining(key, self.key_book.profile(key))

    def stats(self) -> dict[str, Any]:
        now = time.time()
        by_status = Counter(task.status(now) for task in self.tasks.values())
        c = self.counters
        return {
            "requests": dict(c.requests),
            "tasks_created": c.tasks_created,
            "tasks_by_status": dict(by_status),
            "tasks_by_key": dict(c.tasks_by_key),
            "tasks_by_fingerprint": dict(c.tasks_by_fingerprint),
            "uploads": c.uploads,
            "webhooks": {
                "delivered": c.webhooks["delivered"],
                "failed": c.webhooks["failed"],
                "attempts_failed": c.webhooks["attempt_failed"],
            },
            "max_running": c.max_running,
            "lora_uploads": self.loras.completed,
            "running": by_status.get(RUNNING, 0),
            "faults": dict(c.faults),
        }

    def reset(self) -> None:
        """Forget tasks, webhooks and counters (uploaded files stay: they are content)."""
        self.generation += 1
        self.tasks.clear()
        self.active.clear()
        self.webhooks.clear()
        self.webhook_of_task.clear()
        self.spending.clear()
        self.counters = Counters()
        self.db.clear("tasks")
        self.db.clear("webhooks")
        shutil.rmtree(self.files.root / "outputs", ignore_errors=True)
        (self.files.root / "outputs").mkdir(exist_ok=True)

    def configure(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply runtime settings (ValueError on a bad one); returns the settings."""
        changes = dict(changes)
        advance = changes.pop("advance_clock", None)
        if advance is not None and (
            isinstance(advance, bool) or not isinstance(advance, int | float)
        ):
            raise ValueError("advance_clock: must be a number of emulated seconds")
        self.options = apply_changes(self.options, changes)
        if "time_scale" in changes:
            self.clock.set_scale(self.options.time_scale)
        if "fault_seed" in changes:
            self.fault_rng = random.Random(self.options.fault_seed)
        if {"keys", "site"} & changes.keys():
            self.policy = KeyPolicy(self.options.keys, self.options.site)
        self.key_book = KeyBook.from_options(self.options)
        if advance:
            self.clock.advance(float(advance))
            self.db.put("meta", "clock_offset", self.clock.offset())
        return {**self.options.public_view(), "clock": self.clock.now()}
