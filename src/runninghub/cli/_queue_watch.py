"""What the command line says while a submit waits for a free slot of a full queue.

The client reports each wait (``on_queue_full``) before it pauses, and again right before it
submits once more. Between the two nothing has been submitted, so a Ctrl-C there says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ._context import InterruptedWait
from ._submitting import InterruptedSubmit

if TYPE_CHECKING:
    from runninghub import QueueFull

    from ._render import Renderer

__all__ = ["InterruptedInQueue", "QueueWatch", "describe_queue_full"]


class InterruptedInQueue(InterruptedWait):
    """Ctrl-C while a submit waited for a free slot: no task exists (exit 130)."""

    def __init__(self) -> None:
        super().__init__(None)
        self.args = ("interrupted while waiting for a free slot; nothing was submitted",)


class QueueWatch:
    """The client's ``on_queue_full`` callback: one line per wait on stderr."""

    def __init__(self, render: Renderer) -> None:
        self._render = render
        self.waiting = False

    def __call__(self, event: QueueFull) -> None:
        self.waiting = not event.resuming
        if self.waiting:
            self._render.note(describe_queue_full(event))

    def explain(self, exc: BaseException) -> BaseException:
        """``exc``, or the interruption that says nothing was submitted when it came mid-wait."""
        # click turns a KeyboardInterrupt into Abort on its way out; a submit's own guard
        # (``submitting``) cannot tell a pause between attempts from a request in flight.
        if self.waiting and isinstance(exc, KeyboardInterrupt | click.Abort | InterruptedSubmit):
            return InterruptedInQueue()
        return exc


def describe_queue_full(event: QueueFull) -> str:
    """``queue full (2/2 running); waiting for a free slot... (next try in 4 s, ...)``."""
    from runninghub._support import queue_full_reason

    why = queue_full_reason(event.running, event.limit, event.message, event.code)
    waited = f"waited {event.waited:.0f} s, " if event.waited >= 1 else ""
    return (
        f"queue full ({why}); waiting for a free slot... ({waited}next try in"
        f" {event.retry_in:.0f} s; Ctrl-C now submits nothing)"
    )
