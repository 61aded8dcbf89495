"""Pauses of a batch while the account's queue is full, as the progress display shows them.

A submit refused for capacity (421 and its kin: nothing was created) starts a pause of its
key; the next submit the key gets accepted ends it, and so does the moment no row refused
there waits any more (submitted on another key, or given up as the batch stops). Retries in
between belong to the same pause, so a display reports each pause once, however often the
runner tries again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .._errors import APIError

if TYPE_CHECKING:
    from .._async_client import AsyncClient

__all__ = ["QueuePause", "QueuePauses"]


@dataclass(frozen=True)
class QueuePause:
    """A key whose queue is full. ``running`` and ``limit`` come from the queue status read
    when the pause began (None when it could not be read); ``message`` is the service's."""

    key: int  # index of the key in the batch's keys file (0 without one)
    message: str
    running: int | None = None
    limit: int | None = None


class QueuePauses:
    """The pauses going on, one per key at most."""

    def __init__(self) -> None:
        self._by_key: dict[int, QueuePause] = {}
        self._waiting: dict[int, set[int]] = {}  # key -> the rows refused there, not settled

    async def refused(
        self, key: int, row: int, message: str, client: AsyncClient, changed: Callable[[], None]
    ) -> None:
        """A submit of ``row`` on ``key`` was refused for capacity: a new pause is told
        (``changed``) once, with the key's counts when its queue status can be read."""
        self._waiting.setdefault(key, set()).add(row)
        if not self.start(key, message):
            return  # a retry within the same pause: already told
        try:
            status = await client.queue_status()
            self.counted(key, status.running_count, status.concurrent_limit)
        except APIError:
            pass  # the counts are a detail of the message: never a reason to stop
        changed()

    def start(self, key: int, message: str) -> bool:
        """Note a capacity refusal on ``key``; True when it begins a pause."""
        if key in self._by_key:
            return False
        self._by_key[key] = QueuePause(key, message)
        return True

    def counted(self, key: int, running: int | None, limit: int | None) -> None:
        """The queue status of a paused key, read after the pause began."""
        if key in self._by_key:
            self._by_key[key] = replace(self._by_key[key], running=running, limit=limit)

    def submitted(self, key: int, row: int) -> None:
        """``row`` was accepted on ``key``: that key has room, and the row waits no more."""
        self._end(key)
        self.settled(row)

    def settled(self, row: int) -> None:
        """``row`` waits no more (submitted, or given up): a key it was the last refused row
        of is no longer paused."""
        for key in [key for key, rows in self._waiting.items() if row in rows]:
            self._waiting[key].discard(row)
            if not self._waiting[key]:
                self._end(key)

    def _end(self, key: int) -> None:
        self._waiting.pop(key, None)
        self._by_key.pop(key, None)

    def current(self) -> tuple[QueuePause, ...]:
        return tuple(self._by_key[key] for key in sorted(self._by_key))
