"""Task answers, read into :class:`~runninghub.Task`: the v2 task object and the legacy outputs.

Part of the ``_answers`` family (see ``_answers.py`` for the rule). Tolerant where the contract
says the service varies: status case, result aliases, failure reports as objects or strings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._errors import InvalidRequestError, error_for_code
from ._models import Output, Task, TaskFailure, TaskStatus, Usage
from ._protocol import contract_error, message_of, unwrap
from ._wire_values import as_dict, json_object, json_value, text_field

# RunningHub's task ids are decimal numbers (19 digits today); a little room to grow.
SERVER_TASK_ID = re.compile(r"[0-9]{1,32}")

__all__ = ["parse_failure", "parse_outputs", "parse_results", "parse_submit", "parse_task"]


def parse_task(body: Any, *, task_id: str | None = None) -> Task:
    """A v2 task object (submit and query), tolerating a wrapped one."""
    if isinstance(body, dict) and "code" in body and not ({"taskId", "task_id"} & body.keys()):
        body = unwrap(body, task_id=task_id)  # some errors (1520) come wrapped
    if not isinstance(body, dict):
        raise contract_error("expected a task object", raw=body, task_id=task_id)
    tid = text_field(body, "taskId", "task_id") or ""
    if tid and not SERVER_TASK_ID.fullmatch(tid):
        # A hint prints it inside a command line ("runninghub wait <id>"): only digits pass.
        raise contract_error(
            f"the server answered an invalid task id {tid[:40]!r}", raw=body, task_id=task_id
        )
    status_text = text_field(body, "status", "taskStatus") or ""
    error_code = text_field(body, "errorCode") or ""
    if error_code not in ("", "0") and not (tid and status_text):
        raise error_for_code(error_code, message_of(body), task_id=tid or task_id, raw=body)
    if not tid:
        raise contract_error("the task object carries no taskId", raw=body, task_id=task_id)
    return Task(
        task_id=tid,
        status=TaskStatus.parse(status_text),
        outputs=parse_results(body.get("results")),
        usage=Usage.from_wire(as_dict(body.get("usage"))),
        failure=parse_failure(body.get("failedReason")),
        error_code=error_code if error_code not in ("", "0") else None,
        error_message=message_of(body) or None,
        client_id=text_field(body, "clientId") or None,
        prompt_tips=json_object(body.get("promptTips")),
        net_wss_url=text_field(body, "netWssUrl") or None,
        raw=body,
    )


def parse_submit(body: Any) -> Task:
    """A submit's answer: a task refused at creation (FAILED with a code) is an API error."""
    task = parse_task(body)
    if task.status is TaskStatus.FAILED and task.error_code:
        raise error_for_code(
            task.error_code, task.error_message or "", task_id=task.task_id, raw=task.raw
        )
    refused = _node_errors(task.prompt_tips)
    if refused:
        # The service accepted the task, but its ComfyUI validation already knows it will fail:
        # say so now rather than after a wait that may run to its timeout.
        raise InvalidRequestError(
            f"task {task.task_id}: the service's validation refused {refused}",
            hint="fix the node's value (`runninghub nodes WORKFLOW_ID` lists them) and run again",
            task_id=task.task_id,
            raw=task.raw,
        )
    return task


_SHOWN_ERRORS = 3
_SHOWN_CHARS = 300


def _node_errors(tips: Mapping[str, Any] | None) -> str:
    """ComfyUI's ``node_errors`` as one bounded, printable line; "" when there are none."""
    errors = as_dict((tips or {}).get("node_errors")) or {}
    parts = [_node_error(str(node), as_dict(report) or {}) for node, report in errors.items()]
    line = "; ".join(parts[:_SHOWN_ERRORS]) + ("; ..." if len(parts) > _SHOWN_ERRORS else "")
    line = "".join(ch if ch.isprintable() else " " for ch in line)
    return line if len(line) <= _SHOWN_CHARS else line[: _SHOWN_CHARS - 3] + "..."


def _node_error(node: str, report: dict[str, Any]) -> str:
    kind = text_field(report, "class_type")
    reasons = [
        ": ".join(filter(None, (text_field(item, "message"), text_field(item, "details"))))
        for item in report.get("errors") or []
        if isinstance(item, dict)
    ]
    name = f"node {node}" + (f" ({kind})" if kind else "")
    return f"{name}: {', '.join(r for r in reasons if r) or 'invalid'}"


def parse_outputs(body: Any, *, task_id: str) -> Task:
    """The legacy outputs answer, where 813/804/805 are task states, not errors."""
    if not isinstance(body, dict) or "code" not in body:
        raise contract_error("expected a {code, msg, data} envelope", raw=body, task_id=task_id)
    code = str(body["code"]).strip()
    data = body.get("data")
    if code == "0" and isinstance(data, list) and data:
        first = data[0] if isinstance(data[0], dict) else {}
        return Task(
            task_id, TaskStatus.SUCCESS, parse_results(data), Usage.from_wire(first), raw=body
        )
    if code == "0" and not data:
        return Task(task_id, TaskStatus.RUNNING, raw=body)  # tolerated: "still running"
    if code == "804":
        wss = text_field(data, "netWssUrl") if isinstance(data, dict) else None
        return Task(task_id, TaskStatus.RUNNING, net_wss_url=wss or None, raw=body)
    if code == "813":
        return Task(task_id, TaskStatus.QUEUED, raw=body)
    if code == "805":
        reason = data.get("failedReason") if isinstance(data, dict) else None
        failure = parse_failure(reason)
        message = message_of(body) or None
        return Task(task_id, TaskStatus.FAILED, failure=failure, error_message=message, raw=body)
    if code == "0":
        raise contract_error("unexpected outputs data", raw=body, task_id=task_id)
    raise error_for_code(code, message_of(body), task_id=task_id, raw=body)


def parse_results(items: Any) -> tuple[Output, ...]:
    """Result items of either family: ``url``/``outputUrl``/``fileUrl``, text aliases too."""
    if not isinstance(items, list):
        return ()
    outputs = []
    for item in items:
        if not isinstance(item, dict):
            continue
        text = next(
            (item[k] for k in ("text", "content", "output") if isinstance(item.get(k), str)), None
        )
        kind = text_field(item, "outputType", "fileType", "type")
        outputs.append(
            Output(
                url=text_field(item, "url", "outputUrl", "fileUrl") or None,
                type=kind.lower() if kind else None,
                node_id=text_field(item, "nodeId") or None,
                text=text,
                raw=item,
            )
        )
    return tuple(outputs)


def parse_failure(value: Any) -> TaskFailure | None:
    """ComfyUI's failure report: ``{}``, an object, or the same object encoded as a string."""
    if isinstance(value, str):
        decoded = json_value(value)
        if not isinstance(decoded, dict):
            return TaskFailure(exception_message=value.strip()) if value.strip() else None
        value = decoded
    if not isinstance(value, dict) or not value:
        return None
    return TaskFailure(
        node_id=text_field(value, "node_id", "nodeId") or None,
        node_name=text_field(value, "node_name", "nodeName", "node_type") or None,
        exception_type=text_field(value, "exception_type", "exceptionType") or None,
        exception_message=text_field(value, "exception_message", "exceptionMessage") or None,
        traceback=_traceback(value.get("traceback")),
        raw=value,
    )


def _traceback(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        decoded = json_value(value)
        value = decoded if isinstance(decoded, list) else value.splitlines()
    if isinstance(value, list):
        return tuple(str(frame) for frame in value)
    return ()
