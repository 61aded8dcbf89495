"""Execute ComfyUI API-format workflows for real, the way a RunningHub worker would.

A workflow is ``{"<node id>": {"class_type": ..., "inputs": {...}, "_meta": {...}}, ...}``
where an input is either a literal (a widget value) or a link ``["<node id>", <slot>]`` to
an output slot of another node. Like ComfyUI, the engine runs only the output nodes and
what they depend on, in dependency order, and reports ComfyUI's websocket events on the
way. Any failure (unknown node type, broken link, cycle, bad input, error inside a node)
becomes a :class:`NodeExecutionError` whose :meth:`~NodeExecutionError.failed_reason` is
the ``failedReason`` object RunningHub returns for a failed task.

Example::

    outputs = execute(graph, load_media=lambda name: Path(name).read_bytes())
    Path("out.png").write_bytes(outputs[0].data)
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ._comfy_frames import comfy_frames
from ._image_nodes import IMAGE_NODES
from ._node_types import (
    ANY,
    EngineLimits,
    NodeContext,
    NodeSpec,
    ProducedOutput,
    coerce_input,
    pixels_of,
)
from ._sampling_nodes import SAMPLING_NODES
from ._text_nodes import TEXT_NODES

__all__ = [
    "SUPPORTED_NODES",
    "EngineEventCallback",
    "NodeExecutionError",
    "ProducedOutput",
    "check_graph",
    "execute",
    "output_nodes",
    "widget_errors",
]

EngineEventCallback = Callable[[str, dict[str, Any]], None]

_SPECS: dict[str, NodeSpec] = {
    spec.class_type: spec for spec in (*IMAGE_NODES, *SAMPLING_NODES, *TEXT_NODES)
}
SUPPORTED_NODES: frozenset[str] = frozenset(_SPECS)

# Which declared output kinds an input of a given kind also accepts through a link.
_ALSO_ACCEPTS = {"COMBO": {"STRING"}, "FLOAT": {"INT"}}


class NodeExecutionError(Exception):
    """A workflow failed at one node (``node_id`` is "" when no single node is to blame)."""

    def __init__(
        self,
        node_id: str,
        node_type: str,
        exception_type: str,
        exception_message: str,
        traceback: list[str] | None = None,
    ) -> None:
        super().__init__(f"node {node_id} ({node_type}): {exception_type}: {exception_message}")
        self.node_id = node_id
        self.node_type = node_type
        self.exception_type = exception_type
        self.exception_message = exception_message
        self.traceback = list(traceback or [])

    @classmethod
    def from_exception(cls, node_id: str, node_type: str, error: Exception) -> NodeExecutionError:
        # ComfyUI's frames for this node type: the emulator's own paths mean nothing to a
        # workflow author (and describe the machine it runs on).
        frames = comfy_frames(node_type)
        return cls(node_id, node_type, type(error).__name__, str(error), frames)

    def failed_reason(self) -> dict[str, str]:
        """RunningHub's ``failedReason``: snake_case keys, every value a string."""
        return {
            "current_outputs": "{}",
            "exception_type": self.exception_type,
            "node_name": self.node_type,
            "current_inputs": "{}",
            "traceback": json.dumps(self.traceback),
            "node_id": self.node_id,
            "exception_message": self.exception_message,
        }

    def event_data(self, executed: list[str]) -> dict[str, Any]:
        """The data of ComfyUI's ``execution_error`` websocket message."""
        return {
            "node_id": self.node_id,
            "node_type": self.node_type,
            "executed": list(executed),
            "exception_message": self.exception_message,
            "exception_type": self.exception_type,
            "traceback": list(self.traceback),
            "current_inputs": {},
            "current_outputs": {},
        }


@dataclass(frozen=True)
class _Node:
    node_id: str
    class_type: str
    spec: NodeSpec
    literals: dict[str, Any]
    links: dict[str, tuple[str, int]]


def execute(  # noqa: PLR0913 - the graph, then what the engine is given, by keyword
    graph: Mapping[str, Any],
    *,
    load_media: Callable[[str], bytes],
    add_metadata: bool = True,
    on_event: EngineEventCallback | None = None,
    prompt_id: str | None = None,
    limits: EngineLimits | None = None,
) -> list[ProducedOutput]:
    """Run ``graph`` and return the files its output nodes produced, in execution order.

    ``load_media`` turns a LoadImage ``image`` value into bytes (raising FileNotFoundError
    or ValueError when it cannot). ``add_metadata`` embeds the graph in saved PNGs as the
    ``prompt`` text chunk. ``on_event(type, data)`` receives ComfyUI's websocket events;
    ``prompt_id``, when given, is added to each event's data. ``limits`` bounds the work
    (frames, output files, pixels) and can stop the run between steps.
    Raises NodeExecutionError. Deterministic: the same graph and media give the same bytes.
    """
    run = _Run(graph, load_media, add_metadata, on_event, prompt_id)
    run.limits = limits or EngineLimits()
    return run.execute()


def output_nodes(graph: Mapping[str, Any]) -> list[str]:
    """Ids of the graph's output nodes (ComfyUI's ``outputs_to_execute``), in numeric order.

    Only node types the engine implements are recognised; nothing is validated or run.
    """
    found = [
        str(node_id)
        for node_id, entry in graph.items()
        if isinstance(entry, Mapping)
        and (spec := _SPECS.get(str(entry.get("class_type")))) is not None
        and spec.is_output
    ]
    return sorted(found, key=_sort_key)


def check_graph(graph: Mapping[str, Any]) -> None:
    """Validate a graph without running it, as ComfyUI does when a prompt is queued.

    Raises the NodeExecutionError that :func:`execute` would raise before running any node:
    unknown node type, malformed node or link, missing link target, wrong link type, cycle,
    no output node. Errors that depend on values or media surface only when executing.
    """
    plan(parse_graph(graph))


def widget_errors(graph: Mapping[str, Any]) -> dict[str, Any]:
    """ComfyUI's ``node_errors`` for widget values its /prompt validation refuses.

    Only literal values of node types the engine implements are checked, the way ComfyUI
    checks a combo's list and a number's range before queueing.
    """
    found: dict[str, Any] = {}
    for node_id, entry in graph.items():
        spec = _SPECS.get(str(entry.get("class_type"))) if isinstance(entry, Mapping) else None
        inputs = entry.get("inputs", {}) if spec is not None else {}
        errors = []
        for name, value in inputs.items() if isinstance(inputs, Mapping) else ():
            if spec is None or name not in spec.inputs or isinstance(value, list):
                continue
            try:
                coerce_input(name, spec.inputs[name], value)
            except (TypeError, ValueError) as error:
                message = str(error).split(":", 1)[0]
                errors.append({"type": "value_invalid", "message": message, "details": str(error)})
        if errors and spec is not None:
            found[str(node_id)] = {"errors": errors, "class_type": spec.class_type}
    return found


class _Run:
    """The state of one execution: computed values, produced files, events."""

    def __init__(
        self,
        graph: Mapping[str, Any],
        load_media: Callable[[str], bytes],
        add_metadata: bool,
        on_event: EngineEventCallback | None,
        prompt_id: str | None,
    ) -> None:
        self.graph = graph
        self.load_media = load_media
        self.add_metadata = add_metadata
        self.on_event = on_event
        self.base: dict[str, Any] = {} if prompt_id is None else {"prompt_id": prompt_id}
        self.values: dict[str, tuple[Any, ...]] = {}
        self.produced: list[ProducedOutput] = []
        self.executed: list[str] = []
        self.file_numbers: dict[str, int] = {}
        self.limits = EngineLimits()
        self.pixels = 0
        # How many nodes still to run read each node's values: freed at zero, so a long
        # chain holds two images at a time, not all of them.
        self.readers: dict[str, int] = {}

    def emit(self, event: str, data: dict[str, Any]) -> None:
        if self.on_event is not None:
            self.on_event(event, {**data, **self.base})

    def execute(self) -> list[ProducedOutput]:
        self.emit("execution_start", {})
        try:
            nodes = parse_graph(self.graph)
            order = plan(nodes)
            for node_id in order:
                for source in _sources(nodes[node_id]):
                    self.readers[source] = self.readers.get(source, 0) + 1
            for node_id in order:
                self.check_stop(nodes[node_id])
                self.run_node(nodes[node_id])
        except NodeExecutionError as error:
            self.emit("execution_error", error.event_data(self.executed))
            self.emit("executing", {"node": None})
            raise
        self.emit("execution_success", {})
        # ComfyUI ends every prompt with this message; older clients wait for it.
        self.emit("executing", {"node": None})
        return self.produced

    def run_node(self, node: _Node) -> None:
        self.emit("executing", {"node": node.node_id, "display_node": node.node_id})
        context = NodeContext(
            node_id=node.node_id,
            class_type=node.class_type,
            graph=self.graph,
            add_metadata=self.add_metadata,
            load_media=self.load_media,
            report_progress=lambda value, total: self.emit(
                "progress", {"value": value, "max": total, "node": node.node_id}
            ),
            next_file_number=self.next_file_number,
            limits=self.limits,
        )
        try:
            result = node.spec.run(context, self.inputs_for(node))
        except NodeExecutionError:
            raise
        except Exception as error:
            raise NodeExecutionError.from_exception(node.node_id, node.class_type, error) from error
        self.account(node, result.values, len(result.produced))
        self.values[node.node_id] = result.values
        self.produced.extend(result.produced)
        self.executed.append(node.node_id)
        self.release_inputs(node)
        if result.ui:
            output = {"node": node.node_id, "display_node": node.node_id, "output": result.ui}
            self.emit("executed", output)

    def check_stop(self, node: _Node) -> None:
        if self.limits.should_stop():
            message = "the emulator is stopping; the task did not finish"
            raise NodeExecutionError(node.node_id, node.class_type, "InterruptedError", message)

    def account(self, node: _Node, values: tuple[Any, ...], files: int) -> None:
        """Charge a node's pixels and files to the task's budget (NodeExecutionError past it)."""
        self.pixels += pixels_of(values)
        limits = self.limits
        if self.pixels > limits.max_task_pixels:
            message = (
                f"the task made more than {limits.max_task_pixels} pixels (the emulator's limit)"
            )
            raise NodeExecutionError(node.node_id, node.class_type, "MemoryError", message)
        if len(self.produced) + files > limits.max_outputs:
            message = (
                f"the task would write more than {limits.max_outputs} output files "
                "(the emulator's limit)"
            )
            raise NodeExecutionError(node.node_id, node.class_type, "ValueError", message)

    def release_inputs(self, node: _Node) -> None:
        for source in _sources(node):
            self.readers[source] -= 1
            if self.readers[source] == 0:
                self.values.pop(source, None)

    def inputs_for(self, node: _Node) -> dict[str, Any]:
        """The node's declared inputs: linked values, literals, or defaults, each checked."""
        values: dict[str, Any] = {}
        for name, spec in node.spec.inputs.items():
            if name in node.links:
                source, slot = node.links[name]
                value = self.values[source][slot]
            elif name in node.literals:
                value = node.literals[name]
            elif spec.required:
                raise ValueError(f"Required input is missing: {name}")
            else:
                values[name] = spec.default
                continue
            values[name] = coerce_input(name, spec, value)
        return values

    def next_file_number(self, prefix: str) -> int:
        self.file_numbers[prefix] = self.file_numbers.get(prefix, 0) + 1
        return self.file_numbers[prefix]


def _sort_key(node_id: str) -> tuple[int, int, str]:
    """Numeric ids in numeric order ("3" before "10"), then any other ids."""
    if node_id.isascii() and node_id.isdigit() and len(node_id) < 100:
        return (0, int(node_id), node_id)
    return (1, 0, node_id)


def parse_graph(graph: Mapping[str, Any]) -> dict[str, _Node]:
    """Check the graph's shape and that every node type exists; split literals from links."""
    if not isinstance(graph, Mapping):
        raise NodeExecutionError("", "", "TypeError", "a workflow must be a JSON object of nodes")
    entries = sorted(
        ((str(key), entry) for key, entry in graph.items()), key=lambda item: _sort_key(item[0])
    )
    return {node_id: _parse_node(node_id, entry) for node_id, entry in entries}


def _parse_node(node_id: str, entry: Any) -> _Node:
    class_type = entry.get("class_type") if isinstance(entry, Mapping) else None
    if not isinstance(class_type, str):
        message = f"node {node_id} has no class_type"
        raise NodeExecutionError(node_id, "", "ValueError", message)
    spec = _SPECS.get(class_type)
    if spec is None:
        message = (
            f"Cannot execute because node {class_type} does not exist: the RunningHub emulator "
            f"implements {', '.join(sorted(SUPPORTED_NODES))}"
        )
        raise NodeExecutionError(node_id, class_type, "NotImplementedError", message)
    raw_inputs = entry.get("inputs", {})
    if not isinstance(raw_inputs, Mapping):
        raise NodeExecutionError(node_id, class_type, "ValueError", "inputs must be an object")
    literals: dict[str, Any] = {}
    links: dict[str, tuple[str, int]] = {}
    # Like ComfyUI, inputs the node type does not declare are ignored.
    for name, value in raw_inputs.items():
        if name not in spec.inputs:
            continue
        if isinstance(value, list):
            links[name] = _parse_link(node_id, class_type, name, value)
        else:
            literals[name] = value
    return _Node(node_id, class_type, spec, literals, links)


def _parse_link(node_id: str, class_type: str, name: str, value: list[Any]) -> tuple[str, int]:
    if (
        len(value) == 2
        and isinstance(value[0], (str, int))
        and not isinstance(value[0], bool)
        and isinstance(value[1], int)
        and not isinstance(value[1], bool)
    ):
        return str(value[0]), value[1]
    message = (
        f"Bad linked input {name}: {value!r}, must be a length-2 list of [node_id, slot_index]"
    )
    raise NodeExecutionError(node_id, class_type, "ValueError", message)


def plan(nodes: Mapping[str, _Node]) -> list[str]:
    """The output nodes and everything they depend on, in a deterministic dependency order.

    Linear in the size of the graph (Kahn's algorithm over a map of dependents): a planner
    that rescans every waiting node after each step takes minutes on a 12,000-node graph.
    """
    outputs = [node_id for node_id, node in nodes.items() if node.spec.is_output]
    if not outputs:
        raise NodeExecutionError("", "", "ValueError", "Prompt has no outputs")
    needed = _needed(nodes, outputs)
    waiting: dict[str, int] = {}
    dependents: dict[str, list[str]] = {}
    for node_id in needed:
        sources = set(_sources(nodes[node_id]))
        waiting[node_id] = len(sources)
        for source in sources:
            dependents.setdefault(source, []).append(node_id)
    ready = [_sort_key(node_id) for node_id, count in waiting.items() if not count]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        node_id = heapq.heappop(ready)[2]
        order.append(node_id)
        for other in dependents.get(node_id, ()):
            waiting[other] -= 1
            if not waiting[other]:
                heapq.heappush(ready, _sort_key(other))
    if len(order) < len(needed):
        _raise_cycle(nodes, needed - set(order))
    return order


def _sources(node: _Node) -> list[str]:
    return [source for source, _ in node.links.values()]


def _needed(nodes: Mapping[str, _Node], outputs: list[str]) -> set[str]:
    """Every node reachable backwards from the outputs, with each link checked on the way."""
    needed: set[str] = set()
    pending = list(outputs)
    while pending:
        node_id = pending.pop()
        if node_id in needed:
            continue
        needed.add(node_id)
        node = nodes[node_id]
        for name, (source, slot) in node.links.items():
            _check_link(nodes, node, name, source, slot)
            pending.append(source)
    return needed


def _check_link(nodes: Mapping[str, _Node], node: _Node, name: str, source: str, slot: int) -> None:
    def fail(exception_type: str, message: str) -> None:
        raise NodeExecutionError(node.node_id, node.class_type, exception_type, message)

    if source not in nodes:
        fail("KeyError", f"input '{name}' links to node {source}, which is not in the workflow")
    outputs = nodes[source].spec.outputs
    if not 0 <= slot < len(outputs):
        fail(
            "IndexError",
            f"input '{name}' links to output {slot} of node {source} "
            f"({nodes[source].class_type}), which has {len(outputs)} output(s)",
        )
    kind, given = node.spec.inputs[name].kind, outputs[slot]
    if kind not in (ANY, given) and given not in _ALSO_ACCEPTS.get(kind, set()):
        fail(
            "TypeError",
            f"input '{name}' expects {kind}, but output {slot} of node {source} "
            f"({nodes[source].class_type}) is {given}",
        )


def _raise_cycle(nodes: Mapping[str, _Node], stuck: set[str]) -> None:
    """Name one dependency cycle among the nodes that could never become ready."""
    start = min(stuck, key=_sort_key)
    path = [start]
    on_path = {start: 0}
    while True:
        following = min((s for s in _sources(nodes[path[-1]]) if s in stuck), key=_sort_key)
        if following in on_path:
            cycle = [*path[on_path[following] :], following]
            break
        on_path[following] = len(path)
        path.append(following)
    first = cycle[0]
    message = f"the workflow has a dependency cycle: {' -> '.join(cycle)}"
    raise NodeExecutionError(first, nodes[first].class_type, "ValueError", message)
