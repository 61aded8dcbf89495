"""The MCP tools: argument schemas, results, tool errors, progress; wired into an ``MCPServer``."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.types import CallToolResult, InputRequiredResult, ToolAnnotations
from mcp.types import Tool as MCPTool
from pydantic import BaseModel, Field

from runninghub import Preset, RunningHubError

from ._descriptions import INSTRUCTIONS, TOOL_DESCRIPTIONS
from ._operations import Operations, RunInputs
from ._presets import PresetCatalogue, preset_tool
from ._progress_notifications import ProgressNotifier
from ._queue_notes import QueueWait
from ._results import AfterSubmit, Redact, argument_error_info, error_info, tool_result
from ._schemas import (
    AccountInfo,
    AppInputs,
    CancelResult,
    DownloadResult,
    ModelDetail,
    ModelList,
    TaskResult,
    WebhookInfo,
    WebhookRetryResult,
    WorkflowFields,
)

__all__ = ["DEFAULT_WAIT_SECONDS", "MAX_WAIT_SECONDS", "RunningHubServer", "build_server"]

logger = logging.getLogger(__name__)

DEFAULT_WAIT_SECONDS = 30.0
# Agent hosts give up on a tool call after a few minutes; longer waits go through wait_task.
MAX_WAIT_SECONDS = 600.0

WorkflowId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="RunningHub workflow id: the number in the workflow's URL, "
        "e.g. '1904136902449209346'.",
    ),
]
AppId = Annotated[
    str,
    Field(min_length=1, max_length=64, description="RunningHub AI app (webapp) id."),
]
TaskId = Annotated[
    str,
    Field(min_length=1, max_length=64, description="Task id returned by run_workflow or run_app."),
]
Overrides = Annotated[
    dict[str, Any] | None,
    Field(
        description="Input values by address NODE.FIELD, e.g. {'6.text': 'a red fox', "
        "'3.seed': 42}. Values are converted to the field's type ('20' -> 20)."
    ),
]
Files = Annotated[
    dict[str, str] | None,
    Field(
        description="Media inputs by address NODE.FIELD: a local file path (absolute, on the "
        "machine running this server; uploaded first) or an http(s) URL, "
        "e.g. {'107.image': '/home/me/photo.png'}."
    ),
]
WaitSeconds = Annotated[
    float,
    Field(
        ge=0,
        le=MAX_WAIT_SECONDS,
        description="How long to wait for the task before returning its id and status "
        "(0: do not wait). Call wait_task to keep waiting.",
    ),
]
DownloadDir = Annotated[
    str | None,
    Field(description="If set, save the outputs into this local directory once the task succeeds."),
]
Directory = Annotated[
    str,
    Field(min_length=1, description="Local directory to save the files into (created if needed)."),
]
Overwrite = Annotated[
    bool,
    Field(
        description="Replace a different file of the same name (a file already saved with the "
        "same bytes is kept, never copied twice)."
    ),
]
WebhookUrl = Annotated[
    str | None,
    Field(
        max_length=2000,
        description="Deliver to this http(s) URL instead of the task's own webhook URL.",
    ),
]
Endpoint = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description="A standard model's endpoint from find_models, e.g. "
        "'rhart-image-n-pro/text-to-image'.",
    ),
]
SearchText = Annotated[
    str | None, Field(max_length=100, description="Text in the endpoint, name or category.")
]
ModelType = Annotated[
    str | None, Field(description="Output type: image, video, audio, 3d or string.")
]
Category = Annotated[str | None, Field(description="A category, e.g. 'Kling' or 'Seedance'.")]
Limit = Annotated[int, Field(ge=1, le=300, description="At most this many models.")]
ModelValues = Annotated[
    dict[str, Any] | None,
    Field(
        description="The model's parameters by key, as show_model lists them, with JSON types: "
        "{'prompt': 'a red fox', 'resolution': '1k', 'duration': 5, 'sound': true}. Media "
        "parameters take http(s) URLs here."
    ),
]
ModelFiles = Annotated[
    dict[str, str | list[str]] | None,
    Field(
        description="Media parameters given as local files (absolute paths on the machine "
        "running this server; uploaded first) or URLs; a list for a list key, e.g. "
        "{'imageUrls': ['/home/me/a.png']}."
    ),
]

_READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=True)
_SPENDS = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=True)
_WAITS = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True)
_CANCELS = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True)
# Sends the event once more to the receiver: no credit spent, but not idempotent for it.
_RESENDS = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=True)


class ToolSet:
    """The MCP face of :class:`Operations`: one method per tool."""

    def __init__(self, operations: Operations, redact: Redact) -> None:
        self._ops = operations
        self._redact = redact

    async def list_workflow_fields(
        self, workflow_id: WorkflowId, ctx: Context[Any, Any]
    ) -> Annotated[CallToolResult, WorkflowFields]:
        return await self._call(ctx, lambda _: self._ops.list_workflow_fields(workflow_id))

    async def run_workflow(  # noqa: PLR0913 - an MCP tool: its parameters are the tool's schema
        self,
        workflow_id: WorkflowId,
        ctx: Context[Any, Any],
        *,
        overrides: Overrides = None,
        files: Files = None,
        wait_seconds: WaitSeconds = DEFAULT_WAIT_SECONDS,
        download_dir: DownloadDir = None,
    ) -> Annotated[CallToolResult, TaskResult]:
        inputs = RunInputs(overrides, files, wait_seconds=wait_seconds, download_dir=download_dir)
        return await self._call(ctx, lambda sink: self._ops.run_workflow(workflow_id, inputs, sink))

    async def get_task(
        self, task_id: TaskId, ctx: Context[Any, Any]
    ) -> Annotated[CallToolResult, TaskResult]:
        return await self._call(ctx, lambda _: self._ops.get_task(task_id))

    async def wait_task(
        self,
        task_id: TaskId,
        ctx: Context[Any, Any],
        wait_seconds: WaitSeconds = DEFAULT_WAIT_SECONDS,
        download_dir: DownloadDir = None,
    ) -> Annotated[CallToolResult, TaskResult]:
        return await self._call(
            ctx, lambda sink: self._ops.wait_task(task_id, wait_seconds, download_dir, sink)
        )

    async def download_outputs(
        self, task_id: TaskId, dir: Directory, ctx: Context[Any, Any], overwrite: Overwrite = False
    ) -> Annotated[CallToolResult, DownloadResult]:
        return await self._call(
            ctx, lambda _: self._ops.download_outputs(task_id, dir, overwrite=overwrite)
        )

    async def cancel_task(
        self, task_id: TaskId, ctx: Context[Any, Any]
    ) -> Annotated[CallToolResult, CancelResult]:
        return await self._call(ctx, lambda _: self._ops.cancel_task(task_id))

    async def webhook_detail(
        self, task_id: TaskId, ctx: Context[Any, Any]
    ) -> Annotated[CallToolResult, WebhookInfo]:
        return await self._call(ctx, lambda _: self._ops.webhook_detail(task_id))

    async def retry_webhook(
        self, task_id: TaskId, ctx: Context[Any, Any], *, webhook_url: WebhookUrl = None
    ) -> Annotated[CallToolResult, WebhookRetryResult]:
        return await self._call(ctx, lambda _: self._ops.retry_webhook(task_id, webhook_url))

    async def list_app_inputs(
        self, app_id: AppId, ctx: Context[Any, Any]
    ) -> Annotated[CallToolResult, AppInputs]:
        return await self._call(ctx, lambda _: self._ops.list_app_inputs(app_id))

    async def run_app(  # noqa: PLR0913 - an MCP tool: its parameters are the tool's schema
        self,
        app_id: AppId,
        ctx: Context[Any, Any],
        *,
        overrides: Overrides = None,
        files: Files = None,
        wait_seconds: WaitSeconds = DEFAULT_WAIT_SECONDS,
        download_dir: DownloadDir = None,
    ) -> Annotated[CallToolResult, TaskResult]:
        inputs = RunInputs(overrides, files, wait_seconds=wait_seconds, download_dir=download_dir)
        return await self._call(ctx, lambda sink: self._ops.run_app(app_id, inputs, sink))

    async def find_models(
        self,
        ctx: Context[Any, Any],
        *,
        search: SearchText = None,
        type: ModelType = None,
        category: Category = None,
        limit: Limit = 50,
    ) -> Annotated[CallToolResult, ModelList]:
        return await self._call(ctx, lambda _: self._ops.find_models(search, type, category, limit))

    async def show_model(
        self, endpoint: Endpoint, ctx: Context[Any, Any]
    ) -> Annotated[CallToolResult, ModelDetail]:
        return await self._call(ctx, lambda _: self._ops.show_model(endpoint))

    async def run_model(  # noqa: PLR0913 - an MCP tool: its parameters are the tool's schema
        self,
        endpoint: Endpoint,
        ctx: Context[Any, Any],
        *,
        params: ModelValues = None,
        files: ModelFiles = None,
        wait_seconds: WaitSeconds = DEFAULT_WAIT_SECONDS,
        download_dir: DownloadDir = None,
    ) -> Annotated[CallToolResult, TaskResult]:
        inputs = RunInputs(params, files, wait_seconds=wait_seconds, download_dir=download_dir)
        return await self._call(ctx, lambda sink: self._ops.run_model(endpoint, inputs, sink))

    async def account(self, ctx: Context[Any, Any]) -> Annotated[CallToolResult, AccountInfo]:
        return await self._call(ctx, lambda _: self._ops.account())

    async def run_preset(
        self, preset: Preset, arguments: dict[str, Any], ctx: Context[Any, Any]
    ) -> CallToolResult:
        values = dict(arguments)
        wait = values.pop("wait_seconds", DEFAULT_WAIT_SECONDS)
        download_dir = values.pop("download_dir", None)
        if not isinstance(wait, int | float) or not 0 <= wait <= MAX_WAIT_SECONDS:
            info = argument_error_info(f"wait_seconds must be 0 to {MAX_WAIT_SECONDS:g}", None)
            return tool_result({"error": info}, self._redact, is_error=True)
        inputs = RunInputs(wait_seconds=float(wait), download_dir=download_dir)
        return await self._call(
            ctx, lambda sink: self._ops.run_preset(preset, values, inputs, sink)
        )

    async def _call(
        self, ctx: Context[Any, Any], operation: Callable[[ProgressNotifier], Awaitable[BaseModel]]
    ) -> CallToolResult:
        """Run one tool; every failure becomes a tool error, the server keeps serving. A wait
        for a free slot of a full queue is told as it happens, and in the result."""
        sink = ProgressNotifier(ctx)
        queue = QueueWait(sink)
        try:
            with queue.watching():
                model = await operation(sink)
        except Exception as exc:
            cause = exc.cause if isinstance(exc, AfterSubmit) else exc
            if not isinstance(cause, RunningHubError | OSError):
                logger.error("tool failed unexpectedly", exc_info=exc)
            error = {**error_info(exc), **_waited(queue)}
            return tool_result({"error": error}, self._redact, is_error=True)
        except anyio.get_cancelled_exc_class():  # no result is sent: the log says what happened
            queue.cancelled()
            raise
        data = model.model_dump(mode="json")
        if "queue_wait" in data:
            data.update(_waited(queue))
        return tool_result(data, self._redact, is_error=False)


def _waited(queue: QueueWait) -> dict[str, str]:
    summary = queue.summary()
    return {} if summary is None else {"queue_wait": summary}


class RunningHubServer(MCPServer[Any]):
    """An ``MCPServer`` whose argument refusals are structured tool errors like all others."""

    def __init__(self, redact: Redact, tools: ToolSet, catalogue: PresetCatalogue) -> None:
        super().__init__(
            "runninghub",
            title="RunningHub",
            instructions=INSTRUCTIONS,
            version=_version(),
            log_level="WARNING",
        )
        self._redact = redact
        self._tools = tools
        self.presets = catalogue
        self._sessions: list[Any] = []  # the sessions to tell when the presets change

    async def list_tools(self) -> list[MCPTool]:
        generic = await super().list_tools()
        made = [
            preset_tool(p, wait_seconds=DEFAULT_WAIT_SECONDS, max_wait=MAX_WAIT_SECONDS)
            for p in self.presets.presets().values()
        ]
        return [*generic, *made]

    async def _handle_list_tools(self, ctx: Any, params: Any) -> Any:
        # The SDK's own handler (bound at construction) is where a session first shows itself.
        if ctx.session not in self._sessions:
            self._sessions.append(ctx.session)
        return await super()._handle_list_tools(ctx, params)

    async def announce_tools_changed(self) -> None:
        """Send ``notifications/tools/list_changed`` to every session that listed the tools."""
        for session in list(self._sessions):
            try:
                await session.send_tool_list_changed()
            except Exception:  # a session that has gone away is dropped
                self._sessions.remove(session)

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        preset = self.presets.presets().get(name)
        if preset is not None and context is not None:
            return await self._tools.run_preset(preset, arguments, context)
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            # Raised before the tool runs: unknown tool, or arguments outside the input schema.
            # (Every failure inside a tool is already a result; see ToolSet._call.)
            if isinstance(exc, UnexpectedToolError):
                raise
            info = argument_error_info(str(exc), exc.__cause__)
            return tool_result({"error": info}, self._redact, is_error=True)


def build_server(operations: Operations, redact: Redact) -> RunningHubServer:
    """An ``MCPServer`` exposing the RunningHub tools, and a tool per saved preset."""
    tools = ToolSet(operations, redact)
    server = RunningHubServer(redact, tools, PresetCatalogue(set(_ANNOTATIONS)))
    for name, hints in _ANNOTATIONS.items():
        server.add_tool(
            getattr(tools, name),
            name=name,
            description=TOOL_DESCRIPTIONS[name],
            annotations=hints,
            structured_output=True,
        )
    return server


_ANNOTATIONS = {
    "list_workflow_fields": _READ_ONLY,
    "run_workflow": _SPENDS,
    "get_task": _READ_ONLY,
    "wait_task": _WAITS,
    "download_outputs": _WAITS,
    "cancel_task": _CANCELS,
    "webhook_detail": _READ_ONLY,
    "retry_webhook": _RESENDS,
    "list_app_inputs": _READ_ONLY,
    "run_app": _SPENDS,
    "find_models": _READ_ONLY,
    "show_model": _READ_ONLY,
    "run_model": _SPENDS,
    "account": _READ_ONLY,
}


def _version() -> str:
    from runninghub import __version__

    return __version__
