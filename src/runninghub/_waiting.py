"""Waiting for a task, without I/O: what to do next, decided from what was seen so far.

:class:`WaitPlan` is driven by the sync and the async client alike. The driver asks
:meth:`WaitPlan.next_action` and performs it (poll, fetch the legacy outputs for the progress
socket's address, start the listener, sleep until the next poll or the next socket event),
then reports back. Polling the v2 query is the source of truth; the socket only adds
per-node progress and an early end signal.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from ._errors import (
    APIConnectionError,
    APIError,
    APIResponseError,
    APITimeoutError,
    CapacityError,
    ServerError,
    TaskFailedError,
    WaitTimeoutError,
)
from ._models import Task, TaskStatus
from ._policy import PollPolicy
from ._socket_listener import EventKind, SocketEvent, usable_url

__all__ = [
    "FETCH_OUTPUTS",
    "POLL",
    "Finished",
    "Listen",
    "Progress",
    "Sleep",
    "TimedOut",
    "WaitPlan",
    "raise_if_failed",
]


@dataclass(frozen=True)
class Progress:
    """What ``on_progress`` receives: a status change, or a node's progress from the socket."""

    task_id: str
    status: TaskStatus
    elapsed: float
    node_id: str | None = None
    value: int | None = None
    max: int | None = None
    message: str | None = None


@dataclass(frozen=True)
class _Poll:
    pass


@dataclass(frozen=True)
class _FetchOutputs:
    pass


POLL = _Poll()
FETCH_OUTPUTS = _FetchOutputs()


@dataclass(frozen=True)
class Sleep:
    seconds: float  # wake earlier when a socket event arrives


@dataclass(frozen=True)
class Listen:
    url: str


@dataclass(frozen=True)
class Finished:
    task: Task


@dataclass(frozen=True)
class TimedOut:
    timeout: float
    last_status: str | None

    def error(self, task_id: str, *, cancelled: bool) -> WaitTimeoutError:
        """The exception a wait that ran out raises (``cancelled``: the task was stopped)."""
        return WaitTimeoutError(
            task_id, timeout=self.timeout, last_status=self.last_status, cancelled=cancelled
        )


Action = _Poll | _FetchOutputs | Sleep | Listen | Finished | TimedOut

_FAST_POLLS_AFTER_SIGNAL = 3
_TRANSIENT = (APIConnectionError, ServerError, APIResponseError, CapacityError)


# Seconds the poll made at the deadline may take (the deadline bounds every other request).
_LAST_LOOK = 2.0


class WaitPlan:
    """The state of one wait: last status, schedule, failures, socket, deadline."""

    def __init__(  # noqa: PLR0913 - keyword-only: deadline, last state, injectable clock and rng
        self,
        task_id: str,
        policy: PollPolicy,
        *,
        timeout: float | None,
        known: Task | None = None,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.task_id = task_id
        self.policy = policy
        self.timeout = timeout
        self._clock = clock
        self._rng = rng or random.Random()
        self._start = clock()
        self.status: TaskStatus | None = None
        self.last: Task | None = None
        self._final: Task | None = None
        self._intervals = 0
        self._failures = 0
        self._signalled = 0  # polls scheduled since the socket said the run ended
        self._wss_url: str | None = None
        self._listening = False
        self._outputs_fetched = False
        self._deadline_polled = False
        self._pending: list[Progress] = []
        self._next_poll = self._start
        if known is not None:
            self._see(known)
            self._schedule()

    # ------------------------------------------------------------------ decisions

    def next_action(self) -> Action:
        now = self._clock()
        if self._final is not None:
            return Finished(self._final)
        if self.timeout is not None and now - self._start >= self.timeout:
            if not self._deadline_polled:
                # A task may have ended since the last poll (up to an interval ago): look
                # once more before reporting a timeout or cancelling a finished task.
                self._deadline_polled = True
                return POLL
            return TimedOut(self.timeout, self.status.value if self.status else None)
        if self.policy.websocket and self._wss_url and not self._listening:
            self._listening = True
            return Listen(self._wss_url)
        if self._wants_outputs():
            self._outputs_fetched = True
            return FETCH_OUTPUTS
        if now >= self._next_poll:
            return POLL
        wake = self._next_poll
        if self.timeout is not None:
            wake = min(wake, self._start + self.timeout)
        return Sleep(max(0.0, wake - now))

    def _wants_outputs(self) -> bool:
        """The v2 query gives no socket address; the legacy outputs does, while RUNNING."""
        return (
            self.policy.websocket
            and not self._listening
            and not self._outputs_fetched
            and self._wss_url is None
            and self.status is TaskStatus.RUNNING
        )

    def result(self, task: Task) -> Task:
        """The outcome of a finished wait: the task, or TaskFailedError."""
        if task.status is TaskStatus.SUCCESS:
            return task
        raise TaskFailedError(task)

    def drain(self) -> list[Progress]:
        pending, self._pending = self._pending, []
        return pending

    def request_until(self) -> float | None:
        """When a request made now must be cut: at the wait's deadline, but never sooner than
        a last look's worth of time from now (the poll made at the deadline)."""
        if self.timeout is None:
            return None
        return max(self._start + self.timeout, self._clock() + _LAST_LOOK)

    def _cut_short(self, error: APIError) -> bool:
        """A poll cut off by the wait's own deadline: the wait ends as a timeout, not this."""
        past = self.timeout is not None and self.elapsed >= self.timeout
        return past and isinstance(error, APITimeoutError)

    @property
    def elapsed(self) -> float:
        return self._clock() - self._start

    # ------------------------------------------------------------------ reports

    def on_task(self, task: Task) -> None:
        """A poll answered."""
        self._failures = 0
        self._see(task)
        if self._final is None:
            self._schedule()

    def on_poll_error(self, error: APIError) -> None:
        """A poll failed: retry transient failures a few times in a row, raise the rest."""
        if not isinstance(error, _TRANSIENT):
            raise error
        self._failures += 1
        if self._failures >= self.policy.max_consecutive_failures and not self._cut_short(error):
            raise error
        delay = self.policy.interval(self._failures - 1, self._rng)
        self._next_poll = self._clock() + delay

    def on_outputs(self, task: Task | None) -> None:
        """The legacy outputs answered (None: it failed, which only costs the socket)."""
        if task is None:
            return
        if task.net_wss_url and usable_url(task.net_wss_url):
            self._wss_url = task.net_wss_url
        if task.is_terminal:
            self._next_poll = self._clock()  # confirm with the source of truth at once

    def on_event(self, event: SocketEvent) -> None:
        """A socket event arrived."""
        status = self.status or TaskStatus.RUNNING
        if event.ends_run and self._signalled == 0:
            self._signalled = 1
            self._next_poll = self._clock()
        if event.kind in (
            EventKind.NODE_STEP,
            EventKind.NODE,
            EventKind.NODE_DONE,
            EventKind.FAILED,
        ):
            self._pending.append(
                Progress(
                    self.task_id,
                    status,
                    self.elapsed,
                    node_id=event.node_id,
                    value=event.value,
                    max=event.max,
                    message=event.message or event.kind.value,
                )
            )

    # ------------------------------------------------------------------ internals

    def _see(self, task: Task) -> None:
        self.last = task
        if task.net_wss_url and self._wss_url is None and usable_url(task.net_wss_url):
            self._wss_url = task.net_wss_url
        if task.status is not self.status:
            self.status = task.status
            self._pending.append(
                Progress(self.task_id, task.status, self.elapsed, message=task.status.value)
            )
        if task.is_terminal:
            self._final = task

    def _schedule(self) -> None:
        if self._signalled > _FAST_POLLS_AFTER_SIGNAL:
            self._signalled = 0  # the status keeps lagging: back to the normal schedule
        if self._signalled:
            # The socket said the run ended but the status lags: look again soon.
            delay = self.policy.interval(
                self._signalled - 1, self._rng, start=self.policy.after_signal
            )
            self._signalled += 1
        else:
            delay = self.policy.interval(self._intervals, self._rng)
            self._intervals += 1
        self._next_poll = self._clock() + delay


def raise_if_failed(task: Task) -> Task:
    """``task`` itself, unless it ended FAILED or CANCEL: then its TaskFailedError."""
    if task.status in (TaskStatus.FAILED, TaskStatus.CANCEL):
        raise TaskFailedError(task)
    return task
