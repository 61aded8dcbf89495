"""Answers other than tasks, read into the models: upload, account, queue, graphs, apps.

The rule for every answer: ``_protocol`` checks the HTTP layer and the envelope
(``decode_body``, ``unwrap``, the codes); the ``_answers`` family reads what is inside: this
module, and ``_task_answers`` for task objects. Numbers may arrive as strings, and missing
fields are ``None`` rather than errors (``_wire_values``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import fields
from typing import Any, TypeVar

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
    return _flat_record(Account, body, "account")


def parse_queue_status(body: Any) -> QueueStatus:
    return _flat_record(QueueStatus, body, "queue status")


# How a flat record's field is read, by its annotation: numbers may arrive as strings, and
# an empty text is no text.
_READERS: dict[str, Callable[[dict[str, Any], str], Any]] = {
    "Decimal | None": lambda data, key: to_decimal(data.get(key)),
    "int | None": lambda data, key: as_int(data.get(key)),
    "str | None": lambda data, key: text_field(data, key) or None,
}
Flat = TypeVar("Flat", Account, QueueStatus)


def _flat_record(kind: type[Flat], body: Any, what: str) -> Flat:
    """A record whose every field but ``raw`` is the wire key of its name in camelCase
    (``remain_coins``: ``remainCoins``), read as its annotation says."""
    data = _data_dict(body, what)
    values = {
        f.name: _READERS[str(f.type)](data, _camel(f.name)) for f in fields(kind) if f.name != "raw"
    }
    return kind(**values, raw=body)


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(word.title() for word in rest)


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
