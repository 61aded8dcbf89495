"""The legacy API family: ``/task/openapi/*``, ``/api/*`` and ``/uc/openapi/*``.

Every answer is the ``{code, msg, errorMessages, data}`` envelope, HTTP 200 even for
errors. The key is ``apiKey`` in the JSON body (``apikey`` for accountStatus, a form field
on upload, the query string on apiCallDemo), or a Bearer header.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .auth import bearer_token, body_key
from .keys import money_text
from .progress_socket import ws_url
from .state import EmulatorState
from .submit import parse_submission, prepare_app, prepare_workflow_off_loop, prompt_tips
from .tasks import TaskRecord, v1_outputs_envelope, v1_status
from .uploads import receive_form
from .wire import (
    ApiProblem,
    Problem,
    id_field,
    json_body,
    parse_id,
    str_field,
    v1_envelope,
    v1_problem,
)

Handler = Callable[[Request], Awaitable[Response]]


def legacy(handler: Handler) -> Handler:
    """Render ApiProblem as the legacy envelope (HTTP 200)."""

    @functools.wraps(handler)
    async def wrapper(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiProblem as problem:
            return v1_problem(problem)

    return wrapper


def emulator_state(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


def base_url(request: Request) -> str:
    """The base of every URL handed out: never the request's Host, which clients set to
    www.runninghub.cn as the docs tell them to (see ``EmulatorState.public_base``)."""
    return emulator_state(request).public_base


def checked_key(state: EmulatorState, key: str | None) -> str:
    if key is None or not state.policy.is_valid(key):
        raise ApiProblem(Problem.BAD_KEY)
    return key


async def _body_and_key(request: Request, field: str = "apiKey") -> tuple[dict[str, Any], str]:
    body = await json_body(request)
    key = body_key(body, field) or bearer_token(request.headers)
    return body, checked_key(emulator_state(request), key)


def ok(data: Any, msg: str = "success") -> JSONResponse:
    return JSONResponse(v1_envelope(data, msg))


def created_data(request: Request, task: TaskRecord) -> dict[str, Any]:
    return {
        "netWssUrl": ws_url(base_url(request), emulator_state(request), task),
        "taskId": task.task_id,
        "clientId": task.client_id,
        "taskStatus": task.status(),
        "promptTips": prompt_tips(
            task.outputs_to_execute, task.graph, emulator_state(request).options.prompt_errors
        ),
    }


@legacy
async def create(request: Request) -> Response:
    body, key = await _body_and_key(request)
    state = emulator_state(request)
    submission = parse_submission(body, "workflow", str(id_field(body, "workflowId")))
    task = state.create_task(
        key,
        submission,
        await prepare_workflow_off_loop(
            submission,
            state.workflows,
            state.options.max_graph_nodes,
            state.options.workflow_as_sent,
        ),
    )
    return ok(created_data(request, task))


@legacy
async def run_app(request: Request) -> Response:
    body, key = await _body_and_key(request)
    state = emulator_state(request)
    submission = parse_submission(body, "app", str(id_field(body, "webappId")))
    task = state.create_task(key, submission, prepare_app(submission, state.apps))
    return ok(created_data(request, task))


async def _task_of(request: Request) -> TaskRecord:
    body, key = await _body_and_key(request)
    return emulator_state(request).find_task(key, str(id_field(body, "taskId")))


@legacy
async def status(request: Request) -> Response:
    return ok(v1_status(await _task_of(request)), msg="")


@legacy
async def outputs(request: Request) -> Response:
    task = await _task_of(request)
    base = base_url(request)
    return JSONResponse(
        v1_outputs_envelope(task, base, ws_url(base, emulator_state(request), task))
    )


@legacy
async def cancel(request: Request) -> Response:
    task = await _task_of(request)
    emulator_state(request).cancel(task)
    return ok(None)


@legacy
async def upload(request: Request) -> Response:
    state = emulator_state(request)
    bearer = bearer_token(request.headers)
    if bearer is not None:
        checked_key(state, bearer)  # before reading a byte of the form
    form = await receive_form(
        request,
        state.files,
        state.options.upload_limit,
        text_limit=state.options.max_form_text,
        authorize=None if bearer is not None else state.policy.is_valid,
    )
    try:
        checked_key(state, form.fields.get("apiKey") or bearer)
        if form.too_large:
            raise ApiProblem(Problem.FILE_TOO_LARGE, f"limit {state.options.upload_limit} bytes")
        if form.file is None:
            raise ApiProblem(Problem.BAD_REQUEST, "the form needs a 'file' part")
    except ApiProblem:
        form.discard()
        raise
    stored = state.uploads.register(form.file)
    state.counters.uploads += 1
    file_type = form.fields.get("fileType") or "input"
    return ok({"fileName": stored.public_name("api"), "fileType": file_type})


@legacy
async def json_api_format(request: Request) -> Response:
    body, _ = await _body_and_key(request)
    workflow_id = str(id_field(body, "workflowId"))
    graph = emulator_state(request).workflows.get(workflow_id)
    if graph is None:
        raise ApiProblem(Problem.UNKNOWN_WORKFLOW, f"workflow {workflow_id}")
    return ok({"prompt": json.dumps(graph, ensure_ascii=False)}, msg="SUCCESS")


@legacy
async def api_call_demo(request: Request) -> Response:
    state = emulator_state(request)
    params = request.query_params
    checked_key(state, params.get("apiKey") or bearer_token(request.headers))
    raw_id = params.get("webappId")
    if not raw_id:
        raise ApiProblem(Problem.BAD_REQUEST, "webappId is required")
    webapp_id = parse_id(raw_id, "webappId")
    app = state.apps.get(webapp_id)
    if app is None:
        raise ApiProblem(Problem.UNKNOWN_APP, f"webapp {webapp_id}")
    return ok(
        {
            "curl": _demo_curl(base_url(request), webapp_id, app.node_info_list),
            "webappName": app.name,
            "accessEncrypted": False,
            "statisticsInfo": dict.fromkeys(
                ("likeCount", "downloadCount", "useCount", "pv", "collectCount"), "0"
            ),
            "nodeInfoList": app.node_info_list,
            "covers": [],
            "tags": [],
        }
    )


def _demo_curl(base: str, webapp_id: str, node_info_list: list[dict[str, Any]]) -> str:
    items = [
        {key: entry.get(key) for key in ("nodeId", "fieldName", "fieldValue", "description")}
        for entry in node_info_list
    ]
    body = {"webappId": webapp_id, "apiKey": "{your apiKey}", "nodeInfoList": items}
    return (
        f"curl --location --request POST '{base}/task/openapi/ai-app/run' "
        f"--header 'Content-Type: application/json' "
        f"--data-raw '{json.dumps(body, ensure_ascii=False)}'"
    )


@legacy
async def account_status(request: Request) -> Response:
    state = emulator_state(request)
    body = await json_body(request, allow_empty=True)
    key = checked_key(state, body_key(body, "apikey") or bearer_token(request.headers))
    running, queued = state.account_counts(key)
    profile = state.key_book.profile(key)
    coins, money = state.balance(key)
    return ok(
        {
            "remainCoins": str(coins),
            "currentTaskCounts": str(running + queued),
            "remainMoney": None if money is None else money_text(money),
            "currency": profile.currency,
            "apiType": profile.key_type,
        }
    )


@legacy
async def webhook_detail(request: Request) -> Response:
    body, key = await _body_and_key(request)
    record = emulator_state(request).webhook_for(key, str(id_field(body, "taskId")))
    return ok(record.detail())


@legacy
async def retry_webhook(request: Request) -> Response:
    body, key = await _body_and_key(request)
    webhook_id = str(id_field(body, "webhookId"))
    url = str_field(body, "webhookUrl")
    if url is not None and not url.startswith(("http://", "https://")):
        raise ApiProblem(Problem.BAD_REQUEST, "webhookUrl must be an http(s) URL")
    emulator_state(request).retry_webhook(key, webhook_id, url)
    return ok(None, msg="")


ROUTES = [
    Route("/task/openapi/create", create, methods=["POST"]),
    Route("/task/openapi/ai-app/run", run_app, methods=["POST"]),
    Route("/task/openapi/status", status, methods=["POST"]),
    Route("/task/openapi/outputs", outputs, methods=["POST"]),
    Route("/task/openapi/cancel", cancel, methods=["POST"]),
    Route("/task/openapi/upload", upload, methods=["POST"]),
    Route("/task/openapi/getWebhookDetail", webhook_detail, methods=["POST"]),
    Route("/task/openapi/retryWebhook", retry_webhook, methods=["POST"]),
    Route("/api/openapi/getJsonApiFormat", json_api_format, methods=["POST"]),
    Route("/api/webapp/apiCallDemo", api_call_demo, methods=["GET"]),
    Route("/uc/openapi/accountStatus", account_status, methods=["POST"]),
]
