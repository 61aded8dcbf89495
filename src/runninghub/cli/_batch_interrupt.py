"""What ``batch run`` and ``batch resume`` say when Ctrl-C ends them: the rows not submitted.

The runner finishes and records the submit in flight before it stops, so the rows the ledger
still holds as pending are exactly those never sent; a pause for a full queue is named, since
that is where a user most often gives up waiting.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runninghub.batch import QueuePause

__all__ = ["describe_interruption"]

_RANGES_SHOWN = 8


def describe_interruption(ledger: Path | None, paused: Sequence[QueuePause]) -> str:
    """``interrupted while waiting for a free slot of the full queue; rows 3-10 not submitted``."""
    head = (
        "interrupted while waiting for a free slot of the full queue" if paused else "interrupted"
    )
    rows = _rows_not_submitted(ledger)
    if rows:
        head += f"; {_plural(len(rows))} not submitted ({_row_ranges(rows)})"
    elif paused:
        head += "; nothing was submitted during the wait"
    return f"{head}; submitted tasks keep running; `batch resume` picks up"


def _rows_not_submitted(ledger: Path | None) -> list[int]:
    from runninghub.batch import Ledger, LedgerError, RowState

    if ledger is None:
        return []
    try:
        with Ledger.open(ledger, read_only=True) as opened:
            return [row.row for row in opened.rows([RowState.PENDING])]
    except (LedgerError, OSError):
        return []  # the interruption is reported all the same, without the rows


def _row_ranges(rows: Sequence[int]) -> str:
    """``rows 1-3, 7, 9-12`` (the first few ranges, then how many more rows)."""
    ranges: list[list[int]] = []
    for row in sorted(rows):
        if ranges and row == ranges[-1][1] + 1:
            ranges[-1][1] = row
        else:
            ranges.append([row, row])
    shown = [f"{a}-{b}" if b > a else f"{a}" for a, b in ranges[:_RANGES_SHOWN]]
    left = sum(b - a + 1 for a, b in ranges[_RANGES_SHOWN:])
    more = f" and {left} more" if left else ""
    return f"{'rows' if len(rows) > 1 else 'row'} {', '.join(shown)}{more}"


def _plural(count: int) -> str:
    return f"{count} row{'s' if count != 1 else ''}"
