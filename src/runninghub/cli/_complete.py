"""Shell completion of ``--set`` and ``--file`` addresses (``6.text``, ``107.image``).

The addresses come from the graph cache on disk only (``<config dir>/cache/graphs``, written
whenever a command fetched that workflow's graph or that app's inputs): completing never talks
to the network and never needs a key. An id that was never fetched completes nothing. Enable
completion with ``eval "$(_RHUB_COMPLETE=bash_source rhub)"`` (zsh_source, fish_source).
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

import click
from click.shell_completion import CompletionItem

if TYPE_CHECKING:
    from runninghub.workflow import Field, WorkflowGraph

__all__ = ["complete_address"]

# The command's argument that names what is run -> the cache's kind of entry.
_TARGETS = {"workflow_id": "workflow", "app_id": "app"}
_MAX_SHOWN_VALUE = 40


def complete_address(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """The addresses of the workflow (or app) on the line that start with ``incomplete``;
    ``--file`` offers only media fields."""
    if "=" in incomplete:
        return []  # a value, not an address
    try:
        graph = _cached_graph(ctx)
    except Exception:  # a damaged cache must never break the shell's completion
        return []
    if graph is None:
        return []
    media_only = param.name == "files"
    fields = [f for f in graph.fields() if not media_only or f.kind.value == "media"]
    unique_classes = _unique_classes(graph)
    items = []
    for field in fields:
        # By node id, and by class name where one node has that class (`KSampler.seed`).
        names = [field.address]
        if field.class_type in unique_classes:
            names.append(f"{field.class_type}.{field.name}")
        items += [
            CompletionItem(name, help=_describe(field))
            for name in names
            if name.startswith(incomplete)
        ]
    return items


def _unique_classes(graph: WorkflowGraph) -> set[str]:
    nodes_of: dict[str, set[str]] = {}
    for field in graph.fields(include_links=True):
        if field.class_type:
            nodes_of.setdefault(field.class_type, set()).add(field.node_id)
    return {name for name, nodes in nodes_of.items() if len(nodes) == 1}


def _describe(field: Field) -> str:
    """``Title (type): current value``, one printable line (the text came from a server)."""
    value = " ".join(str(field.value).split())
    if len(value) > _MAX_SHOWN_VALUE:
        value = value[: _MAX_SHOWN_VALUE - 1] + "…"
    title = field.node_title or field.class_type or field.node_id
    text = f"{title} ({field.kind.value}): {value}"
    return "".join(ch for ch in text if ch.isprintable())


def _cached_graph(ctx: click.Context) -> WorkflowGraph | None:
    names = {param.name for param in ctx.command.params}
    for argument, kind in _TARGETS.items():
        if argument in names:
            ident = _target_id(ctx, argument)
            data = None if ident is None else _newest_cached(kind, ident)
            return None if data is None else _graph_of(kind, data)
    return None


def _target_id(ctx: click.Context, argument: str) -> str | None:
    """The id on the line. While the option being completed still lacks its value, click
    leaves the words it could not parse in ``ctx.args``: the id is the first of them."""
    given = ctx.params.get(argument)
    words = [given] if isinstance(given, str) else list(ctx.args)
    return next((word for word in words if word.isdigit()), None)


def _graph_of(kind: str, data: Any) -> WorkflowGraph:
    from runninghub.workflow import WorkflowGraph

    if kind == "workflow":
        return WorkflowGraph.from_api_format(data)
    from runninghub._support import parse_app_inputs

    return WorkflowGraph.from_app_inputs(parse_app_inputs(data))


def _newest_cached(kind: str, ident: str) -> Any | None:
    """The data of the newest cache entry for ``kind``/``ident``, whatever site or account
    fetched it (entries are keyed ``base URL|account hash|kind|id``)."""
    from runninghub._support import default_config_dir

    folder = os.path.join(default_config_dir(), "cache", "graphs")
    suffix = f"|{kind}|{ident}"
    newest: tuple[float, Any] | None = None
    try:
        names = [name for name in os.listdir(folder) if name.endswith(".json")]
    except OSError:
        return None
    for name in names:
        document = _read_json(os.path.join(folder, name))
        if not isinstance(document, dict) or not str(document.get("key", "")).endswith(suffix):
            continue
        saved_at = document.get("saved_at")
        if isinstance(saved_at, int | float) and (newest is None or saved_at > newest[0]):
            newest = (float(saved_at), document.get("data"))
    return None if newest is None else newest[1]


def _read_json(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None
