"""Tool results: structured content plus its JSON text, with the key redacted; tool errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mcp.types import CallToolResult, TextContent
from pydantic import ValidationError

from runninghub import OutputError, RunningHubError, SubmitOutcomeUnknownError, TaskFailedError

from ._schemas import ErrorInfo

__all__ = ["AfterSubmit", "Redact", "argument_error_info", "error_info", "tool_result"]

Redact = Callable[[str], str]


def tool_result(data: dict[str, Any], redact: Redact, *, is_error: bool) -> CallToolResult:
    """A result whose text content is the JSON of its structured content."""
    # The key never appears in a result; redacting the serialised form is the last guard.
    text = redact(json.dumps(data, ensure_ascii=False))
    safe: dict[str, Any] = json.loads(text)
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=safe, is_error=is_error
    )


_OUTCOME_HINT = (
    "the task may or may not have been created; check the account tool's running tasks "
    "before submitting again"
)


class AfterSubmit(Exception):
    """A failure after the task was submitted: the error reported, with the task it concerns."""

    def __init__(self, task_id: str, cause: Exception) -> None:
        super().__init__(str(cause))
        self.task_id = task_id
        self.cause = cause


def error_info(exc: Exception) -> dict[str, Any]:
    """The fields ``runninghub --json`` prints for the same error: type, code, message, hint."""
    if isinstance(exc, AfterSubmit):
        return _dump(_after_submit(exc))
    return _dump(_error_model(exc))


def _after_submit(exc: AfterSubmit) -> ErrorInfo:
    info = _error_model(exc.cause)
    again = (
        f"task {exc.task_id} exists: follow it with wait_task, fetch its outputs with"
        f" download_outputs (task_id {exc.task_id!r}); do not run it again"
    )
    if isinstance(exc.cause, TaskFailedError):
        hint = info.hint  # the task ended: its own hint says what to change
    elif isinstance(exc.cause, OutputError) or not info.hint:
        hint = again  # a failed save's own hint speaks the SDK, not the tools
    else:
        hint = f"{info.hint}; {again}"
    return info.model_copy(update={"task_id": info.task_id or exc.task_id, "hint": hint})


def _error_model(exc: Exception) -> ErrorInfo:
    if isinstance(exc, TaskFailedError):
        return ErrorInfo(
            type=type(exc).__name__,
            code=exc.task.error_code,
            message=exc.message,
            hint=exc.hint,
            task_id=exc.task_id,
            task=exc.task.to_dict(),
        )
    if isinstance(exc, RunningHubError):
        code = getattr(exc, "code", None)
        hint = exc.hint
        if isinstance(exc, SubmitOutcomeUnknownError) and not hint:
            hint = _OUTCOME_HINT
        return ErrorInfo(
            type=type(exc).__name__,
            code=str(code) if code else None,
            message=exc.message,
            hint=hint,
            task_id=getattr(exc, "task_id", None),
        )
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return ErrorInfo(
            type=type(exc).__name__, code=None, message=f"{exc.strerror or exc}{where}", hint=None
        )
    return ErrorInfo(
        type="InternalError",
        code=None,
        message=f"unexpected {type(exc).__name__}: {exc}",
        hint="see the server's log on stderr; the server keeps running",
    )


def argument_error_info(message: str, cause: BaseException | None) -> dict[str, Any]:
    """Arguments that do not fit a tool's input schema, as the CLI reports a usage error."""
    if isinstance(cause, ValidationError):
        message = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'arguments'}: {error['msg']}"
            for error in cause.errors()
        )
    return _dump(
        ErrorInfo(
            type="UsageError",
            code=None,
            message=message,
            hint="list the tools and check the arguments against the tool's input schema",
        )
    )


def _dump(info: ErrorInfo) -> dict[str, Any]:
    return info.model_dump(mode="json")
