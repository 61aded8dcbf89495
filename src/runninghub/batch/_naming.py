"""A row's input as the ledger records it, and the ``{stem}`` and ``{input}`` of output names.

The input of a row is its cells as read (for a directory, ``{"file": PATH}``) and the local
file it names: the directory's file, or the first cell (in column order) of a CSV/JSONL row
that is a local file for a media field. ``{input}`` is that file's name and ``{stem}`` the
name without its extension, both made safe for a file name and bounded in length; a row that
names no local file uses its row number (``00001``) for both. Two rows of a batch could share a
stem (``a.png``, ``a.jpg``), so a template that tells rows apart by ``{stem}`` or ``{input}``
alone is refused before any submit when the rows' values collide.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ._readers import BatchInputError
from ._rows import LedgerRow

__all__ = [
    "INPUT_NAME_MAX",
    "check_rows_named_apart",
    "input_name_values",
    "output_names",
    "render_name",
    "row_input",
    "row_name_values",
    "template_fields",
]

INPUT_NAME_MAX = 64  # characters of {stem}; {input} adds at most an extension of 10
_EXT_MAX = 10
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def row_input(cells: Mapping[str, Any], file: Path | None) -> str:
    """The JSON the ledger keeps for a row: its cells, and the name of its local file."""
    shown = {column: (str(value) if isinstance(value, Path) else value)
             for column, value in cells.items()}  # fmt: skip
    document = {"cells": shown, "file": file.name if file is not None else None}
    return json.dumps(document, ensure_ascii=False, sort_keys=True)


def input_name_values(row: int, file: str | None) -> dict[str, str]:
    """``{"stem": ..., "input": ...}`` for an output name (see the module docstring)."""
    if not file:
        fallback = f"{row:05d}"
        return {"stem": fallback, "input": fallback}
    path = Path(file)
    stem = _safe(path.stem if path.suffix else path.name)[:INPUT_NAME_MAX] or f"{row:05d}"
    extension = _safe(path.suffix[1:])[:_EXT_MAX]
    suffix = f".{extension}" if extension else ""
    return {"stem": stem, "input": stem + suffix}


def row_name_values(row: LedgerRow) -> dict[str, str]:
    return input_name_values(row.row, row.input.get("file"))


def template_fields(template: str) -> set[str]:
    """The bare field names a template uses (``{row:05d}`` -> ``row``)."""
    names = set()
    for _, name, _, _ in string.Formatter().parse(template):
        if name is not None:
            names.add(name.split(".")[0].split("[")[0].split("!")[0].split(":")[0])
    return names


def check_rows_named_apart(template: str, rows: Iterable[tuple[int, str | None]]) -> None:
    """Refuse a template without ``{row}`` whose ``{stem}``/``{input}`` values collide.

    ``rows`` are ``(row number, local file name or None)``."""
    used = template_fields(template)
    if "row" in used:
        return
    key = "input" if "input" in used else "stem"
    seen: dict[str, int] = {}
    for number, file in rows:
        value = input_name_values(number, file)[key]
        if value in seen:
            raise BatchInputError(
                f"--name {template!r}: rows {seen[value]} and {number} would share the"
                f" {{{key}}} {value!r} and overwrite each other's outputs",
                hint="add {row} to the template",
            )
        seen[value] = number


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text).strip(" .")


def output_names(template: str, row: LedgerRow, task_id: str, saved: Sequence[Any]) -> list[str]:
    """Names from the template; ``index`` (per node) and ``n`` count from 1, as ``run``'s do."""
    per_node: dict[str, int] = {}
    names = []
    fields = {"row": row.row, "task_id": task_id, **row_name_values(row)}
    for n, item in enumerate(saved, start=1):
        node = str(item.node_id or "out")
        index = per_node.get(node, 0) + 1
        per_node[node] = index
        ext = item.path.suffix.lstrip(".") or "bin"
        names.append(render_name(template, node=node, index=index, n=n, ext=ext, **fields))
    return names


def render_name(template: str, **values: Any) -> str:
    """The file name for one output; anything that could leave the directory is replaced."""
    name = template.format(**values)
    name = name.replace("/", "_").replace("\\", "_").replace("\0", "_")
    if name in ("", ".", "..") or name.startswith("."):
        name = f"_{name}"
    return name
