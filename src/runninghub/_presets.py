"""Presets: a workflow, an AI app or a standard model under a name, with fixed settings and
a few open parameters (models: see ``_model_presets``).

A preset is built against the target's own graph (or the app's inputs), so a typo in an
address is refused with suggestions when it is added, and each open parameter takes its
type, default, allowed values and description from the field it exposes. Running one turns
the parameters back into ordinary overrides, checked again against the graph by the submit.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._errors import ConfigError, InvalidRequestError
from ._fields import FieldKind, closest, did_you_mean
from ._preset_file import locked, presets_path, read_toml, write_toml
from .workflow import WorkflowGraph

__all__ = [
    "KINDS",
    "Preset",
    "PresetParam",
    "build_preset",
    "load_presets",
    "preset_from_table",
    "save_presets",
    "update_presets",
]

KINDS = ("workflow", "app", "model")
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,47}\Z")
_PARAM = re.compile(r"[a-z][a-z0-9_]{0,39}\Z")
# The keywords of ``run_preset`` itself: a parameter may not take one of these names.
RESERVED = frozenset(
    {"name", "timeout", "out_dir", "on_progress", "cancel_on_timeout", "presets_file"}
)


@dataclass(frozen=True)
class PresetParam:
    """One open parameter: the field it fills, its type, default and allowed values."""

    name: str
    address: str
    kind: str = FieldKind.STRING.value
    default: Any = None  # None: the caller must give it
    choices: tuple[str, ...] = ()
    description: str = ""

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True)
class Preset:
    """A named workflow, app or model, its fixed ``settings`` and its open ``params``."""

    name: str
    kind: str  # "workflow", "app" or "model"
    target: str  # the workflow id, the app id or the model endpoint
    settings: Mapping[str, Any] = field(default_factory=dict)
    params: tuple[PresetParam, ...] = ()
    description: str = ""

    def param(self, name: str) -> PresetParam | None:
        return next((p for p in self.params if p.name == name), None)

    def overrides(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The settings with each parameter's value (given, else its default) at its address."""
        names = [p.name for p in self.params]
        for name in values:
            if name not in names:
                raise _refusal(
                    f"preset {self.name!r} has no parameter {name!r}",
                    did_you_mean(closest(name, names)) or _offered(names),
                )
        merged = dict(self.settings)
        for param in self.params:
            value = values.get(param.name, param.default)
            if value is None:
                raise _refusal(
                    f"preset {self.name!r} needs --{param.name}", param.description or None
                )
            merged[param.address] = value
        return merged

    def to_table(self) -> dict[str, Any]:
        """The preset as its TOML table (what ``save_presets`` and ``export`` write)."""
        table: dict[str, Any] = {"kind": self.kind, "target": self.target}
        if self.description:
            table["description"] = self.description
        table["settings"] = dict(self.settings)
        table["params"] = {p.name: _param_table(p) for p in self.params}
        return table


def _param_table(param: PresetParam) -> dict[str, Any]:
    table: dict[str, Any] = {"address": param.address, "type": param.kind}
    if param.default is not None:
        table["default"] = param.default
    if param.choices:
        table["choices"] = list(param.choices)
    if param.description:
        table["description"] = param.description
    return table


def _refusal(message: str, hint: str | None) -> InvalidRequestError:
    return InvalidRequestError(message, code=None, hint=hint)


def _offered(names: list[str]) -> str:
    return f"its parameters: {', '.join(names)}" if names else "it has no open parameters"


# ---------------------------------------------------------------------- building one


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise _refusal(
            f"bad preset name {name!r}",
            "use 1-48 lowercase letters, digits, '-' or '_', starting with a letter",
        )
    return name


def build_preset(  # noqa: PLR0913 - what ``preset add`` is given
    name: str,
    kind: str,
    target: str,
    graph: WorkflowGraph,
    *,
    settings: Mapping[str, Any],
    exposed: Mapping[str, str],
    description: str = "",
) -> Preset:
    """A preset checked against the target's graph; ``exposed`` maps addresses to names."""
    check_name(name)
    fixed = {f"{o.node_id}.{o.field}": o.value for o in graph.prepare(dict(settings))}
    params = exposed_params(exposed, lambda at, key: _exposed_param(graph, at, key, fixed))
    return Preset(name, kind, target, fixed, params, description)


def exposed_params(
    exposed: Mapping[str, str], param_at: Callable[[str, str], PresetParam]
) -> tuple[PresetParam, ...]:
    """``param_at(address, name)`` for each exposed address, in order, its name checked
    (and refused when an earlier one took it)."""
    params: list[PresetParam] = []
    for address, name in exposed.items():
        params.append(param_at(address, check_param_name(name, params)))
    return tuple(params)


def check_param_name(name: str, earlier: list[PresetParam]) -> str:
    if not _PARAM.match(name) or name in RESERVED:
        raise _refusal(
            f"bad parameter name {name!r}",
            "use 1-40 lowercase letters, digits or '_', starting with a letter"
            + (f"; {name!r} is one of run_preset's own options" if name in RESERVED else ""),
        )
    if any(p.name == name for p in earlier):
        raise _refusal(f"parameter name {name!r} is exposed twice", None)
    return name


def _exposed_param(
    graph: WorkflowGraph, address: str, name: str, fixed: dict[str, Any]
) -> PresetParam:
    found = graph.resolve(address)  # refuses an unknown or linked field, with suggestions
    default = fixed.pop(found.address, found.value)
    choices = found.options if found.kind is FieldKind.LIST else ()
    where = found.node_title or found.class_type or f"node {found.node_id}"
    description = found.description or f"{found.name} of {where}"
    if found.options and not choices:  # known values that the server does not hold it to
        description += f" (known values: {', '.join(found.options[:12])})"
    if not isinstance(default, str | int | float | bool):
        default = None
    return PresetParam(name, found.address, found.kind.value, default, choices, description)


# ---------------------------------------------------------------------- the file


def load_presets(
    path: str | os.PathLike[str] | None = None, directory: str | os.PathLike[str] | None = None
) -> dict[str, Preset]:
    """Every preset of the presets file, by name (a broken file raises one ConfigError)."""
    where = presets_path(path, directory)
    document = read_toml(where)
    tables = document.get("presets", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{where}: 'presets' must be a table of presets")
    return {name: preset_from_table(name, table, where) for name, table in tables.items()}


def save_presets(presets: Mapping[str, Preset], path: str | os.PathLike[str] | None = None) -> Path:
    """Write every preset, atomically; returns the file written."""
    where = presets_path(path)
    write_toml(where, {"presets": {name: p.to_table() for name, p in sorted(presets.items())}})
    return where


def update_presets(
    change: Callable[[dict[str, Preset]], Mapping[str, Preset]],
    path: str | os.PathLike[str] | None = None,
) -> Path:
    """Read the presets, ``change`` them and write them back under the file's lock, so that
    two processes adding presets at once both find theirs in the file; returns the file."""
    where = presets_path(path)
    with locked(where):
        save_presets(change(load_presets(where)), where)
    return where


def preset_from_table(name: str, table: Any, where: Path | str) -> Preset:
    """One preset read back from its table; a hand-edit mistake is one ConfigError line."""
    try:
        return _from_table(check_name(name), table)
    except (InvalidRequestError, TypeError, ValueError, KeyError) as exc:
        problem = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ConfigError(f"{where}: preset {name!r}: {problem}") from None


def _from_table(name: str, table: Any) -> Preset:
    if not isinstance(table, dict):
        raise TypeError("must be a table")
    kind, target = _text(table, "kind"), _text(table, "target")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    settings, params = table.get("settings", {}), table.get("params", {})
    if not isinstance(settings, dict) or not isinstance(params, dict):
        raise TypeError("'settings' and 'params' must be tables")
    read = tuple(_param_from(check_param_name(n, []), p) for n, p in params.items())
    return Preset(name, kind, target, settings, read, str(table.get("description", "")))


def _param_from(name: str, table: Any) -> PresetParam:
    if not isinstance(table, dict):
        raise TypeError(f"parameter {name!r} must be a table")
    kind = str(table.get("type", FieldKind.STRING.value))
    if kind not in {k.value for k in FieldKind} - {FieldKind.LINK.value}:
        raise ValueError(f"parameter {name!r} has an unknown type {kind!r}")
    choices = table.get("choices", [])
    if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
        raise TypeError(f"parameter {name!r}: 'choices' must be a list of text")
    description = str(table.get("description", ""))
    return PresetParam(
        name, _text(table, "address"), kind, table.get("default"), tuple(choices), description
    )


def _text(table: dict[str, Any], key: str) -> str:
    value = table[key]
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"{key!r} must be non-empty text")
    return value.strip()
