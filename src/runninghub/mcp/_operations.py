"""What each MCP tool does, over ``AsyncClient``; free of MCP types so it reads like client code."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from runninghub import Task, TaskStatus, WaitTimeoutError
from runninghub._support import json_number, model_body, out_dir_problem, raise_if_failed, refusal
from runninghub.workflow import render_rows

from ._results import AfterSubmit
from ._schemas import (
    AccountInfo,
    AppInputInfo,
    AppInputs,
    CancelResult,
    DownloadResult,
    FailureInfo,
    FieldInfo,
    ModelDetail,
    ModelList,
    ModelParamInfo,
    ModelSummary,
    OutputInfo,
    SavedFileInfo,
    TaskResult,
    UsageInfo,
    WebhookInfo,
    WebhookRetryResult,
    WorkflowFields,
)

if TYPE_CHECKING:
    from runninghub import AsyncClient, AsyncTaskHandle, Preset, Progress, SavedFile

__all__ = ["Operations", "ProgressSink"]

_URL_PREFIXES = ("http://", "https://")
T = TypeVar("T")


class ProgressSink(Protocol):
    """Receives a task's progress while a tool waits for it."""

    async def __call__(self, progress: Progress) -> None: ...

    async def note(self, text: str) -> None: ...


ClientFactory = Callable[[], Awaitable["AsyncClient"]]


class Operations:
    """The tools' behaviour. ``connect`` gives the shared client (built on first use)."""

    def __init__(self, connect: ClientFactory) -> None:
        self._connect = connect

    async def list_workflow_fields(self, workflow_id: str) -> WorkflowFields:
        client = await self._connect()
        graph = await client.workflow_graph(workflow_id)
        rows = [FieldInfo(**row) for row in render_rows(graph)]
        return WorkflowFields(workflow_id=workflow_id, fields=rows)

    async def list_app_inputs(self, app_id: str) -> AppInputs:
        client = await self._connect()
        inputs = await client.app_inputs(app_id)
        infos = [
            AppInputInfo(address=f"{item.node_id}.{item.field_name}", **item.to_dict())
            for item in inputs
        ]
        return AppInputs(app_id=app_id, inputs=infos)

    async def run_workflow(
        self, workflow_id: str, inputs: RunInputs, sink: ProgressSink
    ) -> TaskResult:
        values = inputs.checked(inputs.values())
        return await self._run(lambda client: client.submit(workflow_id, values), inputs, sink)

    async def run_app(self, app_id: str, inputs: RunInputs, sink: ProgressSink) -> TaskResult:
        values = inputs.checked(inputs.values())
        return await self._run(lambda client: client.submit_app(app_id, values), inputs, sink)

    async def find_models(
        self, search: str | None, type: str | None, category: str | None, limit: int
    ) -> ModelList:
        client = await self._connect()
        found = await client.models(type=type, category=category, search=search)
        summaries = [
            ModelSummary(endpoint=m.endpoint, output_type=m.output_type, category=m.category,
                         params=[p.key for p in m.params])
            for m in found[:limit]
        ]  # fmt: skip
        return ModelList(catalogue=client.catalogue.version, total=len(found), models=summaries)

    async def show_model(self, endpoint: str) -> ModelDetail:
        client = await self._connect()
        found = await client.model(endpoint)
        price = await client.model_price(endpoint, {}, preview=False)
        params = [ModelParamInfo(**p.to_dict(), is_list=p.is_list) for p in found.params]
        return ModelDetail(
            endpoint=found.endpoint,
            output_type=found.output_type,
            category=found.category,
            params=params,
            list_price=None if price.list_price is None else json_number(price.list_price),
            price_unit=price.unit or None,
        )

    async def run_model(self, endpoint: str, inputs: RunInputs, sink: ProgressSink) -> TaskResult:
        values = inputs.checked(inputs.model_values())
        return await self._run(lambda client: client.submit_model(endpoint, values), inputs, sink)

    async def run_preset(
        self, preset: Preset, values: Mapping[str, Any], inputs: RunInputs, sink: ProgressSink
    ) -> TaskResult:
        """A preset's tool: its parameters filled in, checked (graph or catalogue), then run."""
        typed = dict(values)
        for param in preset.params:
            if param.kind == "media" and isinstance(typed.get(param.name), str):
                typed[param.name] = _media_value(param.address, typed[param.name])
        overrides = inputs.checked(preset.overrides(typed))  # refuses unknown or missing ones
        client = await self._connect()
        if preset.kind == "model":  # checked against the catalogue, local files uploaded
            handle = await client.submit_model(preset.target, model_body(overrides))
        else:
            submit = client.submit if preset.kind == "workflow" else client.submit_app
            handle = await submit(preset.target, overrides, validate=True)
        return await self._follow(client, handle, inputs, sink)

    async def get_task(self, task_id: str) -> TaskResult:
        client = await self._connect()
        return task_result(await client.query(task_id))

    async def wait_task(
        self, task_id: str, wait_seconds: float, download_dir: str | None, sink: ProgressSink
    ) -> TaskResult:
        client = await self._connect()
        inputs = RunInputs(wait_seconds=wait_seconds, download_dir=download_dir)
        return await self._follow(client, client.task(task_id), inputs, sink)

    async def download_outputs(
        self, task_id: str, directory: str, *, overwrite: bool
    ) -> DownloadResult:
        client = await self._connect()
        task = await client.query(task_id)
        _require_success(task)
        target = _local_path(directory)
        saved = await client.download(task, target, overwrite=overwrite)
        return DownloadResult(task_id=task_id, directory=str(target), files=_saved_infos(saved))

    async def cancel_task(self, task_id: str) -> CancelResult:
        client = await self._connect()
        await client.cancel(task_id)
        task = await client.query(task_id)
        return CancelResult(task_id=task_id, status=task.status)

    async def webhook_detail(self, task_id: str) -> WebhookInfo:
        client = await self._connect()
        return WebhookInfo(**(await client.webhook_detail(task_id)).to_dict())

    async def retry_webhook(self, task_id: str, webhook_url: str | None) -> WebhookRetryResult:
        client = await self._connect()
        detail = await client.retry_task_webhook(task_id, webhook_url)
        target = webhook_url or detail.webhook_url or ""
        return WebhookRetryResult(task_id=task_id, webhook_url=target)

    async def account(self) -> AccountInfo:
        client = await self._connect()
        account = (await client.account()).to_dict()
        queue = (await client.queue_status()).to_dict()
        both = {**account, **queue}  # the tool's fields keep the library's names
        return AccountInfo(**{name: both[name] for name in AccountInfo.model_fields})

    async def _run(
        self,
        submit: Callable[[AsyncClient], Awaitable[AsyncTaskHandle]],
        inputs: RunInputs,
        sink: ProgressSink,
    ) -> TaskResult:
        """Submit once (the inputs already checked), then follow the task as ``_follow`` does."""
        client = await self._connect()
        return await self._follow(client, await submit(client), inputs, sink)

    async def _follow(
        self, client: AsyncClient, handle: AsyncTaskHandle, inputs: RunInputs, sink: ProgressSink
    ) -> TaskResult:
        """Wait up to ``inputs.wait_seconds``; an unfinished task is a result, not an error.

        Any failure from here on names the task (AfterSubmit): it exists, and may be paid for.
        """
        try:
            await sink.note(f"task {handle.task_id}: waiting up to {inputs.wait_seconds:g} s")
            if inputs.wait_seconds <= 0:
                return task_result(await handle.refresh())
            try:
                task = await handle.wait(timeout=inputs.wait_seconds, on_progress=sink)
            except WaitTimeoutError as exc:
                return pending_result(exc.task_id, TaskStatus.parse(exc.last_status))
            saved: list[SavedFile] = []
            if inputs.download_dir is not None:
                saved = await client.download(task, _local_path(inputs.download_dir))
            return task_result(task, saved)
        except Exception as exc:
            raise AfterSubmit(handle.task_id, exc) from exc


class RunInputs:
    """A run's overrides and files, checked locally before anything is sent."""

    def __init__(
        self,
        overrides: Mapping[str, Any] | None = None,
        files: Mapping[str, str | list[str]] | None = None,
        *,
        wait_seconds: float = 0.0,
        download_dir: str | None = None,
    ) -> None:
        self.overrides = dict(overrides or {})
        self.files = dict(files or {})
        self.wait_seconds = wait_seconds
        self.download_dir = download_dir

    def checked(self, values: T) -> T:
        """``values``, once the download folder is known to be usable (an existing file, a
        folder that cannot be written: refused before the task is paid for)."""
        if self.download_dir is not None:
            problem = out_dir_problem(_local_path(self.download_dir))
            if problem is not None:
                raise refusal(
                    f"download_dir: {problem}",
                    "give a folder the MCP server can create or write, or no download_dir",
                )
        return values

    def values(self) -> dict[str, Any]:
        """Overrides plus files; a local file becomes a ``Path`` that the client uploads."""
        values = dict(self.overrides)
        for address, source in self.files.items():
            if address in values:
                raise refusal(
                    f"{address} is given in both overrides and files",
                    "give a file input in `files` only",
                )
            if isinstance(source, list):
                raise refusal(f"{address} takes one file, not a list")
            values[address] = _media_value(address, source)
        return values

    def model_values(self) -> dict[str, Any]:
        """A model's parameters plus files; a list of files for a list key (``imageUrls``)."""
        values = dict(self.overrides)
        for key, source in self.files.items():
            if key in values:
                raise refusal(f"{key} is given in both params and files")
            sources = source if isinstance(source, list) else [source]
            media = [_media_value(key, item) for item in sources]
            values[key] = media if isinstance(source, list) else media[0]
        return values


def task_result(task: Task, saved: Iterable[SavedFile] = ()) -> TaskResult:
    """The tool view of a task."""
    data = task.to_dict()
    return TaskResult(
        task_id=task.task_id,
        status=task.status,
        finished=task.is_terminal,
        outputs=[OutputInfo(**o) for o in data["outputs"]],
        usage=UsageInfo(**data["usage"]) if data["usage"] else None,
        failure=failure_info(task),
        error_message=task.error_message,
        saved_files=_saved_infos(saved),
        next_step=None if task.is_terminal else _come_back(task.task_id),
    )


def pending_result(task_id: str, status: TaskStatus) -> TaskResult:
    """The result of a wait that ended before the task did."""
    return TaskResult(
        task_id=task_id,
        status=status,
        finished=False,
        outputs=[],
        next_step=_come_back(task_id),
    )


def failure_info(task: Task) -> FailureInfo | None:
    return FailureInfo(**task.failure.to_dict()) if task.failure else None


def _come_back(task_id: str) -> str:
    return (
        f"the task is still running (and billing): call wait_task with task_id {task_id!r} "
        "to keep waiting, get_task to check without waiting, or cancel_task to stop it"
    )


def _require_success(task: Task) -> None:
    if task.status is TaskStatus.SUCCESS:
        return
    raise_if_failed(task)
    raise refusal(
        f"task {task.task_id} is {task.status.value}: its outputs are not ready yet",
        f"call wait_task with task_id {task.task_id!r} first",
    )


def _media_value(address: str, source: str) -> str | Path:
    """A URL goes to RunningHub as is (LoadImage accepts URLs); a local file must exist."""
    if source.startswith(_URL_PREFIXES):
        return source
    path = _local_path(source)
    if not path.is_file():
        raise refusal(
            f"{address}: no such file: {path}",
            "give an absolute path on the machine running the MCP server, or an http(s) URL",
        )
    return path


def _local_path(text: str) -> Path:
    """An absolute path; a relative one is relative to the server's working directory."""
    return Path(text).expanduser().absolute()


def _saved_infos(saved: Iterable[SavedFile]) -> list[SavedFileInfo]:
    return [
        SavedFileInfo(
            path=str(Path(s.path).absolute()),
            url=s.url,
            node_id=s.node_id,
            type=s.type,
            size=s.size,
            sha256=s.sha256,
        )
        for s in saved
    ]
