"""The user's presets on the run page: pick one to fill the form, or save the form as one.

Both go through the presets code the command line uses (``load_presets``, ``build_preset``,
``build_model_preset``, ``update_presets`` with its lock) on the same file (the config
directory's ``presets.toml``, or ``$RUNNINGHUB_PRESETS``), so a preset saved here is one
``runninghub preset list`` shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import runninghub
from runninghub._support import (
    build_model_preset,
    build_preset,
    load_presets,
    refusal,
    update_presets,
)

from ._model_form import model_values
from ._targets import Target, Targets

__all__ = ["preset_form", "save_form_as_preset", "saved_presets"]


def saved_presets(presets_file: Path | None) -> list[runninghub.Preset]:
    return sorted(load_presets(presets_file).values(), key=lambda p: p.name)


def preset_form(presets_file: Path | None, name: str) -> tuple[Target, dict[str, Any]]:
    """What the preset runs, and the form's values: its settings and its parameters' defaults."""
    found = load_presets(presets_file).get(name)
    if found is None:
        raise refusal(f"no preset named {name[:60]!r}", "see the presets listed beside it")
    filled = dict(found.settings)
    filled.update({p.address: p.default for p in found.params if p.default is not None})
    return Target(found.kind, found.target), filled


def save_form_as_preset(  # noqa: PLR0913 - what the save form sends, each checked here
    targets: Targets,
    presets_file: Path | None,
    *,
    name: str,
    target: Target,
    values: dict[str, Any],
    description: str = "",
) -> runninghub.Preset:
    """Save ``values`` (the form's changed fields; a model's set values) as fixed settings of
    a new preset, checked as ``preset add`` checks them, and added under the file's lock."""
    made = _preset_of(targets, name, target, values, description[:200])

    def add(presets: dict[str, runninghub.Preset]) -> dict[str, runninghub.Preset]:
        if name in presets:
            raise refusal(f"a preset named {name!r} exists already", "pick another name")
        return {**presets, name: made}

    update_presets(add, presets_file)
    return made


def _preset_of(
    targets: Targets, name: str, target: Target, values: dict[str, Any], description: str
) -> runninghub.Preset:
    if target.kind == "model":
        model = targets.client.model(target.ident)
        settings = model_values(model, values)
        return build_model_preset(
            name, model, settings=settings, exposed={}, description=description
        )
    graph = targets.graph(target)
    return build_preset(
        name, target.kind, target.ident, graph, settings=values, exposed={}, description=description
    )
