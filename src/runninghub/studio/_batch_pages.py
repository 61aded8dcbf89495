"""The batch pages: start one (CSV or folder, with a column-to-field mapping), open a CLI
batch by its ledger, and watch its grid; retry its failed rows."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

import runninghub
from runninghub.batch import BatchSpec, LedgerError, ledger_for_plan

from ._batch import LEDGER_NAME, BatchShelf, Limits
from ._batch_inputs import MappingProblem, describe, parse_limits, plan, read_source
from ._batch_view import grid_values

if TYPE_CHECKING:
    from .app import _Pages

__all__ = ["BatchPages"]

_MAX_CSV = 2 * 1024 * 1024


def _refusal(message: str, status: int = 422) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class BatchPages:
    def __init__(self, pages: _Pages) -> None:
        self.pages = pages
        self.shelf = BatchShelf(pages.config.client, pages.config.out_dir)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/batch", self.start_page),
            Route("/api/batch/inspect", self.inspect, methods=["POST"]),
            Route("/api/batch", self.start, methods=["POST"]),
            Route("/api/batch/open", self.open_ledger, methods=["POST"]),
            Route("/api/batch/{batch_id}/retry", self.retry, methods=["POST"]),
            Route("/api/batch/{batch_id}/resume", self.resume, methods=["POST"]),
            Route("/batch/{batch_id}", self.grid),
            Route("/batch/{batch_id}/rows/{row:int}/{index:int}", self.output),
        ]

    async def start_page(self, request: Request) -> Response:
        batches = await run_in_threadpool(self.shelf.own_batches)
        workflow_id = request.query_params.get("workflow", "")
        return self.pages.render("batch_start.html", workflow_id=workflow_id, batches=batches)

    async def inspect(self, request: Request) -> Response:
        """The columns of a CSV or folder and the workflow's fields, for the mapping form."""
        form = await _read_form(request)
        return await self._answer(self._describe, form)

    async def start(self, request: Request) -> Response:
        form = await _read_form(request)
        return await self._answer(self._create, form)

    async def _answer(self, work: Any, form: dict[str, Any]) -> Response:
        try:
            return JSONResponse(await run_in_threadpool(work, form))
        except MappingProblem as exc:
            return JSONResponse({"columns": exc.columns, "error": exc.general}, status_code=422)
        except ValueError as exc:
            return _refusal(str(exc))
        except runninghub.RunningHubError as exc:
            return _refusal(exc.message)

    def _describe(self, form: dict[str, Any]) -> dict[str, Any]:
        graph = self.pages.graph(form["workflow_id"])
        with tempfile.TemporaryDirectory(prefix="rh-studio-batch-") as folder:
            table = read_source(_saved_csv(folder, form["csv"]), form["folder"])
            return describe(table, graph)

    def _create(self, form: dict[str, Any]) -> dict[str, Any]:
        """Plan every row first (nothing is made for a refused batch), then make its folder and
        ledger and hand it to the runner."""
        workflow_id = form["workflow_id"]
        limits = parse_limits(form["max_tasks"], form["max_coins"])
        graph = self.pages.graph(workflow_id)
        with tempfile.TemporaryDirectory(prefix="rh-studio-batch-") as scratch:
            table = read_source(_saved_csv(scratch, form["csv"]), form["folder"])
            planned = plan(table, graph, workflow_id, _mapping(form["mapping"]))
        batch_id, folder = self.shelf.new_folder()
        inputs = folder / "inputs.csv" if form["csv"] is not None else table.source
        if form["csv"] is not None:
            inputs.write_bytes(form["csv"])
        spec = BatchSpec(
            workflow_id=workflow_id,
            out_dir=str(folder),
            inputs=str(inputs),
            columns=planned.columns,
            sets=planned.sets,
        )
        ledger_for_plan(folder / LEDGER_NAME, planned, spec).close()
        self.shelf.run(batch_id, limits)
        return {"batch_id": batch_id}

    async def open_ledger(self, request: Request) -> Response:
        """Show a batch started elsewhere (``batch run --ledger FILE``) by its ledger's path."""
        try:
            path = str((await request.json())["path"]).strip()
        except (ValueError, KeyError, TypeError):
            return _refusal("the request is not a ledger to open", 400)
        if not path:
            return _refusal("type the path of a batch ledger (batch.sqlite)")
        try:
            batch_id = await run_in_threadpool(self.shelf.open_ledger, Path(path))
        except (LedgerError, OSError) as exc:
            return _refusal(getattr(exc, "message", None) or f"cannot open {path}: {exc}")
        return JSONResponse({"batch_id": batch_id})

    async def retry(self, request: Request) -> Response:
        return await self._rerun(request, retry_failed=True)

    async def resume(self, request: Request) -> Response:
        return await self._rerun(request, retry_failed=False)

    async def _rerun(self, request: Request, *, retry_failed: bool) -> Response:
        try:
            body = dict(await request.json())
            limits = parse_limits(str(body.get("max_tasks", "")), str(body.get("max_coins", "")))
        except (ValueError, TypeError) as exc:
            return _refusal(str(exc) if isinstance(exc, ValueError) else "not a batch request")
        batch_id = request.path_params["batch_id"]
        try:
            rows = await run_in_threadpool(self._run, batch_id, limits, retry_failed)
        except runninghub.RunningHubError as exc:
            return _refusal(exc.message, 404 if isinstance(exc, runninghub.NotFoundError) else 409)
        return JSONResponse({"rows": rows})

    def _run(self, batch_id: str, limits: Limits, retry_failed: bool) -> int:
        return self.shelf.run(batch_id, limits, retry_failed=retry_failed)

    async def grid(self, request: Request) -> Response:
        snapshot = await run_in_threadpool(self.shelf.snapshot, request.path_params["batch_id"])
        if snapshot is None:
            return _refusal("no such batch in this studio", 404)
        template = "batch_live.html" if request.query_params.get("part") else "batch.html"
        return self.pages.render(template, **grid_values(snapshot))

    async def output(self, request: Request) -> Response:
        """A saved output of a row, only as the ledger recorded it and inside the batch's
        output folder."""
        params = request.path_params
        snapshot = await run_in_threadpool(self.shelf.snapshot, params["batch_id"])
        rows = {r.row: r for r in snapshot.rows} if snapshot else {}
        row = rows.get(params["row"])
        if snapshot is None or row is None or not 0 <= params["index"] < len(row.outputs):
            return _refusal("no such output", 404)
        folder = Path(snapshot.spec.out_dir).resolve()
        path = Path(row.outputs[params["index"]]).resolve()
        if not path.is_relative_to(folder) or not path.is_file():
            return _refusal("no such output", 404)
        return FileResponse(path)


async def _read_form(request: Request) -> dict[str, Any]:
    async with request.form(max_files=1, max_part_size=_MAX_CSV) as form:
        item = form.get("csv")
        data = None if item is None or isinstance(item, str) else await item.read()
        text = {k: str(form.get(k) or "") for k in ("folder", "mapping", "max_tasks", "max_coins")}
        workflow_id = str(form.get("workflow_id") or "").strip()
    return {"workflow_id": workflow_id, "csv": data or None, **text}


def _saved_csv(folder: str, data: bytes | None) -> Path | None:
    if data is None:
        return None
    path = Path(folder) / "inputs.csv"
    path.write_bytes(data)
    return path


def _mapping(text: str) -> Any:
    try:
        return json.loads(text or "{}")
    except ValueError:
        raise MappingProblem(general="the mapping is not a list of columns and fields") from None
