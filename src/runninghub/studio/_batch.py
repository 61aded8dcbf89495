"""Batches started from the studio: the rows of a CSV through one workflow, a few at a time.

The CSV's header names the fields (``NODE.FIELD``, as ``--set`` does); each row is checked
like a single run before anything is paid for, then submitted once through the board, at most
``slots`` at a time, each recorded in the journal as a row of the batch.
"""

from __future__ import annotations

import csv
import io
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

import runninghub

from ._board import Board, TaskView

__all__ = ["BatchRow", "StudioBatch", "parse_rows"]

MAX_ROWS = 1000


@dataclass
class BatchRow:
    number: int
    overrides: dict[str, str]
    task_id: str | None = None
    error: str | None = None


@dataclass
class StudioBatch:
    batch_id: str
    workflow_id: str
    rows: list[BatchRow]
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, board: Board, slots: int = 2) -> None:
        gate = threading.BoundedSemaphore(slots)
        threading.Thread(target=self._feed, args=(board, gate), daemon=True).start()

    def _feed(self, board: Board, gate: threading.BoundedSemaphore) -> None:
        for row in self.rows:
            gate.acquire()
            try:
                row.task_id = board.submit(
                    self.workflow_id, row.overrides, (self.batch_id, row.number)
                )
            except runninghub.RunningHubError as exc:
                row.error = exc.message
                gate.release()
                continue
            threading.Thread(target=_free_when_done, args=(board, row.task_id, gate)).start()

    def views(self, board: Board) -> list[tuple[BatchRow, TaskView | None]]:
        return [(row, board.view(row.task_id) if row.task_id else None) for row in self.rows]


def _free_when_done(board: Board, task_id: str, gate: threading.BoundedSemaphore) -> None:
    board.wait_finished(task_id)
    gate.release()


def parse_rows(text: str) -> list[BatchRow]:
    """The CSV's rows, numbered from 1; ValueError (one line) when it cannot be a batch."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not all(name and "." in name for name in reader.fieldnames):
        raise ValueError("the CSV's first line must name fields as NODE.FIELD, such as 6.text")
    rows = []
    for number, record in enumerate(reader, start=1):
        if number > MAX_ROWS:
            raise ValueError(f"a studio batch holds at most {MAX_ROWS} rows")
        values: dict[str, Any] = {k: v for k, v in record.items() if v not in (None, "")}
        rows.append(BatchRow(number, values))
    if not rows:
        raise ValueError("the CSV has no rows")
    return rows


def new_batch_id() -> str:
    return "studio-" + secrets.token_hex(4)
