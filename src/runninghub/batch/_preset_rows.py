"""A batch over a preset: its columns are the preset's open parameters, by their names.

Each row fills the parameters its columns name (a column may also name a field or model key
directly, overriding a setting); a parameter no column fills keeps its default, and one with
no default must have a column. The preset's settings hold for every row unless a column sets
the same field, and an empty cell of such a column keeps the preset's value for that row.
A directory's ``file`` column goes to the preset's one media parameter.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .._presets import Preset
from ._readers import BatchInputError, InputTable

__all__ = ["preset_columns"]


def preset_columns(
    preset: Preset, table: InputTable
) -> tuple[InputTable, dict[str, str], dict[str, Any]]:
    """``(table, maps, fixed)``: the rows with empty cells given the preset's values, each
    column named after a parameter mapped to its address, and the values of every row
    (settings and defaults) that no column replaces."""
    maps = {column: found.address for column in table.columns if (found := preset.param(column))}
    media = [p for p in preset.params if p.kind == "media"]
    if "file" in table.columns and "file" not in maps and table.source.is_dir() and len(media) == 1:
        maps["file"] = media[0].address
    addresses = {column: maps.get(column, column) for column in table.columns}
    covered = set(addresses.values())
    fixed = {address: v for address, v in preset.settings.items() if address not in covered}
    for param in preset.params:
        if param.address in covered:
            continue
        if param.default is None:
            raise BatchInputError(
                f"preset {preset.name!r} needs a column {param.name!r} (it has no default)",
                hint=f"its parameters: {', '.join(p.name for p in preset.params)}",
            )
        fixed[param.address] = param.default
    return _filled(preset, table, addresses), maps, fixed


def _filled(preset: Preset, table: InputTable, addresses: dict[str, str]) -> InputTable:
    """Empty cells of columns that replace a setting or a default get the preset's value."""
    known = {p.address: p.default for p in preset.params if p.default is not None}
    known.update(preset.settings)
    fill = {column: known[a] for column, a in addresses.items() if a in known}
    records = [
        {**record, **{c: v for c, v in fill.items() if record.get(c) is None}}
        for record in table.records
    ]
    return dataclasses.replace(table, records=records)
