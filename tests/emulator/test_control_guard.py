"""Who may use the control routes, and where webhooks may go.

A web page the user happens to open can POST to 127.0.0.1 (a "simple" cross-origin request
needs no preflight), and a DNS-rebinding page reaches it under its own host name. The control
routes refuse both: they check Host and Origin and take only JSON bodies. Webhooks never
target the emulator's control paths, and ``webhook_allow`` restricts them further.
"""

from __future__ import annotations

import re
import subprocess
import sys

import httpx
import pytest

from tests.emulator.emulator_helpers import Receiver

INVERT = "1987728214757978114"
READY = re.compile(r"RunningHub emulator listening on http://[^:]+:(\d+)")


def _one_task(raw_api) -> str:
    task_id = raw_api.run_workflow(INVERT)["taskId"]
    raw_api.wait(task_id)
    return task_id


def test_a_cross_origin_text_post_cannot_reset_the_emulator(raw_api) -> None:
    task_id = _one_task(raw_api)
    url = f"{raw_api.server.base_url}/__emulator__/reset"
    page = {"Origin": "http://evil.example", "Content-Type": "text/plain"}
    refused = httpx.post(url, content=b"{}", headers=page, trust_env=False)
    plain = httpx.post(url, content=b"{}", headers={"Content-Type": "text/plain"}, trust_env=False)
    assert refused.status_code == 403 and "origin" in refused.json()["error"].lower()
    assert plain.status_code == 415 and "application/json" in plain.json()["error"]
    assert raw_api.query(task_id)["status"] == "SUCCESS"
    assert raw_api.server.stats()["tasks_created"] == 1


def test_another_origin_is_refused_even_with_a_json_body(raw_api) -> None:
    url = f"{raw_api.server.base_url}/__emulator__/config"
    for origin in ("http://evil.example", "http://localhost:1", "null"):
        answer = httpx.post(
            url, json={"concurrency": 9}, headers={"Origin": origin}, trust_env=False
        )
        assert answer.status_code == 403, origin
    assert raw_api.server.configure()["concurrency"] == 2
    own = raw_api.server.base_url
    same = httpx.post(url, json={"concurrency": 3}, headers={"Origin": own}, trust_env=False)
    assert same.status_code == 200 and same.json()["concurrency"] == 3


def test_a_foreign_host_header_is_refused_on_every_control_route(raw_api) -> None:
    base = raw_api.server.base_url
    foreign = {"Host": "rebind.evil.example"}
    for method, path in (("GET", "stats"), ("GET", "config"), ("POST", "reset")):
        answer = httpx.request(
            method, f"{base}/__emulator__/{path}", json={}, headers=foreign, trust_env=False
        )
        assert answer.status_code == 403 and "host" in answer.json()["error"].lower(), path
    assert httpx.get(f"{base}/__emulator__/stats", trust_env=False).status_code == 200


def test_a_control_token_is_required_when_one_is_set(make_emulator) -> None:
    server = make_emulator(control_token="tok-" + "x" * 20)
    url = f"{server.base_url}/__emulator__/stats"
    assert httpx.get(url, trust_env=False).status_code == 403
    wrong = httpx.get(url, headers={"X-Emulator-Token": "tok-é".encode()}, trust_env=False)
    assert wrong.status_code == 403
    token = {"X-Emulator-Token": "tok-" + "x" * 20}
    assert httpx.get(url, headers=token, trust_env=False).status_code == 200
    assert server.stats()["tasks_created"] == 0  # the server's own helpers send it
    by_other_name = {**token, "Host": "emulator.lan"}  # a wide bind is reached by any name
    assert httpx.get(url, headers=by_other_name, trust_env=False).status_code == 200
    assert "tok-" not in httpx.get(f"{server.base_url}/__emulator__/config", headers=token).text


def test_a_non_loopback_bind_warns_and_protects_the_control_routes() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "runninghub.emulator.server", "--host", "0.0.0.0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        match = READY.search(process.stdout.readline())
        assert match, process.stderr.read()
        warning = process.stderr.readline()
        url = f"http://127.0.0.1:{match.group(1)}/__emulator__/stats"
        refused = httpx.get(url, trust_env=False)
        token = re.search(r"X-Emulator-Token: (\S+)", warning)
        assert token, warning
        allowed = httpx.get(url, headers={"X-Emulator-Token": token.group(1)}, trust_env=False)
    finally:
        process.terminate()
        process.communicate(timeout=10)
    assert warning.startswith("warning: ") and "0.0.0.0" in warning
    assert refused.status_code == 403
    assert allowed.status_code == 200


@pytest.mark.parametrize(
    "path", ["/__emulator__/reset", "/%5F%5Femulator__/reset", "/x/../__emulator__/config"]
)
def test_a_webhook_to_the_control_routes_is_refused_and_creates_nothing(raw_api, path) -> None:
    task_id = _one_task(raw_api)
    hook = f"{raw_api.server.base_url}{path}"
    answer = raw_api.run_workflow(INVERT, webhookUrl=hook)
    assert answer["errorCode"] == "1007" and "webhookUrl" in answer["errorMessage"]
    legacy = raw_api.v1("/task/openapi/create", {"workflowId": INVERT, "webhookUrl": hook})
    assert legacy["code"] == 301
    assert raw_api.server.stats()["tasks_created"] == 1
    assert raw_api.query(task_id)["status"] == "SUCCESS"


def test_webhook_targets_can_be_restricted_to_an_allow_list(make_emulator, make_raw_api) -> None:
    allowed, other = Receiver(), Receiver()
    try:
        allowed_host = allowed.url.split("/")[2]
        server = make_emulator(task_seconds=0.05, webhook_allow=[allowed_host])
        api = make_raw_api(server)
        refused = api.run_workflow(INVERT, webhookUrl=other.url)
        assert refused["errorCode"] == "1007" and "allow" in refused["errorMessage"]
        task_id = api.run_workflow(INVERT, webhookUrl=allowed.url)["taskId"]
        api.wait(task_id)
        [call] = allowed.wait_for(1)
        assert call["taskId"] == task_id and other.calls == []
        assert server.stats()["tasks_created"] == 1
    finally:
        allowed.close()
        other.close()
