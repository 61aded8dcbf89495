"""The asynchronous client and task handle: ``_client.py`` with ``await``.

Same methods, same signatures, same decisions (a parity test keeps it so). Callbacks given
as ``on_progress`` may be plain functions or coroutine functions.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx

from ._answers import parse_app_inputs
from ._core import (
    BaseClient,
    UploadSource,
    WorkflowJSON,
    check_id,
    graph_from_json,
    local_files,
    materialize,
    open_upload,
    plan_overrides,
    with_uploads,
)
from ._errors import APIConnectionError, APIError, APIResponseError, OutputError, WaitTimeoutError
from ._models import Account, AppInput, QueueStatus, Task, TaskStatus, Upload, WebhookDetail
from ._outputs import DEFAULT_MAX_BYTES, PartialDownload, SavedFile, plan_downloads, save_text
from ._policy import PollPolicy, RetryPolicy, classify_api_error, classify_transport_error
from ._progress import AsyncListener, SocketEvent
from ._protocol import AnswerReader, Operation
from ._waiting import FETCH_OUTPUTS, POLL, Finished, Listen, Progress, Sleep, TimedOut, WaitPlan
from .workflow import OverridesLike, WorkflowGraph

__all__ = ["AsyncClient", "AsyncTaskHandle"]

T = TypeVar("T")
ProgressCallback = Callable[[Progress], Any]


class AsyncClient(BaseClient):
    """The asynchronous RunningHub client (``async with AsyncClient() as client``).

    Configuration as for :class:`~runninghub.Client`.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        site: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        poll: PollPolicy | None = None,
        config_dir: str | os.PathLike[str] | None = None,
        validate: bool = True,
    ) -> None:
        super().__init__(
            api_key,
            base_url=base_url,
            site=site,
            timeout=timeout,
            retry=retry,
            poll=poll,
            config_dir=config_dir,
            validate=validate,
        )
        self._http = httpx.AsyncClient(**self._http_options())

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ------------------------------------------------------------------ the driver

    async def _execute(self, op: Operation[T], retry: RetryPolicy | None = None) -> T:
        state = self._retry_state(op, retry)
        while True:
            self._before_send(op, state)
            try:
                async with self._http.stream(
                    op.request.method, op.request.path, **self._httpx_kwargs(op)
                ) as response:
                    reader = AnswerReader(response.status_code, response.headers)
                    async for chunk in response.aiter_bytes():
                        reader.add(chunk)
            except httpx.TransportError as exc:
                failure = classify_transport_error(exc, op.what)
            except APIResponseError as exc:  # an answer too large to read
                failure = classify_api_error(exc)
            else:
                answer = reader.answer()
                try:
                    return self._interpret(op, answer)
                except APIError as exc:
                    failure = classify_api_error(exc, answer.headers)
            await asyncio.sleep(self._next_delay(state, failure))

    # ------------------------------------------------------------------ operations

    async def upload(self, source: UploadSource, *, file_name: str | None = None) -> Upload:
        """Upload a file (path, bytes or binary file object), streamed; returns its name."""
        body, close = open_upload(source, file_name)
        try:
            return await self._execute(self._op_upload(body))
        finally:
            close()

    async def submit(
        self,
        workflow_id: str | int,
        overrides: OverridesLike = None,
        *,
        workflow_json: WorkflowJSON | None = None,
        webhook_url: str | None = None,
        instance: str = "default",
        add_metadata: bool = True,
        validate: bool | None = None,
    ) -> AsyncTaskHandle:
        """Start a saved workflow with overrides; see :meth:`Client.submit`."""
        wid = check_id(workflow_id, "workflow id")
        graph, overrides = None, materialize(overrides)
        if self._validating(validate, overrides):
            graph = graph_from_json(workflow_json) or await self.workflow_graph(wid)
        items = await self._upload_files(plan_overrides(overrides, graph))
        op = self._op_submit_workflow(
            wid,
            items,
            workflow_json=workflow_json,
            webhook_url=webhook_url,
            instance=instance,
            add_metadata=add_metadata,
        )
        task = await self._execute(op)
        return AsyncTaskHandle(self, task)

    async def submit_app(
        self,
        app_id: str | int,
        overrides: OverridesLike = None,
        *,
        webhook_url: str | None = None,
        instance: str = "default",
        validate: bool | None = None,
    ) -> AsyncTaskHandle:
        """Start an AI app; see :meth:`Client.submit_app`."""
        aid = check_id(app_id, "app id")
        graph, overrides = None, materialize(overrides)
        if self._validating(validate, overrides):
            graph = WorkflowGraph.from_app_inputs(await self.app_inputs(aid))
        items = await self._upload_files(plan_overrides(overrides, graph))
        op = self._op_submit_app(aid, items, webhook_url=webhook_url, instance=instance)
        task = await self._execute(op)
        return AsyncTaskHandle(self, task)

    async def _upload_files(self, items: list[Any]) -> list[Any]:
        names = {i: (await self.upload(path)).file_name for i, path in local_files(items).items()}
        return with_uploads(items, names)

    async def run(
        self,
        workflow_id: str | int,
        overrides: OverridesLike = None,
        *,
        timeout: float | None = None,
        out_dir: str | os.PathLike[str] | None = None,
        on_progress: ProgressCallback | None = None,
        cancel_on_timeout: bool = False,
        workflow_json: WorkflowJSON | None = None,
        webhook_url: str | None = None,
        instance: str = "default",
        add_metadata: bool = True,
        validate: bool | None = None,
    ) -> Task:
        """Submit, wait, and (with ``out_dir``) download the outputs; returns the final task.

        Arguments as for ``submit`` and ``TaskHandle.wait``. For the saved files' paths and
        checksums, call ``download(task, out_dir)`` yourself instead of passing ``out_dir``.
        """
        handle = await self.submit(
            workflow_id,
            overrides,
            workflow_json=workflow_json,
            webhook_url=webhook_url,
            instance=instance,
            add_metadata=add_metadata,
            validate=validate,
        )
        return await self._finish(handle, timeout, out_dir, on_progress, cancel_on_timeout)

    async def run_app(
        self,
        app_id: str | int,
        overrides: OverridesLike = None,
        *,
        timeout: float | None = None,
        out_dir: str | os.PathLike[str] | None = None,
        on_progress: ProgressCallback | None = None,
        cancel_on_timeout: bool = False,
        webhook_url: str | None = None,
        instance: str = "default",
        validate: bool | None = None,
    ) -> Task:
        """``run`` for an AI app."""
        handle = await self.submit_app(
            app_id, overrides, webhook_url=webhook_url, instance=instance, validate=validate
        )
        return await self._finish(handle, timeout, out_dir, on_progress, cancel_on_timeout)

    async def _finish(
        self,
        handle: AsyncTaskHandle,
        timeout: float | None,
        out_dir: str | os.PathLike[str] | None,
        on_progress: ProgressCallback | None,
        cancel_on_timeout: bool,
    ) -> Task:
        task = await handle.wait(
            timeout, cancel_on_timeout=cancel_on_timeout, on_progress=on_progress
        )
        if out_dir is not None:
            await self.download(task, out_dir)
        return task

    def task(self, task_id: str | int) -> AsyncTaskHandle:
        """A handle on an existing task, without any request."""
        return AsyncTaskHandle(self, str(task_id).strip())

    async def query(self, task_id: str | int) -> Task:
        return await self._execute(self._op_query(str(task_id)))

    async def outputs(self, task_id: str | int) -> Task:
        return await self._execute(self._op_outputs(str(task_id)))

    async def cancel(self, task_id: str | int) -> None:
        await self._execute(self._op_cancel(str(task_id)))

    async def account(self) -> Account:
        return await self._execute(self._op_account())

    async def queue_status(self) -> QueueStatus:
        return await self._execute(self._op_queue_status())

    async def workflow_graph(
        self, workflow_id: str | int, *, refresh: bool = False
    ) -> WorkflowGraph:
        wid = check_id(workflow_id, "workflow id")
        raw: Any = None if refresh else self._graphs.get("workflow", wid)
        if raw is None:
            raw = await self._execute(self._op_graph(wid))
            self._graphs.put("workflow", wid, raw)
        return WorkflowGraph.from_api_format(raw)

    async def app_inputs(self, app_id: str | int, *, refresh: bool = False) -> list[AppInput]:
        aid = check_id(app_id, "app id")
        raw: Any = None if refresh else self._graphs.get("app", aid)
        if raw is None:
            raw = await self._execute(self._op_app_inputs(aid))
            self._graphs.put("app", aid, raw)
        return parse_app_inputs(raw)

    async def webhook_detail(self, task_id: str | int) -> WebhookDetail:
        return await self._execute(self._op_webhook_detail(str(task_id)))

    async def retry_webhook(self, webhook_id: str | int, webhook_url: str) -> None:
        await self._execute(self._op_retry_webhook(str(webhook_id), webhook_url))

    # ------------------------------------------------------------------ waiting

    async def _wait(
        self,
        task_id: str,
        known: Task | None,
        *,
        timeout: float | None,
        cancel_on_timeout: bool = False,
        on_progress: ProgressCallback | None = None,
        policy: PollPolicy | None = None,
    ) -> Task:
        policy = policy or self.poll_policy
        limit = policy.timeout if timeout is None else timeout
        plan = WaitPlan(task_id, policy, timeout=limit, known=known, rng=self._rng)
        events: asyncio.Queue[SocketEvent] = asyncio.Queue()
        listener: AsyncListener | None = None
        try:
            while True:
                action = plan.next_action()
                if isinstance(action, Finished):
                    await self._report(plan, on_progress)
                    return plan.result(action.task)
                if isinstance(action, TimedOut):
                    await self._time_out(plan, action, cancel_on_timeout)
                elif isinstance(action, Sleep):
                    await _sleep_for_events(events, action.seconds, plan)
                elif isinstance(action, Listen):
                    listener = AsyncListener(action.url, events.put_nowait)
                    listener.start()
                elif action is POLL:
                    await self._poll(plan)
                elif action is FETCH_OUTPUTS:
                    plan.on_outputs(await self._try_outputs(task_id))
                await self._report(plan, on_progress)
        finally:
            if listener is not None:
                await listener.stop()

    async def _poll(self, plan: WaitPlan) -> None:
        try:
            task = await self._execute(self._op_query(plan.task_id), RetryPolicy.never())
        except APIError as exc:
            plan.on_poll_error(exc)
        else:
            plan.on_task(task)

    async def _try_outputs(self, task_id: str) -> Task | None:
        try:
            return await self._execute(self._op_outputs(task_id), RetryPolicy.never())
        except APIError:
            return None  # only the progress socket is lost

    async def _time_out(self, plan: WaitPlan, action: TimedOut, cancel: bool) -> None:
        cancelled = False
        if cancel:
            try:
                await self.cancel(plan.task_id)
                cancelled = True
            except APIError:
                cancelled = False
        raise WaitTimeoutError(
            plan.task_id,
            timeout=action.timeout,
            last_status=action.last_status,
            cancelled=cancelled,
        )

    @staticmethod
    async def _report(plan: WaitPlan, on_progress: ProgressCallback | None) -> None:
        for progress in plan.drain():
            if on_progress is not None:
                result = on_progress(progress)
                if inspect.isawaitable(result):
                    await result

    # ------------------------------------------------------------------ downloads

    async def download(
        self,
        task: Task,
        out_dir: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        allowed_hosts: Iterable[str] = (),
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> list[SavedFile]:
        """Save a finished task's outputs into ``out_dir``; see :meth:`Client.download`."""
        directory = Path(out_dir)
        saved = []
        for item in plan_downloads(task, self.base_url, allowed_hosts):
            if item.output.url is None:
                path, size, digest = save_text(
                    directory, item.name, item.output.text or "", overwrite
                )
            else:
                path, size, digest = await self._fetch(
                    item.output.url, directory, item.name, overwrite, max_bytes
                )
            saved.append(item.saved(path, size, digest))
        return saved

    async def _fetch(
        self, url: str, directory: Path, name: str, overwrite: bool, max_bytes: int
    ) -> tuple[Path, int, str]:
        partial = PartialDownload(directory, name, max_bytes=max_bytes)
        for attempt in range(1, self.retry_policy.max_attempts + 1):
            try:
                headers = partial.request_headers()
                async with self._http.stream("GET", url, headers=headers) as response:
                    if partial.begin(response.status_code, response.headers):
                        async for chunk in response.aiter_bytes():
                            partial.write(chunk)
                        return partial.commit(overwrite=overwrite)
            except httpx.TransportError as exc:
                partial.pause()  # keep the part: the next attempt resumes it
                if attempt == self.retry_policy.max_attempts:
                    raise APIConnectionError(f"download of {name} failed: {exc}") from None
            await asyncio.sleep(self.retry_policy.backoff(attempt, self._rng))
        raise OutputError(f"download of {name} did not complete")


async def _sleep_for_events(
    events: asyncio.Queue[SocketEvent], seconds: float, plan: WaitPlan
) -> None:
    """Sleep until the next poll is due, or until the progress socket says something."""
    try:
        plan.on_event(await asyncio.wait_for(events.get(), timeout=seconds))
    except TimeoutError:
        return
    while not events.empty():
        plan.on_event(events.get_nowait())


class AsyncTaskHandle:
    """A submitted task, for :class:`AsyncClient`; see :class:`~runninghub.TaskHandle`."""

    def __init__(self, client: AsyncClient, task: Task | str) -> None:
        self.client = client
        self.last: Task | None = task if isinstance(task, Task) else None
        self.task_id = task.task_id if isinstance(task, Task) else task

    def __repr__(self) -> str:
        status = self.last.status.value if self.last else "unknown"
        return f"AsyncTaskHandle(task_id={self.task_id!r}, status={status!r})"

    async def refresh(self) -> Task:
        self.last = await self.client.query(self.task_id)
        return self.last

    async def wait(
        self,
        timeout: float | None = None,
        *,
        cancel_on_timeout: bool = False,
        on_progress: ProgressCallback | None = None,
    ) -> Task:
        """Wait until the task ends; see :meth:`TaskHandle.wait`."""
        self.last = await self.client._wait(
            self.task_id,
            self.last,
            timeout=timeout,
            cancel_on_timeout=cancel_on_timeout,
            on_progress=on_progress,
        )
        return self.last

    async def cancel(self) -> None:
        await self.client.cancel(self.task_id)

    async def download(
        self, out_dir: str | os.PathLike[str], *, overwrite: bool = False
    ) -> list[SavedFile]:
        task = self.last
        if task is None or task.status is not TaskStatus.SUCCESS:
            task = await self.refresh()
        if task.status is not TaskStatus.SUCCESS:
            raise OutputError(
                f"task {self.task_id} is {task.status.value}, not SUCCESS: no outputs to save",
                hint="wait for it first",
            )
        return await self.client.download(task, out_dir, overwrite=overwrite)
