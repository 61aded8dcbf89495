"""Turning a run request (either family) into the graph a task will execute.

Shared by legacy ``create``/``ai-app/run`` and v2 ``run/workflow``/``run/ai-app``: the body
is checked field by field, ``nodeInfoList`` is validated against the stored graph (an
unknown node or field is 803 and creates nothing), and the overrides are applied.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from . import nodes
from .catalog import AppSpec, parse_workflow
from .options import OFF_LOOP_CHARS
from .wire import ApiProblem, Problem, bool_field, str_field

Source = Literal["workflow", "app", "model"]
INSTANCE_TYPES = ("default", "plus")


@dataclass(frozen=True)
class Override:
    node_id: str
    field_name: str
    value: Any


@dataclass(frozen=True)
class Submission:
    """A validated run request, before it is checked against the catalogue."""

    source: Source
    source_id: str
    overrides: tuple[Override, ...]
    workflow_json: str | None
    add_metadata: bool
    webhook_url: str | None
    personal_queue: bool = False
    retain_seconds: int = 0
    instance_type: str = "default"


@dataclass(frozen=True)
class PreparedGraph:
    graph: dict[str, Any]
    outputs_to_execute: list[str]
    fingerprint: str


def parse_submission(body: dict[str, Any], source: Source, source_id: str) -> Submission:
    """Check the optional fields of a run body; raises ApiProblem(BAD_REQUEST)."""
    options = submit_options(body)
    raw_list = body.get("nodeInfoList")
    if source == "app" and raw_list is None:
        raise ApiProblem(Problem.BAD_REQUEST, "nodeInfoList is required")
    return Submission(
        source=source,
        source_id=source_id,
        overrides=parse_node_info_list(raw_list),
        workflow_json=str_field(body, "workflow") if source == "workflow" else None,
        add_metadata=bool_field(body, "addMetadata", True) if source == "workflow" else False,
        **options,
    )


def submit_options(body: dict[str, Any]) -> dict[str, Any]:
    """The submit options every run body may carry (workflows, apps, models), checked.

    ``accessPassword`` is checked for type only and then dropped: it is never stored,
    logged or echoed (the emulator's workflows and apps are not password-protected).
    """
    instance = str_field(body, "instanceType") or "default"
    if instance not in INSTANCE_TYPES:
        raise ApiProblem(Problem.BAD_REQUEST, "instanceType must be 'default' or 'plus'")
    webhook = str_field(body, "webhookUrl")
    if webhook is not None and not webhook.startswith(("http://", "https://")):
        raise ApiProblem(Problem.BAD_REQUEST, "webhookUrl must be an http(s) URL")
    str_field(body, "accessPassword")
    return {
        "webhook_url": webhook,
        "personal_queue": bool_field(body, "usePersonalQueue", False),
        "retain_seconds": _retain_seconds(body.get("retainSeconds")),
        "instance_type": instance,
    }


def _retain_seconds(value: Any) -> int:
    """``retainSeconds``: 0 (none) or 10-180, as a JSON integer or a digit string."""
    if value is None or value == "":
        return 0
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not (value == 0 or 10 <= value <= 180)
    ):
        raise ApiProblem(Problem.BAD_REQUEST, "retainSeconds must be 0 or from 10 to 180")
    return value


def parse_node_info_list(raw: Any) -> tuple[Override, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ApiProblem(Problem.BAD_REQUEST, "nodeInfoList must be a list")
    overrides = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ApiProblem(Problem.BAD_REQUEST, f"nodeInfoList[{index}] must be an object")
        node_id, field_name = item.get("nodeId"), item.get("fieldName")
        if isinstance(node_id, int) and not isinstance(node_id, bool):
            node_id = str(node_id)
        if not isinstance(node_id, str) or not node_id:
            raise ApiProblem(Problem.BAD_REQUEST, f"nodeInfoList[{index}].nodeId is required")
        if not isinstance(field_name, str) or not field_name:
            raise ApiProblem(Problem.BAD_REQUEST, f"nodeInfoList[{index}].fieldName is required")
        if "fieldValue" not in item:
            raise ApiProblem(Problem.BAD_REQUEST, f"nodeInfoList[{index}].fieldValue is required")
        overrides.append(Override(node_id, field_name, item["fieldValue"]))
    return tuple(overrides)


def prepare_workflow(
    submission: Submission,
    workflows: dict[str, dict[str, Any]],
    max_nodes: int | None = None,
    workflow_as_sent: bool = False,
) -> PreparedGraph:
    """The graph of a workflow run: stored (or the ``workflow`` JSON) plus the overrides.

    ``max_nodes`` refuses a bigger ``workflow`` before any work is spent on it. With
    ``workflow_as_sent`` a ``workflow`` runs as sent and its ``nodeInfoList`` is ignored, as
    the live service was seen to do.
    """
    stored = workflows.get(submission.source_id)
    if stored is None:
        raise ApiProblem(Problem.UNKNOWN_WORKFLOW, f"workflow {submission.source_id}")
    base = stored
    if submission.workflow_json is not None:
        if max_nodes is not None:
            # Every node has one "class_type" key: a cheap upper bound, before parsing.
            _check_node_count(submission.workflow_json.count('"class_type"'), max_nodes)
        try:
            base = parse_workflow(submission.workflow_json)
        except ValueError as error:
            raise ApiProblem(Problem.BAD_WORKFLOW_JSON, str(error)) from None
        if max_nodes is not None:
            _check_node_count(len(base), max_nodes)
    allowed = _graph_fields(base)
    if workflow_as_sent and submission.workflow_json is not None:
        return PreparedGraph(base, output_nodes(base), fingerprint(submission))
    return _prepare(submission, base, allowed)


async def prepare_workflow_off_loop(
    submission: Submission,
    workflows: dict[str, dict[str, Any]],
    max_nodes: int | None = None,
    workflow_as_sent: bool = False,
) -> PreparedGraph:
    """:func:`prepare_workflow` for a request handler: a long ``workflow`` is parsed and
    checked in a thread, whose Python steps give the event loop its turn every switch
    interval (on the loop, a graph at the node limit held it for 15-25 ms)."""
    prepare = functools.partial(
        prepare_workflow, submission, workflows, max_nodes, workflow_as_sent
    )
    if len(submission.workflow_json or "") < OFF_LOOP_CHARS:
        return prepare()
    return await asyncio.to_thread(prepare)


def prepare_app(submission: Submission, apps: dict[str, AppSpec]) -> PreparedGraph:
    """The graph of an app run: only the fields its apiCallDemo lists may be overridden."""
    app = apps.get(submission.source_id)
    if app is None:
        raise ApiProblem(Problem.UNKNOWN_APP, f"webapp {submission.source_id}")
    allowed = {(str(entry["nodeId"]), str(entry["fieldName"])) for entry in app.node_info_list}
    return _prepare(submission, app.graph, allowed or _graph_fields(app.graph))


def _graph_fields(graph: dict[str, Any]) -> set[tuple[str, str]]:
    return {(node_id, name) for node_id, node in graph.items() for name in node.get("inputs", {})}


def _prepare(
    submission: Submission, base: dict[str, Any], allowed: set[tuple[str, str]]
) -> PreparedGraph:
    # Copy on write: only the overridden nodes (a deep copy of a big graph would stall the
    # event loop, and nothing downstream changes a graph in place).
    graph = dict(base)
    copied: set[str] = set()
    for override in submission.overrides:
        if override.node_id not in graph:
            raise ApiProblem(Problem.INVALID_NODE, f"nodeId {override.node_id} does not exist")
        if (override.node_id, override.field_name) not in allowed:
            raise ApiProblem(
                Problem.INVALID_NODE,
                f"node {override.node_id} has no field {override.field_name}",
            )
        if override.node_id not in copied:
            node = dict(graph[override.node_id])
            node["inputs"] = dict(node.get("inputs", {}))
            graph[override.node_id] = node
            copied.add(override.node_id)
        graph[override.node_id]["inputs"][override.field_name] = override.value
    return PreparedGraph(graph, output_nodes(graph), fingerprint(submission))


def check_graph_size(prepared: PreparedGraph, max_nodes: int) -> None:
    """ApiProblem(BAD_WORKFLOW_JSON) for a graph larger than the emulator runs."""
    _check_node_count(len(prepared.graph), max_nodes)


def _check_node_count(count: int, max_nodes: int) -> None:
    if count > max_nodes:
        raise ApiProblem(
            Problem.BAD_WORKFLOW_JSON,
            f"the workflow has more nodes than the emulator's limit of {max_nodes} nodes",
        )


def output_nodes(graph: dict[str, Any]) -> list[str]:
    """ComfyUI's ``outputs_to_execute``: the engine's output nodes, else the graph's sinks
    (a graph of node types the engine does not know still gets a plausible answer)."""
    known = nodes.output_nodes(graph)
    if known:
        return known
    referenced = set()
    for node in graph.values():
        for value in node.get("inputs", {}).values():
            if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
                referenced.add(value[0])
    return [node_id for node_id in graph if node_id not in referenced]


def fingerprint(submission: Submission) -> str:
    """Hash of the source id, the canonical nodeInfoList and any ``workflow`` JSON.

    Canonical: items as ``[nodeId, fieldName, fieldValue]`` sorted by node and field,
    JSON with sorted keys and no spaces. Two submissions of the same input share it.
    """
    items = sorted(
        ([o.node_id, o.field_name, o.value] for o in submission.overrides),
        key=lambda item: (item[0], item[1]),
    )
    canonical = json.dumps(
        [submission.source, submission.source_id, items, submission.workflow_json],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def prompt_tips(outputs_to_execute: list[str], graph: dict[str, Any], check: bool) -> str:
    """ComfyUI's /prompt validation answer, as the JSON string RunningHub forwards.

    With ``check`` (the ``prompt_errors`` option) bad widget values are reported in
    ``node_errors`` while the task is still created, as the service does.
    """
    errors = nodes.widget_errors(graph) if check else {}
    return json.dumps(
        {
            "result": not errors,
            "error": None,
            "outputs_to_execute": outputs_to_execute,
            "node_errors": errors,
        }
    )
