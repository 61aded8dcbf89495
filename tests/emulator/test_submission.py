"""What a run request may contain: node validation, ids, flags, the ``workflow`` JSON."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

INVERT = "1987728214757978114"
TEXT_TO_IMAGE = "1904136902449209346"
APP = "1877265245566922753"


def _node(node_id: str, field: str, value: object) -> dict[str, object]:
    return {"nodeId": node_id, "fieldName": field, "fieldValue": value}


@pytest.mark.parametrize(
    "node",
    [_node("999", "image", "x.png"), _node("107", "no_such_field", 1)],
    ids=["unknown node", "unknown field"],
)
def test_invalid_node_info_is_803_and_creates_nothing(raw_api, node) -> None:
    v2 = raw_api.run_workflow(INVERT, [node])
    assert v2["errorCode"] == "803" and v2["taskId"] == "" and v2["status"] == ""
    v1 = raw_api.v1("/task/openapi/create", {"workflowId": INVERT, "nodeInfoList": [node]})
    assert (v1["code"], v1["msg"]) == (803, "APIKEY_INVALID_NODE_INFO")
    assert raw_api.server.stats()["tasks_created"] == 0


def test_an_app_accepts_only_the_fields_its_demo_lists(raw_api) -> None:
    body = {"nodeInfoList": [_node("3", "steps", 5)]}
    answer = raw_api.v2(f"/openapi/v2/run/ai-app/{APP}", body)
    assert answer["errorCode"] == "803"


def test_unknown_workflow_and_app_ids(raw_api) -> None:
    assert raw_api.run_workflow("1234")["errorCode"] == "380"
    assert raw_api.v1("/task/openapi/create", {"workflowId": "1234"})["code"] == 380
    app = raw_api.v2("/openapi/v2/run/ai-app/1234", {"nodeInfoList": []})
    assert app["errorCode"] == "901"
    legacy = raw_api.v1("/task/openapi/ai-app/run", {"webappId": "1234", "nodeInfoList": []})
    assert (legacy["code"], legacy["msg"]) == (901, "WEBAPP_NOT_EXISTS")
    assert raw_api.server.stats()["tasks_created"] == 0


@pytest.mark.parametrize("flag", ["true", "false", True, False, "TRUE"])
def test_use_personal_queue_is_accepted_as_string_or_bool(raw_api, flag) -> None:
    assert raw_api.run_workflow(INVERT, usePersonalQueue=flag)["errorCode"] == ""


@pytest.mark.parametrize(
    "extra",
    [
        {"usePersonalQueue": "maybe"},
        {"instanceType": "huge"},
        {"webhookUrl": "ftp://example"},
        {"addMetadata": 3},
        {"nodeInfoList": {"nodeId": "107"}},
        {"nodeInfoList": [{"nodeId": "107", "fieldName": "image"}]},
    ],
)
def test_wrongly_typed_fields_are_rejected(raw_api, extra) -> None:
    assert raw_api.v2(f"/openapi/v2/run/workflow/{INVERT}", extra)["errorCode"] == "1007"
    legacy = raw_api.v1("/task/openapi/create", {"workflowId": INVERT, **extra})
    assert legacy["code"] == 301
    assert raw_api.server.stats()["tasks_created"] == 0


def test_numeric_strings_are_coerced_for_int_fields(raw_api) -> None:
    overrides = [_node("5", "width", "32"), _node("5", "height", "40"), _node(3, "steps", "2")]
    done = raw_api.wait(raw_api.run_workflow(TEXT_TO_IMAGE, overrides)["taskId"])
    assert done["status"] == "SUCCESS"
    image = Image.open(io.BytesIO(raw_api.http.get(done["results"][0]["url"]).content))
    assert image.size == (32, 40)


def test_the_workflow_json_replaces_the_stored_graph(raw_api) -> None:
    graph = json.loads(
        raw_api.v1("/api/openapi/getJsonApiFormat", {"workflowId": INVERT})["data"]["prompt"]
    )
    graph["110"] = {
        "class_type": "ImageScaleBy",
        "inputs": {"image": ["108", 0], "upscale_method": "nearest-exact", "scale_by": 0.25},
    }
    graph["109"]["inputs"]["images"] = ["110", 0]
    body = {"workflowId": INVERT, "workflow": json.dumps(graph)}
    task_id = raw_api.v1("/task/openapi/create", body)["data"]["taskId"]
    done = raw_api.wait(task_id)
    image = Image.open(io.BytesIO(raw_api.http.get(done["results"][0]["url"]).content))
    assert image.size == (64, 64)


def test_a_broken_workflow_json_is_refused(raw_api) -> None:
    body = {"workflowId": INVERT, "workflow": "{not a graph"}
    assert raw_api.v1("/task/openapi/create", body)["code"] == 301
    v2 = raw_api.v2(f"/openapi/v2/run/workflow/{INVERT}", {"workflow": "[]"})
    assert v2["errorCode"] == "1101"


def test_add_metadata_controls_the_prompt_chunk(raw_api) -> None:
    chunks = []
    for flag in (True, "false"):
        done = raw_api.wait(raw_api.run_workflow(INVERT, addMetadata=flag)["taskId"])
        image = Image.open(io.BytesIO(raw_api.http.get(done["results"][0]["url"]).content))
        chunks.append(image.info.get("prompt"))
    assert json.loads(chunks[0])["107"]["class_type"] == "LoadImage"
    assert chunks[1] is None


def test_an_unsupported_node_class_fails_the_task_not_the_request(raw_api) -> None:
    graph = {"1": {"class_type": "NoSuchNode", "inputs": {}}}
    body = {"workflowId": INVERT, "workflow": json.dumps(graph)}
    answer = raw_api.v1("/task/openapi/create", body)
    assert answer["code"] == 0
    done = raw_api.wait(answer["data"]["taskId"])
    assert done["status"] == "FAILED" and done["failedReason"]["node_name"] == "NoSuchNode"


def test_fingerprints_count_identical_inputs(raw_api) -> None:
    same = [_node("5", "width", 64), _node("6", "text", "a cat")]
    reordered = list(reversed(same))
    raw_api.run_workflow(TEXT_TO_IMAGE, same)
    raw_api.run_workflow(TEXT_TO_IMAGE, reordered)
    stats = raw_api.server.stats()
    assert sorted(stats["tasks_by_fingerprint"].values()) == [2]
    assert stats["tasks_created"] == 2
