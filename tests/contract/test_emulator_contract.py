"""The emulator's answers have the shapes of the contract's golden samples.

For every sample in ``golden_samples.json`` the emulator is driven into the same situation
over loopback, and its answer must match: the same keys (a few documented extras allowed),
the same JSON types, digits-in-strings kept as strings, JSON-in-a-string fields kept as
strings that parse, and the same codes.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

SAMPLES: dict[str, Any] = json.loads(
    (Path(__file__).parent / "golden_samples.json").read_text(encoding="utf-8")
)
INVERT = "1987728214757978114"
FAILING = "1900000000000000805"
APP = "1877265245566922753"
# Keys the real service sends beyond some samples (captures versus docs), or that we add.
ALLOWED_EXTRA = {"errorMessages", "msg", "message", "accessEncrypted", "instanceCount"}
JSON_STRINGS = {"promptTips", "eventData", "prompt", "fieldData", "traceback"}
EXACT = {"code", "event", "errorCode", "apiKeyType", "apiType", "fileType", "outputType"}


def assert_shape(sample: Any, actual: Any, path: str = "$", *, legacy: bool) -> None:
    if isinstance(sample, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        missing = set(sample) - set(actual)
        extra = set(actual) - set(sample) - ALLOWED_EXTRA
        assert not missing and not extra, f"{path}: missing {missing}, unexpected {extra}"
        for key, value in sample.items():
            _check_value(key, value, actual[key], f"{path}.{key}", legacy=legacy)
    elif isinstance(sample, list):
        assert isinstance(actual, list), f"{path}: expected a list, got {actual!r}"
        if sample:
            assert actual, f"{path}: expected items"
            for index, item in enumerate(actual):
                assert_shape(sample[0], item, f"{path}[{index}]", legacy=legacy)
    else:
        assert _json_type(actual) == _json_type(sample), f"{path}: {actual!r} vs {sample!r}"
        if isinstance(sample, str) and sample.isdigit():
            assert isinstance(actual, str) and actual.isdigit(), f"{path}: {actual!r} not digits"


def _check_value(key: str, sample: Any, actual: Any, path: str, *, legacy: bool) -> None:
    if key in EXACT or (legacy and key == "msg"):
        assert actual == sample, f"{path}: {actual!r} != {sample!r}"
    if key in JSON_STRINGS and isinstance(sample, str) and sample:
        assert isinstance(actual, str), f"{path}: must stay a JSON string"
        parsed_sample, parsed_actual = json.loads(sample), json.loads(actual)
        if key in ("promptTips", "eventData"):
            assert_shape(parsed_sample, parsed_actual, f"{path}<json>", legacy=legacy)
        return
    assert_shape(sample, actual, path, legacy=legacy)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


# ---- producing each situation in the emulator ---------------------------------------------


def _created(api, queue: bool = False) -> dict[str, Any]:
    if queue:
        api.server.configure(queue_seconds=5)
    return api.v1("/task/openapi/create", {"workflowId": INVERT})


def _task_id(api, workflow_id: str = INVERT) -> str:
    return api.run_workflow(workflow_id)["taskId"]


def _outputs_when(api, code: int, workflow_id: str = INVERT) -> dict[str, Any]:
    task_id = _task_id(api, workflow_id)
    deadline = time.monotonic() + 10
    while (answer := api.v1("/task/openapi/outputs", {"taskId": task_id}))["code"] != code:
        assert time.monotonic() < deadline, answer
        time.sleep(0.02)
    return answer


def _upload_v1(api) -> dict[str, Any]:
    files = {"file": ("a.png", b"\x89PNG\r\n\x1a\n fake")}
    return api.http.post("/task/openapi/upload", data={"apiKey": api.key}, files=files).json()


def _too_large(api, path: str) -> dict[str, Any]:
    api.server.configure(upload_limit=10)
    headers = {"Authorization": f"Bearer {api.key}"}
    return api.http.post(path, files={"file": ("a.png", b"x" * 11)}, headers=headers).json()


def _webhook_detail(api) -> dict[str, Any]:
    api.server.configure(webhook_retries=0)
    task_id = api.run_workflow(INVERT, webhookUrl="http://127.0.0.1:9/hook")["taskId"]
    deadline = time.monotonic() + 10
    while (answer := api.v1("/task/openapi/getWebhookDetail", {"taskId": task_id}))["code"]:
        assert time.monotonic() < deadline, answer
        time.sleep(0.02)
    return answer


def _webhook_payload(api) -> dict[str, Any]:
    """Receive the real callback on a throwaway local endpoint."""
    received: list[bytes] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.handle_request, daemon=True).start()
    try:
        api.run_workflow(INVERT, webhookUrl=f"http://127.0.0.1:{server.server_address[1]}/")
        deadline = time.monotonic() + 10
        while not received:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        server.server_close()
    return json.loads(received[0])


def _retry_webhook(api) -> dict[str, Any]:
    webhook_id = _webhook_detail(api)["data"]["id"]
    return api.v1("/task/openapi/retryWebhook", {"webhookId": webhook_id, "webhookUrl": None})


def _queue_maxed_v1(api) -> dict[str, Any]:
    api.server.configure(concurrency=1, task_seconds=5)
    _task_id(api)
    return api.v1("/task/openapi/create", {"workflowId": INVERT})


def _queue_maxed_v2(api) -> dict[str, Any]:
    api.server.configure(concurrency=1, task_seconds=5)
    _task_id(api)
    return api.run_workflow(INVERT)


def _query_when(api, status: str, workflow_id: str = INVERT) -> dict[str, Any]:
    return api.wait(_task_id(api, workflow_id), until=(status,))


MODEL = "rhart-image-n-pro/text-to-image"
MODEL_BODY = {"prompt": "a fox", "resolution": "1k", "aspectRatio": "1:1"}


def _node(node_id: str, field: str) -> list[dict[str, Any]]:
    return [{"nodeId": node_id, "fieldName": field, "fieldValue": 1}]


PRODUCERS: dict[str, Callable[[Any], Any]] = {
    "v1_create": _created,
    "v1_create_queued": lambda api: _created(api, queue=True),
    "v1_status": lambda api: api.v1("/task/openapi/status", {"taskId": _task_id(api)}),
    "v1_outputs_success": lambda api: _outputs_when(api, 0),
    "v1_outputs_running": lambda api: _outputs_when(api, 804),
    "v1_outputs_queued": lambda api: (
        api.server.configure(queue_seconds=5),
        _outputs_when(api, 813),
    )[1],
    "v1_outputs_failed": lambda api: _outputs_when(api, 805, FAILING),
    "v1_task_not_found": lambda api: api.v1("/task/openapi/cancel", {"taskId": "1" * 19}),
    "v1_cancel": lambda api: api.v1("/task/openapi/cancel", {"taskId": _task_id(api)}),
    "v1_upload": _upload_v1,
    "v1_upload_too_large": lambda api: _too_large(api, "/task/openapi/upload"),
    "v1_json_api_format": lambda api: api.v1(
        "/api/openapi/getJsonApiFormat", {"workflowId": INVERT}
    ),
    "v1_account_status": lambda api: api.v1("/uc/openapi/accountStatus", {"apikey": api.key}),
    "v1_queue_maxed": _queue_maxed_v1,
    "v1_bad_key": lambda api: api.v1(
        "/task/openapi/create", {"apiKey": "0" * 31, "workflowId": INVERT}
    ),
    "v1_invalid_node_info": lambda api: api.v1(
        "/task/openapi/create", {"workflowId": INVERT, "nodeInfoList": _node("1", "x")}
    ),
    "v1_workflow_not_exists": lambda api: api.v1("/task/openapi/create", {"workflowId": "9"}),
    "v1_webapp_not_exists": lambda api: api.v1(
        "/task/openapi/ai-app/run", {"webappId": "9", "nodeInfoList": []}
    ),
    "v1_params_invalid": lambda api: api.v1("/task/openapi/create", {"workflowId": "x"}),
    "v1_webhook_detail": _webhook_detail,
    "v1_no_webhook": lambda api: api.v1(
        "/task/openapi/getWebhookDetail", {"taskId": _task_id(api)}
    ),
    "v1_retry_webhook": _retry_webhook,
    "v1_api_call_demo": lambda api: api.http.get(
        "/api/webapp/apiCallDemo", params={"apiKey": api.key, "webappId": APP}
    ).json(),
    "webhook_task_end": _webhook_payload,
    "v2_task_running": lambda api: api.run_workflow(INVERT),
    "v2_query_running": lambda api: _query_when(api, "RUNNING"),
    "v2_query_success": lambda api: _query_when(api, "SUCCESS"),
    "v2_query_failed": lambda api: _query_when(api, "FAILED", FAILING),
    "v2_query_not_found": lambda api: api.query("1" * 19),
    "v2_parse_error": lambda api: api.query("aic-connection-test"),
    "v2_queue_maxed": _queue_maxed_v2,
    "v2_bad_key": lambda api: api.v2("/openapi/v2/query", {"taskId": "1"}, key="0" * 31),
    "v2_upload": lambda api: api.upload_v2(b"\x89PNG\r\n\x1a\n fake", "a.png"),
    "v2_upload_bad_key": lambda api: api.http.post(
        "/openapi/v2/media/upload/binary",
        files={"file": ("a.png", b"x")},
        headers={"Authorization": "Bearer nope"},
    ).json(),
    "v2_upload_too_large": lambda api: _too_large(api, "/openapi/v2/media/upload/binary"),
    "v2_queue_status": lambda api: api.http.get(
        "/openapi/v2/queue/status", headers={"Authorization": f"Bearer {api.key}"}
    ).json(),
    "v2_api_key_list": lambda api: (
        api.server.configure(key_type="SHARED"),  # an enterprise key has a quota
        api.http.get("/openapi/v2/api-key/list", headers={"Authorization": f"Bearer {api.key}"}),
    )[1].json(),
    "v2_resource_list": lambda api: api.v2("/openapi/v2/resource/list", {"size": 2}),
    "v2_aiapp_list": lambda api: api.v2("/openapi/v2/aiapp/list", {"size": 1}),
    "v1_lora_upload_url": lambda api: api.v1(
        "/api/openapi/getLoraUploadUrl", {"loraName": "a.safetensors", "md5Hex": "0" * 32}
    ),
    "v2_price_preview": lambda api: (
        api.server.configure(key_type="SHARED"),
        api.v2(f"/openapi/v2/price-preview/{MODEL}", MODEL_BODY),
    )[1],
    "v2_price_preview_normal_key": lambda api: api.v2(
        f"/openapi/v2/price-preview/{MODEL}", MODEL_BODY
    ),
}


def test_every_sample_has_a_producer() -> None:
    assert set(PRODUCERS) == {name for name in SAMPLES if not name.startswith("_")}


@pytest.mark.parametrize("name", sorted(PRODUCERS))
def test_the_emulator_matches_the_golden_sample(name: str, raw_api) -> None:
    actual = PRODUCERS[name](raw_api)
    assert_shape(SAMPLES[name]["body"], actual, legacy=not name.startswith("v2_"))


def test_the_comparison_catches_a_number_sent_as_a_number() -> None:
    sample = SAMPLES["v1_account_status"]["body"]
    wrong = json.loads(json.dumps(sample))
    wrong["data"]["remainCoins"] = 1100
    with pytest.raises(AssertionError, match="remainCoins"):
        assert_shape(sample, wrong, legacy=True)


def test_the_comparison_catches_a_decoded_json_string() -> None:
    sample = SAMPLES["v1_create"]["body"]
    wrong = json.loads(json.dumps(sample))
    wrong["data"]["promptTips"] = json.loads(wrong["data"]["promptTips"])
    with pytest.raises(AssertionError, match="promptTips"):
        assert_shape(sample, wrong, legacy=True)
