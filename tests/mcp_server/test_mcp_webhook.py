"""The webhook tools of ``runninghub mcp``: a task's delivery record, and sending it again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import runninghub
from tests.emulator.emulator_helpers import Receiver, wait_for_deliveries
from tests.mcp_server.mcp_harness import error_of, start_server, structured

INVERT = "1987728214757978114"


@pytest.fixture
def hook() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


async def test_webhook_detail_and_retry_tools(
    emulator: Any, server_env: dict[str, str], tmp_path: Path, api_key: str, hook: Receiver
) -> None:
    with runninghub.Client(api_key, base_url=emulator.base_url) as client:
        task = client.run(INVERT, webhook_url=hook.url)
        plain = client.submit(INVERT).task_id
    wait_for_deliveries(emulator, 1)

    async with start_server(emulator.base_url, server_env, tmp_path) as server:
        detail = structured(await server.call("webhook_detail", {"task_id": task.task_id}))
        retried = structured(await server.call("retry_webhook", {"task_id": task.task_id}))
        wait_for_deliveries(emulator, 2)
        missing = await server.call("webhook_detail", {"task_id": plain})
        bad = await server.call("retry_webhook", {"task_id": task.task_id, "webhook_url": "x:y"})

    assert detail["task_id"] == task.task_id and detail["webhook_url"] == hook.url
    assert detail["callback_status"] == "SUCCESS"
    assert retried == {"task_id": task.task_id, "webhook_url": hook.url, "retried": True}
    assert [call["taskId"] for call in hook.calls] == [task.task_id, task.task_id]
    assert error_of(missing)["type"] == "NotFoundError"
    assert f"task {plain} has no webhook delivery" in error_of(missing)["message"]
    assert error_of(bad)["type"] == "InvalidRequestError"
    server.assert_never_shows(api_key)
