"""Ctrl-C while a submit is on its way: a task may exist, so say how to find out.

Once the submit request has left, the service may create (and bill) the task even though its
answer never arrives. The journal records the submit as ``unknown``; the message says so and
points at it, instead of a bare "interrupted" that reads as "nothing happened".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ._context import InterruptedWait

if TYPE_CHECKING:
    from runninghub import Client

__all__ = ["InterruptedSubmit", "submitting"]


class InterruptedSubmit(InterruptedWait):
    """Ctrl-C arrived during the submit (uploads included): a task may have been created."""

    def __init__(self, *, journalled: bool) -> None:
        super().__init__(None)
        self.journalled = journalled
        self.args = ("interrupted during the submit: a task may have been created (and billed)",)

    @property
    def hint(self) -> str | None:
        if self.journalled:
            return (
                "check with: runninghub history --status unknown, then attach the task id"
                " from RunningHub's web console with: runninghub history resolve INTENT --task ID"
            )
        return "check RunningHub's web console (call records) before running it again"


@contextmanager
def submitting(client: Client) -> Iterator[None]:
    """Turn a Ctrl-C inside the block (a submit) into InterruptedSubmit (exit 130)."""
    try:
        yield
    except KeyboardInterrupt:
        raise InterruptedSubmit(journalled=client.journal is not None) from None
