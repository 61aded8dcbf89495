"""Reading the journal: history with filters and text search (``_reports``: the rest)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ._entries import HistoryEntry, IntentState

__all__ = [
    "COLUMNS",
    "STATUSES",
    "HistoryFilter",
    "by_fingerprint",
    "entry",
    "history",
    "open_tasks",
    "parse_params",
    "read_decimal",
]

_TASK_STATUSES = ("CREATE", "QUEUED", "RUNNING", "SUCCESS", "FAILED", "CANCEL", "UNKNOWN")
_INTENT_STATES = tuple(state.value for state in IntentState)
# What `history --status` takes: a task's status, or where a submit without a task stands.
STATUSES = tuple(s.lower() for s in _TASK_STATUSES if s != "UNKNOWN") + _INTENT_STATES
_SUMMARY_LENGTH = 60
_MIN_TRIGRAM = 3  # the trigram index cannot look for a shorter word
COLUMNS = (
    "id, created_at, kind, target, state, task_id, status, coins, money, params, batch, batch_row"
)


@dataclass(frozen=True)
class HistoryFilter:
    """What ``runninghub history`` asks for; every field optional."""

    kind: str | None = None
    target: str | None = None
    status: str | None = None
    since: float | None = None
    search: str | None = None
    limit: int = 50
    until: float | None = None  # recorded before this time (the end of a date range)


def history(
    conn: sqlite3.Connection, wanted: HistoryFilter, *, searchable: bool
) -> list[HistoryEntry]:
    """Newest first."""
    where, args = _conditions(wanted, searchable)
    sql = f"SELECT {COLUMNS} FROM intents"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
    return [entry(row) for row in conn.execute(sql, (*args, wanted.limit))]


def _conditions(wanted: HistoryFilter, searchable: bool) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    args: list[Any] = []
    plain = (
        ("kind = ?", wanted.kind),
        ("target = ?", wanted.target),
        ("created_at >= ?", wanted.since),
        ("created_at < ?", wanted.until),
    )
    for clause, value in plain:
        if value is not None:
            where.append(clause)
            args.append(value)
    if wanted.status is not None:
        status = wanted.status.lower()
        if status in _INTENT_STATES:
            where.append("state = ?")
            args.append(status)
        else:
            where.append("state = 'submitted' AND status = ?")
            args.append(status.upper())
    if wanted.search:
        _search_conditions(wanted.search, searchable, where, args)
    return where, args


def _search_conditions(text: str, searchable: bool, where: list[str], args: list[Any]) -> None:
    long_words = [w for w in text.split() if len(w) >= _MIN_TRIGRAM] if searchable else []
    if long_words:
        where.append("id IN (SELECT rowid FROM search WHERE search MATCH ?)")
        args.append(" AND ".join('"' + w.replace('"', '""') + '"' for w in long_words))
    for word in text.split():
        if word not in long_words:
            where.append(r"search_text LIKE ? ESCAPE '\'")
            args.append(
                "%" + word.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
            )


def by_fingerprint(conn: sqlite3.Connection, wanted: str, state: IntentState) -> list[HistoryEntry]:
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM intents WHERE fingerprint = ? AND state = ?"
        " ORDER BY created_at DESC",
        (wanted, state.value),
    )
    return [entry(row) for row in rows]


def open_tasks(conn: sqlite3.Connection, key: str, since: float) -> int:
    row = conn.execute(
        "SELECT COUNT(*) FROM intents WHERE key_hash = ? AND created_at >= ?"
        " AND state = 'submitted' AND (status IS NULL OR status NOT IN ('SUCCESS', 'FAILED',"
        " 'CANCEL'))",
        (key, since),
    ).fetchone()
    return int(row[0])


def entry(row: tuple[Any, ...]) -> HistoryEntry:
    """A history line from a row of ``COLUMNS``."""
    return HistoryEntry(
        intent_id=row[0],
        created_at=row[1],
        kind=row[2],
        target=row[3],
        state=IntentState(row[4]),
        task_id=row[5],
        status=row[6],
        coins=read_decimal(row[7]),
        money=read_decimal(row[8]),
        summary=_summary(row[9]),
        batch=row[10],
        batch_row=row[11],
    )


def _summary(params_json: str) -> str:
    """The prompt, when there is one; else the first text value."""
    params = parse_params(params_json)
    texts = [(k, v) for k, v in params.items() if isinstance(v, str) and v.strip()]
    prompts = [v for k, v in texts if "prompt" in k.lower() or k.lower().endswith(".text")]
    chosen = prompts[0] if prompts else (texts[0][1] if texts else "")
    chosen = " ".join(chosen.split())
    if len(chosen) > _SUMMARY_LENGTH:
        chosen = chosen[: _SUMMARY_LENGTH - 1] + "…"
    return chosen


def parse_params(params_json: str) -> dict[str, Any]:
    try:
        value = json.loads(params_json)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def read_decimal(value: object) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
