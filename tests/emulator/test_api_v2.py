"""The v2 family over loopback: run, query, lifecycle, envelopes, auth and errors."""

from __future__ import annotations

import io
from collections.abc import Callable

import httpx
from PIL import Image, ImageChops

from runninghub.emulator import EmulatorServer
from runninghub.emulator.catalog import SAMPLE_IMAGE

INVERT = "1987728214757978114"
TEXT_TO_IMAGE = "1904136902449209346"
FAILING = "1900000000000000805"
APP = "1877265245566922753"
TASK_KEYS = [
    "taskId",
    "status",
    "errorCode",
    "errorMessage",
    "results",
    "clientId",
    "promptTips",
    "failedReason",
    "usage",
    "parentTaskId",
    "taskUsageList",
]


def test_run_workflow_answers_the_flat_task_object(raw_api) -> None:
    task = raw_api.run_workflow(INVERT)
    assert list(task) == TASK_KEYS
    assert task["taskId"].isdigit() and len(task["taskId"]) == 19
    assert task["status"] in ("QUEUED", "RUNNING")
    assert task["errorCode"] == "" and task["results"] is None
    assert len(task["clientId"]) == 32
    assert isinstance(task["promptTips"], str)


def test_query_follows_the_lifecycle_to_success_with_results(raw_api) -> None:
    task_id = raw_api.run_workflow(INVERT)["taskId"]
    running = raw_api.query(task_id)
    assert running["status"] == "RUNNING" and running["results"] is None
    done = raw_api.wait(task_id)
    assert done["status"] == "SUCCESS"
    assert done["errorCode"] == "" and done["failedReason"] == {}
    [result] = done["results"]
    assert result["outputType"] == "png" and result["nodeId"] == "109"
    assert result["text"] is None
    usage = done["usage"]
    assert isinstance(usage["taskCostTime"], str) and isinstance(usage["consumeCoins"], str)


def test_the_output_is_the_inverted_sample(raw_api) -> None:
    done = raw_api.wait(raw_api.run_workflow(INVERT)["taskId"])
    answer = raw_api.http.get(done["results"][0]["url"])
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    produced = Image.open(io.BytesIO(answer.content)).convert("RGB")
    expected = ImageChops.invert(Image.open(SAMPLE_IMAGE).convert("RGB"))
    assert ImageChops.difference(produced, expected).getbbox() is None


def test_a_queued_task_reports_queued_first(make_emulator, make_raw_api) -> None:
    api = make_raw_api(make_emulator(queue_seconds=0.3, task_seconds=0.1))
    task = api.run_workflow(INVERT)
    assert task["status"] == "QUEUED"
    assert api.query(task["taskId"])["status"] == "QUEUED"
    assert api.wait(task["taskId"])["status"] == "SUCCESS"


def test_a_failing_workflow_reports_failed_with_a_snake_case_reason(raw_api) -> None:
    done = raw_api.wait(raw_api.run_workflow(FAILING)["taskId"])
    assert done["status"] == "FAILED"
    assert done["errorCode"] != "" and done["results"] is None
    reason = done["failedReason"]
    assert reason["node_id"] == "276" and reason["node_name"] == "SONIC_PreData"
    assert {"exception_type", "exception_message", "traceback"} <= set(reason)


def test_text_to_image_batch_gives_one_result_per_image(raw_api) -> None:
    overrides = [
        {"nodeId": "5", "fieldName": "batch_size", "fieldValue": 2},
        {"nodeId": "5", "fieldName": "width", "fieldValue": "64"},
        {"nodeId": "5", "fieldName": "height", "fieldValue": 48},
    ]
    done = raw_api.wait(raw_api.run_workflow(TEXT_TO_IMAGE, overrides)["taskId"])
    assert done["status"] == "SUCCESS"
    assert len(done["results"]) == 2
    for result in done["results"]:
        image = Image.open(io.BytesIO(raw_api.http.get(result["url"]).content))
        assert image.size == (64, 48)


def test_run_ai_app_with_an_id_above_2_53(raw_api) -> None:
    body = {"nodeInfoList": [{"nodeId": "52", "fieldName": "text", "fieldValue": "a red fox"}]}
    task = raw_api.v2(f"/openapi/v2/run/ai-app/{APP}", body)
    assert task["errorCode"] == "" and task["taskId"]
    assert raw_api.wait(task["taskId"])["status"] == "SUCCESS"


def test_query_of_an_unknown_task_is_1004_with_an_empty_status(raw_api) -> None:
    answer = raw_api.query("1234567890123456789")
    assert list(answer) == TASK_KEYS
    assert answer["errorCode"] == "1004" and answer["status"] == "" and answer["taskId"] == ""
    assert "|" in answer["errorMessage"]


def test_query_of_another_keys_task_is_1004(raw_api, emulator, make_raw_api) -> None:
    task_id = raw_api.run_workflow(INVERT)["taskId"]
    other = make_raw_api(emulator, "f" * 32)
    assert other.query(task_id)["errorCode"] == "1004"


def test_unparseable_bodies_are_1007(raw_api, api_key) -> None:
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    answer = raw_api.http.post("/openapi/v2/query", content=b"{not json", headers=headers)
    assert answer.status_code == 200
    assert answer.json()["errorCode"] == "1007" and answer.json()["failedReason"] == {}
    assert raw_api.query("aic-connection-test")["errorCode"] == "1007"
    assert raw_api.v2("/openapi/v2/query", {"taskId": 1.5})["errorCode"] == "1007"


def test_bad_or_missing_bearer_is_1002(raw_api, api_key) -> None:
    assert raw_api.v2("/openapi/v2/query", {"taskId": "1"}, key="nope")["errorCode"] == "1002"
    no_header = raw_api.http.post(f"/openapi/v2/run/workflow/{INVERT}", json={"apiKey": api_key})
    assert no_header.json()["errorCode"] == "1002"
    assert no_header.json()["status"] == ""
    assert raw_api.server.stats()["tasks_created"] == 0


def test_a_wrong_method_is_1009(raw_api, api_key) -> None:
    headers = {"Authorization": f"Bearer {api_key}"}
    answer = raw_api.http.get("/openapi/v2/query", headers=headers)
    assert answer.status_code == 200 and answer.json()["errorCode"] == "1009"
    status = raw_api.http.post("/openapi/v2/queue/status", headers=headers)
    assert status.json()["code"] == 1009


def test_queue_status_is_wrapped_and_counts_tasks(raw_api, api_key) -> None:
    headers = {"Authorization": f"Bearer {api_key}"}
    raw_api.run_workflow(INVERT)
    answer = raw_api.http.get("/openapi/v2/queue/status", headers=headers).json()
    assert answer["code"] == 0 and answer["msg"] == "success" and answer["message"] == "success"
    data = answer["data"]
    assert data["concurrentLimit"] == 2
    assert data["runningCount"] + data["queuedCount"] == data["totalCurrentTasks"] == 1
    assert data["apiKeyType"] == "NORMAL"


def test_app_list_accepts_a_raw_key_without_bearer(raw_api, api_key) -> None:
    answer = raw_api.http.post(
        "/openapi/v2/aiapp/list", json={}, headers={"Authorization": api_key}
    )
    data = answer.json()["data"]
    assert answer.json()["code"] == 0
    assert [record["webappId"] for record in data["records"]] == [APP]
    bad = raw_api.http.post("/openapi/v2/aiapp/list", json={}, headers={"Authorization": "x"})
    assert bad.json()["code"] == 401


def test_unknown_v2_paths_answer_the_task_object_with_1001(raw_api) -> None:
    answer = raw_api.http.post("/openapi/v2/nothing/here", json={})
    assert answer.status_code == 200
    document = answer.json()
    assert (document["errorCode"], document["status"], document["taskId"]) == ("1001", "", "")
    assert document["errorMessage"] == "invalid URL | 无效的URL: no API at /openapi/v2/nothing/here"
    assert len(document) == 11


def test_a_key_outside_the_keys_file_is_refused(
    make_emulator: Callable[..., EmulatorServer], make_raw_api, api_key
) -> None:
    server = make_emulator(keys=[api_key], task_seconds=0.1)
    assert make_raw_api(server).run_workflow(INVERT)["errorCode"] == ""
    other = make_raw_api(server, "a" * 32)
    assert other.run_workflow(INVERT)["errorCode"] == "1002"


def test_a_key_of_the_other_site_fails_like_a_bad_key(make_emulator, make_raw_api) -> None:
    cn_key, ai_key = "c" * 32, "d" * 32
    server = make_emulator(keys=[f"cn:{cn_key}", f"ai:{ai_key}"], site="cn", task_seconds=0.1)
    assert make_raw_api(server, cn_key).run_workflow(INVERT)["errorCode"] == ""
    assert make_raw_api(server, ai_key).run_workflow(INVERT)["errorCode"] == "1002"
    legacy = httpx.post(
        f"{server.base_url}/task/openapi/create",
        json={"apiKey": ai_key, "workflowId": INVERT},
        trust_env=False,
    )
    assert legacy.json()["code"] == 802
