"""The tasks the studio started: submitted through the client, watched in a thread each.

The board is the one place that pays: ``submit`` submits once (the client journals it) and
hands the wait to a thread that keeps a ``TaskView`` up to date. The page's event stream
reads those views; nothing here is ever submitted twice.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import runninghub
from runninghub.journal import batch_label

__all__ = ["TASK_ID", "Board", "OutputView", "TaskView"]

TASK_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
_WAIT_SECONDS = 3600.0


@dataclass(frozen=True)
class OutputView:
    """One output as the page shows it: a saved file (served from the outputs folder) or text."""

    kind: str  # image, video, audio, text or file
    name: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class TaskView:
    task_id: str
    status: str
    node: str | None = None
    step: str | None = None
    outputs: tuple[OutputView, ...] = ()
    error: str | None = None
    version: int = 0

    @property
    def finished(self) -> bool:
        return self.status in ("SUCCESS", "FAILED", "CANCEL", "ERROR")

    def to_dict(self) -> dict[str, Any]:
        shown = asdict(self)
        del shown["version"]  # the board's own change counter, not the page's business
        return {**shown, "finished": self.finished}


@dataclass
class Board:
    client: runninghub.Client
    out_dir: Path
    closed: bool = False
    _views: dict[str, TaskView] = field(default_factory=dict)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def submit(
        self, workflow_id: str, overrides: dict[str, Any], row: tuple[str, int] | None = None
    ) -> str:
        """Submit a workflow once and start watching; the task id. The client journals the
        submit (as row ``row`` of a batch), its states and its saved files."""
        return self.start(lambda: self.client.submit(workflow_id, overrides), row)

    def start(
        self, submitting: Callable[[], runninghub.TaskHandle], row: tuple[str, int] | None = None
    ) -> str:
        """Call ``submitting`` (one client submit of a workflow, an app or a model) once and
        watch the task it made."""
        label = batch_label(*row) if row else contextlib.nullcontext()
        with label:
            handle = submitting()
        self._publish(TaskView(handle.task_id, "QUEUED"))
        threading.Thread(target=self._watch, args=(handle,), daemon=True).start()
        return handle.task_id

    def close(self) -> None:
        """The studio is stopping: watchers end quietly when the client goes away under them."""
        self.closed = True

    def wait_finished(self, task_id: str) -> TaskView | None:
        """Block until the task's view is final (a batch's slot frees only then)."""
        with self._changed:
            self._changed.wait_for(lambda: self._views[task_id].finished)
            return self._views.get(task_id)

    def view(self, task_id: str) -> TaskView | None:
        with self._changed:
            return self._views.get(task_id)

    def next_view(self, task_id: str, after: int, timeout: float) -> TaskView | None:
        """The task's view once its version passes ``after`` (or the current one at timeout)."""
        with self._changed:
            self._changed.wait_for(lambda: self._version(task_id) > after, timeout)
            return self._views.get(task_id)

    def _version(self, task_id: str) -> int:
        view = self._views.get(task_id)
        return -1 if view is None else view.version

    def _publish(self, view: TaskView) -> None:
        with self._changed:
            old = self._views.get(view.task_id)
            self._views[view.task_id] = replace(view, version=0 if old is None else old.version + 1)
            self._changed.notify_all()

    def _watch(self, handle: runninghub.TaskHandle) -> None:
        task_id = handle.task_id

        def progress(update: Any) -> None:
            if update.status.is_terminal:  # the end is published once the outputs are saved
                return
            step = f"{update.value}/{update.max}" if update.max else None
            self._publish(TaskView(task_id, update.status.value, update.node_id, step))

        try:
            task = handle.wait(timeout=_WAIT_SECONDS, on_progress=progress)
            saved = self.client.download(task, self.out_dir / task_id)
        except RuntimeError:
            if self.closed:  # the client was closed at shutdown; the journal keeps the task
                return
            raise
        except runninghub.RunningHubError as exc:
            status = "FAILED" if isinstance(exc, runninghub.TaskFailedError) else "ERROR"
            self._publish(TaskView(task_id, status, error=exc.message))
            return
        self._publish(TaskView(task_id, "SUCCESS", outputs=_outputs(task, saved)))


_SUFFIXES = {
    ".png": "image", ".jpg": "image", ".jpeg": "image", ".webp": "image", ".gif": "image",
    ".mp4": "video", ".webm": "video", ".mov": "video",
    ".mp3": "audio", ".wav": "audio", ".ogg": "audio", ".flac": "audio",
}  # fmt: skip


def media_kind(name: str) -> str:
    return _SUFFIXES.get(Path(name).suffix.lower(), "file")


def _outputs(task: runninghub.Task, saved: Any) -> tuple[OutputView, ...]:
    files = tuple(OutputView(media_kind(item.path.name), name=item.path.name) for item in saved)
    texts = tuple(OutputView("text", text=o.text) for o in task.outputs if o.text is not None)
    return files + texts
