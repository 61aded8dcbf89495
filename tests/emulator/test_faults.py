"""Injected faults: each kind is observable, and its before/after semantics hold."""

from __future__ import annotations

import time

import httpx
import pytest

from runninghub.emulator.options import AFTER_FAULTS, BEFORE_FAULTS

INVERT = "1987728214757978114"


def _submit(server, api_key: str) -> httpx.Response:
    with httpx.Client(base_url=server.base_url, trust_env=False, timeout=10) as client:
        return client.post(
            f"/openapi/v2/run/workflow/{INVERT}",
            json={"nodeInfoList": []},
            headers={"Authorization": f"Bearer {api_key}"},
        )


@pytest.mark.parametrize("kind", ["http_502", "http_503"])
def test_gateway_errors_come_before_the_handler(make_emulator, api_key, kind) -> None:
    server = make_emulator(fault_rate=1.0, fault_kinds=[kind], task_seconds=0.1)
    answer = _submit(server, api_key)
    assert answer.status_code == int(kind[-3:])
    assert answer.text.startswith("<html>")
    stats = server.stats()
    assert stats["tasks_created"] == 0 and stats["faults"] == {kind: 1}
    assert stats["requests"] == {f"/openapi/v2/run/workflow/{INVERT}": 1}


def test_a_slow_answer_is_a_normal_answer_late(make_emulator, api_key) -> None:
    server = make_emulator(
        fault_rate=1.0, fault_kinds=["slow"], fault_slow_seconds=0.05, task_seconds=0.1
    )
    answer = _submit(server, api_key)
    assert answer.status_code == 200 and answer.json()["errorCode"] == ""
    assert server.stats()["faults"] == {"slow": 1}


def test_http_500_comes_after_the_task_was_created(make_emulator, api_key) -> None:
    server = make_emulator(fault_rate=1.0, fault_kinds=["http_500"], task_seconds=0.1)
    answer = _submit(server, api_key)
    assert answer.status_code == 500 and "html" in answer.headers["content-type"]
    assert server.stats()["tasks_created"] == 1


def test_a_truncated_answer_is_a_protocol_error_after_creation(make_emulator, api_key) -> None:
    server = make_emulator(fault_rate=1.0, fault_kinds=["truncated"], task_seconds=0.1)
    with pytest.raises(httpx.RemoteProtocolError):
        _submit(server, api_key)
    assert server.stats()["tasks_created"] == 1


def test_a_non_json_answer_after_creation(make_emulator, api_key) -> None:
    server = make_emulator(fault_rate=1.0, fault_kinds=["non_json"], task_seconds=0.1)
    answer = _submit(server, api_key)
    assert answer.status_code == 200
    with pytest.raises(ValueError):
        answer.json()
    assert server.stats()["tasks_created"] == 1


def test_the_kinds_are_split_into_before_and_after() -> None:
    assert set(BEFORE_FAULTS) == {"http_502", "http_503", "slow"}
    assert set(AFTER_FAULTS) == {"http_500", "truncated", "non_json"}


def test_control_routes_and_downloads_are_never_faulted(make_emulator, make_raw_api) -> None:
    server = make_emulator(task_seconds=0.1)
    api = make_raw_api(server)
    upload = api.upload_v2(b"\x89PNG not really", "a.png")["data"]
    done = api.wait(api.run_workflow(INVERT)["taskId"])
    server.configure(fault_rate=1.0, fault_kinds=["http_502"])
    assert api.http.post("/openapi/v2/query", json={"taskId": "1"}).status_code == 502
    assert api.http.get(done["results"][0]["url"]).status_code == 200
    assert api.http.get(upload["download_url"]).status_code == 200
    assert server.stats()["faults"] == {"http_502": 1}


def _outcomes(server, api_key: str, count: int) -> list[str]:
    outcomes = []
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=server.base_url, headers=headers, trust_env=False) as client:
        for _ in range(count):
            try:
                answer = client.post("/openapi/v2/query", json={"taskId": "1"})
                outcomes.append(str(answer.status_code) + answer.text[:1])
            except httpx.HTTPError as error:
                outcomes.append(type(error).__name__)
    return outcomes


def test_a_seed_makes_the_fault_sequence_reproducible(make_emulator, api_key) -> None:
    options = {"fault_rate": 0.5, "fault_seed": 7, "fault_slow_seconds": 0.0}
    first = _outcomes(make_emulator(**options), api_key, 40)
    second = _outcomes(make_emulator(**options), api_key, 40)
    assert first == second
    assert len(set(first)) >= 4  # a mix of normal answers and several fault kinds


def _classify(client: httpx.Client) -> str:
    try:
        answer = client.post(f"/openapi/v2/run/workflow/{INVERT}", json={"nodeInfoList": []})
    except httpx.RemoteProtocolError:
        return "ambiguous"
    if answer.status_code in (502, 503):
        return "refused"
    if answer.status_code == 200 and answer.text.startswith("{"):
        assert answer.json()["errorCode"] == ""
        return "created"
    return "ambiguous"


def test_faults_never_corrupt_state(make_emulator, api_key) -> None:
    server = make_emulator(
        fault_rate=0.7, fault_seed=11, fault_slow_seconds=0.0, concurrency=100, task_seconds=0.1
    )
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=server.base_url, headers=headers, trust_env=False) as client:
        seen = [_classify(client) for _ in range(30)]
    assert {"refused", "created", "ambiguous"} <= set(seen)
    stats = server.stats()
    before = sum(stats["faults"].get(kind, 0) for kind in BEFORE_FAULTS if kind != "slow")
    assert seen.count("refused") == before
    assert stats["tasks_created"] == seen.count("created") + seen.count("ambiguous")
    deadline = time.monotonic() + 10
    while (by_status := server.stats()["tasks_by_status"]) != {"SUCCESS": stats["tasks_created"]}:
        assert time.monotonic() < deadline, by_status
        time.sleep(0.02)
