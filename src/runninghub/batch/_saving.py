"""Saving a finished row's outputs under their template names, patiently.

The task is paid for by now, so a service that blinks (a restart, a dropped connection past
the client's own download retries) must not leave the row for a later resume: the download
is tried again a few times, waiting longer each time, before the row is left submitted.
A full or unwritable disk is not waited out.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .._errors import APIConnectionError
from ._naming import output_names
from .ledger import LedgerRow

if TYPE_CHECKING:
    from .._async_client import AsyncClient
    from .._models import Task

__all__ = ["save_row_outputs"]

_SAVE_TRIES = 5  # downloads broken by a connection that failed, per row, before giving up


async def save_row_outputs(
    client: AsyncClient, template: str, row: LedgerRow, task: Task, out_dir: Path
) -> list[str]:
    """Save every output of ``task`` into ``out_dir`` under ``template``'s names, atomically
    (staged, then renamed); the saved paths."""
    attempt = 1
    while True:
        try:
            return await _save(client, template, row, task, out_dir)
        except APIConnectionError:  # timeouts included
            if attempt >= _SAVE_TRIES:
                raise
            await asyncio.sleep(min(10.0, 2.0**attempt))
            attempt += 1


async def _save(
    client: AsyncClient, template: str, row: LedgerRow, task: Task, out_dir: Path
) -> list[str]:
    staging = out_dir / ".staging" / str(row.row)
    saved = await client.download(task, staging, overwrite=True)
    names = output_names(template, row, task.task_id, saved)
    moves = [(item.path, out_dir / name) for item, name in zip(saved, names, strict=True)]
    # In a worker thread: on a busy disk renames take milliseconds the loop must not wait.
    await asyncio.to_thread(_move_into_place, moves, staging)
    return [str(target) for _, target in moves]


def _move_into_place(moves: Sequence[tuple[Path, Path]], staging: Path) -> None:
    for source, target in moves:
        source.replace(target)
    with contextlib.suppress(OSError):
        staging.rmdir()
