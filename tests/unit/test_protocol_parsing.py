"""Request building and response parsing against byte-level samples of the wire contract."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from runninghub import (
    APIError,
    APIResponseError,
    AuthenticationError,
    CapacityError,
    ContentPolicyError,
    InsufficientFundsError,
    InvalidRequestError,
    NotFoundError,
    ServerError,
    TaskStatus,
)
from runninghub._answers import (
    parse_account,
    parse_app_inputs,
    parse_graph,
    parse_queue_status,
    parse_upload,
    parse_webhook_detail,
)
from runninghub._errors import CODE_TABLE
from runninghub._protocol import (
    ENDPOINTS,
    Answer,
    Family,
    RetryClass,
    build_request,
    decode_body,
    submit_input_hash,
    unwrap,
)
from runninghub._task_answers import parse_failure, parse_outputs, parse_submit, parse_task

KEY = "0123456789abcdef0123456789abcdef"


def answer(body: bytes | str, status: int = 200) -> Any:
    raw = body.encode() if isinstance(body, str) else body
    return decode_body(Answer(status, {}, raw), KEY)


# ------------------------------------------------------------------ requests


def test_v2_requests_carry_the_key_in_the_bearer_header_only() -> None:
    spec = build_request(ENDPOINTS["query"], KEY, body={"taskId": "1"})
    assert spec.headers["Authorization"] == f"Bearer {KEY}"
    assert spec.json == {"taskId": "1"}
    assert KEY not in json.dumps(spec.json)


def test_legacy_requests_put_the_key_in_the_body() -> None:
    spec = build_request(ENDPOINTS["outputs"], KEY, body={"taskId": "1"})
    assert spec.json == {"apiKey": KEY, "taskId": "1"}


def test_account_status_wants_a_lower_case_apikey() -> None:
    spec = build_request(ENDPOINTS["account"], KEY, body={})
    assert spec.json == {"apikey": KEY}
    assert "apiKey" not in spec.json


def test_api_call_demo_sends_the_key_in_the_query_string() -> None:
    spec = build_request(ENDPOINTS["app_inputs"], KEY, params={"webappId": "1877265245566922753"})
    assert spec.method == "GET"
    assert spec.json is None
    assert spec.params == {"apiKey": KEY, "webappId": "1877265245566922753"}


def test_path_ids_are_quoted_into_the_path() -> None:
    spec = build_request(ENDPOINTS["submit_workflow"], KEY, path_id="1904136902449209346", body={})
    assert spec.path == "/openapi/v2/run/workflow/1904136902449209346"
    hostile = build_request(ENDPOINTS["submit_app"], KEY, path_id="../x", body={})
    assert hostile.path == "/openapi/v2/run/ai-app/..%2Fx"


def test_describe_never_shows_the_key() -> None:
    for name, endpoint in ENDPOINTS.items():
        spec = build_request(
            endpoint, KEY, path_id="1", body={} if endpoint.method == "POST" else None
        )
        assert KEY not in spec.describe(), name
        assert KEY not in repr(spec), name


def test_endpoint_table_families_and_retry_classes() -> None:
    assert {e.name for e in ENDPOINTS.values() if e.retry is RetryClass.CREATES} == {
        "submit_workflow",
        "submit_app",
        "submit_model",
    }
    for endpoint in ENDPOINTS.values():
        if endpoint.family is Family.STORAGE:  # a URL the API hands out: no key at all
            assert endpoint.path == "{id}" and endpoint.key_field is None
            continue
        assert (endpoint.family is Family.V2) == endpoint.path.startswith("/openapi/v2/")
        assert (endpoint.key_field is None) == (endpoint.family is Family.V2)


def test_the_submit_input_hash_is_canonical() -> None:
    a = [
        {"nodeId": "6", "fieldName": "text", "fieldValue": "a cat"},
        {"nodeId": "3", "fieldName": "seed", "fieldValue": 1},
    ]
    assert submit_input_hash("workflow", "1", a) == submit_input_hash(
        "workflow", "1", list(reversed(a))
    )
    assert submit_input_hash("workflow", "1", a) != submit_input_hash("workflow", "2", a)
    assert submit_input_hash("workflow", "1", a) != submit_input_hash("app", "1", a)
    assert submit_input_hash("workflow", "1", a) != submit_input_hash("workflow", "1", a[:1])
    assert len(submit_input_hash("workflow", "1", [])) == 16


# ------------------------------------------------------------------ HTTP layer


def test_body_that_is_not_json_is_a_response_error() -> None:
    with pytest.raises(APIResponseError):
        answer("<html>upstream returned an error page</html>")
    with pytest.raises(APIResponseError):
        answer(b"")


@pytest.mark.parametrize(
    ("status", "cls"),
    [(502, ServerError), (503, ServerError), (500, ServerError), (429, CapacityError)],
)
def test_gateway_statuses(status: int, cls: type[APIError]) -> None:
    with pytest.raises(cls) as caught:
        answer("<html><center><h1>Bad Gateway</h1></center></html>", status)
    assert caught.value.http_status == status


def test_http_401_with_code_minus_one_is_an_authentication_error() -> None:
    with pytest.raises(AuthenticationError) as caught:
        answer('{"code":-1,"msg":"ApiKey verification failed"}', 401)
    assert caught.value.code == "-1"
    assert caught.value.http_status == 401


def test_the_key_echoed_by_the_service_is_scrubbed() -> None:
    body = answer(json.dumps({"code": 802, "msg": f"key {KEY} unauthorized", "data": None}))
    with pytest.raises(AuthenticationError) as caught:
        unwrap(body)
    assert KEY not in str(caught.value)
    assert KEY not in json.dumps(caught.value.raw)


# ------------------------------------------------------------------ v2 task objects

V2_RUNNING = (
    b'{"taskId":"2013508786110730241","status":"RUNNING","errorCode":"","errorMessage"'
    b':"","results":null,"clientId":"f828b9af25161bc066ef152db7b29ccc","promptTips":"{'
    b'\\"result\\": true, \\"error\\": null, \\"outputs_to_execute\\": [\\"9\\"], \\"n'
    b'ode_errors\\": {}}","failedReason":{},"usage":null,"parentTaskId":null,"taskUsag'
    b'eList":null}'
)

V2_SUCCESS = (
    b'{"taskId":"2013508786110730241","status":"SUCCESS","errorCode":"","errorMessage"'
    b':"","results":[{"url":"https://rh-images-1252422369.cos.ap-beijing.myqcloud.com/'
    b'a/b.png","outputType":"png","nodeId":"9","text":null},{"outputUrl":"https://rh-i'
    b'mages-1252422369.cos.ap-beijing.myqcloud.com/a/c.txt","outputType":"TXT","conten'
    b't":"hello"}],"clientId":"","promptTips":"","failedReason":{},"usage":{"consumeMo'
    b'ney":null,"consumeCoins":"7","taskCostTime":"121","thirdPartyConsumeMoney":null}'
    b',"parentTaskId":null,"taskUsageList":null}'
)

V2_FAILED = (
    b'{"taskId":"2013508786110730242","status":"FAILED","errorCode":"1000","errorMessa'
    b'ge":"unknown error","results":null,"clientId":"","promptTips":"","failedReason":'
    b'{"current_outputs":"{}","exception_type":"TypeError","node_name":"SONIC_PreData"'
    b',"current_inputs":"{}","traceback":"[\\"File a.py\\", \\"File b.py\\"]","node_id'
    b'":"276","exception_message":"bad input"},"usage":null,"parentTaskId":null,"taskU'
    b'sageList":null}'
)

V2_NOT_FOUND = (
    b'{"taskId":"","status":"","errorCode":"1004","errorMessage":"Task not found, please check the'
    b' task ID | \xe4\xbb\xbb\xe5\x8a\xa1\xe4\xb8\x8d\xe5\xad\x98\xe5\x9c\xa8","results":null,'
    b'"clientId":"","promptTips":"","failedReason":{},"usage":null,"parentTaskId":null,'
    b'"taskUsageList":null}'
)


def test_v2_running_task() -> None:
    task = parse_task(answer(V2_RUNNING))
    assert task.task_id == "2013508786110730241"
    assert task.status is TaskStatus.RUNNING
    assert task.outputs == ()
    assert task.failure is None
    assert task.prompt_tips is not None and task.prompt_tips["outputs_to_execute"] == ["9"]
    assert task.raw["clientId"] == "f828b9af25161bc066ef152db7b29ccc"


def test_v2_success_with_result_aliases_and_usage() -> None:
    task = parse_task(answer(V2_SUCCESS))
    assert task.status is TaskStatus.SUCCESS and task.is_terminal
    first, second = task.outputs
    assert (first.url, first.type, first.node_id, first.text) == (
        "https://rh-images-1252422369.cos.ap-beijing.myqcloud.com/a/b.png",
        "png",
        "9",
        None,
    )
    assert second.url is not None and second.url.endswith("c.txt")
    assert (second.type, second.text, second.node_id) == ("txt", "hello", None)
    assert task.usage is not None
    assert task.usage.consume_coins == Decimal(7)
    assert task.usage.task_cost_time == Decimal(121)


def test_v2_failed_task_is_a_state_with_failure_details() -> None:
    task = parse_task(answer(V2_FAILED))
    assert task.status is TaskStatus.FAILED
    assert task.error_code == "1000"
    assert task.failure is not None
    assert task.failure.node_id == "276"
    assert task.failure.node_name == "SONIC_PreData"
    assert task.failure.exception_type == "TypeError"
    assert task.failure.traceback == ("File a.py", "File b.py")


def test_v2_unknown_task_is_not_found_error() -> None:
    with pytest.raises(NotFoundError) as caught:
        parse_task(answer(V2_NOT_FOUND), task_id="123")
    assert caught.value.code == "1004"
    assert caught.value.task_id == "123"
    assert "Task not found" in str(caught.value)


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("421", CapacityError),
        ("1003", CapacityError),
        ("803", InvalidRequestError),
        ("1007", InvalidRequestError),
        ("1002", AuthenticationError),
        ("380", NotFoundError),
        ("901", NotFoundError),
        ("1505", ContentPolicyError),
        ("812", InsufficientFundsError),
        ("40310", InvalidRequestError),
        ("99999", APIError),
    ],
)
def test_v2_submit_error_codes(code: str, cls: type[APIError]) -> None:
    body = {"taskId": "", "status": "", "errorCode": code, "errorMessage": "x | y"}
    with pytest.raises(cls) as caught:
        parse_submit(body)
    assert caught.value.code == code
    assert type(caught.value) is cls


def test_submit_refused_at_creation_is_an_api_error_even_with_a_task_id() -> None:
    body = {"taskId": "5", "status": "FAILED", "errorCode": "803", "errorMessage": "bad node"}
    with pytest.raises(InvalidRequestError):
        parse_submit(body)


def test_wrapped_capacity_code_on_a_task_endpoint() -> None:
    with pytest.raises(CapacityError) as caught:
        parse_task({"code": 1520, "msg": "TASK_USER_CONCURRENT_LIMIT", "data": None})
    assert caught.value.code == "1520"


@pytest.mark.parametrize("status", ["success", "Running", " queued ", "CANCEL", "CREATE"])
def test_status_case_is_tolerated(status: str) -> None:
    task = parse_task({"taskId": "1", "status": status})
    assert task.status.value == status.strip().upper()


@pytest.mark.parametrize("status", ["PAUSED", "", None, 3])
def test_unknown_status_is_unknown_and_not_terminal(status: object) -> None:
    task = parse_task({"taskId": "1", "status": status})
    assert task.status is TaskStatus.UNKNOWN
    assert not task.is_terminal


def test_numeric_task_id_becomes_a_string() -> None:
    assert parse_task({"taskId": 1910246754753896450, "status": "QUEUED"}).task_id == (
        "1910246754753896450"
    )


def test_task_object_without_task_id_is_a_response_error() -> None:
    with pytest.raises(APIResponseError):
        parse_task({"status": "RUNNING", "errorCode": ""})
    with pytest.raises(APIResponseError):
        parse_task(["not", "an", "object"])


def test_v1_create_shape_is_accepted_as_a_task() -> None:
    data = {
        "netWssUrl": "wss://www.runninghub.cn:443/ws/c_instance?c_host=1",
        "taskId": "1910246754753896450",
        "clientId": "e825290b08ca2015b8f62f0bbdb5f5f6",
        "taskStatus": "QUEUED",
        "promptTips": '{"result": true, "error": null, "outputs_to_execute": ["9"]}',
    }
    task = parse_task({"code": 0, "msg": "success", "data": data})
    assert task.status is TaskStatus.QUEUED
    assert task.net_wss_url == data["netWssUrl"]


# ------------------------------------------------------------------ failure reports


def test_failure_report_shapes() -> None:
    assert parse_failure({}) is None
    assert parse_failure(None) is None
    assert parse_failure("") is None
    as_string = parse_failure('{"node_id": "5", "exception_message": "boom", "traceback": ["a"]}')
    assert as_string is not None
    assert (as_string.node_id, as_string.exception_message, as_string.traceback) == (
        "5",
        "boom",
        ("a",),
    )
    plain = parse_failure("Traceback (most recent call last): ...")
    assert plain is not None and plain.exception_message is not None
    lines = parse_failure({"traceback": "line one\nline two", "node_id": 7})
    assert lines is not None and lines.traceback == ("line one", "line two")
    assert lines.node_id == "7"


# ------------------------------------------------------------------ legacy outputs

V1_RUNNING = (
    b'{"code":804,"msg":"APIKEY_TASK_IS_RUNNING","data":{"netWssUrl":"wss://www.runninghub.cn:443'
    b'/ws/c_instance?c_host=10&c_port=85&clientId=e8&workflowId=19&Rh-Comfy-Auth=ey"}}'
)
V1_SUCCESS = (
    b'{"code":0,"msg":"success","data":[{"fileUrl":"https://rh-images.xiaoyaoyou.com/f/output/'
    b'ComfyUI_00033_hpgqn_1742822416.png","fileType":"png","taskCostTime":"83","nodeId":"9",'
    b'"thirdPartyConsumeMoney":null,"consumeMoney":null,"consumeCoins":"7"}]}'
)
V1_FAILED = (
    b'{"code":805,"msg":"APIKEY_TASK_STATUS_ERROR","data":{"failedReason":{"current_outputs":"{}",'
    b'"exception_type":"TypeError","node_name":"SONIC_PreData","current_inputs":"{}","traceback":'
    b'"[\\"frame\\"]","node_id":"276","exception_message":"boom"}}}'
)


def test_legacy_outputs_states() -> None:
    running = parse_outputs(answer(V1_RUNNING), task_id="1")
    assert running.status is TaskStatus.RUNNING
    assert running.net_wss_url is not None and running.net_wss_url.startswith("wss://")
    queued = parse_outputs(
        answer('{"code":813,"msg":"APIKEY_TASK_IS_QUEUED","data":null}'), task_id="1"
    )
    assert queued.status is TaskStatus.QUEUED
    failed = parse_outputs(answer(V1_FAILED), task_id="1")
    assert failed.status is TaskStatus.FAILED
    assert failed.failure is not None and failed.failure.node_name == "SONIC_PreData"
    done = parse_outputs(answer(V1_SUCCESS), task_id="1")
    assert done.status is TaskStatus.SUCCESS
    assert done.outputs[0].url is not None and done.outputs[0].url.endswith(".png")
    assert done.outputs[0].type == "png"
    assert done.usage is not None and done.usage.task_cost_time == Decimal(83)


@pytest.mark.parametrize("data", ["null", "[]"])
def test_legacy_outputs_success_without_files_means_still_running(data: str) -> None:
    task = parse_outputs(answer(f'{{"code":0,"msg":"success","data":{data}}}'), task_id="1")
    assert task.status is TaskStatus.RUNNING


def test_legacy_outputs_unknown_task() -> None:
    with pytest.raises(NotFoundError):
        parse_outputs({"code": 807, "msg": "APIKEY_TASK_NOT_FOUND", "data": None}, task_id="1")


# ------------------------------------------------------------------ other answers


@pytest.mark.parametrize("msg", ["success", "SUCCESS", ""])
def test_envelope_success_does_not_depend_on_msg(msg: str) -> None:
    assert unwrap({"code": 0, "msg": msg, "data": 5}) == 5
    assert unwrap({"code": "0", "msg": msg, "data": None}) is None


def test_envelope_details_from_error_messages() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        unwrap(
            {
                "code": 803,
                "msg": "APIKEY_INVALID_NODE_INFO",
                "errorMessages": ["node 6 has no field textx"],
            }
        )
    assert "node 6 has no field textx" in str(caught.value)


def test_v2_upload_with_msg_and_message() -> None:
    body = answer(
        b'{"code":0,"msg":"success","errorMessages":null,"data":{"type":"image","download_url":'
        b'"https://rh-images-switch-1252422369.cos.ap-guangzhou.myqcloud.com/input/openapi/ab.png'
        b'?q-sign-algorithm=sha1","fileName":"openapi/ab.png","size":"1470760"}}'
    )
    upload = parse_upload(body)
    assert upload.file_name == "openapi/ab.png"
    assert upload.size == 1470760
    assert upload.type == "image"
    assert upload.download_url is not None and "q-sign" in upload.download_url


def test_v2_upload_error_uses_message() -> None:
    with pytest.raises(AuthenticationError, match="ApiKey verification failed"):
        parse_upload(
            answer('{"code":401,"message":"ApiKey verification failed: API Key不存在","data":null}')
        )


def test_account_status_with_string_numbers() -> None:
    account = parse_account(
        answer(
            b'{"code":0,"msg":"success","errorMessages":null,"data":{"remainCoins":"1100",'
            b'"currentTaskCounts":"0","remainMoney":null,"currency":null,"apiType":"NORMAL"}}'
        )
    )
    assert account.remain_coins == Decimal(1100)
    assert account.current_task_counts == 0
    assert account.remain_money is None
    assert account.api_type == "NORMAL"


def test_queue_status() -> None:
    status = parse_queue_status(
        {
            "code": 0,
            "msg": "success",
            "data": {"apiKeyType": "NORMAL", "concurrentLimit": 2, "runningCount": "1"},
        }
    )
    assert (status.concurrent_limit, status.running_count, status.api_key_type) == (2, 1, "NORMAL")


def test_graph_prompt_is_a_json_string() -> None:
    prompt = {"6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["4", 1]}}}
    graph = parse_graph({"code": 0, "msg": "SUCCESS", "data": {"prompt": json.dumps(prompt)}})
    assert graph == prompt
    with pytest.raises(APIResponseError):
        parse_graph({"code": 0, "msg": "SUCCESS", "data": {"prompt": "not json"}})


def test_app_inputs_with_field_data() -> None:
    body = {
        "code": 0,
        "msg": "success",
        "data": {
            "webappName": "demo",
            "nodeInfoList": [
                {
                    "nodeId": "39",
                    "nodeName": "LoadImage",
                    "fieldName": "image",
                    "fieldValue": "a.png",
                    "fieldData": "",
                    "fieldType": "IMAGE",
                    "description": "图片",
                    "descriptionEn": "image",
                },
                {
                    "nodeId": 52,
                    "fieldName": "style",
                    "fieldValue": "anime",
                    "fieldData": '[{"name":"anime"},{"name":"photo"}]',
                    "fieldType": "list",
                },
                {
                    "nodeId": "7",
                    "fieldName": "sampler",
                    "fieldType": "LIST",
                    "fieldData": '[["euler", "ddim"], {}]',
                },
                {
                    "nodeId": "52",
                    "fieldName": "text",
                    "fieldType": "STRING",
                    "fieldData": '["STRING", {"multiline": true}]',
                },
            ],
        },
    }
    image, style, sampler, text = parse_app_inputs(body)
    assert text.options == ()  # a type spec, not choices
    assert (image.node_id, image.field_type, image.description) == ("39", "IMAGE", "image")
    assert (style.node_id, style.field_type, style.options) == ("52", "LIST", ("anime", "photo"))
    assert sampler.options == ("euler", "ddim")


def test_webhook_detail() -> None:
    detail = parse_webhook_detail(
        {
            "code": 0,
            "msg": "success",
            "data": {
                "id": 12,
                "userApiKey": "0123****cdef",
                "taskId": "1904163390028185602",
                "webhookUrl": "https://example.com/hook",
                "eventData": '{"code":0}',
                "callbackStatus": "FAILED",
                "retryCount": "3",
            },
        },
        task_id="1904163390028185602",
    )
    assert (detail.id, detail.callback_status, detail.retry_count) == ("12", "FAILED", 3)
    assert detail.event_data == '{"code":0}'


def test_webhook_missing_is_not_found() -> None:
    with pytest.raises(NotFoundError):
        parse_webhook_detail({"code": 1, "msg": "webhook event not exists"}, task_id="1")


def test_every_documented_code_maps_to_exactly_one_class() -> None:
    documented_v1 = "-1 301 380 412 415 416 421 423 433 435 436 500 801 802 803 805 806 807 808"
    documented_v1 += " 809 810 811 812 814 901"
    documented_v2 = "1000 1001 1002 1003 1004 1005 1006 1007 1008 1009 1010 1011 1012 1013"
    documented_v2 += " 1014 1015 1101 1501 1504 1505 1520 40310"
    missing = [c for c in (documented_v1 + " " + documented_v2).split() if c not in CODE_TABLE]
    assert missing == ["805"]  # 805 is a task state (TaskFailedError), read by parse_outputs
