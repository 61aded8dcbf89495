"""``runninghub mcp`` while the account's queue is full (a task from elsewhere holds the only
slot): a run tool says so in progress notifications while its submit waits, its result says
how long it waited, and a call cancelled during the wait logs that nothing was submitted."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import pytest

from tests.mcp_server.mcp_harness import start_server, structured

TEXT_TO_IMAGE = "1904136902449209346"
DEADLINE = 30.0


@pytest.fixture
def full_queue(make_emulator: Any, make_raw_api: Any) -> Iterator[Any]:
    """An emulator whose only slot holds a long task; ``free()`` ends that task."""
    server = make_emulator(concurrency=1, task_seconds=60)
    api = make_raw_api(server)
    occupant = api.run_workflow(TEXT_TO_IMAGE)["taskId"]

    def free() -> None:
        server.configure(task_seconds=0.2)
        api.v1("/task/openapi/cancel", {"taskId": occupant})

    yield {"server": server, "free": free}
    server.configure(task_seconds=0)  # let the tasks end so the fixture stops cleanly


class Notes:
    """The progress messages of one call; ``queue_full`` is set on the first wait."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.queue_full = anyio.Event()

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        self.messages.append(message or "")
        if "queue full" in (message or ""):
            self.queue_full.set()


async def _run_until_full(
    server: Any, notes: Notes, then: Callable[[anyio.abc.TaskGroup], Any]
) -> dict[str, Any]:
    """Call run_workflow; once a queue-full notification arrived, ``then(group)``."""
    outcome: dict[str, Any] = {}
    async with anyio.create_task_group() as group:

        async def run() -> None:
            arguments = {"workflow_id": TEXT_TO_IMAGE, "wait_seconds": 30}
            outcome.update(structured(await server.call("run_workflow", arguments, notes)))

        group.start_soon(run)
        await notes.queue_full.wait()
        then(group)
    return outcome


async def test_a_run_tool_says_it_waits_for_a_slot_and_its_result_says_how_long(
    full_queue: Any, server_env: dict[str, str], tmp_path: Path
) -> None:
    notes = Notes()
    async with start_server(full_queue["server"].base_url, server_env, tmp_path) as server:
        result = await _run_until_full(server, notes, lambda _: full_queue["free"]())
    waits = [m for m in notes.messages if "queue full" in m]
    assert waits[0].startswith("queue full (1/1 running); waiting for a free slot... (next try")
    assert waits[0].endswith("nothing submitted yet)")
    assert "a slot is free: submitting now" in notes.messages
    assert result["status"] == "SUCCESS"
    assert result["queue_wait"].startswith("the submit waited ")
    assert result["queue_wait"].endswith(" s for a free slot (queue full: 1/1 running)")
    assert full_queue["server"].stats()["tasks_created"] == 2


async def test_a_call_cancelled_during_the_wait_logs_that_nothing_was_submitted(
    full_queue: Any, server_env: dict[str, str], tmp_path: Path
) -> None:
    notes = Notes()
    async with start_server(full_queue["server"].base_url, server_env, tmp_path) as server:
        # Cancelling the call makes the SDK send notifications/cancelled to the server.
        await _run_until_full(server, notes, lambda group: group.cancel_scope.cancel())
        logged = "cancelled while waiting for a free slot; nothing was submitted"
        deadline = time.monotonic() + DEADLINE
        while logged not in server.stderr():
            assert time.monotonic() < deadline, server.stderr()
            await anyio.sleep(0.1)  # polling the server's log for the line, not a timing
    assert full_queue["server"].stats()["tasks_created"] == 1  # only the task that holds the slot
