"""The batch pages: start one from a CSV, then watch its grid of rows fill in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

import runninghub

from ._batch import StudioBatch, new_batch_id, parse_rows
from ._views import check_overrides

if TYPE_CHECKING:
    from .app import _Pages

__all__ = ["BatchPages"]

_MAX_CSV = 2 * 1024 * 1024


class BatchPages:
    def __init__(self, pages: _Pages) -> None:
        self.pages = pages
        self.batches: dict[str, StudioBatch] = {}

    async def start_page(self, request: Request) -> Response:
        return self.pages.render(
            "batch_start.html", workflow_id=request.query_params.get("workflow", "")
        )

    async def start(self, request: Request) -> Response:
        async with request.form(max_files=1, max_part_size=_MAX_CSV) as form:
            workflow_id = str(form.get("workflow_id") or "").strip()
            item = form.get("csv")
            data = b"" if item is None or isinstance(item, str) else await item.read()
        try:
            rows = parse_rows(data.decode("utf-8-sig"))
            graph = await run_in_threadpool(self.pages.graph, workflow_id)
        except (ValueError, runninghub.RunningHubError) as exc:
            return JSONResponse({"error": getattr(exc, "message", str(exc))}, status_code=422)
        errors = {
            f"row {row.number}: {k}": v
            for row in rows
            for k, v in check_overrides(graph, row.overrides).items()
        }
        if errors:
            return JSONResponse({"errors": errors}, status_code=422)
        batch = StudioBatch(new_batch_id(), workflow_id, rows)
        self.batches[batch.batch_id] = batch
        batch.start(self.pages.board)
        return JSONResponse({"batch_id": batch.batch_id})

    async def grid(self, request: Request) -> Response:
        batch = self.batches.get(request.path_params["batch_id"])
        if batch is None:
            return JSONResponse({"error": "no such batch in this studio"}, status_code=404)
        cells = [_cell(row, view) for row, view in batch.views(self.pages.board)]
        counts: dict[str, int] = {}
        for cell in cells:
            counts[cell["status"]] = counts.get(cell["status"], 0) + 1
        done = all(cell["finished"] for cell in cells)
        return self.pages.render("batch.html", batch=batch, cells=cells, counts=counts, done=done)


def _cell(row: Any, view: Any) -> dict[str, Any]:
    status = view.status if view is not None else ("ERROR" if row.error else "WAITING")
    thumb = next((o.name for o in view.outputs if o.kind == "image"), None) if view else None
    return {
        "number": row.number,
        "task_id": row.task_id,
        "status": status,
        "thumbnail": thumb,
        "error": row.error or (view.error if view else None),
        "summary": ", ".join(f"{k}={v}" for k, v in row.overrides.items())[:120],
        "finished": bool(row.error) or (view is not None and view.finished),
    }
