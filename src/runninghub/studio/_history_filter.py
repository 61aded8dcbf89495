"""The history page's filters, read from its address: what, status, dates and text.

Dates are calendar days in local time, as ``<input type=date>`` sends them: "from" is the
start of its day, "to" the end of its day (both included).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from runninghub.journal import HistoryFilter

from ._targets import KINDS

__all__ = ["Wanted", "wanted_history"]

_SHOWN = 60
_FIELDS = ("kind", "target", "status", "from", "to", "q")
_STATUSES = ("SUCCESS", "FAILED", "RUNNING", "QUEUED", "CANCEL", "UNKNOWN", "REFUSED")


@dataclass(frozen=True)
class Wanted:
    """The filter for the journal, and the form's values as the user typed them."""

    query: HistoryFilter
    form: Mapping[str, str]
    error: str | None = None
    statuses: tuple[str, ...] = _STATUSES
    kinds: tuple[str, ...] = KINDS


def wanted_history(params: Mapping[str, str]) -> Wanted:
    form = {k: (params.get(k) or "").strip()[:200] for k in _FIELDS}
    form["target"] = form["target"] or (params.get("workflow") or "").strip()[:200]
    try:
        since, until = _day(form["from"], 0, "from"), _day(form["to"], 1, "to")
    except ValueError as exc:
        return Wanted(HistoryFilter(limit=_SHOWN), form, str(exc))
    status = form["status"].upper()
    query = HistoryFilter(
        kind=form["kind"] if form["kind"] in KINDS else None,
        target=form["target"] or None,
        status=status or None,  # a task's status, or "unknown"/"refused" for a submit
        since=since,
        until=until,
        search=form["q"] or None,
        limit=_SHOWN,
    )
    return Wanted(query, form)


def _day(text: str, days_after: int, name: str) -> float | None:
    """The local start of the day ``text`` names (YYYY-MM-DD), ``days_after`` days later."""
    if not text:
        return None
    try:
        day = datetime.date.fromisoformat(text) + datetime.timedelta(days=days_after)
        return datetime.datetime.combine(day, datetime.time()).timestamp()
    except (ValueError, OverflowError):
        raise ValueError(f"{name}: {text[:20]!r} is not a date (YYYY-MM-DD)") from None
