"""The steps a flow asks its driver to perform, and the one loop that feeds a flow.

A flow (see ``_flows.py``) is a generator: it yields a step, the face's driver performs it
(blocking in ``Client``, awaiting in ``AsyncClient``) and sends the outcome back, or throws
the exception the step raised into the flow at the point where it yielded. So a flow reads
like straight-line I/O code, and exists once for both faces.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Generic, TypeAlias, TypeVar

from ._options import spelled_out
from ._outputs import PartialDownload
from ._protocol import Operation
from ._waiting import Listen, Progress, Sleep

__all__ = [
    "STOP_LISTENING",
    "Exchange",
    "Flow",
    "Notify",
    "Pause",
    "Step",
    "StepSession",
    "Stepper",
    "StopListening",
    "Stream",
    "as_async",
    "as_method",
    "request_arguments",
]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
H = TypeVar("H")


@dataclass(frozen=True)
class Exchange:
    """Send the operation's request once and read its answer (outcome: an ``Answer``).

    ``until`` (a ``time.monotonic()`` instant): the request is cut there, whatever the server
    still sends (a wait's deadline); every request is also cut when it stalls (``_deadline``).
    """

    op: Operation[Any]
    until: float | None = None


@dataclass(frozen=True)
class Pause:
    """Sleep (outcome: None)."""

    seconds: float


@dataclass(frozen=True)
class StopListening:
    """Close the progress socket, if open (outcome: None)."""


STOP_LISTENING = StopListening()


@dataclass(frozen=True)
class Notify:
    """Call one of the caller's callbacks with a report (the async face awaits what it
    returns): a :class:`Progress` for ``on_progress``, a ``QueueFull`` for ``on_queue_full``."""

    callback: Callable[[Any], Any]
    progress: Progress | Any


@dataclass(frozen=True)
class Stream:
    """GET ``url`` into the part file (outcome: False when the part had to be dropped)."""

    url: str
    part: PartialDownload


# The wait plan's ``Listen`` (open the progress socket in the background; outcome: None) and
# ``Sleep`` (wait up to ``seconds`` for socket events; outcome: the events) are steps too.
Step: TypeAlias = Exchange | Pause | Listen | StopListening | Sleep | Notify | Stream
Flow: TypeAlias = Generator[Step, Any, T]


class Stepper(Generic[T]):
    """Feeds one flow: the next step to perform, then that step's outcome or exception."""

    def __init__(self, flow: Flow[T]) -> None:
        self._flow = flow
        self._outcome: Any = None
        self._error: Exception | None = None
        self.result: T

    def advance(self) -> Step | None:
        """The next step, or None when the flow has returned (``result`` then holds it)."""
        error, self._error = self._error, None
        try:
            return self._flow.throw(error) if error is not None else self._flow.send(self._outcome)
        except StopIteration as stop:
            self.result = stop.value
            return None

    def done(self, outcome: Any) -> None:
        self._outcome = outcome

    def failed(self, error: Exception) -> None:
        """The step raised: the flow sees the exception where it yielded the step."""
        self._error = error

    def close(self) -> None:
        """End the flow early (an interrupt): its ``finally`` blocks run."""
        self._flow.close()


class StepSession(Generic[H]):
    """What both faces' drivers hold while they perform one flow's steps: the client's
    connection pool and the time a request may go without progress."""

    def __init__(self, http: H, budget: float | None) -> None:
        self._http = http
        self._budget = budget


def as_method(method: F, flow: Callable[..., Any], returns: str | None = None) -> F:
    """Give a face's method the flow's name, docstring and signature.

    The signature's return annotation names what the caller gets (``Flow[Task]`` -> ``Task``,
    or ``returns``), so that ``help()`` and the parity test read the public types.
    """
    functools.update_wrapper(method, flow)
    signature = spelled_out(inspect.signature(flow), flow.__globals__)
    first, *rest = signature.parameters.values()  # the flow's client or handle: the method's self
    signature = signature.replace(
        parameters=[first.replace(name="self", annotation=inspect.Parameter.empty), *rest]
    )
    annotation = str(signature.return_annotation)
    if returns is None and annotation.startswith("Flow[") and annotation.endswith("]"):
        returns = annotation[len("Flow[") : -1]
    method.__signature__ = signature.replace(return_annotation=returns)  # type: ignore[attr-defined]
    return method


def request_arguments(op: Operation[Any]) -> dict[str, Any]:
    """The operation's request as ``httpx`` keyword arguments (both faces send it so)."""
    spec = op.request
    arguments: dict[str, Any] = {"headers": spec.headers, "params": spec.params}
    if spec.upload is not None and spec.upload.raw:
        arguments["content"] = _chunks(spec.upload.stream)
    elif spec.upload is not None:
        up = spec.upload
        arguments["files"] = {"file": (up.file_name, up.stream, up.content_type)}
    elif spec.json is not None:
        arguments["json"] = spec.json
    return arguments


_CHUNK = 1024 * 1024


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    """A raw body streamed from its file, a chunk at a time (never read whole)."""
    while chunk := stream.read(_CHUNK):
        yield chunk


async def as_async(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    """A raw body for the awaiting face (httpx wants an async iterator there)."""
    for chunk in chunks:
        yield chunk
