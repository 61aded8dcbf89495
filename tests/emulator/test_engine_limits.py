"""The node engine's own bounds: memory of a chain, cost of planning, and stopping on demand."""

from __future__ import annotations

import gc
import sys
from typing import Any

import pytest

from runninghub.emulator import nodes
from runninghub.emulator._node_types import EngineLimits, ImageBatch
from runninghub.emulator.nodes import NodeExecutionError, execute, parse_graph, plan

# An odd size, so that images of other tests' emulators (threads of this process) are not
# counted.
SIZE = (37, 23)


def _chain(length: int) -> dict[str, Any]:
    width, height = SIZE
    graph: dict[str, Any] = {
        "1": {"class_type": "EmptyImage", "inputs": {"width": width, "height": height}}
    }
    for index in range(2, length + 2):
        graph[str(index)] = {"class_type": "ImageInvert", "inputs": {"image": [str(index - 1), 0]}}
    graph[str(length + 2)] = {"class_type": "SaveImage", "inputs": {"images": [str(length + 1), 0]}}
    return graph


def _live_batches() -> int:
    # type(), not isinstance(): a dead weak proxy among the objects raises on isinstance.
    return sum(1 for item in gc.get_objects() if type(item) is ImageBatch and item.size == SIZE)


def test_a_chain_keeps_only_the_images_still_needed() -> None:
    alive: list[int] = []

    def count(event: str, data: dict[str, Any]) -> None:
        if event == "executing" and data.get("node") is not None:
            alive.append(_live_batches())

    before = _live_batches()
    outputs = execute(_chain(12), load_media=lambda name: b"", on_event=count)
    assert len(outputs) == 1
    assert max(alive) - before <= 2, alive  # the input of the running node, and its output


def _lines_run_while_planning(graph: dict[str, Any]) -> int:
    parsed = parse_graph(graph)
    counted = 0

    def trace(frame: Any, event: str, arg: Any) -> Any:
        nonlocal counted
        if frame.f_code.co_filename == nodes.__file__:
            if event == "line":
                counted += 1
            return trace
        return None

    sys.settrace(trace)
    try:
        plan(parsed)
    finally:
        sys.settrace(None)
    return counted


def test_planning_grows_linearly_with_the_graph() -> None:
    small = _lines_run_while_planning(_chain(500))
    large = _lines_run_while_planning(_chain(2000))
    # Four times the nodes: about four times the work (a quadratic planner does sixteen).
    assert large < 6 * small, (small, large)


def test_a_stop_request_ends_a_run_between_nodes() -> None:
    ran: list[str] = []

    def record(event: str, data: dict[str, Any]) -> None:
        if event == "executing" and data.get("node") is not None:
            ran.append(data["node"])

    limits = EngineLimits(should_stop=lambda: len(ran) >= 3)
    with pytest.raises(NodeExecutionError) as stopped:
        execute(_chain(50), load_media=lambda name: b"", on_event=record, limits=limits)
    assert stopped.value.exception_type == "InterruptedError"
    assert len(ran) == 3


def test_the_pixel_budget_counts_every_image_a_node_makes() -> None:
    limits = EngineLimits(max_task_pixels=SIZE[0] * SIZE[1] * 5)
    with pytest.raises(NodeExecutionError) as over:
        execute(_chain(10), load_media=lambda name: b"", limits=limits)
    assert "pixels" in over.value.exception_message
    assert execute(_chain(3), load_media=lambda name: b"", limits=limits)
