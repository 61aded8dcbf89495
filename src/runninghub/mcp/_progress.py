"""Forward a task's progress to the MCP client as ``notifications/progress``."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context

    from runninghub._client import Progress

__all__ = ["ProgressRelay", "describe_progress"]

logger = logging.getLogger(__name__)


def describe_progress(progress: Progress) -> str:
    """One line: status, node progress when known, elapsed time."""
    parts = [f"task {progress.task_id} {progress.status.value.lower()}"]
    if progress.node_id is not None:
        node = f"node {progress.node_id}"
        if progress.value is not None and progress.max:
            node += f" {progress.value}/{progress.max}"
        parts.append(node)
    if progress.message:
        parts.append(progress.message)
    return f"{', '.join(parts)} ({progress.elapsed:.0f} s)"


class ProgressRelay:
    """A sync callback for the client's ``on_progress`` that sends notifications in order.

    The client calls ``on_progress`` from its wait loop; sending is async, so events are queued
    and a pump task sends them. The progress value is the seconds since the tool started
    (strictly increasing, as the protocol requires). Without a progress token from the MCP
    client the SDK sends nothing.
    """

    def __init__(self, ctx: Context[Any, Any]) -> None:
        self._ctx = ctx
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._started = time.monotonic()
        self._last = 0.0
        self._broken = False

    def __call__(self, progress: Progress) -> None:
        self._queue.put_nowait(describe_progress(progress))

    def note(self, text: str) -> None:
        self._queue.put_nowait(text)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[ProgressRelay]:
        """Pump notifications while the body runs; flush what is queued when it ends."""
        pump = asyncio.create_task(self._pump())
        try:
            yield self
        except BaseException:
            pump.cancel()
            raise
        self._queue.put_nowait(None)
        await pump

    async def _pump(self) -> None:
        while (text := await self._queue.get()) is not None:
            await self._send(text)

    async def _send(self, text: str) -> None:
        if self._broken:
            return
        value = max(time.monotonic() - self._started, self._last + 0.001)
        self._last = value
        try:
            await self._ctx.report_progress(value, None, text)
        except Exception as exc:
            # A client that stopped listening must not stop the wait for the task.
            self._broken = True
            logger.warning("progress notifications stopped: %s", type(exc).__name__)
