"""Override planning: resolve and check overrides against a graph, and find local files.

Pure except for looking at the local filesystem (is this value a file to upload?).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._fields import error
from ._models import NodeOverride
from ._options import WorkflowJSON
from .workflow import FieldKind, OverridesLike, WorkflowGraph, normalize_overrides

__all__ = [
    "graph_from_json",
    "local_files",
    "materialize",
    "overridden_graph",
    "plan_overrides",
    "with_uploads",
]


def materialize(overrides: OverridesLike) -> OverridesLike:
    """Overrides as a re-readable collection (a generator would be used up by one look)."""
    if overrides is None or isinstance(overrides, Mapping):
        return overrides
    return list(overrides)


def plan_overrides(overrides: OverridesLike, graph: WorkflowGraph | None) -> list[NodeOverride]:
    """Resolve and check the overrides against the graph, or take them as given.

    With a graph, a text value of a media field that names an existing local file (not a
    URL) becomes a ``Path``, so that it is uploaded like one.
    """
    if graph is None:
        items = normalize_overrides(overrides)
        return [NodeOverride(node, name, value) for node, name, value in items]
    return [_promote_local_path(item, graph) for item in graph.prepare(overrides)]


def _promote_local_path(item: NodeOverride, graph: WorkflowGraph) -> NodeOverride:
    value = item.value
    if not isinstance(value, str) or "://" in value or not value.strip():
        return item
    if graph.resolve(f"{item.node_id}.{item.field}").kind is not FieldKind.MEDIA:
        return item
    path = Path(value).expanduser()
    return NodeOverride(item.node_id, item.field, path) if path.is_file() else item


def local_files(items: list[NodeOverride]) -> dict[int, Path]:
    """Overrides whose value is a local file to upload first (index -> path)."""
    found = {}
    for index, item in enumerate(items):
        if isinstance(item.value, Path):
            if not item.value.is_file():
                raise error(f"{item.node_id}.{item.field}: no such file {str(item.value)!r}")
            found[index] = item.value
    return found


def with_uploads(items: list[NodeOverride], names: Mapping[int, str]) -> list[NodeOverride]:
    """The overrides with each uploaded file replaced by its uploaded name."""
    return [
        NodeOverride(item.node_id, item.field, names[index]) if index in names else item
        for index, item in enumerate(items)
    ]


def graph_from_json(workflow_json: WorkflowJSON | None) -> WorkflowGraph | None:
    """The graph given with the submit, if any: it is validated against without a fetch."""
    return None if workflow_json is None else WorkflowGraph.from_api_format(workflow_json)


def overridden_graph(
    workflow_json: WorkflowJSON | None, items: list[NodeOverride]
) -> WorkflowJSON | None:
    """The full graph with the overrides written into it.

    The service runs a submit's ``workflow`` as sent and ignores its ``nodeInfoList``, so an
    override sent only in the list would be lost. Only the touched nodes are copied.
    """
    if workflow_json is None or not items:
        return workflow_json
    graph = dict(_graph_object(workflow_json))
    for item in items:
        node = graph.get(item.node_id)
        if not isinstance(node, Mapping):
            raise error(
                f"{item.node_id}.{item.field}: node {item.node_id} is not in the workflow JSON"
            )
        inputs = node.get("inputs")
        inputs = dict(inputs) if isinstance(inputs, Mapping) else {}
        inputs[item.field] = item.value
        graph[item.node_id] = {**node, "inputs": inputs}
    return graph


def _graph_object(workflow_json: WorkflowJSON) -> Mapping[str, Any]:
    if isinstance(workflow_json, Mapping):
        return workflow_json
    try:
        graph = json.loads(workflow_json)
    except ValueError:
        graph = None
    if not isinstance(graph, dict):
        raise error("the workflow JSON is not an API-format graph (a JSON object)")
    return graph
