"""Batch inputs: read a CSV, JSONL or directory, map its columns to fields, validate every row.

Rules (also in ``runninghub batch run --help``):

- A column named ``NODE.FIELD`` maps itself; any other column needs ``--map COLUMN=NODE.FIELD``.
  A column left unmapped is an error (it is usually a typo), and so is a ``--map`` for a column
  the inputs do not have. ``--ignore COLUMN`` leaves a column that is not a field (an id, a
  note) out of the submits; it still shows in the manifest's ``input``.
- A directory gives one row per media file (sorted by name) in a column ``file``; when the
  workflow has exactly one media field, ``file`` maps to it without ``--map``.
- An empty CSV cell, or a JSONL ``null`` or missing key, leaves that field as the workflow (or
  ``--set``) has it for that row.
- ``--set NODE.FIELD=VALUE`` applies to every row; a column and a ``--set`` for the same field
  is an error (which one should win is a guess we do not make).
- A value for a media field is a URL, an already uploaded name (``api/...``, ``openapi/...``),
  or a local file: a relative path is resolved against the inputs file's directory (against
  the current directory for ``--set``) and must exist, be non-empty and hold the kind of media
  its extension names (checked by content); it is uploaded when its row is submitted.
- Every row is validated against the workflow before anything is submitted, so a bad row 900
  never surfaces after 899 paid tasks.
- Two rows with identical inputs are an error unless duplicates are allowed explicitly: they
  would run (and bill) the same task twice, which is usually a copy-paste slip.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._errors import RunningHubError, Wording
from .._media import HEAD_BYTES, media_problem
from .._models import NodeOverride
from ..workflow import Field, FieldKind, WorkflowGraph
from ._naming import check_rows_named_apart, row_input
from ._outdir import check_out_dir_free
from ._readers import MEDIA_SUFFIXES, BatchInputError, InputTable, read_inputs
from .errors import LedgerError
from .ledger import Ledger, RunnerLock
from .spec import BatchSpec, encode_overrides

__all__ = [
    "MEDIA_SUFFIXES",
    "BatchInputError",
    "BatchPlan",
    "InputTable",
    "PlannedRow",
    "ledger_for_plan",
    "parse_assignments",
    "plan_batch",
    "read_inputs",
    "row_identity",
]

_REMOTE_PREFIXES = ("http://", "https://", "api/", "openapi/")
_MAX_REPORTED = 10


@dataclass(frozen=True)
class PlannedRow:
    """One validated row: what will be submitted, and its identity."""

    row: int  # 1-based, as people count input rows
    overrides: tuple[NodeOverride, ...]
    identity: str  # row_identity: two rows with the same one are the same input
    input_json: str | None = None  # the row as read (batch._naming.row_input)
    input_file: str | None = None  # the name of the local file it names, if any

    @property
    def overrides_json(self) -> str:
        return encode_overrides(self.overrides)


@dataclass(frozen=True)
class BatchPlan:
    """Everything that will run: canonical column mapping, common settings, validated rows."""

    workflow_id: str
    columns: dict[str, str]  # input column -> canonical NODE.FIELD
    sets: dict[str, str]  # canonical NODE.FIELD -> the value as given
    rows: tuple[PlannedRow, ...]


def parse_assignments(items: Sequence[str], option: str) -> dict[str, str]:
    """``["a=b", ...]`` -> ``{"a": "b"}``; the first ``=`` splits, so values may contain ``=``."""
    result: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise BatchInputError(f"{option} expects NAME=VALUE, got {item!r}")
        if name.strip() in result:
            raise BatchInputError(f"{option} {name.strip()} is given twice")
        result[name.strip()] = value
    return result


def plan_batch(  # noqa: PLR0913 - keyword-only options of the plan
    table: InputTable,
    graph: WorkflowGraph,
    *,
    workflow_id: str,
    maps: Mapping[str, str] | None = None,
    sets: Mapping[str, str] | None = None,
    allow_duplicates: bool = False,
    ignore: Collection[str] = (),
) -> BatchPlan:
    """Map, resolve and validate every row; raises :class:`BatchInputError` listing bad rows."""
    columns = map_columns(table, maps, ignore, functools.partial(_column_field, table, graph))
    fields = {column: graph.resolve(address) for column, address in columns.items()}
    common = _resolve_sets(graph, dict(sets or {}), set(columns.values()))
    planner = _RowPlanner(graph, workflow_id, fields, common, table.base_dir)
    return BatchPlan(
        workflow_id=workflow_id,
        columns=columns,
        sets={address: str(value) for address, value in common.items()},
        rows=plan_rows(table, planner.plan, allow_duplicates=allow_duplicates),
    )


def plan_rows(
    table: InputTable,
    plan_one: Callable[[int, Mapping[str, Any]], PlannedRow],
    *,
    allow_duplicates: bool,
) -> tuple[PlannedRow, ...]:
    """Every row planned; the bad ones listed in one error, duplicates refused unless allowed."""
    planned: list[PlannedRow] = []
    errors: list[str] = []
    for number, record in enumerate(table.records, start=1):
        try:
            planned.append(plan_one(number, record))
        except RunningHubError as exc:
            errors.append(f"row {number}: {exc.message}")
    if errors:
        raise _many_errors(errors)
    if not allow_duplicates:
        _refuse_duplicates(planned)
    return tuple(planned)


def map_columns(
    table: InputTable,
    maps: Mapping[str, str] | None,
    ignore: Collection[str],
    address_of: Callable[[str, str | None], str],
) -> dict[str, str]:
    """Each column the inputs have and ``--ignore`` does not name, to the address
    ``address_of(column, its --map target or None)`` gives it; a table without rows is refused."""
    if not table.records:
        raise BatchInputError(f"no input rows in {table.source}")
    mapped, ignored = dict(maps or {}), set(ignore)
    _check_column_options(table, mapped, ignored)
    return {
        column: address_of(column, mapped.get(column))
        for column in table.columns
        if column not in ignored
    }


def _check_column_options(table: InputTable, maps: Mapping[str, str], ignore: set[str]) -> None:
    """``--map`` and ``--ignore`` name columns the inputs have, and never the same one."""
    for option, named in (("--map", set(maps)), ("--ignore", ignore)):
        unknown = sorted(named - set(table.columns))
        if unknown:
            raise BatchInputError(
                f"{option} names column(s) {', '.join(unknown)} that the inputs do not have",
                hint=f"the columns are: {', '.join(table.columns)}",
            )
    both = sorted(ignore & set(maps))
    if both:
        raise BatchInputError(f"column(s) {', '.join(both)} given to both --map and --ignore")


def _column_field(table: InputTable, graph: WorkflowGraph, column: str, mapped: str | None) -> str:
    address = mapped or _implicit_address(column, table, graph)
    return _canonical(graph, address, f"column {column!r}")


def _implicit_address(column: str, table: InputTable, graph: WorkflowGraph) -> str:
    if "." in column:
        return column
    if column == "file" and table.source.is_dir():
        media = [f for f in graph.fields() if f.kind is FieldKind.MEDIA]
        if len(media) == 1:
            return media[0].address
    raise BatchInputError(
        f"column {column!r} is not mapped to a field",
        hint=f"name the column NODE.FIELD, add --map {column}=NODE.FIELD, or --ignore {column}",
    )


def _canonical(graph: WorkflowGraph, address: str, what: str) -> str:
    try:
        return graph.resolve(address).address
    except RunningHubError as exc:
        words = Wording(f"{what}: {exc.message}", f"{what}: {exc.cli_message}")
        raise BatchInputError(words, hint=exc.hint_wording) from None


def _resolve_sets(graph: WorkflowGraph, sets: dict[str, str], mapped: set[str]) -> dict[str, Any]:
    common: dict[str, Any] = {}
    for address, value in sets.items():
        field = graph.resolve(_canonical(graph, address, f"--set {address}"))
        if field.address in mapped:
            raise BatchInputError(f"--set {address} sets a field that an input column also sets")
        if field.kind is FieldKind.MEDIA:
            common[field.address] = _media_value(value, Path.cwd())
        else:
            common[field.address] = value
    return common


@dataclass(frozen=True)
class _RowPlanner:
    graph: WorkflowGraph
    workflow_id: str
    fields: Mapping[str, Field]  # input column -> its field
    common: Mapping[str, Any]  # the --set values, by canonical address
    base_dir: Path

    def plan(self, number: int, record: Mapping[str, Any]) -> PlannedRow:
        values = dict(self.common)
        file: Path | None = None
        for column, field in self.fields.items():
            value = record.get(column)
            if value is None:
                continue
            if field.kind is FieldKind.MEDIA:
                value = _media_value(value, self.base_dir)
                if file is None and isinstance(value, Path):
                    file = value
            values[field.address] = value
        overrides = tuple(self.graph.prepare(values))
        identity = row_identity(self.workflow_id, overrides)
        recorded = row_input(record, file)
        return PlannedRow(number, overrides, identity, recorded, file.name if file else None)


def _media_value(value: Any, base_dir: Path) -> Any:
    if isinstance(value, Path):
        path = value
    elif isinstance(value, str):
        if value.startswith(_REMOTE_PREFIXES):
            return value
        path = Path(value).expanduser()
    else:
        return value  # not a path: validation will say what it expected
    if not path.is_absolute():
        path = base_dir / path
    if not path.is_file():
        raise BatchInputError(f"file not found: {path}")
    _check_media(path)
    return path


def _check_media(path: Path) -> None:
    """Refuse, before anything is paid for, a file that is empty or not the media it is named."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
        size = os.fstat(handle.fileno()).st_size
    problem = media_problem(path.name, head, size)
    if problem is not None:
        raise BatchInputError(f"{path} {problem}")


def row_identity(workflow_id: str, overrides: Sequence[NodeOverride]) -> str:
    """A stable identity of one input: workflow id plus canonical overrides."""
    ordered = sorted(overrides, key=lambda o: (str(o.node_id), o.field))
    payload = f"{workflow_id}\n{encode_overrides(ordered)}".encode()
    return hashlib.sha256(payload).hexdigest()


def _refuse_duplicates(rows: Sequence[PlannedRow]) -> None:
    first_seen: dict[str, int] = {}
    pairs: list[str] = []
    for planned in rows:
        earlier = first_seen.setdefault(planned.identity, planned.row)
        if earlier != planned.row:
            pairs.append(f"row {planned.row} repeats row {earlier}")
    if pairs:
        raise BatchInputError(
            f"{len(pairs)} duplicate row(s): " + "; ".join(pairs[:_MAX_REPORTED]),
            hint="remove them, or pass --allow-duplicates to run (and pay for) each copy",
        )


def _many_errors(errors: list[str]) -> BatchInputError:
    shown = "; ".join(errors[:_MAX_REPORTED])
    more = f" (and {len(errors) - _MAX_REPORTED} more)" if len(errors) > _MAX_REPORTED else ""
    noun = "row is" if len(errors) == 1 else "rows are"
    return BatchInputError(f"{len(errors)} input {noun} invalid: {shown}{more}")


def ledger_for_plan(path: str | Path, plan: BatchPlan, spec: BatchSpec) -> Ledger:
    """A new ledger for ``plan``, or the existing one at ``path`` when it holds the same inputs.

    Reusing a ledger is how ``batch run`` resumes; its limits are updated from ``spec``. A
    ledger made from other inputs or for another workflow is refused (LedgerError).
    """
    check_rows_named_apart(spec.name_template, ((r.row, r.input_file) for r in plan.rows))
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # The lock comes first: two runs started at once must not both find no ledger and make one.
    lock = RunnerLock(target).acquire()
    try:
        if not target.exists():
            check_out_dir_free(Path(spec.out_dir))  # refused before a ledger is made for it
            rows = ((r.row, r.identity, r.overrides_json, r.input_json) for r in plan.rows)
            return Ledger.create(target, spec, rows, lock=lock)
        ledger = Ledger.open(target, lock=lock)
    except BaseException:
        lock.release()
        raise
    try:
        _check_same_batch(ledger, plan)
        ledger.update_spec(_with_new_limits(ledger.spec, spec))
    except BaseException:
        ledger.close()
        raise
    return ledger


# What a resumed batch takes from the command line it is resumed with, not from its ledger.
_RESUME_LIMITS = (
    "concurrency",
    "max_tasks",
    "max_coins",
    "keys_file",
    "key_count",
    "name_template",
)


def _with_new_limits(stored: BatchSpec, given: BatchSpec) -> BatchSpec:
    return dataclasses.replace(stored, **{name: getattr(given, name) for name in _RESUME_LIMITS})


def _check_same_batch(ledger: Ledger, plan: BatchPlan) -> None:
    stored = ledger.spec
    if stored.workflow_id != plan.workflow_id:
        raise LedgerError(
            f"{ledger.path} belongs to workflow {stored.workflow_id}, not {plan.workflow_id}",
            hint="choose another --ledger (or --out) for a new batch",
        )
    identities = ledger.row_identities()
    planned = [r.identity for r in plan.rows]
    if identities != planned:
        differs = next(
            (i + 1 for i, (a, b) in enumerate(zip(identities, planned, strict=False)) if a != b),
            min(len(identities), len(planned)) + 1,
        )
        raise LedgerError(
            f"{ledger.path} was made from other inputs (row {differs} differs)",
            hint="use `runninghub batch resume`, or another --ledger (or --out) for a new batch",
        )
