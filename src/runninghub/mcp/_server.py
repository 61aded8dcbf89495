"""The MCP tools: argument schemas, results, tool errors, progress; wired into an ``MCPServer``."""

from __future__ import annotations

import inspect
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


_RunOperation = Callable[[Operations, str, RunInputs, ProgressNotifier], Awaitable[TaskResult]]
_LookUp = Callable[[Operations, str], Awaitable[BaseModel]]
_Body = Callable[["ToolSet", dict[str, Any]], Callable[[ProgressNotifier], Awaitable[BaseModel]]]
_POSITIONAL = inspect.Parameter.POSITIONAL_OR_KEYWORD
_KEYWORD = inspect.Parameter.KEYWORD_ONLY
_CONTEXT = inspect.Parameter("ctx", _POSITIONAL, annotation=Context[Any, Any])
# What every run tool takes after its target and inputs: how long to wait, where to save.
_RUN_WAIT = (
    inspect.Parameter(
        "wait_seconds", _KEYWORD, default=DEFAULT_WAIT_SECONDS, annotation=WaitSeconds
    ),
    inspect.Parameter("download_dir", _KEYWORD, default=None, annotation=DownloadDir),
)


def _tool(
    name: str, parameters: list[inspect.Parameter], result: type[BaseModel], body: _Body
) -> Callable[..., Awaitable[CallToolResult]]:
    """A ``ToolSet`` method with this signature (after ``self``), the one the MCP SDK reads the
    tool's schema from; ``body`` picks the operation from the arguments, ``ctx`` among them."""
    every = [inspect.Parameter("self", _POSITIONAL), *parameters]
    signature = inspect.Signature(every, return_annotation=Annotated[CallToolResult, result])

    async def tool(*args: Any, **kwargs: Any) -> CallToolResult:
        given = signature.bind(*args, **kwargs)
        given.apply_defaults()
        named = dict(given.arguments)
        tools: ToolSet = named.pop("self")
        return await tools._call(named["ctx"], body(tools, named))

    tool.__name__ = tool.__qualname__ = name
    tool.__signature__ = signature  # type: ignore[attr-defined]
    tool.__annotations__ = {p.name: p.annotation for p in parameters}
    tool.__annotations__["return"] = signature.return_annotation
    return tool


def _look_up_tool(
    name: str, target: tuple[str, Any], look_up: _LookUp, result: type[BaseModel]
) -> Callable[..., Awaitable[CallToolResult]]:
    """A tool that reads one thing by its id: ``(target, ctx)``."""
    parameters = [inspect.Parameter(target[0], _POSITIONAL, annotation=target[1]), _CONTEXT]
    return _tool(
        name,
        parameters,
        result,
        lambda tools, named: lambda _: look_up(tools._ops, named[target[0]]),
    )


def _run_tool(
    name: str, run: _RunOperation, target: tuple[str, Any], values: tuple[str, Any], files: Any
) -> Callable[..., Awaitable[CallToolResult]]:
    """A tool that runs one kind of target: ``(target, ctx, *, values, files, wait_seconds,
    download_dir)``."""
    parameters = [
        inspect.Parameter(target[0], _POSITIONAL, annotation=target[1]),
        _CONTEXT,
        inspect.Parameter(values[0], _KEYWORD, default=None, annotation=values[1]),
        inspect.Parameter("files", _KEYWORD, default=None, annotation=files),
        *_RUN_WAIT,
    ]

    def body(tools: ToolSet, named: dict[str, Any]) -> Callable[[ProgressNotifier], Any]:
        inputs = RunInputs(
            named[values[0]],
            named["files"],
            wait_seconds=named["wait_seconds"],
            download_dir=named["download_dir"],
        )
        return lambda sink: run(tools._ops, named[target[0]], inputs, sink)

    return _tool(name, parameters, TaskResult, body)


class ToolSet:
    """The MCP face of :class:`Operations`: one method per tool."""

    def __init__(self, operations: Operations, redact: Redact) -> None:
        self._ops = operations
        self._redact = redact

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

    async def retry_webhook(
        self, task_id: TaskId, ctx: Context[Any, Any], *, webhook_url: WebhookUrl = None
    ) -> Annotated[CallToolResult, WebhookRetryResult]:
        return await self._call(ctx, lambda _: self._ops.retry_webhook(task_id, webhook_url))

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

    async def account(self, ctx: Context[Any, Any]) -> Annotated[CallToolResult, AccountInfo]:
        return await self._call(ctx, lambda _: self._ops.account())

    # Tools alike but for their names and types, built from one signature each (see _tool).
    list_workflow_fields = _look_up_tool(
        "list_workflow_fields",
        ("workflow_id", WorkflowId),
        Operations.list_workflow_fields,
        WorkflowFields,
    )
    get_task = _look_up_tool("get_task", ("task_id", TaskId), Operations.get_task, TaskResult)
    cancel_task = _look_up_tool(
        "cancel_task", ("task_id", TaskId), Operations.cancel_task, CancelResult
    )
    webhook_detail = _look_up_tool(
        "webhook_detail", ("task_id", TaskId), Operations.webhook_detail, WebhookInfo
    )
    list_app_inputs = _look_up_tool(
        "list_app_inputs", ("app_id", AppId), Operations.list_app_inputs, AppInputs
    )
    show_model = _look_up_tool(
        "show_model", ("endpoint", Endpoint), Operations.show_model, ModelDetail
    )
    run_workflow = _run_tool(
        "run_workflow",
        Operations.run_workflow,
        ("workflow_id", WorkflowId),
        ("overrides", Overrides),
        Files,
    )
    run_app = _run_tool(
        "run_app", Operations.run_app, ("app_id", AppId), ("overrides", Overrides), Files
    )
    run_model = _run_tool(
        "run_model",
        Operations.run_model,
        ("endpoint", Endpoint),
        ("params", ModelValues),
        ModelFiles,
    )

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
