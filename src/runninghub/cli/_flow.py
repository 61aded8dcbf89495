"""The steps that ``run``, ``app run``, ``wait`` and ``outputs`` share: wait, save, report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._context import CliState, InterruptedWait

if TYPE_CHECKING:
    from runninghub._client import Client, TaskHandle
    from runninghub._models import Task
    from runninghub._outputs import SavedFile

__all__ = ["default_out_dir", "finish", "report_task", "save_outputs", "task_document", "wait_for"]


def default_out_dir(task_id: str) -> Path:
    return Path("runninghub-outputs") / task_id


def wait_for(
    state: CliState,
    handle: TaskHandle,
    *,
    timeout: float | None,
    cancel_on_interrupt: bool = False,
) -> Task:
    """Wait for the task with live progress; Ctrl-C stops waiting (or cancels, if asked).

    Raises TaskFailedError, WaitTimeoutError, or InterruptedWait (exit 130).
    """
    task_id = handle.task_id
    then = "cancels the task" if cancel_on_interrupt else "stops waiting"
    state.render.note(f"task {task_id}: waiting (Ctrl-C {then})")
    try:
        with state.render.progress(task_id) as on_progress:
            return handle.wait(timeout=timeout, on_progress=on_progress)
    except KeyboardInterrupt:
        if cancel_on_interrupt:
            state.render.note(f"task {task_id}: cancelling")
            handle.cancel()
            raise InterruptedWait(task_id, cancelled=True) from None
        raise InterruptedWait(task_id) from None


def save_outputs(client: Client, task: Task, out_dir: Path) -> list[SavedFile]:
    """Download every file output of a finished task into ``out_dir``."""
    if not any(output.url for output in task.outputs):
        return []
    return list(client.download(task, out_dir))


def task_document(task: Task, saved: Sequence[SavedFile] = ()) -> dict[str, Any]:
    """The ``--json`` shape of a task: task_id, status, outputs (with ``path`` when saved),
    usage, failure."""
    paths = {item.url: str(item.path) for item in saved}
    document = task.to_dict()
    for output in document["outputs"]:
        output["path"] = paths.get(output["url"])
    return document


def report_task(state: CliState, task: Task, saved: Sequence[SavedFile] = ()) -> None:
    """Print a task: JSON, or one line per output (the saved path, else the URL or text)."""
    paths = {item.url: str(item.path) for item in saved}
    lines = []
    for output in task.outputs:
        line = paths.get(output.url) if output.url else None
        lines.append(line or output.url or output.text or "")
    state.render.result(task_document(task, saved), [line for line in lines if line])


def finish(
    state: CliState,
    client: Client,
    handle: TaskHandle,
    *,
    timeout: float | None,
    out: Path | None,
    cancel_on_interrupt: bool,
) -> None:
    """Wait for a submitted task, save its outputs and print where they are."""
    task = wait_for(state, handle, timeout=timeout, cancel_on_interrupt=cancel_on_interrupt)
    out_dir = out or default_out_dir(task.task_id)
    saved = save_outputs(client, task, out_dir)
    took = _took(task)
    state.render.note(f"task {task.task_id}: {task.status.value}{took}")
    if saved:
        state.render.note(f"saved {len(saved)} file(s) to {out_dir}")
    report_task(state, task, saved)


def _took(task: Task) -> str:
    seconds = task.usage.task_cost_time if task.usage else None
    return f" in {seconds} s" if seconds is not None else ""
