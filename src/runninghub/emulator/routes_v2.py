"""The v2 API family: ``/openapi/v2/*``, authenticated by ``Authorization: Bearer`` only.

Run and query answer the flat 11-key task object (``errorCode`` a string, ``""`` when all
is well); upload, queue status and the app list answer the wrapped envelope with both
``msg`` and ``message``. A wrong HTTP method is ``1009`` in the route's own shape.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .auth import bearer_token, raw_or_bearer
from .routes_v1 import Handler, base_url, checked_key, emulator_state
from .submit import Source, parse_submission, prepare_app, prepare_workflow_off_loop, prompt_tips
from .tasks import TaskRecord, v2_view
from .uploads import receive_form
from .wire import (
    ApiProblem,
    Problem,
    id_field,
    json_body,
    parse_id,
    v2_problem,
    v2_task_object,
    v2_wrapped,
    v2_wrapped_problem,
)

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
Renderer = Callable[[ApiProblem], JSONResponse]


def _family(render: Renderer, method: str) -> Callable[[Handler], Handler]:
    """Check the method and render ApiProblem with ``render`` (HTTP 200)."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(request: Request) -> Response:
            try:
                if request.method not in (method, "HEAD" if method == "GET" else method):
                    raise ApiProblem(Problem.WRONG_METHOD, f"use {method}")
                return await handler(request)
            except ApiProblem as problem:
                return render(problem)

        return wrapper

    return decorate


flat = functools.partial(_family, v2_problem)
wrapped = functools.partial(_family, v2_wrapped_problem)


def _bearer_key(request: Request) -> str:
    return checked_key(emulator_state(request), bearer_token(request.headers))


async def _run(request: Request, source: Source) -> Response:
    key = _bearer_key(request)
    state = emulator_state(request)
    raw_id = request.path_params["source_id"]
    source_id = parse_id(raw_id, "workflowId" if source == "workflow" else "webappId")
    body = await json_body(request, allow_empty=True)  # no body: run as saved
    submission = parse_submission(body, source, source_id)
    if source == "workflow":
        prepared = await prepare_workflow_off_loop(
            submission,
            state.workflows,
            state.options.max_graph_nodes,
            state.options.workflow_as_sent,
        )
    else:
        prepared = prepare_app(submission, state.apps)
    task = state.create_task(key, submission, prepared)
    return JSONResponse(
        v2_task_object(
            taskId=task.task_id,
            status=task_view(request, task)["status"],
            clientId=task.client_id,
            promptTips=prompt_tips(
                task.outputs_to_execute, task.graph, emulator_state(request).options.prompt_errors
            ),
        )
    )


@flat("POST")
async def run_workflow(request: Request) -> Response:
    return await _run(request, "workflow")


@flat("POST")
async def run_app(request: Request) -> Response:
    return await _run(request, "app")


@flat("POST")
async def query(request: Request) -> Response:
    key = _bearer_key(request)
    state = emulator_state(request)
    task = state.find_task(key, str(id_field(await json_body(request), "taskId")))
    return JSONResponse(task_view(request, task))


def task_view(request: Request, task: TaskRecord) -> dict[str, Any]:
    """The v2 task object of ``task`` as the emulator's settings present it."""
    options = emulator_state(request).options
    return v2_view(
        task,
        base_url(request),
        options.cancel_status_v2,
        options.model_result_style,
        options.create_seconds,
    )


@wrapped("POST")
async def upload(request: Request) -> Response:
    state = emulator_state(request)
    if not state.policy.is_valid(bearer_token(request.headers)):
        # Answered before the body is read; the server discards the rest of it.
        raise ApiProblem(Problem.BAD_KEY)
    options = state.options
    form = await receive_form(
        request, state.files, options.upload_limit, text_limit=options.max_form_text
    )
    if form.too_large:
        raise ApiProblem(Problem.FILE_TOO_LARGE, f"limit {state.options.upload_limit} bytes")
    if form.file is None:
        raise ApiProblem(Problem.BAD_REQUEST, "the form needs a 'file' part")
    stored = state.uploads.register(form.file)
    state.counters.uploads += 1
    path = state.uploads.signed_path(stored, state.options.download_ttl)
    data = {
        "type": stored.kind,
        "download_url": f"{base_url(request)}{path}",
        "fileName": stored.public_name("openapi"),
        "size": str(stored.size),
    }
    return JSONResponse(v2_wrapped(data))


@wrapped("GET")
async def queue_status(request: Request) -> Response:
    state = emulator_state(request)
    key = _bearer_key(request)
    running, queued = state.account_counts(key)
    key_type = state.key_book.profile(key).key_type
    data = {
        "apiKeyType": key_type,
        "concurrentLimit": state.options.concurrency,
        "runningCount": running,
        "queuedCount": queued,
        "totalCurrentTasks": running + queued,
        # An exclusive key has its own machines, one per task it may run at once.
        "instanceCount": state.options.concurrency if key_type == "EXCLUSIVE" else 0,
    }
    return JSONResponse(v2_wrapped(data))


@wrapped("POST")
async def app_list(request: Request) -> Response:
    state = emulator_state(request)
    checked_key(state, raw_or_bearer(request.headers))
    body = await json_body(request, allow_empty=True)
    current = page_number(body, "current", 1, 10**6)
    size = page_number(body, "size", 10, 50)
    records = [
        _app_record(base_url(request), app_id, app.name) for app_id, app in state.apps.items()
    ]
    return JSONResponse(v2_wrapped(page(records, current, size)))


def page_number(body: dict[str, Any], name: str, default: int, maximum: int) -> int:
    value = body.get(name, default)
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise ApiProblem(Problem.BAD_REQUEST, f"{name} must be an integer from 1 to {maximum}")
    return value


def page(records: list[dict[str, Any]], current: int, size: int) -> dict[str, Any]:
    """One page of ``records`` with the service's paging fields."""
    total = len(records)
    pages = (total + size - 1) // size
    return {
        "records": records[(current - 1) * size : current * size],
        "current": current,
        "size": size,
        "total": total,
        "pages": pages,
        "hasNext": current < pages,
        "hasPrevious": current > 1,
    }


def _app_record(base: str, app_id: str, name: str) -> dict[str, Any]:
    return {
        "webappId": app_id,
        "title": name,
        "description": f"{name}, served by the local RunningHub emulator",
        "cover": None,
        "invokeExample": f"curl -X POST '{base}/openapi/v2/run/ai-app/{app_id}'",
    }


ROUTES = [
    Route("/openapi/v2/run/workflow/{source_id}", run_workflow, methods=ALL_METHODS),
    Route("/openapi/v2/run/ai-app/{source_id}", run_app, methods=ALL_METHODS),
    Route("/openapi/v2/query", query, methods=ALL_METHODS),
    Route("/openapi/v2/media/upload/binary", upload, methods=ALL_METHODS),
    Route("/openapi/v2/queue/status", queue_status, methods=ALL_METHODS),
    Route("/openapi/v2/aiapp/list", app_list, methods=ALL_METHODS),
]
