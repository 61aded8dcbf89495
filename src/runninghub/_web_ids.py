"""Ids pasted as the website's addresses: the id is read from the URL, the URL checked locally.

``https://www.runninghub.cn/workflow/ID`` names a workflow, ``.../ai-detail/ID`` an AI app and
``.../task/ID`` (or any page with ``?taskId=ID``) a task, on ``.cn`` or ``.ai``. Any other
address is refused before a request is sent; an address of the wrong kind says which command
takes it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qs, urlsplit

from ._errors import InvalidRequestError, Wording
from ._fields import error

__all__ = ["IN_HISTORY", "id_from_web_address", "looks_like_address", "web_address_target"]

_HOSTS = frozenset(f"{prefix}runninghub.{site}" for prefix in ("", "www.") for site in ("cn", "ai"))
# The first part of a page's path -> the kind of thing whose id follows it.
_KINDS = {"workflow": "workflow", "ai-detail": "app", "task": "task"}
_DIGITS = re.compile(r"[0-9]{1,32}")
# Per kind, the hint for an address given where another kind was wanted (ID: its id).
_TAKEN_BY = {
    "workflow": Wording(
        "use it with client.submit(ID) or client.run(ID)", "run it with: runninghub run ID"
    ),
    "app": Wording(
        "use it with client.submit_app(ID) or client.run_app(ID)",
        "run it with: runninghub app run ID",
    ),
    "task": Wording("use it with client.task(ID)", "run it with: runninghub wait ID"),
}
# The same for the journal's history: the filter (or command) that finds it there.
IN_HISTORY = {
    "workflow": Wording(
        "use it with HistoryFilter(kind='workflow', target=ID)",
        "find it with: runninghub history --workflow ID",
    ),
    "app": Wording(
        "use it with HistoryFilter(kind='app', target=ID)",
        "find it with: runninghub history --app ID",
    ),
    "task": Wording("use it with Journal.show(ID)", "find it with: runninghub history show ID"),
}


def looks_like_address(text: str) -> bool:
    """Whether ``text`` was meant as a web address rather than a bare id."""
    lowered = text.strip().lower()
    return "://" in lowered or lowered.startswith(("www.", "runninghub."))


def id_from_web_address(
    text: str, kind: str, *, taken_by: Mapping[str, Wording] | None = None
) -> str:
    """The ``kind`` id ("workflow", "app" or "task") an address of the website names.

    ``taken_by`` names, per kind, the command an address of the wrong kind belongs to (by
    default the one that runs or follows it)."""
    shown = text.strip()[:120]
    found_kind, ident = _read(shown, kind)
    if found_kind != kind:
        raise _wrong_kind(shown, found_kind, kind, ident, taken_by or _TAKEN_BY)
    return ident


def web_address_target(text: str) -> tuple[str, str]:
    """The kind ("workflow", "app" or "task") and the id an address of the website names."""
    return _read(text.strip()[:120], None)


def _read(shown: str, kind: str | None) -> tuple[str, str]:
    parts = urlsplit(shown if "://" in shown else f"https://{shown}")
    if parts.scheme not in ("http", "https") or (parts.hostname or "") not in _HOSTS:
        raise error(f"{shown!r} is not a RunningHub address (runninghub.cn or runninghub.ai)")
    segments = [segment for segment in parts.path.split("/") if segment]
    found_kind, ident = _page(segments, parse_qs(parts.query))
    if found_kind is None or ident is None or not _DIGITS.fullmatch(ident):
        what = kind or "workflow, app or task"
        raise error(
            f"{shown!r} names no {what}",
            f"paste the address of the {what}'s page, e.g. {_example(kind or 'workflow')}",
        )
    return found_kind, ident


def _page(segments: list[str], query: dict[str, list[str]]) -> tuple[str | None, str | None]:
    if len(segments) == 2 and segments[0] in _KINDS:
        return _KINDS[segments[0]], segments[1]
    task_ids = query.get("taskId") or query.get("taskid")
    if task_ids:
        return "task", task_ids[0]
    return None, None


def _wrong_kind(
    shown: str, found: str, wanted: str, ident: str, commands: Mapping[str, Wording]
) -> InvalidRequestError:
    hint = commands[found]
    return error(
        f"{shown!r} is the address of {_a(found)}, not of {_a(wanted)}",
        Wording(hint.sdk.replace("ID", ident), hint.cli.replace("ID", ident)),
    )


def _a(kind: str) -> str:
    return "an app" if kind == "app" else f"a {kind}"


def _example(kind: str) -> str:
    page = {"workflow": "workflow", "app": "ai-detail", "task": "task"}[kind]
    return f"https://www.runninghub.cn/{page}/1904136902449209346"
