"""A task's detail page, from its journal record: settings, cost, failure, outputs, times.

Plain data for the template (which escapes everything): values from a server or a journal
are shown as text; only outputs saved in the studio's own folder are served and shown in
place, by kind.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._board import media_kind
from ._targets import KINDS

if TYPE_CHECKING:
    from runninghub.journal import TaskRecord

__all__ = ["TaskDetail", "task_detail"]

_SHOWN_VALUE = 400  # characters of one setting; the rest is in `runninghub history show`


@dataclass(frozen=True)
class SavedOutput:
    kind: str  # image, video, audio, text or file
    name: str | None = None  # under /files/TASK/ when saved by the studio
    text: str | None = None
    elsewhere: str | None = None  # a file saved outside the studio's folder: its name only


@dataclass(frozen=True)
class TaskDetail:
    task_id: str
    kind: str
    target: str
    status: str
    created: str
    settings: list[tuple[str, str]]
    inputs: list[tuple[str, str]]
    coins: str | None
    money: str | None
    seconds: str | None
    failure: str | None
    times: list[tuple[str, str]]
    outputs: list[SavedOutput]
    can_run_again: bool


def task_detail(record: TaskRecord, folder: Path) -> TaskDetail:
    entry = record.entry
    return TaskDetail(
        task_id=entry.task_id or "",
        kind=entry.kind,
        target=entry.target,
        status=entry.shown_status,
        created=_when(entry.created_at),
        settings=[(str(k), _shown(v)) for k, v in _settings(record.params)],
        inputs=[(i.address, f"{Path(i.path).name} ({i.size} bytes)") for i in record.inputs],
        coins=None if entry.coins is None else str(entry.coins),
        money=None if entry.money is None else str(entry.money),
        seconds=record.usage.get("seconds"),
        failure=_failure(record),
        times=[(change.status, _when(change.at)) for change in record.statuses],
        outputs=[_output(o.path, o.text, folder) for o in record.outputs],
        can_run_again=entry.kind in KINDS and isinstance(record.params, dict),
    )


def _settings(params: Any) -> list[tuple[Any, Any]]:
    if isinstance(params, dict):
        return sorted(params.items(), key=lambda item: str(item[0]))
    return list(enumerate(params or []))


def _failure(record: TaskRecord) -> str | None:
    """The failure as one line: the node and the error, else the journal's note."""
    failure = record.failure
    if not failure:
        return record.note if record.entry.shown_status in ("FAILED", "refused") else None
    where = f"node {failure['node_id']}: " if failure.get("node_id") else ""
    kind = f"{failure['exception_type']}: " if failure.get("exception_type") else ""
    return f"{where}{kind}{failure.get('message') or 'no reason given'}"


def _output(path: str | None, text: str | None, folder: Path) -> SavedOutput:
    if path is None:
        return SavedOutput("text", text=text) if text is not None else SavedOutput("file")
    saved = Path(path)
    if saved.parent != folder:
        return SavedOutput("file", elsewhere=saved.name)
    return SavedOutput(media_kind(saved.name), name=saved.name)


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _SHOWN_VALUE else text[:_SHOWN_VALUE] + "…"


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))
