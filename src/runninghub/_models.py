"""Typed results: what the two API families return, normalised into one vocabulary."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from ._numbers import json_number

__all__ = [
    "Account",
    "AppInput",
    "NodeOverride",
    "Output",
    "QueueFull",
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


class _View:
    """``to_dict``: a JSON-ready view of a model, its fields in order, ``raw`` left out.

    Decimals (coins, money, prices) become JSON numbers (``json_number``), enums their values,
    tuples lists, nested models their own view. ``_VIEW`` names the fields where a model
    shows fewer, or in another order.
    """

    _VIEW: ClassVar[tuple[str, ...] | None] = None

    def to_dict(self) -> dict[str, Any]:
        names = self._VIEW or tuple(f.name for f in fields(self) if f.name != "raw")  # type: ignore[arg-type]
        return {name: _plain(getattr(self, name)) for name in names}


def _plain(value: Any) -> Any:
    if isinstance(value, _View):
        return value.to_dict()
    if isinstance(value, Decimal):
        return json_number(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


def to_decimal(value: object) -> Decimal | None:
    """Numbers arrive as strings, numbers or null; give a finite Decimal or None, never raise."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


@dataclass(frozen=True)
class Usage(_View):
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


@dataclass(frozen=True)
class Output(_View):
    """One output of a task: a file (``url``) or a text (``text``)."""

    url: str | None
    type: str | None
    node_id: str | None
    text: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class TaskFailure(_View):
    """Where and why a task failed, from ComfyUI's failure report."""

    node_id: str | None = None
    node_name: str | None = None
    exception_type: str | None = None
    exception_message: str | None = None
    traceback: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class Task(_View):
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

    # The shape the CLI prints with ``--json``: no socket URL, client id or prompt tips.
    _VIEW = ("task_id", "status", "outputs", "usage", "failure", "error_code", "error_message")

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal


@dataclass(frozen=True)
class Upload(_View):
    """An uploaded file. ``file_name`` goes into a loader node's field value."""

    file_name: str
    download_url: str | None = None
    type: str | None = None
    size: int | None = None
    raw: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class NodeOverride:
    """One ``nodeInfoList`` entry: set ``field`` of node ``node_id`` to ``value``."""

    node_id: str
    field: str
    value: Any

    def to_wire(self) -> dict[str, Any]:
        return {"nodeId": str(self.node_id), "fieldName": self.field, "fieldValue": self.value}


@dataclass(frozen=True)
class Account(_View):
    """Balance and load of the account behind the key."""

    remain_coins: Decimal | None
    current_task_counts: int | None
    remain_money: Decimal | None = None
    currency: str | None = None
    api_type: str | None = None
    raw: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class QueueStatus(_View):
    """The key's concurrency limit and its running and queued counts."""

    concurrent_limit: int | None
    running_count: int | None = None
    queued_count: int | None = None
    total_current_tasks: int | None = None
    api_key_type: str | None = None
    raw: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class QueueFull(_View):
    """What ``on_queue_full`` receives while a submit waits for a free slot of the account.

    The service refused the submit because the key's tasks fill its concurrency (421 and its
    kin): nothing was created, and the client submits again after ``retry_in`` seconds.
    ``message`` is the service's own words; ``running`` and ``limit`` come from the queue
    status when it could be read (else None). ``waited`` counts from the first refusal. A
    second report with ``resuming=True`` follows each wait, right before the submit is sent
    again: until then nothing has been submitted.
    """

    what: str
    message: str
    code: str | None
    retry_in: float
    waited: float
    running: int | None = None
    limit: int | None = None
    resuming: bool = False


@dataclass(frozen=True)
class AppInput(_View):
    """One input of an AI app, as its ``apiCallDemo`` lists it."""

    node_id: str
    field_name: str
    field_type: str | None
    field_value: Any = None
    node_name: str | None = None
    description: str | None = None
    options: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    _VIEW = (
        "node_id",
        "node_name",
        "field_name",
        "field_type",
        "field_value",
        "description",
        "options",
    )


@dataclass(frozen=True)
class WebhookDetail(_View):
    """The delivery record of a task's webhook."""

    id: str | None
    task_id: str | None
    webhook_url: str | None
    callback_status: str | None
    retry_count: int | None
    event_data: str | None = None
    raw: Any = field(default=None, repr=False, compare=False)

    _VIEW = ("id", "task_id", "webhook_url", "callback_status", "retry_count")  # no event data
