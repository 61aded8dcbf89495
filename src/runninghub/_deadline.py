"""Deadlines on every request in flight, whatever the server drips.

httpx's timeouts bound each read, not a whole request: a server that sends one byte every few
seconds keeps a request (and a wait, and a download) alive forever. So every read, write and
connect of our connection pools is bounded by the deadline of the step it serves: the step
must move ``PROGRESS_BYTES`` within ``budget`` seconds (the client's ``timeout``), again and
again, and never run past ``until`` (the end of a wait), whichever comes first. A fast large
download keeps extending its budget; a drip of a few bytes does not.

The deadline travels in a context variable, so it follows the thread (blocking face) or the
task (awaiting face) that performs the step, and the pools need no other change.
"""

from __future__ import annotations

import contextvars
import math
import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

__all__ = ["PROGRESS_BYTES", "Deadline", "bound_pools", "deadline"]

PROGRESS_BYTES = 64 * 1024

_CURRENT: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "runninghub_deadline", default=None
)


class Deadline:
    """When the step in flight must have moved its next ``PROGRESS_BYTES``, or ended."""

    def __init__(self, budget: float | None, until: float | None = None) -> None:
        # No budget (a client made with timeout=None): only ``until`` bounds the step.
        self._budget = math.inf if budget is None else budget
        self._until = until
        self._moved = 0
        self._end = self._capped(time.monotonic() + self._budget)

    def _capped(self, end: float) -> float:
        return end if self._until is None else min(end, self._until)

    def bound(
        self, timeout: float | None, expired: type[Exception] = httpcore.ReadTimeout
    ) -> float:
        """``timeout`` shortened to what is left (raises ``expired`` when nothing is)."""
        left = self._end - time.monotonic()
        if left <= 0:
            raise expired(f"cut off: no progress within {self._budget:g} s, or past the deadline")
        return left if timeout is None else min(timeout, left)

    def moved(self, count: int) -> None:
        """``count`` bytes went through: enough of them renew the budget."""
        self._moved += count
        if self._moved >= PROGRESS_BYTES:
            self._moved = 0
            self._end = self._capped(time.monotonic() + self._budget)


@contextmanager
def deadline(budget: float | None, until: float | None = None) -> Iterator[Deadline]:
    """Bound the requests made inside the block (in this thread or task)."""
    token = _CURRENT.set(found := Deadline(budget, until))
    try:
        yield found
    finally:
        _CURRENT.reset(token)


def _bound(timeout: float | None, expired: type[Exception] = httpcore.ReadTimeout) -> float | None:
    current = _CURRENT.get()
    return timeout if current is None else current.bound(timeout, expired)


def _connect_bound(timeout: float | None) -> float | None:
    return _bound(timeout, httpcore.ConnectTimeout)  # nothing was sent yet


def _moved(count: int) -> None:
    current = _CURRENT.get()
    if current is not None:
        current.moved(count)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = self._inner.read(max_bytes, _bound(timeout))
        _moved(len(data))
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bound(timeout, httpcore.WriteTimeout))
        _moved(len(buffer))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _bound(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = await self._inner.read(max_bytes, _bound(timeout))
        _moved(len(data))
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, _bound(timeout, httpcore.WriteTimeout))
        _moved(len(buffer))

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        inner = await self._inner.start_tls(ssl_context, server_hostname, _bound(timeout))
        return _AsyncStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


def _tcp(
    host: str,
    port: int,
    timeout: float | None = None,
    local_address: str | None = None,
    socket_options: Iterable[Any] | None = None,
) -> dict[str, Any]:
    """A ``connect_tcp`` call's arguments (httpcore's signature, on both faces), its connect
    bounded by the deadline."""
    return {
        "host": host,
        "port": port,
        "timeout": _connect_bound(timeout),
        "local_address": local_address,
        "socket_options": socket_options,
    }


def _unix_socket(
    path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
) -> dict[str, Any]:
    """A ``connect_unix_socket`` call's arguments, bounded as ``_tcp``'s."""
    return {"path": path, "timeout": _connect_bound(timeout), "socket_options": socket_options}


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_tcp(**_tcp(*args, **kwargs)))

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_unix_socket(**_unix_socket(*args, **kwargs)))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _AsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        return _AsyncStream(await self._inner.connect_tcp(**_tcp(*args, **kwargs)))

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        inner = await self._inner.connect_unix_socket(**_unix_socket(*args, **kwargs))
        return _AsyncStream(inner)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def bound_pools(http: httpx.Client | httpx.AsyncClient) -> None:
    """Route every connection pool of ``http`` (its own and its proxies') through the
    deadline, before its first request.

    httpx has no public hook for a network backend, so the pools' backends are wrapped in
    place; a pool of another shape raises here, at construction, rather than silently
    leaving requests unbounded (a test of each face holds this to the installed httpx).
    """
    transports = [http._transport, *http._mounts.values()]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        if pool is None:
            continue  # a transport of the caller's own (none is ever passed here)
        inner = pool._network_backend
        if isinstance(inner, _Backend | _AsyncBackend):
            continue
        async_pool = isinstance(http, httpx.AsyncClient)
        pool._network_backend = _AsyncBackend(inner) if async_pool else _Backend(inner)
