"""Which batch row a submit belongs to, told to the flows without a parameter.

A batch runs many rows at once over one client; each row's submit runs in its own asyncio task
(or thread), so a context variable carries the label to the intent that submit records.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

__all__ = ["batch_label", "current_batch"]

_BATCH: contextvars.ContextVar[tuple[str, int] | None] = contextvars.ContextVar(
    "runninghub_journal_batch", default=None
)


@contextlib.contextmanager
def batch_label(batch: str, row: int) -> Iterator[None]:
    """Submits made inside this block are recorded as ``row`` of ``batch``."""
    token = _BATCH.set((batch, row))
    try:
        yield
    finally:
        _BATCH.reset(token)


def current_batch() -> tuple[str, int] | None:
    """The (batch, row) of the submit being made here, if any."""
    return _BATCH.get()
