"""The asynchronous face: ``AsyncClient`` and ``AsyncTaskHandle``, an awaiting driver.

The same flows as ``Client`` (``_flows.py``, ``_handle.py``), so the same methods,
signatures, docstrings and decisions; only the steps are performed differently: awaited
HTTP, ``asyncio.sleep``, the socket in a task. ``on_progress`` may be a coroutine function.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import httpx

from . import _steps
from ._checks import check_task_id
from ._deadline import bound_pools, deadline
from ._models import Task
from ._outputs import PartialDownload
from ._protocol import Answer, AnswerReader, Operation
from ._socket_listener import AsyncListener, SocketEvent
from ._steps import Flow, Step, Stepper, as_method
from ._surface import ClientSurface, HandleSurface
from ._waiting import Listen, Sleep

__all__ = ["AsyncClient", "AsyncTaskHandle"]

S = TypeVar("S")
P = ParamSpec("P")
T = TypeVar("T")
Awaiting = Coroutine[Any, Any, T]


def _awaited(
    flow: Callable[Concatenate[S, P], Flow[T]],
) -> Callable[Concatenate[S, P], Awaiting[T]]:
    """The coroutine method that runs ``flow``."""

    async def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return cast(T, await self._drive(flow(self, *args, **kwargs)))

    return as_method(method, flow)


def _handed(
    flow: Callable[Concatenate[S, P], Flow[Task]],
) -> Callable[Concatenate[S, P], Awaiting[AsyncTaskHandle]]:
    """The coroutine method that runs a submitting ``flow`` and hands back its task."""

    async def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> AsyncTaskHandle:
        task = await self._drive(flow(self, *args, **kwargs))
        return AsyncTaskHandle(self, task)

    return as_method(method, flow, "AsyncTaskHandle")


def _method_of(flow: Callable[..., Flow[Any]], hands_back_a_handle: bool) -> Callable[..., Any]:
    """This face's method for an operation of ``_surface``'s tables."""
    return _handed(flow) if hands_back_a_handle else _awaited(flow)


class AsyncClient(ClientSurface):
    """The asynchronous RunningHub client (``async with AsyncClient() as client``).

    Configuration as for :class:`~runninghub.Client`.
    """

    _http: httpx.AsyncClient
    _method_of = staticmethod(_method_of)

    async def close(self) -> None:
        await self._http.aclose()
        self._close_journal()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def task(self, task_id: str | int) -> AsyncTaskHandle:
        """A handle on an existing task (e.g. one submitted earlier), without any request."""
        return AsyncTaskHandle(self, check_task_id(task_id))

    def _open_transport(self, options: dict[str, Any]) -> None:
        self._http = httpx.AsyncClient(**options)
        bound_pools(self._http)

    async def _drive(self, flow: Flow[T]) -> T:
        """Run a flow to its end, awaiting each step it yields."""
        session = _Session(self._http, self.timeout)
        stepper = Stepper(flow)
        try:
            while (step := stepper.advance()) is not None:
                try:
                    outcome = await session.perform(step)
                except Exception as exc:  # the flow decides: it sees it where it yielded
                    stepper.failed(exc)
                else:
                    stepper.done(outcome)
            return stepper.result
        finally:
            stepper.close()
            await session.close()


class _Session(_steps.StepSession[httpx.AsyncClient]):
    """The I/O of one flow: awaited requests, sleeps, the progress socket in a task."""

    def __init__(self, http: httpx.AsyncClient, budget: float | None) -> None:
        super().__init__(http, budget)
        self._events: asyncio.Queue[SocketEvent] = asyncio.Queue()
        self._listener: AsyncListener | None = None

    async def perform(self, step: Step) -> Any:
        match step:
            case _steps.Exchange(op, until):
                with deadline(self._budget, until):
                    return await self._exchange(op)
            case _steps.Pause(seconds):
                await asyncio.sleep(seconds)
            case Listen(url):
                self._listener = AsyncListener(url, self._events.put_nowait)
                self._listener.start()
            case Sleep(seconds):
                return await self._events_within(seconds)
            case _steps.Notify(callback, progress):
                await _notify(callback(progress))
            case _steps.Stream(url, part):
                with deadline(self._budget):
                    return await self._stream(url, part)
            case _steps.StopListening():
                await self.close()
        return None

    async def _exchange(self, op: Operation[Any]) -> Answer:
        spec = op.request
        arguments = _steps.request_arguments(op)
        if "content" in arguments:
            arguments["content"] = _steps.as_async(arguments["content"])
        async with self._http.stream(spec.method, spec.path, **arguments) as answer:
            reader = AnswerReader(answer.status_code, answer.headers)
            async for chunk in answer.aiter_bytes():
                reader.add(chunk)
        return reader.answer()

    async def _events_within(self, seconds: float) -> list[SocketEvent]:
        """Sleep until the next poll is due, or until the progress socket says something."""
        try:
            first = await asyncio.wait_for(self._events.get(), timeout=seconds)
        except TimeoutError:
            return []
        rest = [self._events.get_nowait() for _ in range(self._events.qsize())]
        return [first, *rest]

    async def _stream(self, url: str, part: PartialDownload) -> bool:
        async with self._http.stream("GET", url, headers=part.request_headers()) as answer:
            if not part.begin(answer.status_code, answer.headers):
                return False
            async for chunk in answer.aiter_bytes():
                part.write(chunk)
        await asyncio.to_thread(part.sync)
        return True

    async def close(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            await listener.stop()


async def _notify(result: Any) -> None:
    """A callback may be a coroutine function: await what it returned."""
    if inspect.isawaitable(result):
        await result


class AsyncTaskHandle(HandleSurface):
    """A submitted task, for :class:`AsyncClient`; see :class:`~runninghub.TaskHandle`."""

    client: AsyncClient
    _method_of = staticmethod(_method_of)

    async def _drive(self, flow: Flow[T]) -> T:
        return await self.client._drive(flow)
