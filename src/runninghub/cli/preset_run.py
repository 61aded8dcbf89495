"""``runninghub preset run NAME --PARAM VALUE ...``: each open parameter is an option of its own.

The options depend on the preset, so they are read here rather than declared: each is checked
against the parameter's type (and allowed values) before the client is even made.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ._context import CliState, json_option, pass_state
from ._submitting import submitting
from .run import _check_out_dir, _finish_or_return, _readable_file, submit_keywords, wait_options

if TYPE_CHECKING:
    from runninghub import Client, Preset, PresetParam

__all__ = ["load_all", "load_one", "run_preset"]


def load_all(state: CliState) -> dict[str, Preset]:
    from runninghub._support import load_presets

    return load_presets(state.presets_file)


def load_one(state: CliState, name: str) -> Preset:
    found = load_all(state)
    if name not in found:
        close = difflib.get_close_matches(name, list(found), n=3)
        hint = f"did you mean {' or '.join(close)}?" if close else "see: runninghub preset list"
        raise click.BadParameter(f"no preset named {name!r} ({hint})", param_hint="NAME")
    return found[name]


def _pairs(args: list[str], sets: tuple[str, ...]) -> dict[str, str]:
    """``--name VALUE``, ``--name=VALUE`` and ``--set name=VALUE`` as ``{name: text}``."""
    pairs: dict[str, str] = {}
    words = iter(args)
    for word in words:
        if not word.startswith("--") or len(word) < 3:
            raise click.UsageError(f"unexpected argument {word!r}; parameters are --NAME VALUE")
        name, equals, value = word[2:].partition("=")
        if not equals:
            following = next(words, None)
            if following is None:
                raise click.UsageError(f"--{name} needs a value")
            value = following
        pairs[name.replace("-", "_")] = value
    for text in sets:
        name, equals, value = text.partition("=")
        if not equals or not name.strip():
            raise click.BadParameter(f"expected NAME=VALUE, got {text!r}", param_hint="--set")
        pairs[name.strip()] = value
    return pairs


def _typed(param: PresetParam, text: str) -> Any:
    """The option's value as the parameter's type (a media path that exists: a file)."""
    kinds: dict[str, Any] = {"int": click.INT, "float": click.FLOAT, "bool": click.BOOL}
    if param.choices:
        return click.Choice(param.choices).convert(text, None, None)
    if param.kind == "media" and Path(text).expanduser().exists():
        return _readable_file(text, param.name)
    kind = kinds.get(param.kind)
    return text if kind is None else kind.convert(text, None, None)


def parameter_values(found: Preset, pairs: dict[str, str]) -> dict[str, Any]:
    """The given parameters, typed; an unknown name is left for the preset to refuse."""
    values: dict[str, Any] = {}
    for name, text in pairs.items():
        param = found.param(name)
        try:
            values[name] = text if param is None else _typed(param, text)
        except click.BadParameter as exc:
            raise click.BadParameter(exc.message, param_hint=f"--{name}") from None
    return values


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("name")
@click.option("--set", "sets", multiple=True, metavar="PARAM=VALUE", help="Set a parameter.")
@wait_options
@json_option
@pass_state
@click.pass_context
def run_preset(
    ctx: click.Context, state: CliState, /, name: str, sets: tuple[str, ...], **params: Any
) -> None:
    """Run a preset; each of its parameters is an option (see: runninghub preset show NAME).

    \b
    Example:
      runninghub preset run fox --prompt "a red fox in snow" --seed 7 --out ./foxes
    """
    found = load_one(state, name)
    overrides = found.overrides(parameter_values(found, _pairs(list(ctx.args), sets)))
    _check_out_dir(params)
    with state.client() as client:
        with submitting(client):
            handle = _submit(client, found, overrides, params)
        _finish_or_return(state, client, handle, params)


def _submit(client: Client, found: Preset, overrides: dict[str, Any], params: Any) -> Any:
    """Submit the preset's target with its overrides (a model's: checked by the catalogue)."""
    options = submit_keywords(params)
    if found.kind == "model":
        from runninghub._support import model_body

        return client.submit_model(found.target, model_body(overrides), **options)
    submit = client.submit if found.kind == "workflow" else client.submit_app
    return submit(found.target, overrides, **options)
