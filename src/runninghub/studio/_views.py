"""What the templates show, built from the client's graph and the journal's records.

Everything here is plain data for Jinja2, which escapes it on output (autoescape on): names,
titles, descriptions and failure texts come from a server and are shown as text, never markup.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runninghub import InvalidRequestError, NodeOverride, RunningHubError, WorkflowGraph

from ._board import TASK_ID, media_kind

if TYPE_CHECKING:
    from runninghub.journal import HistoryEntry, Journal, TaskRecord

__all__ = [
    "FormField",
    "GalleryItem",
    "as_text",
    "check_overrides",
    "form_fields",
    "gallery",
    "one_line",
]

_INPUT_TYPES = {"int": "number", "float": "number"}
_STEPS = {"int": "1", "float": "any"}


@dataclass(frozen=True)
class FormField:
    address: str
    label: str
    kind: str  # int, float, bool, string, media, list, other
    value: str
    default: str
    options: tuple[str, ...]
    description: str | None
    input_type: str
    step: str | None
    minimum: str | None = None
    maximum: str | None = None
    required: bool = False
    upload_as: str = "file_name"  # what a dropped file fills in: its file_name or download_url


def form_fields(graph: WorkflowGraph, filled: dict[str, Any] | None = None) -> list[FormField]:
    """One form field per overridable field, in node order; ``filled`` wins over defaults."""
    filled = filled or {}
    fields = []
    for item in graph.fields():
        node = f"{item.node_title or item.class_type or 'node'} #{item.node_id}"
        default = as_text(item.value)
        fields.append(
            FormField(
                address=item.address,
                label=f"{node} · {item.name}",
                kind=item.kind.value,
                value=as_text(filled.get(item.address, item.value)),
                default=default,
                options=item.options,
                description=item.description,
                input_type=_INPUT_TYPES.get(item.kind.value, "text"),
                step=_STEPS.get(item.kind.value),
            )
        )
    return fields


def check_overrides(graph: WorkflowGraph, overrides: dict[str, Any]) -> dict[str, str]:
    """Each override checked alone, as the client would: address -> one-line error."""
    errors: dict[str, str] = {}
    for address, value in overrides.items():
        try:
            planned = graph.prepare({address: value})
        except InvalidRequestError as exc:
            errors[address] = one_line(exc)
            continue
        if any(_is_local_path(graph, item) for item in planned):
            errors[address] = "a local path: drop the file on the field instead"
    return errors


def one_line(exc: RunningHubError) -> str:
    """A refusal as shown beside its field: the message, and its hint unless it repeats it."""
    hint = exc.hint if exc.hint and exc.hint not in exc.message else None
    return exc.message + (f" ({hint})" if hint else "")


def _is_local_path(graph: WorkflowGraph, item: NodeOverride) -> bool:
    """A media field given a path of this machine: the page must upload, not name files."""
    field = graph.resolve(f"{item.node_id}.{item.field}")
    if field.kind.value != "media" or not isinstance(item.value, str):
        return False
    return item.value.startswith(("/", "~", ".", "\\")) or Path(item.value).is_absolute()


@dataclass(frozen=True)
class GalleryItem:
    task_id: str | None
    target: str
    status: str
    created: str
    summary: str
    coins: str | None
    thumbnail: str | None  # a saved output's name under /files/TASK/
    thumbnail_kind: str
    money: str | None = None  # what a wallet key paid (coins are a coin key's)


def gallery(journal: Journal, entries: list[HistoryEntry], out_dir: Path) -> list[GalleryItem]:
    return [_item(journal, entry, out_dir) for entry in entries]


def _item(journal: Journal, entry: HistoryEntry, out_dir: Path) -> GalleryItem:
    thumb = None
    if entry.task_id and TASK_ID.fullmatch(entry.task_id):
        thumb = first_saved(journal.show(entry.task_id), out_dir / entry.task_id)
    return GalleryItem(
        task_id=entry.task_id,
        target=entry.target,
        status=entry.shown_status,
        created=time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.created_at)),
        summary=entry.summary,
        coins=None if entry.coins is None else str(entry.coins),
        thumbnail=thumb,
        thumbnail_kind=media_kind(thumb or ""),
        money=None if entry.money is None else str(entry.money),
    )


def first_saved(record: TaskRecord, folder: Path) -> str | None:
    """The first output saved in the studio's own folder for this task (others are not served)."""
    for output in record.outputs:
        if output.path and Path(output.path).parent == folder:
            return Path(output.path).name
    return None


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
