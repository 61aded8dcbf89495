"""Typed results: what the two API families return, normalised into one vocabulary."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "Account",
    "AppInput",
    "NodeOverride",
    "Output",
    "QueueStatus",
    "Task",
    "TaskFailure",
    "TaskStatus",
    "Upload",
    "Usage",
    "WebhookDetail",
]


class TaskStatus(enum.Enum):
    """A task's state. ``UNKNOWN`` stands for any value the contract does not document."""

    CREATE = "CREATE"
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    CANCEL = "CANCEL"
    UNKNOWN = "UNKNOWN"

    @property
    def is_terminal(self) -> bool:
        return self in (TaskStatus.SUCCESS, TaskStatus.FAILED, TaskStatus.CANCEL)

    @classmethod
    def parse(cls, value: object) -> TaskStatus:
        """Read a wire status; upper-cases it, and maps anything undocumented to UNKNOWN."""
        text = str(value or "").strip().upper()
        try:
            return cls(text)
        except ValueError:
            return cls.UNKNOWN


def to_decimal(value: object) -> Decimal | None:
    """Numbers arrive as strings, numbers or null; give a Decimal or None, never raise."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@dataclass(frozen=True)
class Usage:
    """What a finished task cost. Every figure is ``None`` when the service did not say."""

    consume_coins: Decimal | None = None
    consume_money: Decimal | None = None
    third_party_consume_money: Decimal | None = None
    task_cost_time: Decimal | None = None

    @classmethod
    def from_wire(cls, data: Mapping[str, Any] | None) -> Usage | None:
        if not data:
            return None
        return cls(
            consume_coins=to_decimal(data.get("consumeCoins")),
            consume_money=to_decimal(data.get("consumeMoney")),
            third_party_consume_money=to_decimal(data.get("thirdPartyConsumeMoney")),
            task_cost_time=to_decimal(data.get("taskCostTime")),
        )

    def to_dict(self) -> dict[str, str | None]:
        return {
            "consume_coins": _str_or_none(self.consume_coins),
            "consume_money": _str_or_none(self.consume_money),
            "third_party_consume_money": _str_or_none(self.third_party_consume_money),
            "task_cost_time": _str_or_none(self.task_cost_time),
        }


def _str_or_none(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class Output:
    """One output of a task: a file (``url``) or a text (``text``)."""

    url: str | None
    type: str | None
    node_id: str | None
    text: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "type": self.type, "node_id": self.node_id, "text": self.text}


@dataclass(frozen=True)
class TaskFailure:
    """Where and why a task failed, from ComfyUI's failure report."""

    node_id: str | None = None
    node_name: str | None = None
    exception_type: str | None = None
    exception_message: str | None = None
    traceback: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "node_name": self.node_name,
            "exception_type": self.exception_type,
            "exception_message": self.exception_message,
            "traceback": list(self.traceback),
        }


@dataclass(frozen=True)
class Task:
    """A task's state as last seen, whichever endpoint reported it. ``raw`` keeps the wire body."""

    task_id: str
    status: TaskStatus
    outputs: tuple[Output, ...] = ()
    usage: Usage | None = None
    failure: TaskFailure | None = None
    error_code: str | None = None
    error_message: str | None = None
    client_id: str | None = None
    prompt_tips: Mapping[str, Any] | None = None
    net_wss_url: str | None = None
    raw: Any = field(default=None, repr=False, compare=False)

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (the shape the CLI prints with ``--json``)."""
        return {
            "task_id": self.task_id,
            "status": self.status.value,
            "outputs": [o.to_dict() for o in self.outputs],
            "usage": self.usage.to_dict() if self.usage else None,
            "failure": self.failure.to_dict() if self.failure else None,
            "error_code": self.error_code,
            "error_message": self.error_message,
        }


@dataclass(frozen=True)
class Upload:
    """An uploaded file. ``file_name`` goes into a loader node's field value."""

    file_name: str
    download_url: str | None = None
    type: str | None = None
    size: int | None = None
    raw: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file_name": self.file_name,
            "download_url": self.download_url,
            "type": self.type,
            "size": self.size,
        }


@dataclass(frozen=True)
class NodeOverride:
    """One ``nodeInfoList`` entry: set ``field`` of node ``node_id`` to ``value``."""

    node_id: str
    field: str
    value: Any

    def to_wire(self) -> dict[str, Any]:
        return {"nodeId": str(self.node_id), "fieldName": self.field, "fieldValue": self.value}


@dataclass(frozen=True)
class Account:
    """Balance and load of the account behind the key."""

    remain_coins: Decimal | None
    current_task_counts: int | None
    remain_money: Decimal | None = None
    currency: str | None = None
    api_type: str | None = None
    raw: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "remain_coins": _str_or_none(self.remain_coins),
            "current_task_counts": self.current_task_counts,
            "remain_money": _str_or_none(self.remain_money),
            "currency": self.currency,
            "api_type": self.api_type,
        }


@dataclass(frozen=True)
class QueueStatus:
    """The key's concurrency limit and its running and queued counts."""

    concurrent_limit: int | None
    running_count: int | None = None
    queued_count: int | None = None
    total_current_tasks: int | None = None
    api_key_type: str | None = None
    raw: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "concurrent_limit": self.concurrent_limit,
            "running_count": self.running_count,
            "queued_count": self.queued_count,
            "total_current_tasks": self.total_current_tasks,
            "api_key_type": self.api_key_type,
        }


@dataclass(frozen=True)
class AppInput:
    """One input of an AI app, as its ``apiCallDemo`` lists it."""

    node_id: str
    field_name: str
    field_type: str | None
    field_value: Any = None
    node_name: str | None = None
    description: str | None = None
    options: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "node_name": self.node_name,
            "field_name": self.field_name,
            "field_type": self.field_type,
            "field_value": self.field_value,
            "description": self.description,
            "options": list(self.options),
        }


@dataclass(frozen=True)
class WebhookDetail:
    """The delivery record of a task's webhook."""

    id: str | None
    task_id: str | None
    webhook_url: str | None
    callback_status: str | None
    retry_count: int | None
    event_data: str | None = None
    raw: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "task_id": self.task_id,
            "webhook_url": self.webhook_url,
            "callback_status": self.callback_status,
            "retry_count": self.retry_count,
        }
