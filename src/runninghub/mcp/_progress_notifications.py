"""Forward a task's progress to the MCP client as ``notifications/progress``."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context

    from runninghub import Progress

__all__ = ["ProgressNotifier", "describe_progress"]

logger = logging.getLogger(__name__)


def describe_progress(progress: Progress) -> str:
    """One line: status, node and its progress when known, event, elapsed time."""
    status = progress.status.value.lower()
    parts = [f"task {progress.task_id} {status}"]
    if progress.node_id is not None:
        node = f"node {progress.node_id}"
        if progress.value is not None and progress.max:
            node += f" {progress.value}/{progress.max}"
        parts.append(node)
    message = progress.message
    if message and message.lower() != status and not (progress.value and message == "progress"):
        parts.append(message)
    return f"{', '.join(parts)} ({progress.elapsed:.1f} s)"


class ProgressNotifier:
    """The client's ``on_progress`` callback (the client awaits it): one notification per event.

    The progress value is the seconds since the tool started, strictly increasing as the
    protocol requires; the total is unknown. Without a progress token from the MCP client the
    SDK sends nothing.
    """

    def __init__(self, ctx: Context[Any, Any]) -> None:
        self._ctx = ctx
        self._started = time.monotonic()
        self._last = 0.0
        self._broken = False

    async def __call__(self, progress: Progress) -> None:
        await self.note(describe_progress(progress))

    async def note(self, text: str) -> None:
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
