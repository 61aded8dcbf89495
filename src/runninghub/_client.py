"""The synchronous face: ``Client`` and ``TaskHandle``, a blocking driver for the flows.

Every method is a flow of ``_flows.py`` (or ``_handle.py``) run by :meth:`Client._drive`;
this file only performs the steps: HTTP on one connection pool, sleeps, a socket thread.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import httpx

from . import _steps
from ._checks import check_task_id
from ._closing import ClosedOnExit
from ._deadline import bound_pools, deadline
from ._models import Task
from ._outputs import PartialDownload
from ._protocol import Answer, AnswerReader, Operation
from ._socket_listener import SocketEvent, SyncListener
from ._steps import Flow, Step, Stepper, as_method
from ._surface import ClientSurface, HandleSurface
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


def _method_of(flow: Callable[..., Flow[Any]], hands_back_a_handle: bool) -> Callable[..., Any]:
    """This face's method for an operation of ``_surface``'s tables."""
    return _handing(flow) if hands_back_a_handle else _driven(flow)


class Client(ClosedOnExit, ClientSurface):
    """A RunningHub client. Use it as a context manager, or call :meth:`close`.

    The key comes from ``api_key``, else ``RUNNINGHUB_API_KEY``, else the config file
    (``runninghub auth set``), else :class:`~runninghub.ConfigError`. ``base_url`` (or
    ``RUNNINGHUB_BASE_URL``) overrides ``site`` (``"cn"`` or ``"ai"``). ``validate`` checks
    overrides against the workflow's graph before submitting (one cached fetch per workflow).
    ``journal`` records every submit in the local journal (``runninghub history``): a
    ``runninghub.journal.Journal``, or True for the user's own; off by default in the SDK.
    With a journal, ``upload_cache`` (default True) reuses a file this key uploaded within
    the cache's time to live instead of uploading it again. ``on_queue_full`` is called with
    a :class:`~runninghub.QueueFull` while a submit waits for a free slot of a full queue.

    Example::

        with runninghub.Client() as client:
            task = client.run("1987728214757978114", {"107.image": Path("cat.png")}, out_dir="out")
    """

    _http: httpx.Client
    _method_of = staticmethod(_method_of)

    def task(self, task_id: str | int) -> TaskHandle:
        """A handle on an existing task (e.g. one submitted earlier), without any request."""
        return TaskHandle(self, check_task_id(task_id))

    def close(self) -> None:
        self._http.close()
        self._close_journal()

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


class _Session(_steps.StepSession[httpx.Client]):
    """The I/O of one flow: requests on the client's pool, sleeps, the progress socket."""

    def __init__(self, http: httpx.Client, budget: float | None) -> None:
        super().__init__(http, budget)
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


class TaskHandle(HandleSurface):
    """A submitted task: refresh it, wait for it, cancel it, download its outputs.

    ``last`` is the state last seen (the submit's answer at first). A handle can be rebuilt
    from a stored id with ``client.task(task_id)``.
    """

    client: Client
    _method_of = staticmethod(_method_of)

    def _drive(self, flow: Flow[T]) -> T:
        return self.client._drive(flow)
