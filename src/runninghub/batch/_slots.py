"""Concurrency slots per API key: adaptive limits, refilled the moment a task ends.

Each key starts at its ceiling (the account's limit, or the ``--concurrency`` asked for). A
capacity refusal (421 and friends: nothing was created) lowers the key's limit to what was
actually running; after as many clean finishes as the limit, it goes back up by one, never
above the ceiling. When a key is refused with none of our own tasks running on it (the slots
are taken by work outside this batch), it cools down for a growing delay before the next try.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["SlotPool"]

_COOLDOWN_FIRST = 0.5
_COOLDOWN_MAX = 30.0


@dataclass
class _KeySlots:
    ceiling: int
    limit: int
    in_use: int = 0
    streak: int = 0  # clean finishes since the last change of limit
    cooldown: float = 0.0
    blocked_until: float = 0.0
    last_chosen: int = 0

    def free(self, now: float) -> int:
        if now < self.blocked_until:
            return 0
        return self.limit - self.in_use


class SlotPool:
    """Slots of several keys; :meth:`acquire` returns the index of the key to use."""

    def __init__(self, ceilings: Sequence[int], *, clock: Callable[[], float] = time.monotonic):
        if not ceilings or min(ceilings) < 1:
            raise ValueError("every key needs a concurrency of at least 1")
        self._keys = [_KeySlots(ceiling=c, limit=c) for c in ceilings]
        self._clock = clock
        self._changed = asyncio.Condition()
        self._turn = 0

    def limits(self) -> list[int]:
        return [k.limit for k in self._keys]

    def in_use(self) -> int:
        return sum(k.in_use for k in self._keys)

    def occupy(self, key: int) -> None:
        """Count a task already running on ``key`` (re-attached after a restart)."""
        self._keys[key].in_use += 1

    async def acquire(self) -> int:
        """Wait for a free slot; the key with the most room wins, ties taken in turn."""
        async with self._changed:
            while True:
                chosen = self._pick()
                if chosen is not None:
                    self._turn += 1
                    slot = self._keys[chosen]
                    slot.in_use += 1
                    slot.last_chosen = self._turn
                    return chosen
                await self._wait_for_change()

    def _pick(self) -> int | None:
        now = self._clock()
        best: int | None = None
        for index, slot in enumerate(self._keys):
            room = slot.free(now)
            if room <= 0:
                continue
            if best is None:
                best = index
                continue
            other = self._keys[best]
            if (room, -slot.last_chosen) > (other.free(now), -other.last_chosen):
                best = index
        return best

    async def _wait_for_change(self) -> None:
        now = self._clock()
        pending = [k.blocked_until - now for k in self._keys if k.blocked_until > now]
        timeout = min(pending) if pending else None
        with contextlib.suppress(TimeoutError):  # on timeout a cooldown ended: look again
            await asyncio.wait_for(self._changed.wait(), timeout)

    async def release(self, key: int, *, finished: bool) -> None:
        """Give a slot back; ``finished`` when a task ran to its end (it counts toward raising
        the limit again)."""
        slot = self._keys[key]
        slot.in_use = max(0, slot.in_use - 1)
        if finished:
            slot.cooldown = 0.0
            slot.streak += 1
            if slot.streak >= slot.limit and slot.limit < slot.ceiling:
                slot.limit += 1
                slot.streak = 0
        await self._notify()

    async def refused(self, key: int) -> None:
        """A submit on ``key`` was refused for capacity; its slot is given back."""
        slot = self._keys[key]
        slot.limit = max(1, min(slot.limit, slot.in_use - 1))
        slot.streak = 0
        slot.in_use = max(0, slot.in_use - 1)
        if slot.in_use == 0:
            # None of ours will free a slot on this key: try again after a growing pause.
            slot.cooldown = min(_COOLDOWN_MAX, slot.cooldown * 2 or _COOLDOWN_FIRST)
            slot.blocked_until = self._clock() + slot.cooldown
        await self._notify()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()
