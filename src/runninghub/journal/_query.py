"""Reading the journal: history with filters and text search, one record in full, spend, prune."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ._records import (
    HistoryEntry,
    IntentState,
    LocalInput,
    OutputRecord,
    PruneResult,
    SpendRow,
    StatusChange,
    TaskRecord,
)

__all__ = [
    "GROUPINGS",
    "STATUSES",
    "HistoryFilter",
    "by_fingerprint",
    "history",
    "open_tasks",
    "prune",
    "show",
    "spend",
    "total",
]

GROUPINGS = ("day", "workflow", "model", "key")
_TASK_STATUSES = ("CREATE", "QUEUED", "RUNNING", "SUCCESS", "FAILED", "CANCEL", "UNKNOWN")
_INTENT_STATES = tuple(state.value for state in IntentState)
# What `history --status` takes: a task's status, or where a submit without a task stands.
STATUSES = tuple(s.lower() for s in _TASK_STATUSES if s != "UNKNOWN") + _INTENT_STATES
_SUMMARY_LENGTH = 60
_MIN_TRIGRAM = 3  # the trigram index cannot look for a shorter word
_COLUMNS = (
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
    sql = f"SELECT {_COLUMNS} FROM intents"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
    return [_entry(row) for row in conn.execute(sql, (*args, wanted.limit))]


def _conditions(wanted: HistoryFilter, searchable: bool) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    args: list[Any] = []
    if wanted.kind is not None:
        where.append("kind = ?")
        args.append(wanted.kind)
    if wanted.target is not None:
        where.append("target = ?")
        args.append(wanted.target)
    if wanted.since is not None:
        where.append("created_at >= ?")
        args.append(wanted.since)
    if wanted.until is not None:
        where.append("created_at < ?")
        args.append(wanted.until)
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
        f"SELECT {_COLUMNS} FROM intents WHERE fingerprint = ? AND state = ?"
        " ORDER BY created_at DESC",
        (wanted, state.value),
    )
    return [_entry(row) for row in rows]


def open_tasks(conn: sqlite3.Connection, key: str, since: float) -> int:
    row = conn.execute(
        "SELECT COUNT(*) FROM intents WHERE key_hash = ? AND created_at >= ?"
        " AND state = 'submitted' AND (status IS NULL OR status NOT IN ('SUCCESS', 'FAILED',"
        " 'CANCEL'))",
        (key, since),
    ).fetchone()
    return int(row[0])


def _entry(row: tuple[Any, ...]) -> HistoryEntry:
    return HistoryEntry(
        intent_id=row[0],
        created_at=row[1],
        kind=row[2],
        target=row[3],
        state=IntentState(row[4]),
        task_id=row[5],
        status=row[6],
        coins=_decimal(row[7]),
        money=_decimal(row[8]),
        summary=_summary(row[9]),
        batch=row[10],
        batch_row=row[11],
    )


def _summary(params_json: str) -> str:
    """The prompt, when there is one; else the first text value."""
    params = _params(params_json)
    texts = [(k, v) for k, v in params.items() if isinstance(v, str) and v.strip()]
    prompts = [v for k, v in texts if "prompt" in k.lower() or k.lower().endswith(".text")]
    chosen = prompts[0] if prompts else (texts[0][1] if texts else "")
    chosen = " ".join(chosen.split())
    if len(chosen) > _SUMMARY_LENGTH:
        chosen = chosen[: _SUMMARY_LENGTH - 1] + "…"
    return chosen


def _params(params_json: str) -> dict[str, Any]:
    try:
        value = json.loads(params_json)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def show(conn: sqlite3.Connection, ref: str) -> TaskRecord | None:
    """The whole record of a task id, or of an intent id written ``i17``."""
    arg: int | str = ref
    condition = "task_id = ?"
    if ref[:1] in ("i", "I") and ref[1:].isdigit():
        condition, arg = "id = ?", int(ref[1:])
    row = conn.execute(
        f"SELECT {_COLUMNS}, site, base_url, key_hash, note, failure_node, failure_exception,"
        f" failure_message, third_party_money, seconds FROM intents WHERE {condition}",
        (arg,),
    ).fetchone()
    if row is None:
        return None
    return _record(conn, row)


def _record(conn: sqlite3.Connection, row: tuple[Any, ...]) -> TaskRecord:
    intent_id = row[0]
    failure = dict(zip(("node_id", "exception_type", "message"), row[16:19], strict=True))
    inputs = conn.execute(
        "SELECT address, path, size, sha256 FROM inputs WHERE intent_id = ? ORDER BY position",
        (intent_id,),
    )
    statuses = conn.execute(
        "SELECT status, at FROM statuses WHERE intent_id = ? ORDER BY at, rowid", (intent_id,)
    )
    outputs = conn.execute(
        "SELECT url, type, node_id, text, path, sha256, size FROM outputs"
        " WHERE intent_id = ? ORDER BY position",
        (intent_id,),
    )
    return TaskRecord(
        entry=_entry(row[:12]),
        params=_params(row[9]),
        site=row[12],
        base_url=row[13],
        key_hash=row[14],
        note=row[15],
        inputs=tuple(LocalInput(*item) for item in inputs),
        statuses=tuple(StatusChange(*item) for item in statuses),
        outputs=tuple(OutputRecord(*item) for item in outputs),
        failure=failure if any(failure.values()) else None,
        usage={"coins": row[7], "money": row[8], "third_party_money": row[19], "seconds": row[20]},
    )


# How spend names a group, in SQL: rows are summed per distinct (group, values) in SQLite and
# the few distinct amounts multiplied out in Python, exactly, as Decimals.
_GROUP_SQL = {
    "day": "date(created_at, 'unixepoch', 'localtime')",
    "workflow": "kind || ' ' || target",
    "model": "kind || ' ' || target",
    "key": "COALESCE(key_hash, '(no key recorded)')",
}
_KIND_SQL = {"workflow": " AND kind IN ('workflow', 'app')", "model": " AND kind = 'model'"}


def spend(conn: sqlite3.Connection, since: float | None, by: str) -> list[SpendRow]:
    """Recorded usage per group: days in order, other groups largest first."""
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}, not {by!r}")
    sql = (
        f"SELECT {_GROUP_SQL[by]} AS name, state, status = 'FAILED', coins, money,"
        " third_party_money, seconds, COUNT(*) FROM intents"
        " WHERE state IN ('submitted', 'unknown')" + _KIND_SQL.get(by, "")
    )
    args: list[Any] = []
    if since is not None:
        sql += " AND created_at >= ?"
        args.append(since)
    sql += " GROUP BY 1, 2, 3, 4, 5, 6, 7"
    totals: dict[str, dict[str, Any]] = {}
    for row in conn.execute(sql, args):
        _add(totals.setdefault(row[0], _zero()), row)
    groups = [SpendRow(group=name, **values) for name, values in totals.items()]
    if by == "day":
        return sorted(groups, key=lambda g: g.group)
    return sorted(groups, key=lambda g: (-g.coins, -g.money, g.group))


def _zero() -> dict[str, Any]:
    return {
        "tasks": 0,
        "failures": 0,
        "unknown": 0,
        "coins": Decimal(0),
        "money": Decimal(0),
        "third_party_money": Decimal(0),
        "seconds": Decimal(0),
    }


def _add(total: dict[str, Any], row: tuple[Any, ...]) -> None:
    """Add one (group, state, failed, coins, money, third party, seconds, count) row."""
    count = row[7]
    if row[1] == IntentState.UNKNOWN.value:
        total["unknown"] += count
        return
    total["tasks"] += count
    total["failures"] += count if row[2] else 0
    names = ("coins", "money", "third_party_money", "seconds")
    for name, value in zip(names, row[3:7], strict=True):
        total[name] += (_decimal(value) or 0) * count


def total(rows: Iterable[SpendRow]) -> SpendRow:
    """The sum of ``rows``."""
    summed = _zero()
    for row in rows:
        for name in summed:
            summed[name] += getattr(row, name)
    return SpendRow(group="total", **summed)


def prune(
    conn: sqlite3.Connection,
    cutoff: float,
    *,
    include_unknown: bool,
    uploads_before: float,
    searchable: bool,
) -> PruneResult:
    """Forget records written before ``cutoff`` (unknown ones only when asked)."""
    keep = "" if include_unknown else " AND state != 'unknown'"
    ids = [
        r[0] for r in conn.execute(f"SELECT id FROM intents WHERE created_at < ?{keep}", (cutoff,))
    ]
    for chunk in _chunks(ids, 500):
        marks = ", ".join("?" for _ in chunk)
        if searchable:
            conn.execute(f"DELETE FROM search WHERE rowid IN ({marks})", chunk)
        conn.execute(f"DELETE FROM intents WHERE id IN ({marks})", chunk)
    kept = conn.execute("SELECT COUNT(*) FROM intents WHERE created_at < ?", (cutoff,)).fetchone()[
        0
    ]
    uploads = conn.execute("DELETE FROM uploads WHERE uploaded_at < ?", (uploads_before,))
    return PruneResult(removed=len(ids), kept_unknown=int(kept), uploads_removed=uploads.rowcount)


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _decimal(value: object) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
