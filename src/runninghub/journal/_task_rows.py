"""The rows a followed task adds to its intent: status changes, failure, outputs, usage.

Each writer runs inside the caller's transaction; ``clean`` scrubs the secrets the journal
knows from every text it stores.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._models import Output, TaskFailure, TaskStatus, Usage
    from .._outputs import SavedFile

__all__ = ["TEXT_LIMIT", "bounded", "write_failure", "write_outputs", "write_status", "write_usage"]

Clean = Callable[[str | None], str | None]
TEXT_LIMIT = 4000


def write_status(
    conn: sqlite3.Connection, intent_id: int, status: TaskStatus | str, at: float | None = None
) -> None:
    """Keep a status only when it changed, with its time."""
    # Here, not at import: whoever records a task has the domain types loaded already, and a
    # process that only reads the journal (`runninghub history`) need not pay for them.
    from .._models import TaskStatus

    text = status.value if isinstance(status, TaskStatus) else TaskStatus.parse(status).value
    at = time.time() if at is None else at
    cursor = conn.execute(
        "UPDATE intents SET status = ?, status_at = ?, updated_at = ?"
        " WHERE id = ? AND status IS NOT ?",
        (text, at, at, intent_id, text),
    )
    if cursor.rowcount:
        conn.execute("INSERT INTO statuses VALUES (?, ?, ?)", (intent_id, text, at))


def write_failure(
    conn: sqlite3.Connection,
    clean: Clean,
    intent_id: int,
    failure: TaskFailure | None,
    message: str | None,
) -> None:
    node = failure.node_id if failure else None
    exception = failure.exception_type if failure else None
    detail = (failure.exception_message if failure else None) or message
    conn.execute(
        "UPDATE intents SET failure_node = ?, failure_exception = ?, failure_message = ?"
        " WHERE id = ?",
        (
            clean(bounded(node)),
            clean(bounded(exception)),
            clean(bounded(detail)),
            intent_id,
        ),
    )


def write_outputs(
    conn: sqlite3.Connection,
    clean: Clean,
    intent_id: int,
    outputs: Sequence[Output],
    saved: Sequence[SavedFile],
) -> None:
    """Replace the outputs; a saved file adds its local path, size and SHA-256."""
    if not saved and _has_saved(conn, intent_id):
        return  # the saved files' paths and hashes say more than a later listing of URLs
    by_url = {item.url: item for item in saved if item.url}
    rows = [_output_row(clean, o, by_url.pop(o.url or "", None)) for o in outputs]
    # Saved files the outputs did not list (or without a URL) are kept too.
    rows += [_output_row(clean, s, s) for s in by_url.values()]
    rows += [_output_row(clean, s, s) for s in saved if not s.url]
    conn.execute("DELETE FROM outputs WHERE intent_id = ?", (intent_id,))
    conn.executemany(
        "INSERT INTO outputs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(intent_id, n, *row) for n, row in enumerate(rows)],
    )


def _has_saved(conn: sqlite3.Connection, intent_id: int) -> bool:
    row = conn.execute(
        "SELECT 1 FROM outputs WHERE intent_id = ? AND path IS NOT NULL LIMIT 1", (intent_id,)
    ).fetchone()
    return row is not None


def _output_row(clean: Clean, item: Output | SavedFile, saved: SavedFile | None) -> tuple[Any, ...]:
    from .._models import Output  # see write_status

    path = str(saved.path) if saved else None
    text = item.text if isinstance(item, Output) else None
    return (
        clean(bounded(item.url)),
        clean(bounded(item.type)),
        clean(bounded(item.node_id)),
        clean(bounded(text)),
        clean(path),
        saved.sha256 if saved else None,
        saved.size if saved else None,
    )


def write_usage(conn: sqlite3.Connection, intent_id: int, usage: Usage) -> None:
    conn.execute(
        "UPDATE intents SET coins = ?, money = ?, third_party_money = ?, seconds = ? WHERE id = ?",
        (
            _decimal_text(usage.consume_coins),
            _decimal_text(usage.consume_money),
            _decimal_text(usage.third_party_consume_money),
            _decimal_text(usage.task_cost_time),
            intent_id,
        ),
    )


def bounded(text: str | None) -> str | None:
    return None if text is None else str(text)[:TEXT_LIMIT]


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None or not value.is_finite() else str(value)
