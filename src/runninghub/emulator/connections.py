"""The emulator's HTTP connections: a deadline for headers, a cap on connections, and an
accept loop that does not flood the log.

uvicorn has no header timeout: a client that opens hundreds of connections and never ends
their headers ("slowloris") holds them forever, and once the process runs out of file
descriptors every real request waits while asyncio logs a traceback for each failed
``accept``. Here a connection must complete its request headers within ``header_timeout``
seconds (from its opening, or from the end of its previous answer), connections beyond
``max_connections`` get an immediate 503 (the cap is kept below the open-file limit), and
accept failures become one warning line now and then. asyncio retries a failed ``accept``
once per connection waiting in the backlog, which is what turned a descriptor shortage into
megabytes of tracebacks a second.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

logger = logging.getLogger("runninghub.emulator")

_BUSY_BODY = b'{"code":503,"msg":"too many connections, retry later","data":null}'
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
    b"retry-after: 1\r\nconnection: close\r\ncontent-length: "
    + str(len(_BUSY_BODY)).encode()
    + b"\r\n\r\n"
    + _BUSY_BODY
)
# File descriptors kept for everything but client connections (state, outputs, workers).
_RESERVED_FILES = 32
_ACCEPT_FAILURE = "socket.accept() out of system resource"
_QUIET_SECONDS = 10.0


def connection_cap(wanted: int) -> int:
    """``wanted``, lowered to what the process's open-file limit leaves for connections."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - _RESERVED_FILES))


def protocol_class(header_timeout: float, max_connections: int) -> type[H11Protocol]:
    """uvicorn's h11 protocol with these limits (uvicorn builds one per connection)."""
    return type(
        "GuardedH11Protocol",
        (GuardedH11Protocol,),
        {"header_timeout": header_timeout, "max_connections": connection_cap(max_connections)},
    )


class GuardedH11Protocol(H11Protocol):
    """One connection: closed when its request headers do not arrive in time."""

    header_timeout: float = 10.0
    max_connections: int = 512

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._header_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            transport.write(_BUSY)
            transport.close()
            return
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()  # a whole request line and headers arrived

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm()  # the next request's headers have the same deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_late)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def _is_stale_accept_retry(message: str, error: object) -> bool:
    """asyncio schedules one accept retry per failed ``accept`` of a burst; those still
    pending when the server closes its socket fail on the closed descriptor: noise."""
    return "_start_serving" in message and isinstance(error, ValueError | OSError)


class QuietAcceptErrors:
    """A loop exception handler: accept failures (out of file descriptors) become one
    warning line every few seconds instead of a traceback per attempt."""

    def __init__(self) -> None:
        self._last = -_QUIET_SECONDS
        self._skipped = 0

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        message = str(context.get("message", ""))
        if _is_stale_accept_retry(message, context.get("exception")):
            return
        if not message.startswith(_ACCEPT_FAILURE):
            loop.default_exception_handler(context)
            return
        now = time.monotonic()
        if now - self._last < _QUIET_SECONDS:
            self._skipped += 1
            return
        error = context.get("exception")
        logger.warning(
            "cannot accept connections (%s); retrying (%d similar messages skipped)",
            error.strerror if isinstance(error, OSError) else error,
            self._skipped,
        )
        self._last, self._skipped = now, 0
