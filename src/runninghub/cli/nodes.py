"""``runninghub nodes`` and ``runninghub app inputs``: what a workflow or an app lets you set."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ._context import CliState, json_option, pass_state
from ._id_hints import other_kind_hint

if TYPE_CHECKING:
    from runninghub.workflow import WorkflowGraph

__all__ = ["app_inputs", "nodes"]

_HEADERS = ("node", "title", "class", "field", "type", "value", "description")
_KEYS = ("node_id", "title", "class_type", "field", "type", "value", "description")
# Columns left out of the table when no row fills them (an app has no titles, a saved
# workflow rarely has descriptions).
_OPTIONAL = frozenset({"title", "description"})


def _show_fields(state: CliState, graph: WorkflowGraph, document: dict[str, Any]) -> None:
    from runninghub.workflow import render_rows

    rows = render_rows(graph)
    if state.json:
        state.render.document({**document, "fields": rows})
        return
    shown = [
        (header, key)
        for header, key in zip(_HEADERS, _KEYS, strict=True)
        if key not in _OPTIONAL or any(row[key] for row in rows)
    ]
    table = [[_type(row) if key == "type" else row[key] for _, key in shown] for row in rows]
    state.render.table([header for header, _ in shown], table)
    if rows:
        state.render.note(f"set a field with: --set {rows[0]['address']}=VALUE")
    media = [row["address"] for row in rows if row["type"] == "media"]
    if media:
        state.render.note(f"upload a local file into a media field with: --file {media[0]}=PATH")


def _type(row: dict[str, Any]) -> str:
    kind = str(row["type"]).lower()
    options = row.get("options") or []
    if options:
        shown = ", ".join(str(option) for option in options[:6])
        more = ", ..." if len(options) > 6 else ""
        return f"{kind} ({shown}{more})"
    return kind


@click.command()
@click.argument("workflow_id")
@json_option
@pass_state
def nodes(state: CliState, workflow_id: str) -> None:
    """List the fields of a workflow that --set can change, with their current values.

    Links between nodes are not listed: they cannot be overridden.

    \b
    Examples:
      runninghub nodes 1904136902449209346
      runninghub nodes 1904136902449209346 --json | jq '.fields[].address'
    """
    with state.client() as client, other_kind_hint(client, workflow_id, "workflow", listing=True):
        graph = client.workflow_graph(workflow_id)
    _show_fields(state, graph, {"workflow_id": workflow_id})


@click.command()
@click.argument("app_id")
@json_option
@pass_state
def app_inputs(state: CliState, app_id: str) -> None:
    """List an AI app's inputs, with their types and default values.

    \b
    Example:
      runninghub app inputs 1877265245566922753 --json
    """
    from runninghub.workflow import WorkflowGraph

    with state.client() as client, other_kind_hint(client, app_id, "app", listing=True):
        inputs = client.app_inputs(app_id)
    graph = WorkflowGraph.from_app_inputs(inputs)
    _show_fields(state, graph, {"app_id": app_id})
