"""Whatever a client sends, the answer is a documented JSON error, never a crash or a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runninghub.emulator import EmulatorServer, serve_in_thread

KEY = "0123456789abcdef0123456789abcdef"
POST_ROUTES = [
    "/task/openapi/create",
    "/task/openapi/ai-app/run",
    "/task/openapi/status",
    "/task/openapi/outputs",
    "/task/openapi/cancel",
    "/task/openapi/getWebhookDetail",
    "/task/openapi/retryWebhook",
    "/api/openapi/getJsonApiFormat",
    "/uc/openapi/accountStatus",
    "/openapi/v2/run/workflow/1987728214757978114",
    "/openapi/v2/run/ai-app/1877265245566922753",
    "/openapi/v2/query",
    "/openapi/v2/aiapp/list",
]
FIELDS = [
    "apiKey",
    "apikey",
    "workflowId",
    "webappId",
    "taskId",
    "nodeInfoList",
    "webhookUrl",
    "webhookId",
    "workflow",
    "usePersonalQueue",
    "addMetadata",
    "instanceType",
    "current",
    "size",
]
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
values = st.recursive(
    scalars | st.sampled_from([KEY, "1987728214757978114", "107", "image"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=8,
)
node_items = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "nodeId": values,
            "fieldName": st.sampled_from(["image", "text", "seed", "x"]) | values,
            "fieldValue": values,
        },
    ),
    max_size=3,
)
bodies = st.dictionaries(st.sampled_from(FIELDS), values, max_size=6) | st.builds(
    lambda base, items: {**base, "nodeInfoList": items},
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=4),
    node_items,
)


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    emulator = serve_in_thread(task_seconds=0.05, concurrency=1000)
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def client(server: EmulatorServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=server.base_url, headers=headers, trust_env=False) as http:
        yield http


def _check(answer: httpx.Response) -> Any:
    assert answer.status_code == 200, (answer.status_code, answer.text)
    body = answer.json()
    assert "code" in body or "errorCode" in body
    return body


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(route=st.sampled_from(POST_ROUTES), body=bodies)
def test_any_json_body_gets_a_json_answer(client: httpx.Client, route: str, body: Any) -> None:
    _check(client.post(route, content=json.dumps(body)))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(route=st.sampled_from(POST_ROUTES), raw=st.binary(max_size=64))
def test_any_bytes_get_a_json_answer(client: httpx.Client, route: str, raw: bytes) -> None:
    _check(client.post(route, content=raw, headers={"Content-Type": "application/json"}))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=200), boundary=st.sampled_from(["b", "xyz", ""]))
def test_any_multipart_body_gets_a_json_answer(
    client: httpx.Client, raw: bytes, boundary: str
) -> None:
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    for route in ("/task/openapi/upload", "/openapi/v2/media/upload/binary"):
        _check(client.post(route, content=raw, headers=headers))
