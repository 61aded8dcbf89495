"""The progress websocket (``netWssUrl``): ComfyUI's native messages, read in the background.

The service calls this socket unstable, so it is only ever a hint: per-node progress for the
caller, and an early "the run ended" signal that makes the waiter poll at once. Polling stays
the source of truth. Any failure of the socket just ends the listener (a ``CLOSED`` event).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ._wire_values import load_json

__all__ = ["AsyncListener", "EventKind", "SocketEvent", "SyncListener", "parse_message"]

logger = logging.getLogger("runninghub.progress")

OPEN_TIMEOUT = 5.0
CLOSE_TIMEOUT = 0.5


class EventKind(enum.Enum):
    STARTED = "execution_start"
    NODE = "executing"  # a node started
    NODE_STEP = "progress"  # a step inside a node (its value out of max)
    NODE_DONE = "executed"
    ENDED = "execution_success"
    FAILED = "execution_error"
    CLOSED = "closed"  # the socket ended (for any reason)


@dataclass(frozen=True)
class SocketEvent:
    kind: EventKind
    node_id: str | None = None
    value: int | None = None
    max: int | None = None
    message: str | None = None

    @property
    def ends_run(self) -> bool:
        return self.kind in (EventKind.ENDED, EventKind.FAILED)


def parse_message(message: str | bytes) -> SocketEvent | None:
    """One ComfyUI websocket message as an event; None for what the waiter does not use."""
    if isinstance(message, bytes):
        return None  # binary frames are preview images
    try:
        decoded = load_json(message)
    except ValueError:  # not JSON, or nested too deep for an event
        return None
    if not isinstance(decoded, dict):
        return None
    data = decoded.get("data")
    return _event(str(decoded.get("type", "")), data if isinstance(data, dict) else {})


def _event(kind: str, data: dict[str, Any]) -> SocketEvent | None:
    node = data.get("node", data.get("node_id"))
    node_id = None if node is None else str(node)
    if kind == "progress":
        return SocketEvent(
            EventKind.NODE_STEP, node_id, _int(data.get("value")), _int(data.get("max"))
        )
    if kind == "executing":
        # ComfyUI's older servers end a run with {"node": null}.
        return SocketEvent(EventKind.NODE, node_id) if node_id else SocketEvent(EventKind.ENDED)
    if kind == "executed":
        return SocketEvent(EventKind.NODE_DONE, node_id)
    if kind == "execution_start":
        return SocketEvent(EventKind.STARTED)
    if kind == "execution_success":
        return SocketEvent(EventKind.ENDED)
    if kind in ("execution_error", "execution_interrupted"):
        text = data.get("exception_message") or kind.replace("_", " ")
        return SocketEvent(EventKind.FAILED, node_id, message=str(text))
    return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def usable_url(url: str) -> bool:
    return urlsplit(url).scheme in ("ws", "wss")


class SyncListener:
    """Reads the socket in a daemon thread and hands events to ``deliver`` (thread-safe)."""

    def __init__(self, url: str, deliver: Callable[[SocketEvent], None]) -> None:
        self.url = url
        self._deliver = deliver
        self._stop = threading.Event()
        self._connection: Any = None
        self._thread = threading.Thread(target=self._run, name="runninghub-progress", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Close the socket; waits at most ``CLOSE_TIMEOUT`` for the listener to end."""
        self._stop.set()
        connection = self._connection
        if connection is not None:
            # Closing waits for the server's close frame: never let a silent server hold the
            # caller up longer than the timeout (the daemon thread finishes on its own).
            closer = threading.Thread(target=_close_quietly, args=(connection,), daemon=True)
            closer.start()
        # A Ctrl-C can land inside start(), before the thread runs: joining it would raise
        # RuntimeError and hide the KeyboardInterrupt.
        with contextlib.suppress(RuntimeError):
            self._thread.join(timeout=CLOSE_TIMEOUT)

    def _run(self) -> None:
        from websockets.sync.client import connect

        try:
            with connect(
                self.url, open_timeout=OPEN_TIMEOUT, close_timeout=CLOSE_TIMEOUT, logger=logger
            ) as connection:
                self._connection = connection
                if self._stop.is_set():
                    return
                for message in connection:
                    event = parse_message(message)
                    if event is not None:
                        self._deliver(event)
        except Exception as exc:  # the socket is a hint only: any failure ends it quietly
            logger.debug("progress websocket ended: %s", type(exc).__name__)
        finally:
            self._deliver(SocketEvent(EventKind.CLOSED))


def _close_quietly(connection: Any) -> None:
    with contextlib.suppress(Exception):
        connection.close()


class AsyncListener:
    """Reads the socket in an asyncio task and hands events to ``deliver``."""

    def __init__(self, url: str, deliver: Callable[[SocketEvent], None]) -> None:
        self.url = url
        self._deliver = deliver
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        from websockets.asyncio.client import connect

        try:
            async with connect(
                self.url, open_timeout=OPEN_TIMEOUT, close_timeout=CLOSE_TIMEOUT, logger=logger
            ) as connection:
                async for message in connection:
                    event = parse_message(message)
                    if event is not None:
                        self._deliver(event)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the socket is a hint only: any failure ends it quietly
            logger.debug("progress websocket ended: %s", type(exc).__name__)
        self._deliver(SocketEvent(EventKind.CLOSED))
