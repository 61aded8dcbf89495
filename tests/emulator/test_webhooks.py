"""TASK_END webhooks: payload shape, retries, getWebhookDetail and retryWebhook."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.emulator.emulator_helpers import Receiver

INVERT = "1987728214757978114"
FAILING = "1900000000000000805"


@pytest.fixture
def make_receiver() -> Iterator[Any]:
    made: list[Receiver] = []

    def make(failures: int = 0) -> Receiver:
        made.append(Receiver(failures))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


def _wait_stats(server, predicate, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while not predicate(stats := server.stats()):
        assert time.monotonic() < deadline, stats
        time.sleep(0.02)
    return stats


def test_a_finished_task_posts_task_end_with_the_outputs_envelope(raw_api, make_receiver) -> None:
    receiver = make_receiver()
    task_id = raw_api.run_workflow(INVERT, webhookUrl=receiver.url)["taskId"]
    [call] = receiver.wait_for(1)
    assert call["event"] == "TASK_END" and call["taskId"] == task_id
    assert isinstance(call["eventData"], str)
    event = json.loads(call["eventData"])
    assert event["code"] == 0 and event["msg"] == "success"
    [item] = event["data"]
    assert isinstance(item["taskCostTime"], int)  # a number here, a string in /outputs
    assert item["nodeId"] == "109" and item["fileType"] == "png"
    assert raw_api.http.get(item["fileUrl"]).status_code == 200
    _wait_stats(raw_api.server, lambda s: s["webhooks"]["delivered"] == 1)


def test_a_failed_task_posts_805_with_the_failed_reason(raw_api, make_receiver) -> None:
    receiver = make_receiver()
    body = {"workflowId": FAILING, "webhookUrl": receiver.url}
    raw_api.v1("/task/openapi/create", body)
    event = json.loads(receiver.wait_for(1)[0]["eventData"])
    assert event["code"] == 805 and event["data"]["failedReason"]["node_id"] == "276"


def test_a_failing_receiver_is_retried_then_counted_failed(raw_api, make_receiver) -> None:
    raw_api.server.configure(webhook_retries=2, webhook_retry_delay=0.05)
    receiver = make_receiver(failures=10)
    task_id = raw_api.run_workflow(INVERT, webhookUrl=receiver.url)["taskId"]
    receiver.wait_for(3)
    stats = _wait_stats(raw_api.server, lambda s: s["webhooks"]["failed"] == 1)
    assert stats["webhooks"]["delivered"] == 0
    detail = raw_api.v1("/task/openapi/getWebhookDetail", {"taskId": task_id})
    assert detail["code"] == 0
    data = detail["data"]
    assert data["callbackStatus"] == "FAILED" and data["retryCount"] == 2
    assert data["taskId"] == task_id and data["webhookUrl"] == receiver.url
    assert raw_api.key not in json.dumps(data)
    assert json.loads(data["eventData"])["code"] == 0
    assert len(receiver.calls) == 3


def test_a_receiver_that_recovers_gets_the_event(raw_api, make_receiver) -> None:
    raw_api.server.configure(webhook_retries=3, webhook_retry_delay=0.05)
    receiver = make_receiver(failures=1)
    task_id = raw_api.run_workflow(INVERT, webhookUrl=receiver.url)["taskId"]
    receiver.wait_for(2)
    _wait_stats(raw_api.server, lambda s: s["webhooks"]["delivered"] == 1)
    detail = raw_api.v1("/task/openapi/getWebhookDetail", {"taskId": task_id})["data"]
    assert detail["callbackStatus"] == "SUCCESS" and detail["retryCount"] == 1


def test_retry_delays_follow_the_emulated_clock(make_emulator, make_raw_api, make_receiver) -> None:
    server = make_emulator(task_seconds=0.1, time_scale=1000.0, webhook_retry_delay=50.0)
    receiver = make_receiver(failures=10)
    make_raw_api(server).run_workflow(INVERT, webhookUrl=receiver.url)
    receiver.wait_for(4)  # 3 retries, 50 emulated seconds apart, in well under a second
    _wait_stats(server, lambda s: s["webhooks"]["failed"] == 1)


def test_retry_webhook_delivers_again_to_a_new_url(raw_api, make_receiver) -> None:
    raw_api.server.configure(webhook_retries=0)
    broken, working = make_receiver(failures=10), make_receiver()
    task_id = raw_api.run_workflow(INVERT, webhookUrl=broken.url)["taskId"]
    broken.wait_for(1)
    _wait_stats(raw_api.server, lambda s: s["webhooks"]["failed"] == 1)
    webhook_id = raw_api.v1("/task/openapi/getWebhookDetail", {"taskId": task_id})["data"]["id"]
    answer = raw_api.v1(
        "/task/openapi/retryWebhook", {"webhookId": webhook_id, "webhookUrl": working.url}
    )
    assert answer == {"code": 0, "msg": "", "errorMessages": None, "data": None}
    [call] = working.wait_for(1)
    assert call["taskId"] == task_id
    _wait_stats(raw_api.server, lambda s: s["webhooks"]["delivered"] == 1)
    detail = raw_api.v1("/task/openapi/getWebhookDetail", {"taskId": task_id})["data"]
    assert detail["callbackStatus"] == "SUCCESS" and detail["webhookUrl"] == working.url


def test_retry_webhook_of_an_unknown_id(raw_api) -> None:
    answer = raw_api.v1("/task/openapi/retryWebhook", {"webhookId": "1", "webhookUrl": "http://x"})
    assert answer["code"] == 1


def test_a_cancelled_task_also_ends_with_a_webhook(raw_api, make_receiver) -> None:
    receiver = make_receiver()
    raw_api.server.configure(task_seconds=5)
    task_id = raw_api.run_workflow(INVERT, webhookUrl=receiver.url)["taskId"]
    raw_api.v1("/task/openapi/cancel", {"taskId": task_id})
    event = json.loads(receiver.wait_for(1)[0]["eventData"])
    assert event["code"] == 805


def test_a_model_task_posts_task_end_too(make_emulator, make_raw_api, make_receiver) -> None:
    api = make_raw_api(make_emulator(key_type="SHARED", task_seconds=0.05))
    receiver = make_receiver()
    body = {"text": "hi", "voiceId": "genshin_klee2", "voiceLanguage": "en"}
    task = api.v2("/openapi/v2/kling-lip-sync/tts", {**body, "webhookUrl": receiver.url})
    [call] = receiver.wait_for(1)
    assert call["taskId"] == task["taskId"]
    [item] = json.loads(call["eventData"])["data"]
    assert item["fileType"] == "txt" and item["consumeMoney"] == "0.035"
