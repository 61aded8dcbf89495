"""What a tool call tells its MCP client while its submit waits for a free slot.

The tools share one client, so its ``on_queue_full`` callback finds the tool call it serves
through a context variable: the submit runs in that call's own task. Each wait is a progress
notification; the result (or the tool error) says how long the submit waited; and a call
cancelled during a wait logs that nothing was submitted (no task exists, nothing is paid).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from runninghub._support import queue_full_reason

if TYPE_CHECKING:
    from runninghub import QueueFull

    from ._progress_notifications import ProgressNotifier

__all__ = ["QueueWait", "on_queue_full"]

logger = logging.getLogger(__name__)

_CURRENT: ContextVar[QueueWait | None] = ContextVar("runninghub_mcp_queue_wait", default=None)
CANCELLED_WHILE_WAITING = "cancelled while waiting for a free slot; nothing was submitted"


async def on_queue_full(event: QueueFull) -> None:
    """The shared client's ``on_queue_full``: handed to the tool call whose submit waits."""
    wait = _CURRENT.get()
    if wait is not None:
        await wait.told(event)


class QueueWait:
    """The waits of one tool call's submit: what is said, and how long they took."""

    def __init__(self, sink: ProgressNotifier) -> None:
        self._sink = sink
        self._first: QueueFull | None = None
        self._started = 0.0
        self._ended: float | None = None
        self.waiting = False

    @contextmanager
    def watching(self) -> Iterator[None]:
        token = _CURRENT.set(self)
        try:
            yield
        finally:
            _CURRENT.reset(token)

    async def told(self, event: QueueFull) -> None:
        self.waiting = not event.resuming
        if self._first is None:
            self._first, self._started = event, time.monotonic()
        if event.resuming:
            self._ended = time.monotonic()
            await self._sink.note("a slot is free: submitting now")
            return
        why = queue_full_reason(event.running, event.limit, event.message, event.code)
        await self._sink.note(
            f"queue full ({why}); waiting for a free slot... (next try in"
            f" {event.retry_in:.0f} s; nothing submitted yet)"
        )

    def summary(self) -> str | None:
        """``the submit waited 12 s for a free slot (queue full: 1/1 running)``, if it did."""
        first = self._first
        if first is None:
            return None
        waited = (self._ended or time.monotonic()) - self._started
        why = queue_full_reason(first.running, first.limit, first.message, first.code)
        return f"the submit waited {waited:.0f} s for a free slot (queue full: {why})"

    def cancelled(self) -> None:
        """The tool call was cancelled: say so when it came during a wait."""
        if self.waiting:
            logger.warning("tool call %s", CANCELLED_WHILE_WAITING)
