"""Graph and model executions in worker processes, so the event loop never waits for them.

Executing a big graph is CPU work that holds the GIL; in a thread of the server it starved
the event loop (another key's requests waited for it). Here each execution runs in a
process of a small pool, started lazily on the first task from a ``forkserver`` (so a
worker is a cheap fork of a process that has the engine imported, and no thread of the
server is ever forked). A worker receives everything it needs: the graph, and the bytes
of every media input it names, read by the server beforehand (the stores stay the
server's). It writes the output files into the task's folder itself and streams progress
events back through a queue that a thread of the server drains.

Stopping: the server sets a shared event that the engine polls between steps, then waits
for the workers. A worker also exits when its parent dies (a server killed with SIGKILL
leaves no orphan).
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._node_types import EngineLimits
from .execution import ExecutionResult, run_graph, unexpected_failure

# (task id, event type, event data) as a worker reports them; None ends the drain.
EventSink = Callable[[str, str, dict[str, Any]], None]
# What a loader asked for: its bytes, or the error reading them raised in the server.
MediaTable = dict[str, "bytes | BaseException"]

_PARENT_CHECK_SECONDS = 0.5
_WORKER_NICENESS = 10


@dataclass(frozen=True)
class GraphJob:
    graph: dict[str, Any]
    task_id: str
    add_metadata: bool
    media: MediaTable
    out_dir: Path
    limits: EngineLimits


@dataclass(frozen=True)
class ModelJob:
    endpoint: str
    output_type: str
    params: dict[str, Any]
    media: MediaTable
    out_dir: Path


Job = GraphJob | ModelJob


def graph_media_values(graph: dict[str, Any]) -> list[str]:
    """The literal values of the graph's loader inputs (what the engine will load)."""
    values: list[str] = []
    for node in graph.values():
        if isinstance(node, dict) and node.get("class_type") == "LoadImage":
            value = (node.get("inputs") or {}).get("image")
            if isinstance(value, str):
                values.append(value)
    return values


def model_media_values(params: dict[str, Any]) -> list[str]:
    """The values of a model call's media parameters (see :mod:`.model_media`)."""
    from .model_media import media_candidates

    return [url for url in media_candidates(params) if not url.startswith("data:")]


def read_media(values: list[str], load_media: Callable[[str], bytes]) -> MediaTable:
    """Each value's bytes, or the exception reading it raised (the worker re-raises it)."""
    table: MediaTable = {}
    for value in values:
        if value not in table:
            try:
                table[value] = load_media(value)
            except Exception as error:  # the node that loads it fails the task with it
                table[value] = _portable(error)
    return table


def _portable(error: Exception) -> BaseException:
    """The error as the worker can receive it: a built-in one as it is, others as text."""
    if type(error).__module__ == "builtins":
        return error
    return FileNotFoundError(str(error))


class WorkerCrashed(RuntimeError):
    """The process executing a task ended without an answer (killed, out of memory)."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"the process executing the task ended abruptly ({detail})")


class ExecutionPool:
    """Runs jobs in worker processes; ``submit`` takes a job factory and returns a future.

    The factory (reading the media of the job) runs in a thread of the server, which then
    waits for the worker: a blocking read never runs on the event loop."""

    def __init__(self, workers: int, on_event: EventSink) -> None:
        self._workers = workers
        self._on_event = on_event
        self._threads = ThreadPoolExecutor(workers, thread_name_prefix="rh-emulator")
        self._lock = threading.Lock()
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload([__name__])
        self._closed = False
        self._stop: Any = None  # shared with the workers; made with them (not at start-up)
        self._events: Any = None
        self._drain: threading.Thread | None = None
        self._processes: ProcessPoolExecutor | None = None

    def submit(self, make_job: Callable[[], Job]) -> Future[ExecutionResult]:
        """Raises RuntimeError once the pool is closed."""
        return self._threads.submit(self._run, make_job)

    def _run(self, make_job: Callable[[], Job]) -> ExecutionResult:
        job = make_job()
        processes = self._started()
        try:
            return processes.submit(execute_job, job).result()
        except BrokenProcessPool as error:  # a worker died (killed): the next task gets a new one
            with self._lock:
                if self._processes is processes and not self._closed:
                    self._processes = None
                    processes.shutdown(wait=False)
            return ExecutionResult(failure=unexpected_failure(WorkerCrashed(str(error))))

    def _started(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("the emulator is stopping")
            if self._events is None:
                self._stop = self._context.Event()
                self._events = self._context.SimpleQueue()
                self._drain = threading.Thread(
                    target=self._drain_events, name="rh-emulator-events", daemon=True
                )
                self._drain.start()
            if self._processes is None:
                self._processes = ProcessPoolExecutor(
                    self._workers,
                    mp_context=self._context,
                    initializer=_init_worker,
                    initargs=(self._events, self._stop, os.getpid()),
                )
            return self._processes

    def _drain_events(self) -> None:
        while (item := self._events.get()) is not None:
            self._on_event(*item)

    def close(self) -> None:
        """Stop running jobs at their next step and wait for the workers (idempotent)."""
        with self._lock:
            self._closed = True
            if self._stop is not None:
                self._stop.set()
            processes, self._processes = self._processes, None
        self._threads.shutdown(wait=False, cancel_futures=True)
        if processes is not None:
            processes.shutdown(wait=True, cancel_futures=True)
        if self._drain is not None:
            self._events.put(None)
            self._drain.join()
            self._drain = None


# ---- inside a worker process ---------------------------------------------------------------

_events: Any = None
_stop: Any = None


def _init_worker(events: Any, stop: Any, server: int) -> None:
    global _events, _stop
    _events, _stop = events, stop
    with contextlib.suppress(OSError):  # below the server: its answers come before our steps
        os.nice(_WORKER_NICENESS)
    threading.Thread(target=_exit_with_server, args=(server,), daemon=True).start()


def _exit_with_server(server: int) -> None:
    """The pool's own pipes keep a worker of a killed server waiting forever: end it."""
    while _alive(server):
        time.sleep(_PARENT_CHECK_SECONDS)
    os._exit(1)


def _alive(pid: int) -> bool:
    """Whether the process runs (a killed one not yet reaped by its parent does not)."""
    try:
        os.kill(pid, 0)
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:  # no /proc: the signal check alone
        return True
    except (OSError, IndexError):
        return False


def execute_job(job: Job) -> ExecutionResult:
    load_media = media_loader(job.media)
    if isinstance(job, ModelJob):
        from .model_media import run_model

        return run_model(
            job.endpoint, job.output_type, job.params, load_media=load_media, out_dir=job.out_dir
        )
    task_id = job.task_id
    return run_graph(
        job.graph,
        task_id=task_id,
        add_metadata=job.add_metadata,
        load_media=load_media,
        on_event=lambda kind, data: _events.put((task_id, kind, data)),
        out_dir=job.out_dir,
        limits=dataclasses.replace(job.limits, should_stop=_stop.is_set),
    )


def media_loader(media: MediaTable) -> Callable[[str], bytes]:
    """A ``load_media`` answering from the bytes the server read for the job."""

    def load(value: str) -> bytes:
        found = media.get(value)
        if found is None:
            raise FileNotFoundError(f"no uploaded file named {value.strip()!r}")
        if isinstance(found, BaseException):
            raise found
        return found

    return load
