"""A task's record, its lifecycle and how each API presents it.

States are computed from timestamps, never stored: QUEUED until ``start_at``, RUNNING
until both ``min_end_at`` has passed and the execution finished, then SUCCESS or FAILED;
CANCEL once cancelled. So answering a query needs no timer and no lock.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .wire import v1_envelope, v2_task_object

QUEUED, RUNNING, SUCCESS, FAILED, CANCEL = "QUEUED", "RUNNING", "SUCCESS", "FAILED", "CANCEL"
CREATE = "CREATE"  # shown on v2 only, for a configurable moment before QUEUED
TERMINAL = frozenset({SUCCESS, FAILED, CANCEL})


@dataclass(frozen=True)
class OutputFile:
    node_id: str
    ext: str
    name: str
    size: int
    text: str | None = None


@dataclass
class TaskRecord:
    """Everything known about one task. Times are real epoch seconds."""

    task_id: str
    key_hash: str
    key_mask: str
    source: str
    source_id: str
    client_id: str
    graph: dict[str, Any]
    outputs_to_execute: list[str]
    fingerprint: str
    add_metadata: bool
    webhook_url: str | None
    created_at: float
    start_at: float
    min_end_at: float
    done_at: float | None = None
    outputs: list[OutputFile] = field(default_factory=list)
    failure: dict[str, str] | None = None
    cancelled_at: float | None = None
    ended: bool = False  # the end was handled (coins charged, webhook sent)
    # Spending: wallet money charged on success (a decimal string; None: coins are), and
    # a fixed coin price (None: one coin per second of run time).
    money: str | None = None
    coin_price: int | None = None
    # A standard-model task (source "model", source_id its endpoint, graph its params).
    output_type: str | None = None
    # ComfyUI websocket events (type, data) as the execution reported them; not persisted.
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list, repr=False)
    events_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def status(self, now: float | None = None) -> str:
        now = time.time() if now is None else now
        if self.cancelled_at is not None:
            return CANCEL
        if now < self.start_at:
            return QUEUED
        if self.done_at is None or now < self.finish_at:
            return RUNNING
        return FAILED if self.failure is not None else SUCCESS

    @property
    def finish_at(self) -> float:
        """When the result appears: end of task_seconds or of the execution, the later."""
        if self.cancelled_at is not None:
            return self.cancelled_at
        return max(self.min_end_at, self.done_at if self.done_at is not None else math.inf)

    def cost_seconds(self) -> int:
        end = self.finish_at if math.isfinite(self.finish_at) else time.time()
        return max(0, round(end - self.start_at))

    def coins(self) -> int:
        if self.money is not None:
            return 0
        if self.coin_price is not None:
            return self.coin_price
        return max(1, math.ceil(self.cost_seconds()))

    def add_event(self, kind: str, data: dict[str, Any]) -> None:
        with self.events_lock:
            self.events.append((kind, data))

    def event_snapshot(self) -> list[tuple[str, dict[str, Any]]]:
        with self.events_lock:
            return list(self.events)

    def to_document(self) -> dict[str, Any]:
        document = {
            item.name: getattr(self, item.name)
            for item in fields(self)
            if item.name not in ("events", "events_lock")
        }
        document["outputs"] = [asdict(output) for output in self.outputs]
        return document

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> TaskRecord:
        outputs = [OutputFile(**item) for item in document.pop("outputs", [])]
        return cls(**document, outputs=outputs)


def cancelled_reason() -> dict[str, str]:
    """The failedReason of a task cancelled through ``/task/openapi/cancel``."""
    return {
        "current_outputs": "{}",
        "exception_type": "InterruptedError",
        "node_name": "",
        "current_inputs": "{}",
        "traceback": "[]",
        "node_id": "",
        "exception_message": "The task was cancelled by the user",
    }


def usage(task: TaskRecord) -> dict[str, Any]:
    return {
        "consumeMoney": task.money,
        "consumeCoins": str(task.coins()),
        "taskCostTime": str(task.cost_seconds()),
        "thirdPartyConsumeMoney": None,
    }


def v1_output_items(task: TaskRecord, base_url: str, *, cost_as_number: bool) -> list[Any]:
    """The legacy ``outputs`` list; ``taskCostTime`` is a number only inside webhooks."""
    cost: int | str = task.cost_seconds() if cost_as_number else str(task.cost_seconds())
    return [
        {
            "fileUrl": output_url(base_url, task.task_id, item.name),
            "fileType": item.ext,
            "taskCostTime": cost,
            "nodeId": item.node_id,
            "thirdPartyConsumeMoney": None,
            "consumeMoney": task.money,
            "consumeCoins": str(task.coins()),
        }
        for item in task.outputs
    ]


def v1_outputs_envelope(
    task: TaskRecord, base_url: str, ws_url: str | None, *, cost_as_number: bool = False
) -> dict[str, Any]:
    """``/task/openapi/outputs`` for the task's current state (813/804/805/0)."""
    status = task.status()
    if status == QUEUED:
        return v1_envelope(None, "APIKEY_TASK_IS_QUEUED", 813)
    if status == RUNNING:
        return v1_envelope({"netWssUrl": ws_url}, "APIKEY_TASK_IS_RUNNING", 804)
    if status in (FAILED, CANCEL):
        reason = task.failure or cancelled_reason()
        return v1_envelope({"failedReason": reason}, "APIKEY_TASK_STATUS_ERROR", 805)
    return v1_envelope(v1_output_items(task, base_url, cost_as_number=cost_as_number))


def v1_status(task: TaskRecord) -> str:
    status = task.status()
    return FAILED if status == CANCEL else status


# Model results: the keys of (file URL, text) per ``model_result_style``.
_MODEL_RESULT_KEYS = {"url": ("url", "text"), "outputUrl": ("outputUrl", "content")}


def v2_results(task: TaskRecord, base_url: str, style: str = "url") -> list[dict[str, Any]]:
    if task.source == "model":
        return [_model_result(task, item, base_url, style) for item in task.outputs]
    return [
        {
            "url": output_url(base_url, task.task_id, item.name),
            "outputType": item.ext,
            "nodeId": item.node_id,
            "text": item.text,
        }
        for item in task.outputs
    ]


def _model_result(task: TaskRecord, item: OutputFile, base_url: str, style: str) -> dict[str, Any]:
    """A standard model's result: no nodeId; URL and text under the configured keys."""
    url_key, text_key = _MODEL_RESULT_KEYS.get(style, ("outputUrl", "output"))
    return {
        url_key: output_url(base_url, task.task_id, item.name),
        "outputType": item.ext,
        text_key: item.text,
    }


def v2_view(
    task: TaskRecord,
    base_url: str,
    cancel_status: str,
    result_style: str = "url",
    create_seconds: float = 0.0,
) -> dict[str, Any]:
    """The flat v2 task object of ``/openapi/v2/query`` for the task's current state.

    A queued task reports ``CREATE`` for its first ``create_seconds`` (clients must treat
    it as pending, as the official ones do)."""
    now = time.time()
    status = task.status(now)
    fields: dict[str, Any] = {"taskId": task.task_id, "status": status}
    if status == QUEUED and now < task.created_at + create_seconds:
        fields["status"] = CREATE
    if status == SUCCESS:
        fields.update(results=v2_results(task, base_url, result_style), usage=usage(task))
    elif status == FAILED:
        reason = task.failure or {}
        message = f"{reason.get('exception_type', '')}: {reason.get('exception_message', '')}"
        fields.update(errorCode="1000", errorMessage=message, failedReason=reason)
        fields.update(usage=usage(task))
    elif status == CANCEL:
        fields["status"] = cancel_status
        if cancel_status == FAILED:
            fields.update(errorCode="1000", errorMessage="task cancelled | 任务已取消")
            fields.update(failedReason=cancelled_reason())
    return v2_task_object(**fields)


def webhook_payload(task: TaskRecord, base_url: str) -> dict[str, Any]:
    """The TASK_END callback body: eventData is the outputs envelope as a JSON string."""
    envelope = v1_outputs_envelope(task, base_url, None, cost_as_number=True)
    return {
        "event": "TASK_END",
        "taskId": task.task_id,
        "eventData": json.dumps(envelope, ensure_ascii=False, separators=(",", ":")),
    }


def output_url(base_url: str, task_id: str, name: str) -> str:
    return f"{base_url}/outputs/{task_id}/{name}"
