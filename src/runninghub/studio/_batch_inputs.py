"""A studio batch's inputs: a CSV or a folder of files, and which field each column fills.

A CSV's columns each go to a node field or are ignored; a folder gives one row per media file
in a column ``file`` that goes to one media field. Every choice is checked here, on this
machine, before anything is sent: an unknown column or field is refused beside it with a
"did you mean", and then the project's batch planner checks every row as ``batch run`` does.
"""

from __future__ import annotations

import dataclasses
import difflib
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import runninghub
from runninghub.batch import BatchPlan, InputTable, plan_batch, read_inputs
from runninghub.workflow import FieldKind, WorkflowGraph

from ._batch import Limits

__all__ = ["MappingProblem", "describe", "parse_limits", "plan", "read_source"]

FOLDER_COLUMN = "file"  # the column `read_inputs` gives a folder's files
_SAMPLE_CHARS = 60


class MappingProblem(Exception):
    """Refusals to show beside their columns (``columns``) or above the form (``general``)."""

    def __init__(self, columns: dict[str, str] | None = None, general: str | None = None):
        super().__init__(general or "; ".join(f"{k}: {v}" for k, v in (columns or {}).items()))
        self.columns = columns or {}
        self.general = general


def read_source(csv_path: Path | None, folder: str) -> InputTable:
    """The rows of the uploaded CSV (saved at ``csv_path``) or of a folder of this machine."""
    if csv_path is not None:
        return read_inputs(csv_path)
    if not folder.strip():
        raise MappingProblem(general="choose a CSV file or type the path of a folder")
    path = Path(folder.strip()).expanduser()
    if not path.is_dir():
        raise MappingProblem(general=f"no folder at {path}")
    return read_inputs(path)


def describe(table: InputTable, graph: WorkflowGraph) -> dict[str, Any]:
    """What the mapping form shows: the columns, a sample and a suggested field for each."""
    folder = table.source.is_dir()
    fields = [f for f in graph.fields() if not folder or f.kind is FieldKind.MEDIA]
    first = table.records[0] if table.records else {}
    return {
        "folder": folder,
        "rows": len(table.records),
        "columns": [
            {
                "name": column,
                "sample": _sample(first.get(column), folder),
                "suggested": _suggested(column, graph, fields, folder),
            }
            for column in table.columns
        ],
        "fields": [
            {"address": f.address, "label": f"{f.node_title or f.class_type} · {f.name}"}
            for f in fields
        ],
    }


def _sample(value: Any, folder: bool) -> str:
    """The first row's value, short: a folder's file by its name."""
    if value is None:
        return ""
    return (Path(str(value)).name if folder else str(value))[:_SAMPLE_CHARS]


def _suggested(column: str, graph: WorkflowGraph, fields: list[Any], folder: bool) -> str:
    if folder:
        return fields[0].address if len(fields) == 1 else ""
    if "." in column:  # a column named NODE.FIELD maps itself, as in `batch run`
        return column
    try:
        return graph.resolve(column).address
    except runninghub.RunningHubError:
        return ""


def plan(table: InputTable, graph: WorkflowGraph, workflow_id: str, mapping: Any) -> BatchPlan:
    """The validated plan; MappingProblem for a bad mapping, BatchInputError for bad rows."""
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise MappingProblem(general="the mapping is not a list of columns and fields")
    chosen = {str(k): v.strip() for k, v in mapping.items() if v.strip()}
    _check_mapping(table, graph, chosen)
    if not chosen:
        raise MappingProblem(general="every column is ignored: map at least one to a field")
    kept = tuple(c for c in table.columns if c in chosen)
    rows = [{c: record.get(c) for c in kept} for record in table.records]
    narrowed = dataclasses.replace(table, columns=kept, records=rows)
    return plan_batch(narrowed, graph, workflow_id=workflow_id, maps=chosen)


def _check_mapping(table: InputTable, graph: WorkflowGraph, chosen: dict[str, str]) -> None:
    problems: dict[str, str] = {}
    for column, address in chosen.items():
        if column not in table.columns:
            problems[column] = f"no column {column!r} in the inputs" + _did_you_mean(
                column, table.columns
            )
            continue
        try:
            field = graph.resolve(address)
        except runninghub.RunningHubError as exc:
            hint = exc.hint if exc.hint and exc.hint not in exc.message else None
            problems[column] = exc.message + (f" ({hint})" if hint else "")
            continue
        if table.source.is_dir() and field.kind is not FieldKind.MEDIA:
            problems[column] = f"{field.address} is not a media field: a file cannot go there"
    taken: dict[str, str] = {}
    for column, address in chosen.items():
        if column in problems:
            continue
        canonical = graph.resolve(address).address
        if canonical in taken:
            problems[column] = f"{canonical} is filled by column {taken[canonical]!r} already"
        taken.setdefault(canonical, column)
    if problems:
        raise MappingProblem(problems)


def _did_you_mean(word: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f"; did you mean {close[0]}?" if close else ""


def parse_limits(max_tasks: str, max_coins: str) -> Limits:
    """The optional limits as typed (blank: none); ValueError with a one-line reason."""
    tasks = coins = None
    if max_tasks.strip():
        if not max_tasks.strip().isdigit() or int(max_tasks) < 1:
            raise ValueError(f"max tasks is a whole number of at least 1, not {max_tasks!r}")
        tasks = int(max_tasks)
    if max_coins.strip():
        try:
            coins = Decimal(max_coins.strip())
        except InvalidOperation:
            coins = Decimal(-1)
        if not coins.is_finite() or coins < 0:
            raise ValueError(f"max coins is a number of coins, not {max_coins!r}")
    return Limits(tasks, coins)
