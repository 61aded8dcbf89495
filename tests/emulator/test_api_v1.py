"""The legacy family over loopback: envelopes, auth placements, states as codes."""

from __future__ import annotations

import json
import time

INVERT = "1987728214757978114"
FAILING = "1900000000000000805"
APP = "1877265245566922753"
ENVELOPE = ["code", "msg", "errorMessages", "data"]


def _wait_outputs(raw_api, task_id: str, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        answer = raw_api.v1("/task/openapi/outputs", {"taskId": task_id})
        if answer["code"] not in (804, 813):
            return answer
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_create_answers_the_envelope_with_task_data(raw_api) -> None:
    answer = raw_api.v1("/task/openapi/create", {"workflowId": INVERT})
    assert list(answer) == ENVELOPE
    assert answer["code"] == 0 and answer["msg"] == "success"
    data = answer["data"]
    assert set(data) == {"netWssUrl", "taskId", "clientId", "taskStatus", "promptTips"}
    assert len(data["taskId"]) == 19 and data["taskStatus"] == "RUNNING"
    assert data["netWssUrl"].startswith("ws://")
    tips = json.loads(data["promptTips"])
    assert tips == {"result": True, "error": None, "outputs_to_execute": ["109"], "node_errors": {}}


def test_create_accepts_the_workflow_id_as_an_exact_integer(raw_api) -> None:
    answer = raw_api.v1("/task/openapi/create", {"workflowId": int(INVERT)})
    assert answer["code"] == 0


def test_outputs_walks_813_804_then_the_file_list(make_emulator, make_raw_api) -> None:
    api = make_raw_api(make_emulator(queue_seconds=0.2, task_seconds=0.2))
    created = api.v1("/task/openapi/create", {"workflowId": INVERT})["data"]
    assert created["taskStatus"] == "QUEUED" and created["netWssUrl"] is None
    queued = api.v1("/task/openapi/outputs", {"taskId": created["taskId"]})
    assert (queued["code"], queued["msg"], queued["data"]) == (813, "APIKEY_TASK_IS_QUEUED", None)
    assert api.v1("/task/openapi/status", {"taskId": created["taskId"]})["data"] == "QUEUED"
    deadline = time.monotonic() + 10
    while (running := api.v1("/task/openapi/outputs", {"taskId": created["taskId"]}))[
        "code"
    ] == 813:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert running["code"] == 804 and running["msg"] == "APIKEY_TASK_IS_RUNNING"
    assert running["data"]["netWssUrl"].startswith("ws://")
    done = _wait_outputs(api, created["taskId"])
    assert done["code"] == 0
    [item] = done["data"]
    assert item["fileType"] == "png" and item["nodeId"] == "109"
    assert isinstance(item["taskCostTime"], str) and isinstance(item["consumeCoins"], str)
    assert api.http.get(item["fileUrl"]).status_code == 200


def test_status_is_a_bare_string(raw_api) -> None:
    task_id = raw_api.v1("/task/openapi/create", {"workflowId": INVERT})["data"]["taskId"]
    answer = raw_api.v1("/task/openapi/status", {"taskId": task_id})
    assert answer["code"] == 0 and answer["data"] == "RUNNING"
    _wait_outputs(raw_api, task_id)
    assert raw_api.v1("/task/openapi/status", {"taskId": task_id})["data"] == "SUCCESS"


def test_a_failed_task_is_805_with_failed_reason(raw_api) -> None:
    task_id = raw_api.v1("/task/openapi/create", {"workflowId": FAILING})["data"]["taskId"]
    answer = _wait_outputs(raw_api, task_id)
    assert answer["code"] == 805 and answer["msg"] == "APIKEY_TASK_STATUS_ERROR"
    reason = answer["data"]["failedReason"]
    assert reason["node_id"] == "276" and isinstance(reason["traceback"], str)
    assert isinstance(json.loads(reason["traceback"]), list)
    assert raw_api.v1("/task/openapi/status", {"taskId": task_id})["data"] == "FAILED"


def test_cancel_stops_a_running_task(raw_api) -> None:
    task_id = raw_api.v1("/task/openapi/create", {"workflowId": INVERT})["data"]["taskId"]
    answer = raw_api.v1("/task/openapi/cancel", {"taskId": task_id})
    assert answer == {"code": 0, "msg": "success", "errorMessages": None, "data": None}
    assert raw_api.v1("/task/openapi/status", {"taskId": task_id})["data"] == "FAILED"
    assert raw_api.query(task_id)["status"] == "CANCEL"
    assert raw_api.v1("/task/openapi/outputs", {"taskId": task_id})["code"] == 805


def test_the_v2_cancel_status_is_configurable(raw_api) -> None:
    raw_api.server.configure(cancel_status_v2="FAILED")
    task_id = raw_api.run_workflow(INVERT)["taskId"]
    raw_api.v1("/task/openapi/cancel", {"taskId": task_id})
    assert raw_api.query(task_id)["status"] == "FAILED"


def test_cancel_of_a_finished_task_changes_nothing(raw_api) -> None:
    task_id = raw_api.run_workflow(INVERT)["taskId"]
    raw_api.wait(task_id)
    assert raw_api.v1("/task/openapi/cancel", {"taskId": task_id})["code"] == 0
    assert raw_api.query(task_id)["status"] == "SUCCESS"


def test_unknown_tasks_are_807(raw_api) -> None:
    for path in ("/task/openapi/cancel", "/task/openapi/outputs", "/task/openapi/status"):
        answer = raw_api.v1(path, {"taskId": "1111111111111111111"})
        assert (answer["code"], answer["msg"]) == (807, "APIKEY_TASK_NOT_FOUND")


def test_ai_app_run_accepts_the_webapp_id_as_string_or_exact_int(raw_api) -> None:
    node = [{"nodeId": "52", "fieldName": "text", "fieldValue": "x", "nodeName": "ignored"}]
    for webapp_id in (APP, int(APP)):
        answer = raw_api.v1(
            "/task/openapi/ai-app/run", {"webappId": webapp_id, "nodeInfoList": node}
        )
        assert answer["code"] == 0, answer
        raw_api.wait(answer["data"]["taskId"])


def test_a_webapp_id_rounded_by_a_float_is_not_found(raw_api) -> None:
    body = {"webappId": 1877265245566922800, "nodeInfoList": []}
    assert raw_api.v1("/task/openapi/ai-app/run", body)["code"] == 901


def test_get_json_api_format_returns_the_graph_as_a_string(raw_api) -> None:
    answer = raw_api.v1("/api/openapi/getJsonApiFormat", {"workflowId": INVERT})
    assert answer["code"] == 0 and answer["msg"] == "SUCCESS"
    graph = json.loads(answer["data"]["prompt"])
    assert graph["107"]["class_type"] == "LoadImage"
    missing = raw_api.v1("/api/openapi/getJsonApiFormat", {"workflowId": "42"})
    assert (missing["code"], missing["msg"]) == (380, "WORKFLOW_NOT_EXISTS")


def test_api_call_demo_takes_the_key_in_the_query_string(raw_api, api_key) -> None:
    answer = raw_api.http.get(
        "/api/webapp/apiCallDemo", params={"apiKey": api_key, "webappId": APP}
    ).json()
    assert answer["code"] == 0
    data = answer["data"]
    types = {entry["fieldType"] for entry in data["nodeInfoList"]}
    assert {"IMAGE", "STRING"} <= types
    assert all(isinstance(entry["fieldData"], str) for entry in data["nodeInfoList"])
    assert all(isinstance(v, str) for v in data["statisticsInfo"].values())
    assert api_key not in data["curl"]
    bad = raw_api.http.get("/api/webapp/apiCallDemo", params={"apiKey": "x", "webappId": APP})
    assert bad.json()["code"] == 802
    unknown = raw_api.http.get("/api/webapp/apiCallDemo", params={"apiKey": api_key, "webappId": 7})
    assert unknown.json()["code"] == 901


def test_account_status_reads_the_lower_case_apikey(raw_api, api_key) -> None:
    raw_api.run_workflow(INVERT)
    answer = raw_api.http.post("/uc/openapi/accountStatus", json={"apikey": api_key}).json()
    assert answer["code"] == 0
    data = answer["data"]
    assert data["currentTaskCounts"] == "1" and data["remainCoins"].isdigit()
    assert data["apiType"] == "NORMAL" and data["remainMoney"] is None
    camel = raw_api.http.post("/uc/openapi/accountStatus", json={"apiKey": api_key}).json()
    assert camel["code"] == 802


def test_account_status_accepts_bearer_alone(raw_api, api_key) -> None:
    headers = {"Authorization": f"Bearer {api_key}"}
    answer = raw_api.http.post("/uc/openapi/accountStatus", headers=headers).json()
    assert answer["code"] == 0 and answer["data"]["currentTaskCounts"] == "0"


def test_coins_are_spent_by_finished_tasks(raw_api, api_key) -> None:
    before = int(
        raw_api.v1("/uc/openapi/accountStatus", {"apikey": api_key})["data"]["remainCoins"]
    )
    raw_api.wait(raw_api.run_workflow(INVERT)["taskId"])
    deadline = time.monotonic() + 5
    while True:
        data = raw_api.v1("/uc/openapi/accountStatus", {"apikey": api_key})["data"]
        if int(data["remainCoins"]) < before:
            break
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_legacy_routes_accept_bearer_instead_of_the_body_key(raw_api, api_key) -> None:
    headers = {"Authorization": f"Bearer {api_key}"}
    answer = raw_api.http.post(
        "/task/openapi/create", json={"workflowId": INVERT}, headers=headers
    ).json()
    assert answer["code"] == 0


def test_bad_keys_get_802_and_create_nothing(raw_api) -> None:
    for key in ("", "short", "g" * 32):
        answer = raw_api.v1("/task/openapi/create", {"apiKey": key, "workflowId": INVERT})
        assert (answer["code"], answer["msg"], answer["data"]) == (802, "APIKEY_UNAUTHORIZED", None)
    assert raw_api.server.stats()["tasks_created"] == 0


def test_malformed_json_and_missing_fields_are_301(raw_api, api_key) -> None:
    broken = raw_api.http.post(
        "/task/openapi/create", content=b'{"apiKey": ', headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 200 and broken.json()["code"] == 301
    assert raw_api.v1("/task/openapi/create", {})["code"] == 301
    assert raw_api.v1("/task/openapi/status", {"taskId": ["1"]})["code"] == 301
    listed = raw_api.http.post("/task/openapi/create", json=[api_key])
    assert listed.json()["code"] == 301


def test_webhook_detail_without_a_webhook_is_code_1(raw_api) -> None:
    task_id = raw_api.run_workflow(INVERT)["taskId"]
    answer = raw_api.v1("/task/openapi/getWebhookDetail", {"taskId": task_id})
    assert (answer["code"], answer["msg"]) == (1, "webhook event not exists")


def test_unknown_paths_and_wrong_methods_are_json(raw_api) -> None:
    missing = raw_api.http.post("/task/openapi/nothing", json={})
    assert missing.status_code == 200
    assert missing.json() == {
        "code": 412,
        "msg": "TOKEN_INVALID",
        "errorMessages": ["no API at /task/openapi/nothing"],
        "data": None,
    }
    outside = raw_api.http.post("/nothing/task/openapi/create", json={})
    assert outside.status_code == 404 and outside.json()["code"] == 404
    wrong = raw_api.http.get("/task/openapi/create")
    assert wrong.status_code == 405 and wrong.json()["code"] == 405
