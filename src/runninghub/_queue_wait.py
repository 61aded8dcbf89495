"""The pause of a submit the service refused for a full queue, told to the caller.

A submit refused with 421 (or 415, 1520 and their kin: nothing was created) is sent again
after a delay. With an ``on_queue_full`` callback the client says so before the pause, with the
key's running count and limit when the queue status can be read, and again (``resuming``)
right before the submit goes out: a Ctrl-C between the two reports submitted nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import httpx

from ._errors import APIError
from ._models import QueueFull
from ._policy import Failure, FailureKind, RetryState
from ._protocol import Operation, RetryClass
from ._steps import Exchange, Flow, Notify, Pause

if TYPE_CHECKING:
    from ._core import ClientCore

__all__ = ["QueueFullCallback", "pause_before_retry", "queue_full_reason"]

QueueFullCallback = Callable[[QueueFull], Any]


def pause_before_retry(
    client: ClientCore, op: Operation[Any], state: RetryState, failure: Failure, delay: float
) -> Flow[None]:
    """Pause ``delay`` seconds before the next attempt, telling the caller about a full queue."""
    callback = client.on_queue_full
    told = (
        callback is not None
        and failure.kind is FailureKind.CAPACITY
        and op.endpoint.retry is RetryClass.CREATES
    )
    if not told or callback is None:
        yield Pause(delay)
        return
    running, limit = yield from _queue_counts(client)
    event = QueueFull(
        what=op.what,
        message=failure.error.message,
        code=failure.error.code,
        retry_in=delay,
        waited=state.capacity_waited(),
        running=running,
        limit=limit,
    )
    yield Notify(callback, event)
    yield Pause(delay)
    yield Notify(callback, replace(event, resuming=True))


def queue_full_reason(
    running: int | None, limit: int | None, message: str, code: str | None
) -> str:
    """Why the queue is full, in a few words: ``2/2 running``, else the service's (English)."""
    if running is not None and limit is not None:
        return f"{running}/{limit} running"
    said = " ".join(message.split(" | ", maxsplit=1)[0].split())[:80]
    return said or (f"code {code}" if code else "no free slot")


def _queue_counts(client: ClientCore) -> Flow[tuple[int | None, int | None]]:
    """The key's running count and limit, once, without retries; (None, None) if unreadable."""
    op = client._op_queue_status()
    try:
        answer = yield Exchange(op)
        status = client._interpret(op, answer)
    except (APIError, httpx.TransportError):
        return None, None  # only a detail of the message: never a reason to fail the submit
    return status.running_count, status.concurrent_limit
