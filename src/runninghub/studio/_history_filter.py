"""The history page's filters, read from its address: what, status, dates and text.

Dates are calendar days in local time, as ``<input type=date>`` sends them: "from" is the
start of its day, "to" the end of its day (both included).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from runninghub import InvalidRequestError
from runninghub._support import check_history_id, looks_like_address, web_address_target
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
        kind, target = _target(form["kind"] if form["kind"] in KINDS else None, form["target"])
    except ValueError as exc:
        return Wanted(HistoryFilter(limit=_SHOWN), form, str(exc))
    except InvalidRequestError as exc:
        return Wanted(HistoryFilter(limit=_SHOWN), form, exc.cli_message)
    status = form["status"].upper()
    query = HistoryFilter(
        kind=kind,
        target=target,
        status=status or None,  # a task's status, or "unknown"/"refused" for a submit
        since=since,
        until=until,
        search=form["q"] or None,
        limit=_SHOWN,
    )
    return Wanted(query, form)


def _target(kind: str | None, target: str) -> tuple[str | None, str | None]:
    """The kind and id to look for; a pasted page address gives both (or is refused)."""
    if not looks_like_address(target):
        return kind, target or None
    if kind in ("workflow", "app"):
        return kind, check_history_id(target, kind)
    if kind == "model":
        raise ValueError(f"{target[:120]!r} is a page address; a model is named by its endpoint")
    found, ident = web_address_target(target)
    if found == "task":
        raise ValueError(f"{target[:120]!r} is the address of a task, not of a workflow or app")
    return found, ident


def _day(text: str, days_after: int, name: str) -> float | None:
    """The local start of the day ``text`` names (YYYY-MM-DD), ``days_after`` days later."""
    if not text:
        return None
    try:
        day = datetime.date.fromisoformat(text) + datetime.timedelta(days=days_after)
        return datetime.datetime.combine(day, datetime.time()).timestamp()
    except (ValueError, OverflowError):
        raise ValueError(f"{name}: {text[:20]!r} is not a date (YYYY-MM-DD)") from None
