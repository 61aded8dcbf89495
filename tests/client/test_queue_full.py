"""``on_queue_full``: a submit refused for a full queue tells the caller, and only then waits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runninghub import QueueFull, TaskStatus
from runninghub.emulator import EmulatorServer

from .conftest import INVERT_WORKFLOW, api_requests

MakeClient = Callable[..., Any]
MakeEmulator = Callable[..., EmulatorServer]


def test_a_full_queue_is_reported_with_its_counts_before_and_after_each_pause(
    make_client: MakeClient, make_emulator: MakeEmulator, make_raw_api: Callable[..., Any]
) -> None:
    server = make_emulator(concurrency=1, task_seconds=30)
    events: list[QueueFull] = []
    created_when_told: list[int] = []
    occupant = make_client(server).submit(INVERT_WORKFLOW)

    def on_queue_full(event: QueueFull) -> None:
        events.append(event)
        created_when_told.append(server.stats()["tasks_created"])
        if len(events) == 3:  # two refusals reported: free the slot for the next attempt
            server.configure(task_seconds=0.2)
            make_raw_api(server).v1("/task/openapi/cancel", {"taskId": occupant.task_id})

    client = make_client(server, on_queue_full=on_queue_full)
    second = client.submit(INVERT_WORKFLOW, {"109.filename_prefix": "second"})
    assert [event.resuming for event in events] == [False, True, False, True]
    told = events[0]
    assert (told.running, told.limit, told.code) == (1, 1, "421")
    assert "queue" in told.message.lower() and told.retry_in > 0
    assert events[2].waited > told.waited
    assert created_when_told == [1, 1, 1, 1]  # every report came before anything new existed
    assert second.wait().status is TaskStatus.SUCCESS
    assert server.stats()["tasks_created"] == 2


def test_without_a_callback_a_full_queue_costs_no_status_read(
    make_client: MakeClient, make_emulator: MakeEmulator
) -> None:
    server = make_emulator(concurrency=1, task_seconds=0.3)
    client = make_client(server)
    client.submit(INVERT_WORKFLOW)
    client.submit(INVERT_WORKFLOW, {"109.filename_prefix": "second"}).wait()
    assert server.stats()["tasks_created"] == 2
    assert api_requests(server, "/run/workflow/") >= 3  # at least one 421 was absorbed
    assert api_requests(server, "/queue/status") == 0
