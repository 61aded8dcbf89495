"""``runninghub preset``: save a workflow, app or model with its settings under a name, and
run it by that name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ._context import CliState, json_option, pass_state
from ._option_kinds import EXISTING_FILE, file_option, repeated_option
from .models import model_params
from .preset_run import load_all, load_one, run_preset
from .run import parse_overrides

if TYPE_CHECKING:
    from runninghub import Client, Preset

__all__ = ["preset"]


@click.group()
@file_option(
    "--presets",
    "presets_file",
    envvar="RUNNINGHUB_PRESETS",
    help="Use this presets file (default: presets.toml in the config directory).",
)
@pass_state
def preset(state: CliState, /, presets_file: Path | None) -> None:
    """Save a workflow, app or model with its settings under a name, and run it by name.

    \b
    Examples:
      runninghub preset add fox --workflow 1904136902449209346 --set KSampler.steps=30 \\
          --expose 6.text=prompt --expose KSampler.seed=seed --description "A fox picture"
      runninghub preset run fox --prompt "a red fox in snow" --seed 7
      runninghub preset add clip --model rhart-video-s/image-to-video --set duration=10 \\
          --expose imageUrl=photo --expose prompt=prompt
      runninghub preset export fox > fox.toml; runninghub preset import fox.toml
    """
    state.presets_file = presets_file


def _on_one_preset(command_name: str) -> Callable[[Callable[..., None]], click.Command]:
    """The ``preset`` subcommand ``command_name`` on the preset NAME (``show``, ``remove``,
    ``export``), with --json."""

    def decorate(func: Callable[..., None]) -> click.Command:
        return preset.command(command_name)(click.argument("name")(json_option(pass_state(func))))

    return decorate


def _update(state: CliState, change: Callable[[dict[str, Preset]], dict[str, Preset]]) -> Path:
    """Change the presets file under its lock (a concurrent add is never lost)."""
    from runninghub._support import update_presets

    return update_presets(change, state.presets_file)


def _document(found: Preset) -> dict[str, Any]:
    return {"name": found.name, **found.to_table()}


def _exposed(texts: tuple[str, ...]) -> dict[str, str]:
    """``--expose ADDRESS=NAME`` as ``{address: name}``."""
    exposed: dict[str, str] = {}
    for text in texts:
        address, equals, name = text.rpartition("=")
        if not equals or not address.strip() or not name.strip():
            raise click.BadParameter(
                f"expected NODE.FIELD=NAME, got {text!r} (e.g. 6.text=prompt)",
                param_hint="--expose",
            )
        exposed[address.strip()] = name.strip()
    return exposed


@preset.command("add")
@click.argument("name")
@click.option("--workflow", "workflow_id", metavar="ID", help="A saved workflow's id.")
@click.option("--app", "app_id", metavar="ID", help="An AI app's id.")
@click.option("--model", "endpoint", metavar="ENDPOINT", help="A standard model's endpoint.")
@repeated_option(
    "--set",
    "sets",
    metavar="ADDRESS=VALUE",
    help="A fixed setting: NODE.FIELD=VALUE (a model's KEY=VALUE).",
)
@repeated_option(
    "--expose",
    "exposes",
    metavar="ADDRESS=NAME",
    help="An open parameter: NODE.FIELD=NAME (a model's KEY=NAME, KEY[0]=NAME for a list).",
)
@click.option("--description", default="", help="What the preset makes (shown to agents).")
@click.option("--force", is_flag=True, help="Replace a preset of the same name.")
@json_option
@pass_state
def add(state: CliState, /, name: str, **options: Any) -> None:
    """Save a workflow, app or model, checked against its graph or schema, under NAME."""
    kind, target = _target(options["workflow_id"], options["app_id"], options["endpoint"])
    if name in load_all(state) and not options["force"]:  # refused before any request
        raise _exists(name)
    with state.client() as client:
        made = _build(client, name, kind, target, options)

    def added(presets: dict[str, Preset]) -> dict[str, Preset]:
        if name in presets and not options["force"]:  # added meanwhile by another process
            raise _exists(name)
        return {**presets, name: made}

    where = _update(state, added)
    state.render.result(_document(made), [f"saved preset {name} in {where}"])


def _exists(name: str) -> click.BadParameter:
    return click.BadParameter(f"preset {name!r} exists; pass --force to replace it")


def _build(client: Client, name: str, kind: str, target: str, options: dict[str, Any]) -> Preset:
    from runninghub import WorkflowGraph
    from runninghub._support import build_model_preset, build_preset

    exposed, description = _exposed(options["exposes"]), options["description"]
    if kind == "model":
        return build_model_preset(
            name,
            client.model(target),
            settings=model_params(client, target, options["sets"], ()),
            exposed=exposed,
            description=description,
        )
    if kind == "workflow":
        graph = client.workflow_graph(target)
    else:
        graph = WorkflowGraph.from_app_inputs(client.app_inputs(target))
    settings = parse_overrides(options["sets"], ())
    return build_preset(
        name, kind, target, graph, settings=settings, exposed=exposed, description=description
    )


def _target(workflow_id: str | None, app_id: str | None, endpoint: str | None) -> tuple[str, str]:
    named = (("workflow", workflow_id), ("app", app_id), ("model", endpoint))
    given = [(kind, value) for kind, value in named if value]
    if len(given) != 1:
        raise click.UsageError("give exactly one of --workflow ID, --app ID or --model ENDPOINT")
    return given[0]


@preset.command("list")
@json_option
@pass_state
def list_presets(state: CliState, /) -> None:
    """List the saved presets."""
    found = sorted(load_all(state).values(), key=lambda p: p.name)
    if state.json:
        state.render.document([_document(p) for p in found])
        return
    if not found:
        state.render.note("no presets yet; add one with: runninghub preset add NAME --workflow ID")
        return
    rows = [
        [p.name, f"{p.kind} {p.target}", " ".join(f"--{q.name}" for q in p.params), p.description]
        for p in found
    ]
    state.render.table(["name", "runs", "parameters", "description"], rows)


def _for_human(state: CliState, name: str) -> Preset | None:
    """The preset NAME to print for a person; None when --json printed its document instead
    (``show`` and ``export`` print the same one)."""
    found = load_one(state, name)
    if state.json:
        state.render.document(_document(found))
        return None
    return found


@_on_one_preset("show")
def show(state: CliState, /, name: str) -> None:
    """Show a preset: what it runs, its fixed settings and its open parameters."""
    found = _for_human(state, name)
    if found is None:
        return
    lines = [f"{found.name}: {found.kind} {found.target}"]
    lines += [f"  {found.description}"] if found.description else []
    lines += [f"  set {address} = {value!r}" for address, value in found.settings.items()]
    for param in found.params:
        default = "required" if param.required else f"default {param.default!r}"
        choices = f", one of {', '.join(param.choices)}" if param.choices else ""
        lines.append(
            f"  --{param.name} ({param.kind}, {default}{choices}) -> {param.address}: "
            f"{param.description}"
        )
    state.render.lines(lines)


@_on_one_preset("remove")
def remove(state: CliState, /, name: str) -> None:
    """Remove a preset."""
    load_one(state, name)

    def removed(presets: dict[str, Preset]) -> dict[str, Preset]:
        return {other: p for other, p in presets.items() if other != name}

    where = _update(state, removed)
    state.render.result({"removed": name}, [f"removed preset {name} from {where}"])


@_on_one_preset("export")
def export(state: CliState, /, name: str) -> None:
    """Print a preset as TOML (or JSON), to share; ``preset import`` reads it back."""
    found = _for_human(state, name)
    if found is None:
        return
    from runninghub._support import dump_toml

    state.render.raw(dump_toml({"presets": {name: found.to_table()}}))


@preset.command("import")
@click.argument("file", type=EXISTING_FILE)
@click.option("--force", is_flag=True, help="Replace presets of the same names.")
@json_option
@pass_state
def import_presets(state: CliState, /, file: Path, force: bool) -> None:
    """Add the presets of a file written by ``preset export`` (all of them, or none)."""
    from runninghub._support import preset_from_table, read_toml

    tables = read_toml(file).get("presets")
    if not isinstance(tables, dict) or not tables:
        raise click.BadParameter(f"{file} holds no [presets.NAME] table", param_hint="FILE")
    incoming = {name: preset_from_table(name, table, file) for name, table in tables.items()}

    def imported(presets: dict[str, Preset]) -> dict[str, Preset]:
        clashes = sorted(set(incoming) & set(presets))
        if clashes and not force:
            raise click.BadParameter(
                f"presets exist already: {', '.join(clashes)}; pass --force to replace them"
            )
        return {**presets, **incoming}

    where = _update(state, imported)
    names = sorted(incoming)
    state.render.result({"imported": names}, [f"imported {', '.join(names)} into {where}"])


preset.add_command(run_preset, "run")
