"""Batch rows for a standard model: columns are the model's parameters, checked by the catalogue.

Rules (as for workflows, with parameter keys where a workflow has ``NODE.FIELD``):

- A column named after a parameter (``prompt``, ``imageUrls[1]``) maps itself; any other needs
  ``--map COLUMN=KEY``. A directory's ``file`` column maps to the model's one media parameter.
- CSV cells are text: each is read as its parameter's type (an integer, a number, a boolean);
  a media value is a URL or a local file (relative to the inputs' folder), checked and uploaded
  when its row is submitted; a list parameter given one value gets a list of one.
- ``--set KEY=VALUE`` (and a preset's settings) apply to every row; an empty cell leaves the
  parameter out (the model's default).
- Every row is checked against the catalogue (unknown keys, required ones, options, ranges,
  file types and sizes) before the first submit.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._catalogue import ModelInfo, ModelParam
from .._fields import closest, did_you_mean
from .._model_checks import plan_model_params
from .._model_presets import model_body
from ._readers import BatchInputError, InputTable
from ._targets import model_overrides
from .inputs import (
    BatchPlan,
    PlannedRow,
    _media_value,
    map_columns,
    plan_rows,
    row_identity,
)

__all__ = ["plan_model_batch"]

_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def plan_model_batch(  # noqa: PLR0913 - keyword-only options of the plan
    table: InputTable,
    model: ModelInfo,
    *,
    maps: Mapping[str, str] | None = None,
    sets: Mapping[str, str] | None = None,
    fixed: Mapping[str, Any] | None = None,
    allow_duplicates: bool = False,
    ignore: Collection[str] = (),
) -> BatchPlan:
    """Map, type and check every row against ``model``; ``fixed``: a preset's values."""
    columns = map_columns(table, maps, ignore, functools.partial(_column_param, table, model))
    common = _common(model, dict(fixed or {}), dict(sets or {}), set(columns.values()))
    reader = _RowReader(model, columns, common, table.base_dir)
    rows = plan_rows(table, reader.plan, allow_duplicates=allow_duplicates)
    sets_shown = {address: str(value) for address, value in common.items()}
    return BatchPlan(model.endpoint, columns, sets_shown, rows)


def _column_param(table: InputTable, model: ModelInfo, column: str, mapped: str | None) -> str:
    address = mapped or _implicit(column, table, model)
    _param(model, address, f"column {column!r}")
    return address


def _implicit(column: str, table: InputTable, model: ModelInfo) -> str:
    if column == "file" and table.source.is_dir() and model.param("file") is None:
        media = [p for p in model.params if p.is_media]
        if len(media) == 1:
            return f"{media[0].key}[0]" if media[0].is_list else media[0].key
        raise BatchInputError(
            f"{model.endpoint} has {len(media)} media parameters: map the files to one",
            hint="add --map file=KEY",
        )
    return column


def _param(model: ModelInfo, address: str, what: str) -> ModelParam:
    key = next(iter(model_body({address: None})))
    found = model.param(key)
    if found is None:
        keys = [p.key for p in model.params]
        raise BatchInputError(
            f"{what}: {model.endpoint} has no parameter {key!r}",
            hint=did_you_mean(closest(key, keys)) or f"its parameters: {', '.join(keys)}",
        )
    return found


def _common(
    model: ModelInfo, fixed: dict[str, Any], sets: dict[str, str], mapped: set[str]
) -> dict[str, Any]:
    """The values of every row: the preset's (unless a column sets them), then ``--set``."""
    common = {a: _typed(_param(model, a, "preset"), v, None) for a, v in fixed.items()}
    common = {address: value for address, value in common.items() if address not in mapped}
    for address, text in sets.items():
        param = _param(model, address, f"--set {address}")
        if address in mapped:
            raise BatchInputError(f"--set {address} sets a parameter an input column also sets")
        common[address] = _typed(param, text, Path.cwd())
    return common


@dataclass(frozen=True)
class _RowReader:
    model: ModelInfo
    columns: Mapping[str, str]  # input column -> parameter address
    common: Mapping[str, Any]  # the values of every row
    base_dir: Path

    def plan(self, number: int, record: Mapping[str, Any]) -> PlannedRow:
        values = dict(self.common)
        for column, address in self.columns.items():
            value = record.get(column)
            if value is not None and value != "":
                param = _param(self.model, address, column)
                values[address] = _typed(param, value, self.base_dir)
        body = model_body(values)
        for key, value in body.items():
            declared = self.model.param(key)
            if declared is not None and declared.is_list and not isinstance(value, list | tuple):
                body[key] = [value]
        plan_model_params(self.model, body)  # the catalogue's checks, per breach
        overrides = tuple(model_overrides(body))
        return PlannedRow(number, overrides, row_identity(self.model.endpoint, overrides))


def _typed(param: ModelParam, value: Any, base_dir: Path | None) -> Any:
    """A cell (text in CSV) as the parameter's type; a local media path as a checked Path
    (``base_dir`` None: a preset's setting, already absolute)."""
    if isinstance(value, list | tuple):
        return [_typed(param, item, base_dir) for item in value]
    if param.is_media:
        return _media_value(value, base_dir or Path.cwd())
    if param.type == "LIST" and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # JSONL's 10 for the option "10"
    if not isinstance(value, str):
        return value  # JSONL gave a typed value: the catalogue's check judges it
    text = value.strip()
    if param.type == "BOOLEAN" and text.lower() in _TRUE + _FALSE:
        return text.lower() in _TRUE
    try:
        if param.type == "INT":
            return int(text)
        if param.type == "FLOAT":
            return float(text)
    except ValueError:
        name = "an integer" if param.type == "INT" else "a number"
        raise BatchInputError(f"{param.key} must be {name}, not {value[:40]!r}") from None
    return value
