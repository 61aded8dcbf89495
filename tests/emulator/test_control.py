"""The ``/__emulator__/`` routes: stats, reset and config."""

from __future__ import annotations

import httpx
import pytest

INVERT = "1987728214757978114"
STATS_KEYS = {
    "requests",
    "tasks_created",
    "tasks_by_status",
    "tasks_by_key",
    "tasks_by_fingerprint",
    "uploads",
    "webhooks",
    "max_running",
}


def test_stats_report_the_documented_counters_without_keys(raw_api, api_key) -> None:
    task_id = raw_api.run_workflow(INVERT)["taskId"]
    raw_api.wait(task_id)
    answer = httpx.get(f"{raw_api.server.base_url}/__emulator__/stats", trust_env=False)
    stats = answer.json()
    assert set(stats) >= STATS_KEYS
    assert stats["tasks_created"] == 1 and stats["tasks_by_status"] == {"SUCCESS": 1}
    [key_name] = stats["tasks_by_key"]
    assert api_key not in answer.text and len(key_name) < 32
    assert stats["requests"][f"/openapi/v2/run/workflow/{INVERT}"] == 1
    assert stats["requests"]["/openapi/v2/query"] >= 1
    assert set(stats["webhooks"]) >= {"delivered", "failed"}
    assert stats["max_running"] == 1
    assert "/__emulator__/stats" not in stats["requests"]


def test_reset_forgets_tasks_and_counters(raw_api) -> None:
    task_id = raw_api.run_workflow(INVERT)["taskId"]
    raw_api.server.reset()
    stats = raw_api.server.stats()
    assert stats["tasks_created"] == 0 and stats["tasks_by_status"] == {}
    assert stats["requests"] == {} and stats["max_running"] == 0
    assert raw_api.query(task_id)["errorCode"] == "1004"
    assert raw_api.wait(raw_api.run_workflow(INVERT)["taskId"])["status"] == "SUCCESS"


def test_config_changes_timings_and_limits_at_run_time(raw_api) -> None:
    settings = raw_api.server.configure(concurrency=1, queue_seconds=5)
    assert settings["concurrency"] == 1 and settings["queue_seconds"] == 5
    assert raw_api.run_workflow(INVERT)["status"] == "QUEUED"
    assert raw_api.run_workflow(INVERT)["errorCode"] == "421"


def test_config_refuses_unknown_settings_and_bad_values(raw_api) -> None:
    url = f"{raw_api.server.base_url}/__emulator__/config"
    for body in ({"nope": 1}, {"fault_rate": 2}, {"fault_kinds": ["meteor"]}, {"concurrency": "2"}):
        answer = httpx.post(url, json=body, trust_env=False)
        assert answer.status_code == 400 and "error" in answer.json()
    with pytest.raises(ValueError, match="fault_rate"):
        raw_api.server.configure(fault_rate=-1)


def test_config_shows_settings_but_never_keys(make_emulator, api_key) -> None:
    server = make_emulator(keys=[api_key])
    settings = httpx.get(f"{server.base_url}/__emulator__/config", trust_env=False)
    assert settings.json()["keys"] == 1 and api_key not in settings.text


def test_advance_clock_moves_the_emulated_clock(raw_api) -> None:
    before = raw_api.server.configure()["clock"]
    after = raw_api.server.configure(advance_clock=3600)["clock"]
    assert after - before >= 3600
