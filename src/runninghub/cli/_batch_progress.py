"""What a running batch shows: a live line on a terminal, else one line per finished row.

On a terminal the line is redrawn on every change and at least twice a second in between, with
the elapsed time and the ETA computed afresh from the rows finished so far, so neither freezes
while tasks run. Rows whose task ended and whose outputs are being saved no longer hold a slot:
they are shown as saving, never as running, so running stays within the concurrency. When
stderr is not a terminal (a log, CI), each row that ends prints a line of its own instead.
While a key's queue is full the live line says so at its end; a log gets one line when such a
pause begins and one when it ends, never one per refused retry.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from ._context import CliState

if TYPE_CHECKING:
    from runninghub.batch import BatchProgress, QueuePause
    from runninghub.batch.ledger import LedgerRow

__all__ = ["ProgressLine", "describe_pause", "describe_progress", "describe_row"]

REDRAW_SECONDS = 0.5


class ProgressLine:
    """The batch's ``on_progress``: the live line, or a line per finished row (not --quiet)."""

    def __init__(
        self, state: CliState, keys: int = 1, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._state = state
        self._keys = keys
        self._live = not state.quiet and sys.stderr.isatty()
        self._clock = clock
        self._last: BatchProgress | None = None
        self._received = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._shown = False
        self.paused: tuple[QueuePause, ...] = ()  # the full queues of the latest snapshot

    def update(self, progress: BatchProgress) -> None:
        if not self._live:
            self._note_pauses(progress.queue_full)
            if progress.finished is not None:
                self._state.render.note(describe_row(progress.finished))
            return
        self.paused = progress.queue_full
        self._last, self._received = progress, self._clock()
        self._draw()
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(REDRAW_SECONDS, self._tick)

    def _note_pauses(self, now: tuple[QueuePause, ...]) -> None:
        """In a log, one line when a queue fills up and one when it has room again."""
        before = {pause.key for pause in self.paused}
        for pause in now:
            if pause.key not in before:
                self._state.render.note(describe_pause(pause, self._keys) + "...")
        for key in sorted(before - {pause.key for pause in now}):
            self._state.render.note(f"{_whose(key, self._keys)}a slot is free again; submitting")
        self.paused = now

    def _tick(self) -> None:
        self._draw()
        self._timer = asyncio.get_running_loop().call_later(REDRAW_SECONDS, self._tick)

    def _draw(self) -> None:
        if self._last is None:
            return
        elapsed = self._last.elapsed + (self._clock() - self._received)
        # The line may hold the service's words (a queue-full pause): shown as note() shows.
        text = self._state.render.shown(describe_progress(self._last, elapsed, self._keys))
        click.echo(f"\r\x1b[K{text}", err=True, nl=False)
        self._shown = True

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._shown:
            click.echo("\r\x1b[K", err=True, nl=False)


def describe_progress(progress: BatchProgress, elapsed: float, keys: int = 1) -> str:
    """``12/60 done  4 running  1 saving  43 queued  0 failed  1.20/s  eta 40s  10s``."""
    rate = progress.finished_this_run / elapsed if progress.finished_this_run and elapsed else 0
    left = progress.running + progress.downloading + progress.queued
    eta = f"{left / rate:.0f}s" if rate else "-"
    saving = f"  {progress.downloading} saving" if progress.downloading else ""
    return (
        f"{progress.done}/{progress.total} done  {progress.running} running{saving}"
        f"  {progress.queued} queued  {progress.failed + progress.unknown} failed"
        f"  {f'{rate:.2f}/s' if rate else '-'}  eta {eta}  {elapsed:.0f}s"
    ) + "".join(f"  {describe_pause(pause, keys)}" for pause in progress.queue_full)


def describe_pause(pause: QueuePause, keys: int = 1) -> str:
    """``queue full (2/2 running); waiting for a free slot``, with the key when there are many."""
    from runninghub._support import queue_full_reason

    why = queue_full_reason(pause.running, pause.limit, pause.message, None)
    return f"{_whose(pause.key, keys)}queue full ({why}); waiting for a free slot"


def _whose(key: int, keys: int) -> str:
    return f"key #{key + 1}: " if keys > 1 else ""


def describe_row(row: LedgerRow) -> str:
    """``row 3: succeeded, task 1883..., 2 file(s)`` or ``row 5: failed: why``."""
    error = " ".join((row.error or "").split())  # one line, whatever the service sent
    task = f", task {row.task_id}" if row.task_id and row.task_id not in error else ""
    if error:
        return f"row {row.row}: {row.state.value}{task}: {error}"
    return f"row {row.row}: {row.state.value}{task}, {len(row.outputs)} file(s)"
