"""Ids pasted as the website's addresses, on both faces: read locally, or refused unsent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from runninghub import InvalidRequestError, TaskStatus
from runninghub.emulator import EmulatorServer

from .conftest import APP_ID, INVERT_WORKFLOW

MakeClient = Callable[..., Any]


@pytest.mark.parametrize(
    "address",
    [
        f"https://www.runninghub.cn/workflow/{INVERT_WORKFLOW}",
        f"https://www.runninghub.ai/workflow/{INVERT_WORKFLOW}/",
        f"runninghub.cn/workflow/{INVERT_WORKFLOW}?from=share#top",
    ],
)
def test_a_workflow_address_submits_that_workflow(client: Any, address: str) -> None:
    handle = client.submit(address)
    assert handle.wait().status is TaskStatus.SUCCESS
    assert client.workflow_graph(address).nodes


@pytest.mark.parametrize(
    "address",
    [f"https://www.runninghub.cn/ai-detail/{APP_ID}", f"http://runninghub.ai/ai-detail/{APP_ID}"],
)
def test_an_app_address_submits_that_app(client: Any, address: str) -> None:
    assert client.app_inputs(address)
    assert client.submit_app(address, {"52.text": "neon"}).wait().status is TaskStatus.SUCCESS


def test_a_task_address_names_the_task(client: Any) -> None:
    task_id = client.submit(INVERT_WORKFLOW).task_id
    for address in (
        f"https://www.runninghub.cn/task/{task_id}",
        f"https://www.runninghub.ai/history?taskId={task_id}",
    ):
        handle = client.task(address)
        assert handle.task_id == task_id
        assert client.query(address).task_id == task_id
        assert handle.wait().status is TaskStatus.SUCCESS


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda c: c.submit("https://example.com/workflow/1"), "not a RunningHub address"),
        (lambda c: c.submit("https://www.runninghub.cn/workflow/"), "names no workflow"),
        (lambda c: c.submit(f"https://www.runninghub.cn/ai-detail/{APP_ID}"), "of an app"),
        (lambda c: c.submit_app("https://www.runninghub.cn/workflow/1"), "of a workflow"),
        (lambda c: c.task("https://www.runninghub.cn/workflow/1"), "not of a task"),
        (lambda c: c.cancel("https://www.runninghub.cn/task/12x"), "names no task"),
    ],
)
def test_a_bad_address_is_refused_before_anything_is_sent(
    client: Any, emulator: EmulatorServer, call: Callable[[Any], Any], expected: str
) -> None:
    with pytest.raises(InvalidRequestError, match=expected) as caught:
        call(client)
    assert caught.value.code is None
    assert emulator.stats()["requests"] == {}
