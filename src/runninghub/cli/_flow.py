"""The steps that ``run``, ``app run``, ``wait`` and ``outputs`` share: wait, save, report."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ._context import CliState, InterruptedWait

if TYPE_CHECKING:
    from runninghub import Client, SavedFile, Task, TaskHandle

__all__ = [
    "check_out_dir",
    "default_out_dir",
    "finish",
    "report_task",
    "save_outputs",
    "task_document",
    "wait_for",
]


def default_out_dir(task_id: str) -> Path:
    return Path("runninghub-outputs") / task_id


def check_out_dir(out: Path) -> None:
    """Refuse ``out`` when it cannot be created or written (raises click.BadParameter)."""
    from runninghub._support import out_dir_problem

    problem = out_dir_problem(out)
    if problem is not None:
        raise click.BadParameter(problem, param_hint="--out")


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
    try:
        # The note is inside the try: a Ctrl-C right after it must still name the task.
        state.render.note(f"task {task_id}: waiting (Ctrl-C {then})")
        with state.render.progress_display(task_id) as on_progress:
            return handle.wait(timeout=timeout, on_progress=on_progress)
    except KeyboardInterrupt:
        if cancel_on_interrupt:
            state.render.note(f"task {task_id}: cancelling")
            handle.cancel()
            raise InterruptedWait(task_id, cancelled=True) from None
        raise InterruptedWait(task_id) from None


def save_outputs(client: Client, task: Task, out_dir: Path) -> list[SavedFile]:
    """Save every output of a finished task (files and texts) into ``out_dir``."""
    if not task.outputs:
        return []
    return list(client.download(task, out_dir))


def _saved_paths(task: Task, saved: Sequence[SavedFile]) -> list[str | None]:
    """The saved path of each output, in the task's order (None when not saved)."""
    unused = list(saved)
    paths: list[str | None] = []
    for output in task.outputs:
        match = next(
            (s for s in unused if s.url == output.url and s.node_id == output.node_id), None
        )
        if match is not None:
            unused.remove(match)
        paths.append(str(match.path) if match else None)
    return paths


def task_document(task: Task, saved: Sequence[SavedFile] = ()) -> dict[str, Any]:
    """The ``--json`` shape of a task: task_id, status, outputs (with ``path``: where it was
    saved, or null), usage, failure."""
    document = task.to_dict()
    for output, path in zip(document["outputs"], _saved_paths(task, saved), strict=True):
        output["path"] = path
    return document


def report_task(state: CliState, task: Task, saved: Sequence[SavedFile] = ()) -> None:
    """Print a task: JSON, or one line per output (the saved path, else the URL or text)."""
    paths = _saved_paths(task, saved)
    pairs = zip(task.outputs, paths, strict=True)
    lines = [path or out.url or out.text or "" for out, path in pairs]
    state.render.result(task_document(task, saved), [line for line in lines if line])


def finish(  # noqa: PLR0913 - keyword-only command options
    state: CliState,
    client: Client,
    handle: TaskHandle,
    *,
    timeout: float | None,
    out: Path | None,
    cancel_on_interrupt: bool,
) -> None:
    """Wait for a submitted task, save its outputs and print where they are."""
    try:
        started = time.monotonic()
        task = wait_for(state, handle, timeout=timeout, cancel_on_interrupt=cancel_on_interrupt)
        waited = time.monotonic() - started
        state.render.note(f"task {task.task_id}: {task.status.value} after {waited:.1f} s")
        out_dir = out or default_out_dir(task.task_id)
        saved = save_outputs(client, task, out_dir)
    except KeyboardInterrupt:
        # Between the steps (or while downloading): `runninghub wait` picks it up again.
        raise InterruptedWait(handle.task_id) from None
    if saved:
        state.render.note(f"saved {len(saved)} file(s) to {out_dir}")
    report_task(state, task, saved)
