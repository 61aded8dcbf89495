"""Graph and model executions in worker processes, so the event loop never waits for them.

Executing a big graph is CPU work that holds the GIL; in a thread of the server it starved
the event loop (another key's requests waited for it). Here each execution runs in a worker
process, started lazily on the first task: a fresh interpreter running :func:`serve`, joined
to the server by a socket pair. It is not a ``multiprocessing`` child on purpose: those
import the program's main module again, so a script embedding the emulator without an
``if __name__ == "__main__":`` guard would start itself in every worker. A worker receives
everything it needs: the graph, and the bytes of every media input it names, read by the
server beforehand (the stores stay the server's). It writes the output files into the task's
folder itself and sends progress events back on its socket, which the server's thread
waiting for the job reads.

Stopping: the server sends each worker SIGTERM; a busy one ends its graph at the next step
(the engine polls a flag between steps), an idle one exits. A worker also exits when its
server dies (a server killed with SIGKILL leaves no orphan).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import site
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ._node_types import EngineLimits
from .execution import ExecutionResult, run_graph, unexpected_failure

# (task id, event type, event data) as a worker reports them.
EventSink = Callable[[str, str, dict[str, Any]], None]
# What a loader asked for: its bytes, or the error reading them raised in the server.
MediaTable = dict[str, "bytes | BaseException"]

_PARENT_CHECK_SECONDS = 0.5
_WORKER_NICENESS = 10
_STOP_SECONDS = 10.0  # how long a stopping server waits for a worker before killing it


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


class _Worker:
    """One worker process and the server's end of its socket."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        with theirs:
            try:
                self.process = subprocess.Popen(
                    [sys.executable, "-c", _WORKER_COMMAND, str(theirs.fileno()), str(os.getpid())],
                    pass_fds=(theirs.fileno(),),
                    stdin=subprocess.DEVNULL,
                    env=_worker_environment(),
                )
            except BaseException:
                ours.close()
                raise
        self.connection = Connection(ours.detach())

    def wait_ready(self) -> None:
        """Until it has imported the engine; EOFError if it ended first."""
        self.connection.recv()

    def execute(self, job: Job, on_event: EventSink) -> ExecutionResult:
        """Raises EOFError or OSError when the process ends without an answer."""
        self.connection.send(job)
        while True:
            message = self.connection.recv()
            if message[0] == "result":
                result: ExecutionResult = message[1]
                return result
            on_event(*message[1:])

    def terminate(self) -> None:
        """Ask it to stop: a running graph ends at its next step, an idle worker exits."""
        with contextlib.suppress(ProcessLookupError):
            self.process.terminate()

    def reap(self, deadline: float | None = None) -> None:
        """Wait for it to exit, SIGKILL if it is still there at ``deadline`` (monotonic; by
        default :data:`_STOP_SECONDS` from now)."""
        deadline = time.monotonic() + _STOP_SECONDS if deadline is None else deadline
        try:
            self.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.connection.close()

    def end(self) -> str:
        """Stop it and say how it ended."""
        self.terminate()
        self.reap()
        code = self.process.returncode
        return f"killed by signal {-code}" if code < 0 else f"exit status {code}"


_WORKER_COMMAND = "import sys; from runninghub.emulator.workers import serve; serve(*sys.argv[1:])"


def _worker_environment() -> dict[str, str]:
    """The server's environment, with this package importable however the server found it
    (a folder put on ``sys.path`` by hand is added to the end of ``PYTHONPATH``; an installed
    package needs nothing, and its site-packages must not come before the standard library)."""
    home = str(Path(__file__).resolve().parents[2])
    if home in site.getsitepackages() or home == site.getusersitepackages():
        return dict(os.environ)
    path = [*filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep)), home]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path)}


class ExecutionPool:
    """Runs jobs in worker processes; ``submit`` takes a job factory and returns a future.

    The factory (reading the media of the job) runs in a thread of the server, which then
    waits for a worker: a blocking read never runs on the event loop. Each of the
    ``workers`` threads uses at most one worker process at a time. Workers start one at a
    time, and only when none is idle: a start costs a fresh interpreter's imports (about
    0.2 s of CPU), and small jobs are done by the first worker before a second would be up."""

    def __init__(self, workers: int, on_event: EventSink) -> None:
        self._on_event = on_event
        self._threads = ThreadPoolExecutor(workers, thread_name_prefix="rh-emulator")
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # a worker idle again, or started
        self._starting = False
        self._closed = False
        self._idle: list[_Worker] = []
        self._all: list[_Worker] = []

    def submit(self, make_job: Callable[[], Job]) -> Future[ExecutionResult]:
        """Raises RuntimeError once the pool is closed."""
        return self._threads.submit(self._run, make_job)

    def _run(self, make_job: Callable[[], Job]) -> ExecutionResult:
        job = make_job()
        worker = self._take()
        try:
            if worker is None:
                worker = self._start()
            result = worker.execute(job, self._on_event)
        except (EOFError, OSError):  # killed: the next task gets a new worker
            reason = self._drop(worker) if worker is not None else "it did not start"
            return ExecutionResult(failure=unexpected_failure(WorkerCrashed(reason)))
        except BaseException:  # its conversation is cut short: it is of no use any more
            if worker is not None:
                self._drop(worker)
            raise
        with self._changed:
            self._idle.append(worker)
            self._changed.notify()
        return result

    def _take(self) -> _Worker | None:
        """An idle worker, or None when this thread is to start one."""
        with self._changed:
            while not self._closed:
                if self._idle:
                    return self._idle.pop()
                if not self._starting:
                    self._starting = True
                    return None
                self._changed.wait()
            raise RuntimeError("the emulator is stopping")

    def _start(self) -> _Worker:
        try:
            with self._lock:
                if self._closed:
                    raise RuntimeError("the emulator is stopping")
                worker = _Worker()
                self._all.append(worker)  # so that close() stops it while it starts
            try:
                worker.wait_ready()
            except (EOFError, OSError):
                self._drop(worker)
                raise
            return worker
        finally:
            with self._changed:
                self._starting = False
                self._changed.notify_all()

    def _drop(self, worker: _Worker) -> str:
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)
        return worker.end()

    def close(self) -> None:
        """Stop running jobs at their next step and wait for the workers (idempotent)."""
        with self._changed:
            self._closed = True
            stopping, self._all, self._idle = self._all, [], []
            self._changed.notify_all()
        self._threads.shutdown(wait=False, cancel_futures=True)
        for worker in stopping:  # all at once, then one deadline for all the waits
            worker.terminate()
        deadline = time.monotonic() + _STOP_SECONDS
        for worker in stopping:
            worker.reap(deadline)


# ---- inside a worker process ---------------------------------------------------------------

_stopping = threading.Event()
_busy = False


def serve(socket_fd: str, server: str) -> None:
    """A worker's life: execute the jobs the server sends until it closes its end."""
    connection = Connection(int(socket_fd))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the terminal's Ctrl-C is the server's
    signal.signal(signal.SIGTERM, _on_sigterm)
    with contextlib.suppress(OSError):  # below the server: its answers come before our steps
        os.nice(_WORKER_NICENESS)
    threading.Thread(target=_exit_with_server, args=(int(server),), daemon=True).start()
    connection.send(("ready",))
    global _busy
    while not _stopping.is_set():
        try:
            job = connection.recv()
        except (EOFError, OSError):  # the server closed its end, or died
            return
        _busy = True
        result = execute_job(job, lambda *event: connection.send(("event", *event)))
        connection.send(("result", result))
        _busy = False


def _on_sigterm(signum: int, frame: object) -> None:
    _stopping.set()  # a running graph ends at its next step, then the server closes the socket
    if not _busy:
        sys.exit(0)


def _exit_with_server(server: int) -> None:
    """A worker of a killed server would wait on its socket forever: end it."""
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


def execute_job(job: Job, report: EventSink) -> ExecutionResult:
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
        on_event=lambda kind, data: report(task_id, kind, data),
        out_dir=job.out_dir,
        limits=dataclasses.replace(job.limits, should_stop=_stopping.is_set),
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
