"""The netWssUrl websocket: ComfyUI-style messages for one task, until it ends."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

INVERT = "1987728214757978114"
FAILING = "1900000000000000805"


def _messages(url: str) -> list[dict[str, Any]]:
    with connect(url, open_timeout=5, close_timeout=2) as socket:
        return [json.loads(message) for message in socket]


def _wss_url(raw_api, workflow_id: str) -> tuple[str, str]:
    data = raw_api.v1("/task/openapi/create", {"workflowId": workflow_id})["data"]
    return data["taskId"], data["netWssUrl"]


def test_a_successful_task_streams_comfyui_messages(raw_api) -> None:
    task_id, url = _wss_url(raw_api, INVERT)
    messages = _messages(url)
    types = [message["type"] for message in messages]
    assert types[0] == "status"
    assert {"executing", "executed", "execution_success"} <= set(types)
    assert types.index("execution_success") > types.index("executed")
    assert messages[-1] == {"type": "executing", "data": {"node": None, "prompt_id": task_id}}
    nodes = [m["data"]["node"] for m in messages if m["type"] == "executing"][:-1]
    assert nodes == ["107", "108", "109"]
    executed = next(m for m in messages if m["type"] == "executed")
    assert executed["data"]["node"] == "109" and executed["data"]["prompt_id"] == task_id
    assert raw_api.query(task_id)["status"] == "SUCCESS"


def test_progress_messages_carry_value_and_max(raw_api) -> None:
    overrides = [{"nodeId": "3", "fieldName": "steps", "fieldValue": 4}]
    body = {"workflowId": "1904136902449209346", "nodeInfoList": overrides}
    url = raw_api.v1("/task/openapi/create", body)["data"]["netWssUrl"]
    progress = [m["data"] for m in _messages(url) if m["type"] == "progress"]
    assert [(p["value"], p["max"]) for p in progress] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert all(p["node"] == "3" for p in progress)


def test_a_failing_task_ends_with_execution_error(raw_api) -> None:
    _, url = _wss_url(raw_api, FAILING)
    messages = _messages(url)
    error = next(m for m in messages if m["type"] == "execution_error")
    assert error["data"]["node_id"] == "276" and error["data"]["exception_type"]
    assert "execution_success" not in [m["type"] for m in messages]


def test_a_cancelled_task_ends_with_execution_interrupted(raw_api) -> None:
    raw_api.server.configure(task_seconds=5)
    task_id, url = _wss_url(raw_api, INVERT)
    with connect(url, open_timeout=5) as socket:
        assert json.loads(socket.recv(timeout=5))["type"] == "status"
        raw_api.v1("/task/openapi/cancel", {"taskId": task_id})
        rest = [json.loads(message)["type"] for message in socket]
    assert rest[-2:] == ["execution_interrupted", "executing"]


def test_a_late_connection_replays_the_whole_run(raw_api) -> None:
    task_id, url = _wss_url(raw_api, INVERT)
    raw_api.wait(task_id)
    types = [message["type"] for message in _messages(url)]
    assert types[0] == "status" and "executed" in types and "execution_success" in types


def test_a_wrong_token_is_refused(raw_api) -> None:
    _, url = _wss_url(raw_api, INVERT)
    with pytest.raises(InvalidStatus):
        _messages(url.replace("Rh-Comfy-Auth=", "Rh-Comfy-Auth=x"))
