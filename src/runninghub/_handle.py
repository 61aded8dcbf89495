"""The task handle's state and flows, shared by ``TaskHandle`` and ``AsyncTaskHandle``."""

from __future__ import annotations

from . import _download_flow, _flows
from ._core import ClientCore
from ._models import Task, TaskStatus
from ._options import PathLike, ProgressCallback, WaitOptions
from ._outputs import SavedFile, not_finished
from ._steps import Flow

__all__ = ["HandleCore", "cancel", "download", "refresh", "wait"]


class HandleCore:
    """A submitted task: its id, the state last seen, and the client it belongs to."""

    def __init__(self, client: ClientCore, task: Task | str) -> None:
        self.client = client
        self.last: Task | None = task if isinstance(task, Task) else None
        self.task_id = task.task_id if isinstance(task, Task) else task

    def __repr__(self) -> str:
        status = self.last.status.value if self.last else "unknown"
        return f"{type(self).__name__}(task_id={self.task_id!r}, status={status!r})"


def refresh(handle: HandleCore) -> Flow[Task]:
    """The task's current state (a v2 query); kept as ``last``."""
    handle.last = yield from _flows.query(handle.client, handle.task_id)
    return handle.last


def wait(
    handle: HandleCore,
    timeout: float | None = None,
    *,
    cancel_on_timeout: bool = False,
    on_progress: ProgressCallback | None = None,
) -> Flow[Task]:
    """Wait until the task ends; returns it on SUCCESS.

    Raises TaskFailedError (FAILED or cancelled, with the failure details) or
    WaitTimeoutError after ``timeout`` seconds (default: the poll policy's), cancelling
    the task first when ``cancel_on_timeout``.
    """
    options = WaitOptions(timeout, cancel_on_timeout, on_progress)
    handle.last = yield from _flows.wait_for(handle.client, handle.task_id, handle.last, options)
    return handle.last


def cancel(handle: HandleCore) -> Flow[None]:
    """Cancel the task."""
    yield from _flows.cancel(handle.client, handle.task_id)


def download(
    handle: HandleCore, out_dir: PathLike, *, overwrite: bool = False
) -> Flow[list[SavedFile]]:
    """Save the outputs of the finished task (refreshing its state first if needed)."""
    task = handle.last
    if task is None or task.status is not TaskStatus.SUCCESS:
        task = yield from refresh(handle)
    if task.status is not TaskStatus.SUCCESS:
        raise not_finished(handle.task_id, task.status.value)
    return (yield from _download_flow.download(handle.client, task, out_dir, overwrite=overwrite))
