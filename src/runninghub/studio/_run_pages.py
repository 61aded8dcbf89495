"""The run page (a workflow, an app, a model or a preset), its submit, "save as preset",
and a task's detail page with "run again with these settings".

Every client, journal or presets call runs in a worker thread; every refusal is the SDK's
own one-line message, shown beside its field when it names one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

import runninghub
from runninghub.journal import UnknownIntentError

from ._board import TASK_ID
from ._detail import task_detail
from ._preset_form import preset_form, save_form_as_preset, saved_presets
from ._targets import KINDS, Target, Targets, pick_target
from ._views import FormField, one_line

if TYPE_CHECKING:
    from starlette.datastructures import QueryParams

    from .app import _Pages

__all__ = ["RunPages"]


@dataclass
class _Chosen:
    """What the run page opens: a target, the values that fill its form, what went wrong."""

    target: Target | None = None
    filled: dict[str, Any] | None = None
    preset: str = ""
    error: str | None = None
    fields: list[FormField] = field(default_factory=list)


class RunPages:
    def __init__(self, pages: _Pages) -> None:
        self.pages = pages
        self.targets = Targets(pages.config.client)

    async def run_page(self, request: Request) -> Response:
        chosen = await run_in_threadpool(self._chosen, request.query_params)
        presets, models = await run_in_threadpool(self._pickers)
        return self.pages.render(
            "run.html", chosen=chosen, target=chosen.target, presets=presets, models=models
        )

    def _chosen(self, query: QueryParams) -> _Chosen:
        chosen = _Chosen(preset=(query.get("preset") or "").strip())
        try:
            if query.get("from"):
                chosen.target, chosen.filled = self._recorded(query["from"])
            elif chosen.preset:
                chosen.target, chosen.filled = preset_form(self._presets_file, chosen.preset)
            else:
                chosen.target = pick_target(query)
            if chosen.target is not None:
                chosen.fields = self.targets.fields(chosen.target, chosen.filled)
        except runninghub.RunningHubError as exc:
            chosen.error = exc.message
        return chosen

    @property
    def _presets_file(self) -> Any:
        return self.pages.config.presets_file

    def _recorded(self, task_id: str) -> tuple[Target | None, dict[str, Any] | None]:
        """The target and settings of a recorded task ("run again"); none for an unknown id."""
        journal = self.pages.config.journal
        if journal is None or not TASK_ID.fullmatch(task_id):
            return None, None
        try:
            record = journal.show(task_id)
        except UnknownIntentError:
            return None, None
        if record.entry.kind not in KINDS or not isinstance(record.params, dict):
            return None, None
        return Target(record.entry.kind, record.entry.target), dict(record.params)

    def _pickers(self) -> tuple[list[runninghub.Preset], list[str]]:
        """The saved presets (none when the file is broken) and the catalogue's endpoints."""
        try:
            presets = saved_presets(self._presets_file)
        except runninghub.ConfigError:
            presets = []
        return presets, [m.endpoint for m in self.pages.config.client.models()]

    async def submit(self, request: Request) -> Response:
        try:
            target, values = _target_and_values(await request.json())
        except (ValueError, KeyError, TypeError):
            return _refusal("the request is not a studio run", 400)
        try:
            errors = await run_in_threadpool(self.targets.check, target, values)
            if errors:
                return JSONResponse({"errors": errors}, status_code=422)
            submitting = await run_in_threadpool(self.targets.submitter, target, values)
        except runninghub.RunningHubError as exc:
            return _refusal(exc.message)
        try:
            task_id = await run_in_threadpool(self.pages.board.start, submitting)
        except runninghub.RunningHubError as exc:
            known = getattr(exc, "task_id", None)
            return JSONResponse({"error": exc.message, "task_id": known}, status_code=502)
        return JSONResponse({"task_id": task_id})

    async def save_preset(self, request: Request) -> Response:
        try:
            body = await request.json()
            target, values = _target_and_values(body)
            name, description = str(body["name"]).strip(), str(body.get("description") or "")
        except (ValueError, KeyError, TypeError):
            return _refusal("the request is not a preset to save", 400)
        try:
            made = await run_in_threadpool(
                save_form_as_preset,
                self.targets,
                self._presets_file,
                name=name,
                target=target,
                values=values,
                description=description,
            )
        except runninghub.RunningHubError as exc:
            return _refusal(one_line(exc))
        return JSONResponse({"name": made.name})

    async def detail_page(self, request: Request) -> Response:
        task_id = request.path_params["task_id"]
        journal = self.pages.config.journal
        try:
            if journal is None or not TASK_ID.fullmatch(task_id):
                raise UnknownIntentError("no such task")
            record = await run_in_threadpool(journal.show, task_id)
        except UnknownIntentError:
            page = self.pages.render("task.html", task=None)
            page.status_code = 404
            return page
        detail = task_detail(record, self.pages.config.out_dir / task_id)
        return self.pages.render("task.html", task=detail)


def _target_and_values(body: Any) -> tuple[Target, dict[str, Any]]:
    kind, ident = str(body["kind"]), str(body["target"]).strip()
    if kind not in KINDS or not ident:
        raise ValueError(kind)
    values = {str(k): v for k, v in dict(body.get("values") or {}).items()}
    return Target(kind, ident), values


def _refusal(message: str, status: int = 422) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)
