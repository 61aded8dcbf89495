"""What the batch grid shows, built from a ledger snapshot (plain data: Jinja2 escapes it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runninghub.batch import LedgerRow, RowState

from ._batch import BatchSnapshot
from ._board import TASK_ID, media_kind

__all__ = ["grid_values"]

_SUMMARY_CHARS = 120
_LABELS = {RowState.SUBMITTING: "running", RowState.SUBMITTED: "running"}


@dataclass(frozen=True)
class BatchCell:
    number: int
    status: str  # pending, running, succeeded, failed, canceled or unknown
    task_id: str | None
    thumbnail: str | None  # the address of the row's first image
    thumbnail_kind: str
    summary: str
    error: str | None
    coins: str | None
    attempt: int


def grid_values(snapshot: BatchSnapshot) -> dict[str, Any]:
    counts = snapshot.counts
    return {
        "batch_id": snapshot.batch_id,
        "workflow_id": snapshot.spec.workflow_id,
        "ledger": str(snapshot.ledger),
        "cells": [_cell(snapshot.batch_id, row) for row in snapshot.rows],
        "counts": counts,
        "coins": f"{snapshot.coins.normalize():f}",
        "live": snapshot.live,
        "problem": snapshot.problem,
        "retryable": counts["failed"] + counts["canceled"],
        "resumable": bool(counts["pending"]) and not snapshot.live,
        "unknown": counts["unknown"],
    }


def _cell(batch_id: str, row: LedgerRow) -> BatchCell:
    status = _LABELS.get(row.state, row.state.value)
    shown = next(
        ((n, Path(p).name) for n, p in enumerate(row.outputs) if _shown(p)),
        None,
    )
    task_id = row.task_id if row.task_id and TASK_ID.fullmatch(row.task_id) else None
    return BatchCell(
        number=row.row,
        status=status,
        task_id=task_id,
        thumbnail=f"/batch/{batch_id}/rows/{row.row}/{shown[0]}" if shown else None,
        thumbnail_kind=media_kind(shown[1]) if shown else "file",
        summary=_summary(row)[:_SUMMARY_CHARS],
        error=row.error,
        coins=None if row.coins is None else f"{row.coins.normalize():f}",
        attempt=row.attempt,
    )


def _shown(path: str) -> bool:
    return media_kind(path) in ("image", "video")


def _summary(row: LedgerRow) -> str:
    """The row's inputs in a line; local files by their name only."""
    parts = []
    for item in row.overrides:
        value = item.value.name if isinstance(item.value, Path) else item.value
        parts.append(f"{item.node_id}.{item.field}={value}")
    return ", ".join(parts)
