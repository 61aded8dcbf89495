"""The live status line of one task on a terminal: ``task ID · running · KSampler · 12 s``.

Reports arrive when a poll answers or the progress socket speaks, seconds apart; the line
counts the elapsed time on from the last report, so it ticks every second in between. Nodes
are named by their titles when the graph is known, and a report's message is shown only when
it says more than the status and the node already do.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from ._render import printable

if TYPE_CHECKING:
    from rich.text import Text

    from runninghub import Progress

__all__ = ["TaskLine"]

# The socket's event names and the status words: the line already says them.
_SAID_ALREADY = frozenset({"executing", "executed", "progress", "execution_start"})


class TaskLine:
    """What rich redraws several times a second (``__rich__``); ``update`` takes reports."""

    def __init__(
        self,
        task_id: str,
        titles: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.task_id = task_id
        self._titles = dict(titles or {})
        self._clock = clock
        self._last: Progress | None = None
        self._elapsed_then = 0.0
        self._then = clock()

    def update(self, progress: Progress) -> None:
        self._last = progress
        self._elapsed_then = progress.elapsed
        self._then = self._clock()

    def text(self) -> str:
        elapsed = self._elapsed_then + (self._clock() - self._then)
        parts = [f"task {self.task_id}", *self._state(), f"{elapsed:.0f} s"]
        return printable(" · ".join(parts))

    def __rich__(self) -> Text:
        from rich.text import Text

        return Text(self.text())  # plain text: brackets in a title are not markup

    def _state(self) -> list[str]:
        last = self._last
        if last is None:
            return ["submitted"]
        status = last.status.value.lower()
        parts = [status]
        if last.node_id:
            parts.append(self._node(last.node_id))
        if last.value is not None and last.max:
            parts.append(f"step {last.value}/{last.max}")
        message = (last.message or "").strip()
        if message and message.lower() not in _SAID_ALREADY | {status}:
            parts.append(message)
        return parts

    def _node(self, node_id: str) -> str:
        title = self._titles.get(node_id)
        return f"{title} (node {node_id})" if title else f"node {node_id}"
