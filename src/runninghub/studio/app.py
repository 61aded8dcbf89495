"""The studio's routes: the run page, the live status stream, saved outputs, the history.

Every blocking client or journal call runs in a worker thread (``run_in_threadpool``) so the
event loop keeps serving the page and its event streams.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

import runninghub
from runninghub.journal import HistoryFilter, Journal

from ._batch_pages import BatchPages
from ._board import TASK_ID, Board
from ._guard import GuardMiddleware, StudioGuard
from ._history_filter import wanted_history
from ._run_pages import RunPages
from ._targets import Target, Targets
from ._views import gallery

__all__ = ["StudioConfig", "create_app"]

_STREAM_WAIT = 5.0
_MAX_UPLOAD = 30 * 1024 * 1024


@dataclass
class StudioConfig:
    client: runninghub.Client
    out_dir: Path
    guard: StudioGuard
    journal: Journal | None = None
    presets_file: Path | None = None  # None: the user's own (as ``runninghub preset``)


def create_app(config: StudioConfig) -> Starlette:
    board = Board(config.client, config.out_dir)
    env = Environment(loader=PackageLoader("runninghub.studio"), autoescape=select_autoescape())
    pages = _Pages(config, board, env)
    batches = BatchPages(pages)
    runs = RunPages(pages)
    static = StaticFiles(packages=[("runninghub.studio", "static")])
    routes = [
        Route("/", lambda _: RedirectResponse("/run", status_code=303)),
        Route("/run", runs.run_page),
        Route("/history", pages.history_page),
        Route("/task/{task_id}", runs.detail_page),
        Route("/api/upload", pages.upload, methods=["POST"]),
        Route("/api/run", runs.submit, methods=["POST"]),
        Route("/api/presets", runs.save_preset, methods=["POST"]),
        Route("/api/tasks/{task_id}/events", pages.events),
        Route("/files/{task_id}/{name}", pages.saved_file),
        *batches.routes(),
        Mount("/static", static, name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(GuardMiddleware, guard=config.guard)])
    app.state.board = board
    app.state.batches = batches.shelf
    return app


def _refusal(message: str, status: int = 422) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class _Pages:
    def __init__(self, config: StudioConfig, board: Board, env: Environment) -> None:
        self.config = config
        self.board = board
        self.env = env

    def render(self, name: str, **values: Any) -> HTMLResponse:
        page = self.env.get_template(name).render(csrf=self.config.guard.csrf, **values)
        return HTMLResponse(page, headers={"Content-Security-Policy": _CSP})

    def graph(self, workflow_id: str) -> runninghub.WorkflowGraph:
        return Targets(self.config.client).graph(Target("workflow", workflow_id))

    async def history_page(self, request: Request) -> Response:
        wanted = wanted_history(request.query_params)
        items = [] if wanted.error else await run_in_threadpool(self._gallery, wanted.query)
        return self.render("history.html", items=items, wanted=wanted)

    def _gallery(self, wanted: HistoryFilter) -> list[Any]:
        journal = self.config.journal
        if journal is None:
            return []
        return gallery(journal, journal.history(wanted), self.config.out_dir)

    async def upload(self, request: Request) -> Response:
        async with request.form(max_files=1, max_part_size=_MAX_UPLOAD) as form:
            item = form.get("file")
            if item is None or isinstance(item, str):
                return _refusal("no file in the upload")
            data = await item.read()
            name = Path(item.filename or "upload").name[:120]
        try:
            uploaded = await run_in_threadpool(self._upload, data, name)
        except runninghub.RunningHubError as exc:
            return _refusal(exc.message)
        return JSONResponse(uploaded)

    def _upload(self, data: bytes, name: str) -> dict[str, str | None]:
        """Through the client, from a real file, so the same local content checks apply."""
        with tempfile.TemporaryDirectory(prefix="rh-studio-") as folder:
            path = Path(folder) / (name or "upload")
            path.write_bytes(data)
            uploaded = self.config.client.upload(path)
            return {"file_name": uploaded.file_name, "download_url": uploaded.download_url}

    async def events(self, request: Request) -> Response:
        task_id = request.path_params["task_id"]
        if not TASK_ID.fullmatch(task_id) or self.board.view(task_id) is None:
            return _refusal("no such task in this studio", 404)
        return StreamingResponse(self._stream(request, task_id), media_type="text/event-stream")

    async def _stream(self, request: Request, task_id: str) -> AsyncIterator[str]:
        seen = -1
        while not await request.is_disconnected():
            view = await asyncio.to_thread(self.board.next_view, task_id, seen, _STREAM_WAIT)
            if view is None:
                return
            if view.version != seen:
                seen = view.version
                yield f"data: {json.dumps(view.to_dict())}\n\n"
            if view.finished:
                return

    async def saved_file(self, request: Request) -> Response:
        task_id, name = request.path_params["task_id"], request.path_params["name"]
        folder = (self.config.out_dir / task_id).resolve()
        path = (folder / name).resolve()
        if not TASK_ID.fullmatch(task_id) or path.parent != folder or not path.is_file():
            return _refusal("no such output", 404)
        attach = "download" in request.query_params
        return FileResponse(path, content_disposition_type="attachment" if attach else "inline")


# The page loads only its own script and style; images and media come from this server too.
_CSP = (
    "default-src 'self'; img-src 'self' blob:; media-src 'self'; "
    "script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'"
)
