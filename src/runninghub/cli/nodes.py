"""``runninghub nodes`` and ``runninghub app inputs``: what a workflow or an app lets you set."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ._context import CliState, json_option, pass_state

if TYPE_CHECKING:
    from runninghub.workflow import WorkflowGraph

__all__ = ["app_inputs", "nodes"]

_HEADERS = ("node", "title", "class", "field", "type", "value")


def _show_fields(state: CliState, graph: WorkflowGraph, document: dict[str, Any]) -> None:
    from runninghub.workflow import render_rows

    rows = render_rows(graph)
    if state.json:
        state.render.document({**document, "fields": rows})
        return
    table = [
        (row["node_id"], row["title"], row["class_type"], row["field"], _type(row), row["value"])
        for row in rows
    ]
    state.render.table(_HEADERS, table)
    if rows:
        example = rows[0]["address"]
        state.render.note(f"set a field with: --set {example}=VALUE")


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
    with state.client() as client:
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

    with state.client() as client:
        inputs = client.app_inputs(app_id)
    graph = WorkflowGraph.from_app_inputs(inputs)
    _show_fields(state, graph, {"app_id": app_id})
