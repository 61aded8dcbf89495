"""``runninghub model list | show | run | price``: the hosted standard models.

The catalogue is the shipped registry snapshot, or ``--catalogue FILE`` (or
``RUNNINGHUB_CATALOGUE``). ``--set KEY=VALUE`` values are read as the model's parameter
types; the library checks them against the catalogue before anything is sent.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ._context import CliState, json_option, pass_state
from ._option_kinds import file_option, repeated_option
from .run import _check_out_dir, _readable_file, submit_and_finish, wait_options

if TYPE_CHECKING:
    from runninghub import Client, ModelInfo, ModelParam

__all__ = ["model", "model_params"]

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


@click.group()
@file_option(
    "--catalogue",
    exists=True,
    help="A newer model registry file instead of the shipped one (or RUNNINGHUB_CATALOGUE).",
)
@pass_state
def model(state: CliState, catalogue: Path | None) -> None:
    """Standard models: list, show, price and run the hosted models.

    Hosted image, video, audio, 3D and text models, called by endpoint (needs an
    enterprise key to run or to ask the service for a price).

    \b
    Examples:
      runninghub model list --type video --search kling
      runninghub model show rhart-image-n-pro/text-to-image
      runninghub model run rhart-image-n-pro/text-to-image --set prompt="a red fox" --out out
    """
    if catalogue is not None:
        state.catalogue = catalogue


@model.command("list")
@click.option("--type", "kind", metavar="T", help="Output type: image, video, audio, 3d, string.")
@click.option("--category", metavar="NAME", help="A category, e.g. Kling or Seedance.")
@click.option("--search", metavar="TEXT", help="Text in the endpoint, name or category.")
@json_option
@pass_state
def model_list(state: CliState, kind: str | None, category: str | None, search: str | None) -> None:
    """List the catalogue's models (endpoint, output type, category, list price).

    \b
    Example:
      runninghub model list --type image --search edit --json
    """
    catalogue = state.model_catalogue()
    found = catalogue.search(type=kind, category=category, text=search)
    version = catalogue.version
    document = {
        "catalogue": version,
        "count": len(found),
        "models": [_summary(m) for m in found],
    }
    state.render.note(f"{len(found)} model(s) in catalogue {version}")
    if state.json:
        state.render.document(document)
        return
    rows = [(m.endpoint, m.output_type, m.category, _price_text(m)) for m in found]
    state.render.table(("endpoint", "output", "category", "list price"), rows)


def _summary(found: ModelInfo) -> dict[str, Any]:
    document = found.to_dict()
    document["params"] = [p.key for p in found.params]
    return document


def _price_text(found: ModelInfo) -> str:
    price = found.price
    if price is None or price.kind == "unparsed":
        return "-"
    if price.amount is not None:
        return f"{price.amount} {price.currency} {price.unit}".strip()
    amounts = sorted(cost for _, cost in price.rules)
    if not amounts:
        return "-"
    low, high = amounts[0], amounts[-1]
    shown = f"{low}" if low == high else f"{low}-{high}"
    return f"{shown} {price.currency} {price.unit}".strip()


@model.command("show")
@click.argument("endpoint")
@json_option
@pass_state
def model_show(state: CliState, endpoint: str) -> None:
    """Show a model's parameters: type, required, default, options, range, file limits.

    \b
    Example:
      runninghub model show rhart-video-s/image-to-video
    """
    catalogue = state.model_catalogue()
    found = catalogue.require(endpoint)
    version = catalogue.version
    state.render.note(f"{found.endpoint}: {found.output_type}, {found.category}")
    document = {"catalogue": version, **found.to_dict()}
    if state.json:
        state.render.document(document)
        return
    rows = [(p.key, p.type, "yes" if p.required else "", _cell(p.default), _limits(p))
            for p in found.params]  # fmt: skip
    state.render.table(("parameter", "type", "required", "default", "allowed"), rows)
    state.render.note(f"list price: {_price_text(found)}")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = json.dumps(value) if isinstance(value, bool) else str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _limits(param: ModelParam) -> str:
    parts = []
    if param.options:
        parts.append(" | ".join(param.options))
    if param.min is not None or param.max is not None:
        low = "" if param.min is None else _number(param.min)
        high = "" if param.max is None else _number(param.max)
        parts.append(f"{low}..{high}" + (f" step {_number(param.step)}" if param.step else ""))
    if param.accept:
        parts.append(", ".join(param.accept))
    if param.max_mb is not None:
        parts.append(f"<= {_number(param.max_mb)} MB")
    if param.is_list:
        parts.append("a list (repeat the key)")
    return "; ".join(parts)


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def _value_options(func: Any) -> Any:
    func = repeated_option(
        "--file",
        "files",
        metavar="KEY=PATH",
        help="A local file for a media parameter, uploaded first (repeatable).",
    )(func)
    return repeated_option(
        "--set",
        "sets",
        metavar="KEY=VALUE",
        help="Set a parameter; repeat a list key (imageUrls) for more items.",
    )(func)


@model.command("run")
@click.argument("endpoint")
@_value_options
@wait_options
@json_option
@pass_state
def model_run(
    state: CliState,
    /,
    endpoint: str,
    sets: tuple[str, ...],
    files: tuple[str, ...],
    **params: Any,
) -> None:
    """Run a standard model, wait, and save its outputs.

    \b
    Examples:
      runninghub model run rhart-image-n-pro/text-to-image --set prompt="a red fox" \\
          --set resolution=1k --set aspectRatio=1:1 --out ./fox
      runninghub model run rhart-video-s/image-to-video --file imageUrl=cat.png \\
          --set prompt="the cat runs" --set duration=10 --set aspectRatio=16:9
    """
    _check_out_dir(params)
    with state.client() as client:
        values = model_params(client, endpoint, sets, files)
        submit_and_finish(
            state, client, functools.partial(client.submit_model, endpoint, values), params
        )


@model.command("price")
@click.argument("endpoint")
@_value_options
@click.option("--list-only", is_flag=True, help="Only the catalogue's list price (no estimate).")
@json_option
@pass_state
def model_price(
    state: CliState, endpoint: str, sets: tuple[str, ...], files: tuple[str, ...], list_only: bool
) -> None:
    """Show what one call would cost: the list price and the service's own estimate.

    \b
    Example:
      runninghub model price rhart-video-s/image-to-video --set duration=10
    """
    with state.client() as client:
        price = client.model_price(
            endpoint, model_params(client, endpoint, sets, files), preview=not list_only
        )
    listed = "unknown" if price.list_price is None else f"{price.list_price} {price.currency}"
    lines = [f"list price: {listed} {price.unit}".rstrip()]
    if price.estimated is not None:
        lines.append(f"service estimate: {price.estimated} {price.currency}")
    if price.note:
        state.render.note(price.note)
    state.render.result(price.to_dict(), lines)


def model_params(
    client: Client, endpoint: str, sets: tuple[str, ...], files: tuple[str, ...]
) -> dict[str, Any]:
    """``--set`` and ``--file`` values read as the model's parameter types (text for an
    endpoint the catalogue lacks); a repeated key of a list parameter collects a list."""
    known = {m.endpoint: m for m in client.models()}.get(endpoint.strip().strip("/"))
    values: dict[str, Any] = {}
    pairs = [(*_split(t, "--set"), False) for t in sets]
    pairs += [(*_split(t, "--file"), True) for t in files]
    for key, text, is_file in pairs:
        param = known.param(key) if known else None
        value = _readable_file(text, key) if is_file else _typed(param, key, text)
        if param is not None and param.is_list:
            values.setdefault(key, []).append(value)
        else:
            values[key] = value
    return values


def _split(text: str, option: str) -> tuple[str, str]:
    key, equals, value = text.partition("=")
    if not equals or not key.strip():
        raise click.BadParameter(f"expected KEY=VALUE, got {text!r}", param_hint=option)
    return key.strip(), value


def _typed(param: ModelParam | None, key: str, text: str) -> Any:
    kind = param.type if param else "STRING"
    try:
        if kind == "INT":
            return int(text)
        if kind == "FLOAT":
            return float(text)
    except ValueError:
        name = "an integer" if kind == "INT" else "a number"
        raise click.BadParameter(
            f"{key} must be {name}, not {text!r}", param_hint="--set"
        ) from None
    if kind == "BOOLEAN":
        if text.strip().lower() in _TRUE + _FALSE:
            return text.strip().lower() in _TRUE
        raise click.BadParameter(f"{key} must be true or false, not {text!r}", param_hint="--set")
    return text
