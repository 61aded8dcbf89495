"""Retries against the emulator's capacity limit and injected faults: never a second task."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from runninghub import (
    APIConnectionError,
    CapacityError,
    RetryPolicy,
    SubmitOutcomeUnknownError,
    TaskStatus,
)
from runninghub.emulator import EmulatorServer

from .conftest import FAST_RETRY, INVERT_WORKFLOW, TEXT_WORKFLOW, api_requests

MakeClient = Callable[..., Any]
MakeEmulator = Callable[..., EmulatorServer]


def test_capacity_refusal_is_waited_out(
    make_client: MakeClient, make_emulator: MakeEmulator
) -> None:
    server = make_emulator(concurrency=1, task_seconds=0.3)
    client = make_client(server)
    first = client.submit(INVERT_WORKFLOW)
    second = client.submit(INVERT_WORKFLOW, {"109.filename_prefix": "second"})  # 421 first
    assert api_requests(server, "/run/workflow/") >= 3  # at least one 421 was absorbed
    assert second.wait().status is TaskStatus.SUCCESS
    assert first.wait().status is TaskStatus.SUCCESS
    stats = server.stats()
    assert stats["tasks_created"] == 2
    assert stats["max_running"] == 1


def test_capacity_refusal_gives_up_after_its_budget(
    make_client: MakeClient, make_emulator: MakeEmulator
) -> None:
    server = make_emulator(concurrency=1, task_seconds=30)
    policy = RetryPolicy(capacity_timeout=0.2, capacity_initial_delay=0.05, capacity_max_delay=0.05)
    client = make_client(server, retry=policy)
    first = client.submit(INVERT_WORKFLOW)
    with pytest.raises(CapacityError) as caught:
        client.submit(INVERT_WORKFLOW)
    assert caught.value.code == "421"
    assert caught.value.hint is not None
    assert server.stats()["tasks_created"] == 1
    first.cancel()


@pytest.mark.parametrize("fault", ["truncated", "non_json", "http_500"])
def test_lost_submit_answer_is_never_resubmitted(
    make_client: MakeClient, emulator: EmulatorServer, fault: str
) -> None:
    client = make_client(validate=False)
    emulator.configure(fault_rate=1.0, fault_kinds=[fault])
    with pytest.raises(SubmitOutcomeUnknownError) as caught:
        client.submit(INVERT_WORKFLOW, {"109.filename_prefix": fault})
    emulator.configure(fault_rate=0.0)
    stats = emulator.stats()
    assert stats["tasks_created"] == 1  # the task exists: the answer was what got lost
    assert stats["tasks_by_fingerprint"] == {caught.value.fingerprint: 1}
    assert api_requests(emulator, "/run/workflow/") == 1
    assert "not resubmitted" in str(caught.value)


@pytest.mark.parametrize("fault", ["http_502", "http_503"])
def test_gateway_refusals_before_the_handler_are_retried(
    make_client: MakeClient, make_emulator: MakeEmulator, fault: str
) -> None:
    server = make_emulator(fault_rate=0.5, fault_kinds=[fault], fault_seed=11, task_seconds=0.1)
    client = make_client(server, retry=replace(FAST_RETRY, max_attempts=20))
    for index in range(4):
        client.submit(INVERT_WORKFLOW, {"109.filename_prefix": f"n{index}"})
    stats = server.stats()
    assert stats["faults"].get(fault, 0) > 0
    assert stats["tasks_created"] == 4
    assert set(stats["tasks_by_fingerprint"].values()) == {1}


def test_reads_survive_every_fault_kind(
    make_client: MakeClient, make_emulator: MakeEmulator
) -> None:
    server = make_emulator(task_seconds=0.1)
    client = make_client(server, retry=replace(FAST_RETRY, max_attempts=30))
    handle = client.submit(INVERT_WORKFLOW)
    server.configure(fault_rate=0.4, fault_seed=5, fault_slow_seconds=0.05)
    for _ in range(5):
        assert client.account().remain_coins is not None
        assert client.query(handle.task_id).task_id == handle.task_id
    assert client.workflow_graph(TEXT_WORKFLOW).resolve("6.text").name == "text"
    assert sum(server.stats()["faults"].values()) > 0


def test_wait_survives_transient_poll_failures(
    make_client: MakeClient, make_emulator: MakeEmulator
) -> None:
    server = make_emulator(task_seconds=0.5)
    client = make_client(server)
    handle = client.submit(INVERT_WORKFLOW)
    server.configure(
        fault_rate=0.3, fault_seed=3, fault_kinds=["http_502", "truncated", "non_json"]
    )
    assert handle.wait().status is TaskStatus.SUCCESS
    server.configure(fault_rate=0.0)
    assert server.stats()["tasks_created"] == 1


def test_unreachable_service(make_client: MakeClient, make_emulator: MakeEmulator) -> None:
    server = make_emulator()
    url = server.base_url
    server.stop()
    client = make_client(base_url=url, retry=FAST_RETRY)
    with pytest.raises(APIConnectionError) as caught:
        client.account()
    assert "could not connect" in str(caught.value)
    with pytest.raises(APIConnectionError):
        client.submit(INVERT_WORKFLOW, validate=False)  # never sent: retried, then raised
