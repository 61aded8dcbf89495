"""The emulator's ASGI application: API routes, files, progress socket and control routes.

Besides the two API families (``routes_v1``, ``routes_v2``):
- ``GET /files/openapi/<name>?q-sign-time=..&q-signature=..``: a v2 upload's signed
  ``download_url`` (COS-style 403 XML once expired or tampered with);
- ``GET /outputs/<task id>/<file>``: task outputs, with Range support;
- ``/ws/c_instance?...&taskId=..``: the progress websocket (``netWssUrl``);
- ``GET /__emulator__/stats``, ``POST /__emulator__/reset``, ``GET|POST /__emulator__/config``
  (for this machine's own clients only: see :mod:`.guard`).
An unknown path under an API family answers HTTP 200 in that family's envelope with the
documented code (v2 ``errorCode:"1001"``, legacy ``412``), as the service does, so clients
never take it for a network failure; any other unknown path is HTTP 404 with a JSON body.
No request ever gets a traceback.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from . import lists, lora, models, routes_v1, routes_v2
from .faults import FaultInjector
from .guard import Refused
from .progress_socket import progress_socket
from .state import EmulatorState
from .wire import ApiProblem, Problem, json_body, v1_problem, v2_problem

logger = logging.getLogger("runninghub.emulator")

_MEDIA_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
    "txt": "text/plain; charset=utf-8",
    "json": "application/json",
    "mp4": "video/mp4",
    "wav": "audio/wav",
    "glb": "model/gltf-binary",
    "zip": "application/zip",
}
_COS_ERROR = (
    "<?xml version='1.0' encoding='utf-8' ?>"
    "<Error><Code>{code}</Code><Message>{message}</Message></Error>"
)


def _media_type(name: str) -> str:
    return _MEDIA_TYPES.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")


def _state(request: Request) -> EmulatorState:
    return routes_v1.emulator_state(request)


async def signed_file(request: Request) -> Response:
    state = _state(request)
    try:
        upload = state.uploads.verify(request.url.path, request.url.query)
    except FileNotFoundError:
        return Response(_COS_ERROR.format(code="NoSuchKey", message="Not Found"), 404)
    except ValueError as error:
        code = "AccessDenied" if "expired" in str(error) else "SignatureDoesNotMatch"
        body = _COS_ERROR.format(code=code, message=error)
        return Response(body, 403, media_type="application/xml")
    path = state.uploads.path_of(upload)
    return FileResponse(path, media_type=_media_type(path.name))


async def output_file(request: Request) -> Response:
    task_id, name = request.path_params["task_id"], request.path_params["name"]
    path = _state(request).output_path(task_id, name)
    if path is None or not path.is_file():
        return JSONResponse({"code": 404, "msg": "NOT_FOUND", "data": None}, 404)
    return FileResponse(path, media_type=_media_type(name))


Endpoint = Callable[[Request], Awaitable[Response]]


def _control(endpoint: Endpoint) -> Endpoint:
    """Answer a control request only when the guard lets it through (403/415 otherwise)."""

    async def guarded(request: Request) -> Response:
        try:
            _state(request).control_guard.check(request)
        except Refused as refusal:
            return JSONResponse({"error": str(refusal)}, refusal.status)
        return await endpoint(request)

    return guarded


@_control
async def stats(request: Request) -> Response:
    return JSONResponse(_state(request).stats())


@_control
async def reset(request: Request) -> Response:
    _state(request).reset()
    return JSONResponse({"ok": True})


@_control
async def config(request: Request) -> Response:
    state = _state(request)
    if request.method == "GET":
        return JSONResponse(state.configure({}))
    try:
        changes = await json_body(request, allow_empty=True)
        return JSONResponse(state.configure(changes))
    except ApiProblem as problem:
        return JSONResponse({"error": problem.detail}, 400)
    except ValueError as error:
        return JSONResponse({"error": str(error)}, 400)


_V2_PREFIX = "/openapi/v2/"
_LEGACY_PREFIXES = ("/task/openapi/", "/api/openapi/", "/api/webapp/", "/uc/openapi/")


async def _not_found_or_method(request: Request, exc: Exception) -> Response:
    """Unknown API path: HTTP 200 in the family's envelope; elsewhere 404 JSON; wrong
    method: 405 JSON."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    path = request.url.path
    if status == 404 and path.startswith((_V2_PREFIX, *_LEGACY_PREFIXES)):
        problem = ApiProblem(Problem.UNKNOWN_API, f"no API at {path[:200]}")
        if path.startswith(_V2_PREFIX):
            return v2_problem(problem)
        return v1_problem(problem)
    problem = ApiProblem(Problem.WRONG_METHOD if status == 405 else Problem.UNKNOWN_PATH)
    if path.startswith(_V2_PREFIX):
        return v2_problem(problem, status_code=status)
    return v1_problem(problem, status_code=status)


async def _unexpected(request: Request, exc: Exception) -> Response:
    """A defect: answer in JSON without a traceback (the log keeps the exception type)."""
    if isinstance(exc, ClientDisconnect):  # nobody to answer; _QuietDisconnects logs it
        return Response(status_code=499)
    logger.error("unexpected %s on %s", type(exc).__name__, request.url.path)
    body: dict[str, Any] = {
        "code": 500,
        "msg": "UNKNOWN_ERROR",
        "errorMessages": None,
        "data": None,
    }
    return Response(json.dumps(body), 500, media_type="application/json")


class _QuietDisconnects:
    """A client hanging up mid-request is normal (timeouts, kills): one log line, no traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except ClientDisconnect:
            logger.info("client disconnected during %s", scope.get("path", "?"))


def build_app(state: EmulatorState) -> Any:
    """The ASGI app serving ``state`` (fault injection wraps every API route)."""

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await state.startup()
        try:
            yield
        finally:
            await state.shutdown()

    routes = [
        *routes_v1.ROUTES,
        *routes_v2.ROUTES,
        Route("/files/{path:path}", signed_file, methods=["GET"]),
        Route("/outputs/{task_id}/{name}", output_file, methods=["GET"]),
        WebSocketRoute("/ws/c_instance", progress_socket),
        Route("/__emulator__/stats", stats, methods=["GET"]),
        Route("/__emulator__/reset", reset, methods=["POST"]),
        Route("/__emulator__/config", config, methods=["GET", "POST"]),
        *lora.ROUTES,
        *lists.ROUTES,
        *models.ROUTES,
        models.CATCH_ALL,  # last: any other POST /openapi/v2/<endpoint> is a model
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            404: _not_found_or_method,
            405: _not_found_or_method,
            Exception: _unexpected,
        },
    )
    app.state.emulator = state
    return _QuietDisconnects(FaultInjector(app, lambda: state))
