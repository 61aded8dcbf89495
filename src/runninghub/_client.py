"""The synchronous client and task handle: a thin driver over the shared core.

All decisions (requests, parsing, retries, polling, names of saved files) live in the pure
modules; this file sends, sleeps and writes. ``_async_client.py`` is the same with ``await``.
"""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx

from ._answers import parse_app_inputs
from ._async_client import AsyncClient, AsyncTaskHandle
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
from ._progress import SocketEvent, SyncListener
from ._protocol import AnswerReader, Operation
from ._waiting import FETCH_OUTPUTS, POLL, Finished, Listen, Progress, Sleep, TimedOut, WaitPlan
from .workflow import OverridesLike, WorkflowGraph

__all__ = ["AsyncClient", "AsyncTaskHandle", "Client", "Progress", "TaskHandle"]

T = TypeVar("T")
ProgressCallback = Callable[[Progress], Any]


class Client(BaseClient):
    """A RunningHub client. Use it as a context manager, or call :meth:`close`.

    The key comes from ``api_key``, else ``RUNNINGHUB_API_KEY``, else the config file
    (``runninghub auth set``), else :class:`~runninghub.ConfigError`. ``base_url`` (or
    ``RUNNINGHUB_BASE_URL``) overrides ``site`` (``"cn"`` or ``"ai"``). ``validate`` checks
    overrides against the workflow's graph before submitting (one cached fetch per workflow).

    Example::

        with runninghub.Client() as client:
            task = client.run("1987728214757978114", {"107.image": Path("cat.png")}, out_dir="out")
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
        self._http = httpx.Client(**self._http_options())

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ the driver

    def _execute(self, op: Operation[T], retry: RetryPolicy | None = None) -> T:
        state = self._retry_state(op, retry)
        while True:
            self._before_send(op, state)
            try:
                with self._http.stream(
                    op.request.method, op.request.path, **self._httpx_kwargs(op)
                ) as response:
                    reader = AnswerReader(response.status_code, response.headers)
                    for chunk in response.iter_bytes():
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
            time.sleep(self._next_delay(state, failure))

    # ------------------------------------------------------------------ operations

    def upload(self, source: UploadSource, *, file_name: str | None = None) -> Upload:
        """Upload a file (path, bytes or binary file object), streamed; returns its name."""
        body, close = open_upload(source, file_name)
        try:
            return self._execute(self._op_upload(body))
        finally:
            close()

    def submit(
        self,
        workflow_id: str | int,
        overrides: OverridesLike = None,
        *,
        workflow_json: WorkflowJSON | None = None,
        webhook_url: str | None = None,
        instance: str = "default",
        add_metadata: bool = True,
        validate: bool | None = None,
    ) -> TaskHandle:
        """Start a saved workflow with overrides (``{"6.text": "a cat"}``, tuples, NodeOverride).

        A ``pathlib.Path`` value (or, when validating, an existing local path given as text
        for a media field) is uploaded first. Validation (``validate``, default: the
        client's) fetches the workflow's graph once (cached) or reads ``workflow_json``; if
        the graph cannot be fetched, that error is raised: pass ``validate=False`` to submit
        unchecked. Raises InvalidRequestError for a bad override (before anything is sent
        when validating), CapacityError when the account stays full after retries, and
        SubmitOutcomeUnknownError when the answer was lost (the submit is never repeated).
        """
        wid = check_id(workflow_id, "workflow id")
        graph, overrides = None, materialize(overrides)
        if self._validating(validate, overrides):
            graph = graph_from_json(workflow_json) or self.workflow_graph(wid)
        items = self._upload_files(plan_overrides(overrides, graph))
        op = self._op_submit_workflow(
            wid,
            items,
            workflow_json=workflow_json,
            webhook_url=webhook_url,
            instance=instance,
            add_metadata=add_metadata,
        )
        task = self._execute(op)
        return TaskHandle(self, task)

    def submit_app(
        self,
        app_id: str | int,
        overrides: OverridesLike = None,
        *,
        webhook_url: str | None = None,
        instance: str = "default",
        validate: bool | None = None,
    ) -> TaskHandle:
        """Start an AI app; its inputs (``app_inputs``) are the fields the overrides may set."""
        aid = check_id(app_id, "app id")
        graph, overrides = None, materialize(overrides)
        if self._validating(validate, overrides):
            graph = WorkflowGraph.from_app_inputs(self.app_inputs(aid))
        items = self._upload_files(plan_overrides(overrides, graph))
        op = self._op_submit_app(aid, items, webhook_url=webhook_url, instance=instance)
        task = self._execute(op)
        return TaskHandle(self, task)

    def _upload_files(self, items: list[Any]) -> list[Any]:
        names = {i: self.upload(path).file_name for i, path in local_files(items).items()}
        return with_uploads(items, names)

    def run(
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
        handle = self.submit(
            workflow_id,
            overrides,
            workflow_json=workflow_json,
            webhook_url=webhook_url,
            instance=instance,
            add_metadata=add_metadata,
            validate=validate,
        )
        return self._finish(handle, timeout, out_dir, on_progress, cancel_on_timeout)

    def run_app(
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
        handle = self.submit_app(
            app_id, overrides, webhook_url=webhook_url, instance=instance, validate=validate
        )
        return self._finish(handle, timeout, out_dir, on_progress, cancel_on_timeout)

    def _finish(
        self,
        handle: TaskHandle,
        timeout: float | None,
        out_dir: str | os.PathLike[str] | None,
        on_progress: ProgressCallback | None,
        cancel_on_timeout: bool,
    ) -> Task:
        task = handle.wait(timeout, cancel_on_timeout=cancel_on_timeout, on_progress=on_progress)
        if out_dir is not None:
            self.download(task, out_dir)
        return task

    def task(self, task_id: str | int) -> TaskHandle:
        """A handle on an existing task (e.g. one submitted earlier), without any request."""
        return TaskHandle(self, str(task_id).strip())

    def query(self, task_id: str | int) -> Task:
        """The task's state from the v2 query (results once SUCCESS)."""
        return self._execute(self._op_query(str(task_id)))

    def outputs(self, task_id: str | int) -> Task:
        """The task's state from the legacy outputs endpoint (gives the progress socket URL)."""
        return self._execute(self._op_outputs(str(task_id)))

    def cancel(self, task_id: str | int) -> None:
        """Cancel a queued or running task."""
        self._execute(self._op_cancel(str(task_id)))

    def account(self) -> Account:
        return self._execute(self._op_account())

    def queue_status(self) -> QueueStatus:
        return self._execute(self._op_queue_status())

    def workflow_graph(self, workflow_id: str | int, *, refresh: bool = False) -> WorkflowGraph:
        """The workflow's API-format graph (cached 10 minutes in memory and on disk)."""
        wid = check_id(workflow_id, "workflow id")
        raw: Any = None if refresh else self._graphs.get("workflow", wid)
        if raw is None:
            raw = self._execute(self._op_graph(wid))
            self._graphs.put("workflow", wid, raw)
        return WorkflowGraph.from_api_format(raw)

    def app_inputs(self, app_id: str | int, *, refresh: bool = False) -> list[AppInput]:
        """An AI app's inputs from its apiCallDemo (cached like ``workflow_graph``)."""
        aid = check_id(app_id, "app id")
        raw: Any = None if refresh else self._graphs.get("app", aid)
        if raw is None:
            raw = self._execute(self._op_app_inputs(aid))
            self._graphs.put("app", aid, raw)
        return parse_app_inputs(raw)

    def webhook_detail(self, task_id: str | int) -> WebhookDetail:
        return self._execute(self._op_webhook_detail(str(task_id)))

    def retry_webhook(self, webhook_id: str | int, webhook_url: str) -> None:
        self._execute(self._op_retry_webhook(str(webhook_id), webhook_url))

    # ------------------------------------------------------------------ waiting

    def _wait(
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
        events: queue.SimpleQueue[SocketEvent] = queue.SimpleQueue()
        listener: SyncListener | None = None
        try:
            while True:
                action = plan.next_action()
                if isinstance(action, Finished):
                    self._report(plan, on_progress)
                    return plan.result(action.task)
                if isinstance(action, TimedOut):
                    self._time_out(plan, action, cancel_on_timeout)
                elif isinstance(action, Sleep):
                    _sleep_for_events(events, action.seconds, plan)
                elif isinstance(action, Listen):
                    listener = SyncListener(action.url, events.put)
                    listener.start()
                elif action is POLL:
                    self._poll(plan)
                elif action is FETCH_OUTPUTS:
                    plan.on_outputs(self._try_outputs(task_id))
                self._report(plan, on_progress)
        finally:
            if listener is not None:
                listener.stop()

    def _poll(self, plan: WaitPlan) -> None:
        try:
            task = self._execute(self._op_query(plan.task_id), RetryPolicy.never())
        except APIError as exc:
            plan.on_poll_error(exc)
        else:
            plan.on_task(task)

    def _try_outputs(self, task_id: str) -> Task | None:
        try:
            return self._execute(self._op_outputs(task_id), RetryPolicy.never())
        except APIError:
            return None  # only the progress socket is lost

    def _time_out(self, plan: WaitPlan, action: TimedOut, cancel: bool) -> None:
        cancelled = False
        if cancel:
            try:
                self.cancel(plan.task_id)
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
    def _report(plan: WaitPlan, on_progress: ProgressCallback | None) -> None:
        for progress in plan.drain():
            if on_progress is not None:
                on_progress(progress)

    # ------------------------------------------------------------------ downloads

    def download(
        self,
        task: Task,
        out_dir: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        allowed_hosts: Iterable[str] = (),
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> list[SavedFile]:
        """Save a finished task's outputs into ``out_dir`` (see ``runninghub._outputs``).

        Names are ``<task>-<node>-<n>.<ext>``, never taken from the server; an existing file
        gets a numeric suffix unless ``overwrite``. Raises OutputError for an untrusted host,
        an oversized body or a failed download.
        """
        directory = Path(out_dir)
        saved = []
        for item in plan_downloads(task, self.base_url, allowed_hosts):
            if item.output.url is None:
                path, size, digest = save_text(
                    directory, item.name, item.output.text or "", overwrite
                )
            else:
                path, size, digest = self._fetch(
                    item.output.url, directory, item.name, overwrite, max_bytes
                )
            saved.append(item.saved(path, size, digest))
        return saved

    def _fetch(
        self, url: str, directory: Path, name: str, overwrite: bool, max_bytes: int
    ) -> tuple[Path, int, str]:
        partial = PartialDownload(directory, name, max_bytes=max_bytes)
        for attempt in range(1, self.retry_policy.max_attempts + 1):
            try:
                with self._http.stream("GET", url, headers=partial.request_headers()) as response:
                    if partial.begin(response.status_code, response.headers):
                        for chunk in response.iter_bytes():
                            partial.write(chunk)
                        return partial.commit(overwrite=overwrite)
            except httpx.TransportError as exc:
                partial.pause()  # keep the part: the next attempt resumes it
                if attempt == self.retry_policy.max_attempts:
                    raise APIConnectionError(f"download of {name} failed: {exc}") from None
            time.sleep(self.retry_policy.backoff(attempt, self._rng))
        raise OutputError(f"download of {name} did not complete")


def _sleep_for_events(
    events: queue.SimpleQueue[SocketEvent], seconds: float, plan: WaitPlan
) -> None:
    """Sleep until the next poll is due, or until the progress socket says something."""
    try:
        plan.on_event(events.get(timeout=seconds))
    except queue.Empty:
        return
    while True:
        try:
            plan.on_event(events.get_nowait())
        except queue.Empty:
            return


class TaskHandle:
    """A submitted task: refresh it, wait for it, cancel it, download its outputs.

    ``last`` is the state last seen (the submit's answer at first). A handle can be rebuilt
    from a stored id with ``client.task(task_id)``.
    """

    def __init__(self, client: Client, task: Task | str) -> None:
        self.client = client
        self.last: Task | None = task if isinstance(task, Task) else None
        self.task_id = task.task_id if isinstance(task, Task) else task

    def __repr__(self) -> str:
        status = self.last.status.value if self.last else "unknown"
        return f"TaskHandle(task_id={self.task_id!r}, status={status!r})"

    def refresh(self) -> Task:
        self.last = self.client.query(self.task_id)
        return self.last

    def wait(
        self,
        timeout: float | None = None,
        *,
        cancel_on_timeout: bool = False,
        on_progress: ProgressCallback | None = None,
    ) -> Task:
        """Wait until the task ends; returns it on SUCCESS.

        Raises TaskFailedError (FAILED or cancelled, with the failure details) or
        WaitTimeoutError after ``timeout`` seconds (default: the poll policy's), cancelling
        the task first when ``cancel_on_timeout``.
        """
        self.last = self.client._wait(
            self.task_id,
            self.last,
            timeout=timeout,
            cancel_on_timeout=cancel_on_timeout,
            on_progress=on_progress,
        )
        return self.last

    def cancel(self) -> None:
        self.client.cancel(self.task_id)

    def download(
        self, out_dir: str | os.PathLike[str], *, overwrite: bool = False
    ) -> list[SavedFile]:
        """Save the outputs of the finished task (refreshing its state first if needed)."""
        task = self.last
        if task is None or task.status is not TaskStatus.SUCCESS:
            task = self.refresh()
        if task.status is not TaskStatus.SUCCESS:
            raise OutputError(
                f"task {self.task_id} is {task.status.value}, not SUCCESS: no outputs to save",
                hint="wait for it first",
            )
        return self.client.download(task, out_dir, overwrite=overwrite)
