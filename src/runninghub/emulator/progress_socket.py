"""The ``netWssUrl`` websocket: ComfyUI-style progress messages for one task.

Messages are ``{"type": ..., "data": {...}}``: a ``status`` greeting, then the engine's
``execution_start``, ``executing``, ``progress`` and ``executed`` events spread over the
task's running time (the engine is much faster than ``task_seconds``), and finally
``execution_success``, ``execution_error`` or (cancelled) ``execution_interrupted``
followed by ``executing`` with ``node: null``, when the task's state says it ended.
The URL carries ``taskId`` and an ``Rh-Comfy-Auth`` token; anything else is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import math
import time
from typing import Any
from urllib.parse import urlencode

from starlette.websockets import WebSocket, WebSocketDisconnect

from .state import EmulatorState
from .tasks import CANCEL, FAILED, QUEUED, TERMINAL, TaskRecord

Event = tuple[str, dict[str, Any]]
POLL_SECONDS = 0.02
_CLOSING = frozenset({"execution_success", "execution_error", "execution_interrupted"})


def ws_url(base_url: str, state: EmulatorState, task: TaskRecord) -> str | None:
    """The task's netWssUrl, or None while it is queued (as the service does)."""
    if task.status() == QUEUED:
        return None
    query = {
        "c_host": "127.0.0.1",
        "c_port": "8188",
        "clientId": task.client_id,
        "workflowId": task.source_id,
        "Rh-Comfy-Auth": state.ws_token(task.task_id),
        "taskId": task.task_id,
    }
    scheme = "wss" if base_url.startswith("https:") else "ws"
    host = base_url.split("://", 1)[1]
    return f"{scheme}://{host}/ws/c_instance?{urlencode(query)}"


def _is_closing(event: Event) -> bool:
    kind, data = event
    return kind in _CLOSING or (kind == "executing" and data.get("node") is None)


def due_events(task: TaskRecord, now: float) -> list[Event]:
    """The events a client may have seen by ``now``, in order (always a growing prefix)."""
    events = task.event_snapshot()
    body = [event for event in events if not _is_closing(event)]
    status = task.status(now)
    if status in TERMINAL:
        return body + _closing_events(task, status, [e for e in events if _is_closing(e)])
    if task.done_at is None:
        return body  # still executing: events go out as they happen
    span = task.finish_at - task.start_at
    count = len(body)
    return [
        event
        for index, event in enumerate(body)
        if now >= task.start_at + span * (index + 1) / (count + 1)
    ]


def _closing_events(task: TaskRecord, status: str, reported: list[Event]) -> list[Event]:
    base = {"prompt_id": task.task_id}
    end: Event = ("executing", {"node": None, **base})
    if status == CANCEL:
        interrupted = {"node_id": "", "node_type": "", "executed": [], **base}
        return [("execution_interrupted", interrupted), end]
    if reported:
        return reported
    if status == FAILED and task.failure is not None:
        failure = {**task.failure, "node_type": task.failure.get("node_name", ""), **base}
        return [("execution_error", failure), end]
    return [("execution_success", base), end]


async def progress_socket(websocket: WebSocket) -> None:
    state: EmulatorState = websocket.app.state.emulator
    task_id = websocket.query_params.get("taskId", "")
    token = websocket.query_params.get("Rh-Comfy-Auth", "")
    task = state.tasks.get(task_id)
    expected = state.ws_token(task_id).encode()
    # Bytes, not str: compare_digest refuses non-ASCII text with a TypeError.
    if task is None or not hmac.compare_digest(token.encode("utf-8", "replace"), expected):
        await websocket.close(code=1008)
        return
    await websocket.accept()
    listener = asyncio.create_task(_wait_for_disconnect(websocket))
    try:
        await _stream(websocket, state, task, listener)
    except (WebSocketDisconnect, RuntimeError, OSError):
        return  # the client went away
    finally:
        listener.cancel()
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        await websocket.close()


async def _wait_for_disconnect(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass


async def _stream(
    websocket: WebSocket, state: EmulatorState, task: TaskRecord, listener: asyncio.Task[None]
) -> None:
    queued = sum(1 for t in state.active_tasks(task.key_hash) if t.status() == QUEUED)
    greeting = {"status": {"exec_info": {"queue_remaining": queued}}, "sid": task.client_id}
    await websocket.send_json({"type": "status", "data": greeting})
    sent = 0
    while not listener.done() and state.tasks.get(task.task_id) is task:
        now = time.time()
        due = due_events(task, now)
        for kind, data in due[sent:]:
            await websocket.send_json({"type": kind, "data": data})
        sent = max(sent, len(due))
        if task.status(now) in TERMINAL:
            return
        await asyncio.sleep(_until_next_look(task, now))


def _until_next_look(task: TaskRecord, now: float) -> float:
    """At most POLL_SECONDS, and no later than the task's end: a client learns of the end
    when it happens, as from a server that pushes it, not up to a poll interval later."""
    left = task.finish_at - now
    if not math.isfinite(left):
        return POLL_SECONDS
    return max(0.001, min(POLL_SECONDS, left))
