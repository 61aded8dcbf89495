"""Answers other than tasks, read into the models: upload, account, queue, graphs, apps.

The rule for every answer: ``_protocol`` checks the HTTP layer and the envelope
(``decode_body``, ``unwrap``, the codes); the ``_answers`` family reads what is inside: this
module, and ``_task_answers`` for task objects. Numbers may arrive as strings, and missing
fields are ``None`` rather than errors (``_wire_values``).
"""

from __future__ import annotations

import json
from typing import Any

from ._models import (
    Account,
    AppInput,
    QueueStatus,
    Upload,
    WebhookDetail,
    to_decimal,
)
from ._protocol import contract_error, unwrap
from ._wire_values import as_int, json_object, json_value, text_field

__all__ = [
    "parse_account",
    "parse_app_inputs",
    "parse_graph",
    "parse_nothing",
    "parse_queue_status",
    "parse_upload",
    "parse_webhook_detail",
]


def _data_dict(body: Any, what: str, *, task_id: str | None = None) -> dict[str, Any]:
    data = unwrap(body, task_id=task_id)
    if not isinstance(data, dict):
        raise contract_error(f"the {what} answer carries no data object", raw=body, task_id=task_id)
    return data


def parse_upload(body: Any) -> Upload:
    data = _data_dict(body, "upload")
    name = text_field(data, "fileName")
    if not name:
        raise contract_error("the upload answer carries no fileName", raw=body)
    return Upload(
        file_name=name,
        download_url=text_field(data, "download_url", "downloadUrl") or None,
        type=text_field(data, "type", "fileType") or None,
        size=as_int(data.get("size")),
        raw=body,
    )


def parse_account(body: Any) -> Account:
    data = _data_dict(body, "account")
    return Account(
        remain_coins=to_decimal(data.get("remainCoins")),
        current_task_counts=as_int(data.get("currentTaskCounts")),
        remain_money=to_decimal(data.get("remainMoney")),
        currency=text_field(data, "currency") or None,
        api_type=text_field(data, "apiType") or None,
        raw=body,
    )


def parse_queue_status(body: Any) -> QueueStatus:
    data = _data_dict(body, "queue status")
    return QueueStatus(
        concurrent_limit=as_int(data.get("concurrentLimit")),
        running_count=as_int(data.get("runningCount")),
        queued_count=as_int(data.get("queuedCount")),
        total_current_tasks=as_int(data.get("totalCurrentTasks")),
        api_key_type=text_field(data, "apiKeyType") or None,
        raw=body,
    )


def parse_graph(body: Any) -> dict[str, Any]:
    """The API-format graph from getJsonApiFormat: ``data.prompt`` is a JSON string."""
    prompt = _data_dict(body, "workflow").get("prompt")
    graph = json_object(prompt)
    if graph is None:
        raise contract_error("the workflow answer carries no API-format prompt", raw=body)
    return graph


def parse_app_inputs(body: Any) -> list[AppInput]:
    items = _data_dict(body, "app").get("nodeInfoList")
    if not isinstance(items, list):
        raise contract_error("the app answer carries no nodeInfoList", raw=body)
    return [_app_input(item) for item in items if isinstance(item, dict)]


def _app_input(item: dict[str, Any]) -> AppInput:
    field_type = (text_field(item, "fieldType") or "").upper() or None
    return AppInput(
        node_id=text_field(item, "nodeId") or "",
        field_name=text_field(item, "fieldName") or "",
        field_type=field_type,
        field_value=item.get("fieldValue"),
        node_name=text_field(item, "nodeName") or None,
        description=text_field(item, "descriptionEn", "description") or None,
        options=_options(item.get("fieldData")) if field_type == "LIST" else (),
        raw=item,
    )


def _options(field_data: Any) -> tuple[str, ...]:
    """LIST choices from ``fieldData``: a JSON string of names, of objects, or a ComfyUI spec."""
    value = json_value(field_data) if isinstance(field_data, str) else field_data
    if isinstance(value, list) and value and isinstance(value[0], list):
        value = value[0]  # ComfyUI input spec: [[choices...], {options}]
    if not isinstance(value, list):
        return ()
    names = []
    for entry in value:
        name = entry.get("name", entry.get("value")) if isinstance(entry, dict) else entry
        if isinstance(name, (str, int, float)) and not isinstance(name, bool):
            names.append(str(name))
    return tuple(names)


def parse_webhook_detail(body: Any, *, task_id: str) -> WebhookDetail:
    data = _data_dict(body, "webhook", task_id=task_id)
    event = data.get("eventData")
    return WebhookDetail(
        id=text_field(data, "id") or None,
        task_id=text_field(data, "taskId") or task_id,
        webhook_url=text_field(data, "webhookUrl") or None,
        callback_status=text_field(data, "callbackStatus") or None,
        retry_count=as_int(data.get("retryCount")),
        event_data=event if isinstance(event, str) else (json.dumps(event) if event else None),
        raw=body,
    )


def parse_nothing(body: Any, *, task_id: str | None = None) -> None:
    """Answers whose only content is success (cancel, retryWebhook)."""
    unwrap(body, task_id=task_id)
