"""Reading the journal beyond history lines: one record in full, spend, prune.

Apart from ``_query`` so that ``runninghub history`` loads neither this nor the records it
builds (``_records``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

from ._entries import IntentState
from ._query import COLUMNS, entry, parse_params, read_decimal
from ._records import LocalInput, OutputRecord, PruneResult, SpendRow, StatusChange, TaskRecord

__all__ = ["GROUPINGS", "prune", "show", "spend", "total"]

GROUPINGS = ("day", "workflow", "model", "key")


def show(conn: sqlite3.Connection, ref: str) -> TaskRecord | None:
    """The whole record of a task id, or of an intent id written ``i17``."""
    arg: int | str = ref
    condition = "task_id = ?"
    if ref[:1] in ("i", "I") and ref[1:].isdigit():
        condition, arg = "id = ?", int(ref[1:])
    row = conn.execute(
        f"SELECT {COLUMNS}, site, base_url, key_hash, note, failure_node, failure_exception,"
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
        entry=entry(row[:12]),
        params=parse_params(row[9]),
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
    """Every count and amount of a SpendRow at its default, zero."""
    zero = vars(SpendRow(group="")).copy()
    del zero["group"]
    return zero


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
        total[name] += (read_decimal(value) or 0) * count


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
