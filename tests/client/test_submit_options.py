"""The submit options of workflows, apps and models: personal queue, warm machines, passwords."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from runninghub import CapacityError, InvalidRequestError, RetryPolicy, TaskStatus
from runninghub.emulator import EmulatorServer

from .conftest import APP_ID, INVERT_WORKFLOW, api_requests


def test_the_personal_queue_holds_a_task_and_814_says_when_it_is_full(
    make_emulator: Callable[..., EmulatorServer], make_client: Callable[..., Any]
) -> None:
    server = make_emulator(
        key_type="EXCLUSIVE", concurrency=1, personal_queue_limit=1, task_seconds=30
    )
    client = make_client(server, retry=RetryPolicy.never())
    assert client.submit(INVERT_WORKFLOW).last.status is TaskStatus.RUNNING
    queued = client.submit(INVERT_WORKFLOW, personal_queue=True)
    assert queued.last.status is TaskStatus.QUEUED
    with pytest.raises(CapacityError, match="personal queue") as caught:
        client.submit_app(APP_ID, personal_queue=True)
    assert caught.value.code == "814" and server.stats()["tasks_created"] == 2


def test_retain_seconds_are_checked_before_sending(client: Any, emulator: EmulatorServer) -> None:
    with pytest.raises(InvalidRequestError, match="retain seconds must be 0 or 10-180"):
        client.submit(INVERT_WORKFLOW, retain_seconds=500)
    assert api_requests(emulator, "/openapi/v2/") == 0
    assert client.run(INVERT_WORKFLOW, retain_seconds=60).status is TaskStatus.SUCCESS


def test_an_access_password_is_sent_but_never_logged(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        task = client.run_app(APP_ID, access_password="hunter2-open-sesame")
    assert task.status is TaskStatus.SUCCESS
    assert "accessPassword" in caplog.text and "hunter2-open-sesame" not in caplog.text
