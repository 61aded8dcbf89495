"""The synchronous face: ``Client`` and ``TaskHandle``, a blocking driver for the flows.

Every method is a flow of ``_flows.py`` (or ``_handle.py``) run by :meth:`Client._drive`;
this file only performs the steps: HTTP on one connection pool, sleeps, a socket thread.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import httpx

from . import _download_flow, _flows, _handle, _model_flows, _preset_flow, _steps
from ._core import ClientCore
from ._deadline import bound_pools, deadline
from ._handle import HandleCore
from ._models import Task
from ._outputs import PartialDownload
from ._protocol import Answer, AnswerReader, Operation
from ._socket_listener import SocketEvent, SyncListener
from ._steps import Flow, Step, Stepper, as_method
from ._waiting import Listen, Progress, Sleep

__all__ = ["Client", "Progress", "TaskHandle"]

S = TypeVar("S")
P = ParamSpec("P")
T = TypeVar("T")


def _driven(flow: Callable[Concatenate[S, P], Flow[T]]) -> Callable[Concatenate[S, P], T]:
    """The blocking method that runs ``flow``."""

    def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return cast(T, self._drive(flow(self, *args, **kwargs)))

    return as_method(method, flow)


def _handing(
    flow: Callable[Concatenate[S, P], Flow[Task]],
) -> Callable[Concatenate[S, P], TaskHandle]:
    """The blocking method that runs a submitting ``flow`` and hands back its task."""

    def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> TaskHandle:
        return TaskHandle(self, self._drive(flow(self, *args, **kwargs)))

    return as_method(method, flow, "TaskHandle")


class Client(ClientCore):
    """A RunningHub client. Use it as a context manager, or call :meth:`close`.

    The key comes from ``api_key``, else ``RUNNINGHUB_API_KEY``, else the config file
    (``runninghub auth set``), else :class:`~runninghub.ConfigError`. ``base_url`` (or
    ``RUNNINGHUB_BASE_URL``) overrides ``site`` (``"cn"`` or ``"ai"``). ``validate`` checks
    overrides against the workflow's graph before submitting (one cached fetch per workflow).
    ``journal`` records every submit in the local journal (``runninghub history``): a
    ``runninghub.journal.Journal``, or True for the user's own; off by default in the SDK.
    With a journal, ``upload_cache`` (default True) reuses a file this key uploaded within
    the cache's time to live instead of uploading it again.

    Example::

        with runninghub.Client() as client:
            task = client.run("1987728214757978114", {"107.image": Path("cat.png")}, out_dir="out")
    """

    _http: httpx.Client

    upload = _driven(_flows.upload)
    submit = _handing(_flows.submit)
    submit_app = _handing(_flows.submit_app)
    run = _driven(_flows.run)
    run_app = _driven(_flows.run_app)
    run_preset = _driven(_preset_flow.run_preset)
    presets = _driven(_preset_flow.presets)
    query = _driven(_flows.query)
    outputs = _driven(_flows.outputs)
    cancel = _driven(_flows.cancel)
    account = _driven(_flows.account)
    queue_status = _driven(_flows.queue_status)
    workflow_graph = _driven(_flows.workflow_graph)
    app_inputs = _driven(_flows.app_inputs)
    webhook_detail = _driven(_flows.webhook_detail)
    retry_webhook = _driven(_flows.retry_webhook)
    download = _driven(_download_flow.download)
    models = _driven(_model_flows.models)
    model = _driven(_model_flows.model)
    submit_model = _handing(_model_flows.submit_model)
    run_model = _driven(_model_flows.run_model)
    model_price = _driven(_model_flows.model_price)
    upload_lora = _driven(_model_flows.upload_lora)
    api_keys = _driven(_model_flows.api_keys)
    resources = _driven(_model_flows.resources)
    ai_apps = _driven(_model_flows.ai_apps)

    def task(self, task_id: str | int) -> TaskHandle:
        """A handle on an existing task (e.g. one submitted earlier), without any request."""
        return TaskHandle(self, str(task_id).strip())

    def close(self) -> None:
        self._http.close()
        self._close_journal()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _open_transport(self, options: dict[str, Any]) -> None:
        self._http = httpx.Client(**options)
        bound_pools(self._http)

    def _drive(self, flow: Flow[T]) -> T:
        """Run a flow to its end, performing each step it yields."""
        stepper, session = Stepper(flow), _Session(self._http, self.timeout)
        try:
            while (step := stepper.advance()) is not None:
                try:
                    stepper.done(session.perform(step))
                except Exception as exc:  # the flow decides: it sees it where it yielded
                    stepper.failed(exc)
            return stepper.result
        finally:
            stepper.close()
            session.close()


class _Session:
    """The I/O of one flow: requests on the client's pool, sleeps, the progress socket."""

    def __init__(self, http: httpx.Client, budget: float | None) -> None:
        self._http = http
        self._budget = budget  # seconds a request may go without progress
        self._events: queue.SimpleQueue[SocketEvent] = queue.SimpleQueue()
        self._listener: SyncListener | None = None

    def perform(self, step: Step) -> Any:
        match step:
            case _steps.Exchange(op, until):
                with deadline(self._budget, until):
                    return self._exchange(op)
            case _steps.Pause(seconds):
                time.sleep(seconds)
            case Listen(url):
                self._listener = SyncListener(url, self._events.put)
                self._listener.start()
            case Sleep(seconds):
                return self._events_within(seconds)
            case _steps.Notify(callback, progress):
                callback(progress)
            case _steps.Stream(url, part):
                with deadline(self._budget):
                    return self._stream(url, part)
            case _steps.StopListening():
                self.close()
        return None

    def _exchange(self, op: Operation[Any]) -> Answer:
        spec = op.request
        with self._http.stream(spec.method, spec.path, **_steps.request_arguments(op)) as response:
            reader = AnswerReader(response.status_code, response.headers)
            for chunk in response.iter_bytes():
                reader.add(chunk)
        return reader.answer()

    def _events_within(self, seconds: float) -> list[SocketEvent]:
        """Sleep until the next poll is due, or until the progress socket says something."""
        try:
            events = [self._events.get(timeout=seconds)]
        except queue.Empty:
            return []
        while not self._events.empty():
            events.append(self._events.get_nowait())
        return events

    def _stream(self, url: str, part: PartialDownload) -> bool:
        with self._http.stream("GET", url, headers=part.request_headers()) as response:
            if not part.begin(response.status_code, response.headers):
                return False
            for chunk in response.iter_bytes():
                part.write(chunk)
        return True

    def close(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()


class TaskHandle(HandleCore):
    """A submitted task: refresh it, wait for it, cancel it, download its outputs.

    ``last`` is the state last seen (the submit's answer at first). A handle can be rebuilt
    from a stored id with ``client.task(task_id)``.
    """

    client: Client

    refresh = _driven(_handle.refresh)
    wait = _driven(_handle.wait)
    cancel = _driven(_handle.cancel)
    download = _driven(_handle.download)

    def _drive(self, flow: Flow[T]) -> T:
        return self.client._drive(flow)
