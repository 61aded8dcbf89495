"""Transient faults on API requests (``--fault-rate``), and the request counter.

A fraction ``fault_rate`` of API requests (paths under ``/openapi/``, ``/task/``, ``/api/``
and ``/uc/``; never ``/__emulator__/``, file downloads or the websocket) suffers one kind
of fault, drawn uniformly from ``fault_kinds`` with a RNG seeded by ``fault_seed``:

Before the handler (nothing was created or changed; retrying is always safe):
- ``http_502``, ``http_503``: a gateway error page (HTML, not JSON);
- ``slow``: ``fault_slow_seconds`` of delay, then the normal answer.

After the handler (the request took effect, the answer is lost or garbled):
- ``http_500``: an HTML error page with status 500;
- ``truncated``: the real headers with a ``Content-Length`` larger than the body, half of
  the body, then the connection closes (the client sees a protocol error);
- ``non_json``: status 200 with an HTML body instead of JSON.

A faulted request is processed exactly like a normal one, so faults never corrupt state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .options import AFTER_FAULTS
from .state import EmulatorState

API_PREFIXES = ("/openapi/", "/task/", "/api/", "/uc/")
_GATEWAY_PAGE = (
    "<html><head><title>{status} {reason}</title></head><body><center><h1>{status} {reason}"
    "</h1></center><hr><center>nginx</center></body></html>"
)
_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
}
_UNFINISHED = "ASGI callable returned without completing response."


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES)


class _HideInjectedTruncation(logging.Filter):
    """uvicorn reports the deliberately unfinished response; that line is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != _UNFINISHED


class FaultInjector:
    """ASGI middleware: counts API requests and injects the configured faults."""

    def __init__(self, app: ASGIApp, state: Callable[[], EmulatorState]) -> None:
        self.app = app
        self.state = state
        logger = logging.getLogger("uvicorn.error")
        if not any(isinstance(item, _HideInjectedTruncation) for item in logger.filters):
            logger.addFilter(_HideInjectedTruncation())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not is_api_path(path):
            await self.app(scope, receive, send)
            return
        state = self.state()
        state.counters.requests[path] += 1
        kind = self._draw(state)
        if kind is None:
            await self.app(scope, receive, send)
            return
        state.counters.faults[kind] += 1
        if kind == "slow":
            await asyncio.sleep(state.options.fault_slow_seconds)
            await self.app(scope, receive, send)
        elif kind in AFTER_FAULTS:
            await self._after(kind, scope, receive, send)
        else:
            await _drain(receive)
            await _send_page(send, 502 if kind == "http_502" else 503)

    @staticmethod
    def _draw(state: EmulatorState) -> str | None:
        options = state.options
        if options.fault_rate <= 0 or state.fault_rng.random() >= options.fault_rate:
            return None
        return state.fault_rng.choice(options.fault_kinds)

    async def _after(self, kind: str, scope: Scope, receive: Receive, send: Send) -> None:
        start, body = await _capture(self.app, scope, receive)
        if kind == "http_500":
            await _send_page(send, 500)
        elif kind == "non_json":
            await _send_page(send, 200, "<html><body>upstream returned an error page</body></html>")
        else:
            headers = [
                (k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"
            ]
            headers.append((b"content-length", str(len(body) + 64).encode()))
            await send({**start, "headers": headers})
            await send(
                {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
            )
            # Returning now leaves the response unfinished: uvicorn closes the connection.


async def _capture(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[Message, bytes]:
    """Run the handler to completion, keeping its response instead of sending it."""
    start: Message = {"type": "http.response.start", "status": 200, "headers": []}
    chunks: list[bytes] = []

    async def keep(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, keep)
    return start, b"".join(chunks)


async def _drain(receive: Receive) -> None:
    """Read the request body to its end so the error reaches the client cleanly."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def _send_page(send: Send, status: int, page: str | None = None) -> None:
    reason = _REASONS.get(status, "Error")
    body = (page or _GATEWAY_PAGE.format(status=status, reason=reason)).encode()
    headers = [
        (b"content-type", b"text/html"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
