"""The client reads the contract's golden samples as the contract means them.

The emulator is held to the same samples (``test_emulator_contract.py``); here each sample's
body goes through the parser of the operation the client would send for it, and the result
(or the exception, with its RunningHub code) is what a caller would act on.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import runninghub
from runninghub import Client, TaskStatus
from runninghub._answers import parse_app_inputs
from runninghub._protocol import Operation

SAMPLES: dict[str, Any] = json.loads(
    (Path(__file__).parent / "golden_samples.json").read_text(encoding="utf-8")
)
KEY = "0123456789abcdef0123456789abcdef"
TASK = "2013508786110730241"
Build = Callable[[Client], Operation[Any]]
MODEL = "rhart-image-n-pro/text-to-image"
UPLOADED = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.png"


def _upload(client: Client) -> Operation[Any]:
    from runninghub._uploads import open_upload

    body, _close = open_upload(b"\x89PNG\r\n\x1a\n png", "cat.png")  # a PNG by its first bytes
    return client._op_upload(body)


def _submit(client: Client) -> Operation[Any]:
    from runninghub._options import SubmitOptions

    return client._op_submit_workflow("1987728214757978114", [], SubmitOptions())


def _app_inputs(client: Client) -> Operation[Any]:
    """The apiCallDemo operation, read as ``app_inputs`` reads it (the body is cached raw)."""
    op = client._op_app_inputs("1877265245566922753")
    return dataclasses.replace(op, parse=lambda body: parse_app_inputs(op.parse(body)))


# sample -> (the operation whose parser reads it, what the caller gets)
READS: dict[str, tuple[Build, dict[str, Any]]] = {
    "v1_outputs_success": (
        lambda c: c._op_outputs(TASK),
        {"status": TaskStatus.SUCCESS, "outputs[0].type": "png"},
    ),
    "v1_outputs_running": (lambda c: c._op_outputs(TASK), {"status": TaskStatus.RUNNING}),
    "v1_outputs_queued": (lambda c: c._op_outputs(TASK), {"status": TaskStatus.QUEUED}),
    "v1_outputs_failed": (
        lambda c: c._op_outputs(TASK),
        {"status": TaskStatus.FAILED, "failure.node_id": "276"},
    ),
    "v1_cancel": (lambda c: c._op_cancel(TASK), {}),
    "v1_retry_webhook": (lambda c: c._op_retry_webhook("1", "https://example.com/h"), {}),
    "v1_upload": (
        _upload,
        {"file_name": f"api/{UPLOADED}"},
    ),
    "v2_upload": (
        _upload,
        {"file_name": f"openapi/{UPLOADED}"},
    ),
    "v1_account_status": (
        lambda c: c._op_account(),
        {"remain_coins": Decimal("1100"), "current_task_counts": 0, "api_type": "NORMAL"},
    ),
    "v2_queue_status": (
        lambda c: c._op_queue_status(),
        {"concurrent_limit": 2, "running_count": 0, "api_key_type": "NORMAL"},
    ),
    "v1_webhook_detail": (
        lambda c: c._op_webhook_detail("1904163390028185602"),
        {"task_id": "1904163390028185602", "callback_status": "SUCCESS"},
    ),
    "v1_api_call_demo": (
        _app_inputs,
        {"[0].node_id": "39", "[0].field_name": "image", "[0].field_type": "IMAGE"},
    ),
    "v1_json_api_format": (lambda c: c._op_graph("1"), {"3.class_type": "KSampler"}),
    "v2_task_running": (
        _submit,
        {"task_id": TASK, "status": TaskStatus.RUNNING},
    ),
    "v2_query_running": (lambda c: c._op_query(TASK), {"status": TaskStatus.RUNNING}),
    "v2_query_success": (
        lambda c: c._op_query(TASK),
        {"task_id": TASK, "status": TaskStatus.SUCCESS, "outputs[0].type": "png"},
    ),
    "v2_query_failed": (
        lambda c: c._op_query(TASK),
        {"status": TaskStatus.FAILED, "error_code": "1000", "usage.consume_coins": Decimal(1)},
    ),
    "v2_api_key_list": (
        lambda c: c._op_api_keys(),
        {"[0].key": "0123****cdef", "[0].type": "SHARED", "[0].quota_limit": Decimal(100)},
    ),
    "v2_resource_list": (
        lambda c: c._op_resources("LORA", None, 1, 1),
        {
            "records[0].node_model_name": "flux_realism_lora.safetensors",
            "has_next": True,
            "pages": 7,
        },
    ),
    "v2_aiapp_list": (
        lambda c: c._op_ai_apps(1, 1, "RECOMMEND"),
        {"records[0].app_id": "1877265245566922753", "has_next": False},
    ),
    "v1_lora_upload_url": (
        lambda c: c._op_lora_target("a.safetensors", "0cc175b9c0f1b6a831c399e269772661"),
        {"[0]": "api-lora-cn/0cc175b9c0f1b6a831c399e269772661.safetensors"},
    ),
    "v2_price_preview": (
        lambda c: c._op_price_preview(MODEL, {}),
        {"estimated": Decimal("0.4"), "currency": "CNY", "free_this_call": False},
    ),
}

# sample -> (the operation, the exception and the code it carries)
REFUSALS: dict[str, tuple[Build, type[runninghub.APIError], str]] = {
    "v1_task_not_found": (lambda c: c._op_cancel(TASK), runninghub.NotFoundError, "807"),
    "v1_upload_too_large": (_upload, runninghub.InvalidRequestError, "809"),
    "v2_upload_too_large": (_upload, runninghub.InvalidRequestError, "1008"),
    "v2_upload_bad_key": (_upload, runninghub.AuthenticationError, "401"),
    "v1_bad_key": (lambda c: c._op_account(), runninghub.AuthenticationError, "802"),
    "v1_queue_maxed": (_submit, runninghub.CapacityError, "421"),
    "v2_queue_maxed": (_submit, runninghub.CapacityError, "421"),
    "v1_invalid_node_info": (_submit, runninghub.InvalidRequestError, "803"),
    "v1_params_invalid": (_submit, runninghub.InvalidRequestError, "301"),
    "v2_parse_error": (_submit, runninghub.InvalidRequestError, "1007"),
    "v2_bad_key": (_submit, runninghub.AuthenticationError, "1002"),
    "v1_workflow_not_exists": (lambda c: c._op_graph("1"), runninghub.NotFoundError, "380"),
    "v1_webapp_not_exists": (lambda c: c._op_app_inputs("1"), runninghub.NotFoundError, "901"),
    "v1_no_webhook": (lambda c: c._op_webhook_detail(TASK), runninghub.NotFoundError, "1"),
    "v2_query_not_found": (lambda c: c._op_query(TASK), runninghub.NotFoundError, "1004"),
    "v2_price_preview_normal_key": (
        lambda c: c._op_price_preview(MODEL, {}),
        runninghub.AuthenticationError,
        "1014",
    ),
}

# Answers of routes the client does not call (it submits and polls through v2), and the
# webhook callback, which a receiver reads, not the client.
NOT_READ_BY_THE_CLIENT = {"v1_create", "v1_create_queued", "v1_status", "webhook_task_end"}


def _pick(value: Any, path: str) -> Any:
    """``outputs[0].type``-style access into models, lists and dicts."""
    for part in path.replace("[", ".[").split("."):
        if not part:
            continue
        if part.startswith("["):
            value = value[int(part[1:-1])]
        elif isinstance(value, dict):
            value = value[part]
        else:
            value = getattr(value, part)
    return value


@pytest.fixture
def client(tmp_path: Path) -> Client:
    # Never connects: only the operations' parsers are used.
    return Client(KEY, base_url="http://127.0.0.1:9", config_dir=tmp_path)


def test_every_sample_is_read_by_the_client_or_said_not_to_be() -> None:
    samples = {name for name in SAMPLES if not name.startswith("_")}
    assert samples == set(READS) | set(REFUSALS) | NOT_READ_BY_THE_CLIENT


@pytest.mark.parametrize("name", sorted(READS))
def test_the_client_reads_the_sample(client: Client, name: str) -> None:
    build, expected = READS[name]
    result = build(client).parse(copy.deepcopy(SAMPLES[name]["body"]))

    for path, value in expected.items():
        assert _pick(result, path) == value, path
    if not expected:
        assert result is None


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_the_client_raises_what_the_sample_means(client: Client, name: str) -> None:
    build, error, code = REFUSALS[name]

    with pytest.raises(error) as raised:
        build(client).parse(copy.deepcopy(SAMPLES[name]["body"]))

    assert raised.value.code == code
