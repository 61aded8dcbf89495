"""The steps that ``run``, ``app run``, ``wait`` and ``outputs`` share: wait, save, report."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ._context import CliState, InterruptedWait
from ._finish_options import FinishChoices

if TYPE_CHECKING:
    from runninghub import Client, SavedFile, Task, TaskHandle

__all__ = [
    "check_out_dir",
    "default_out_dir",
    "finish",
    "node_titles",
    "report_task",
    "save_outputs",
    "saved_note",
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
    choices: FinishChoices,
    titles: Mapping[str, str] | None = None,
) -> Task:
    """Wait for the task with live progress (nodes named by ``titles``); Ctrl-C stops
    waiting (or cancels, if asked), and so does the deadline.

    Raises TaskFailedError, WaitTimeoutError (saying whether the task was cancelled), or
    InterruptedWait (exit 130).
    """
    task_id = handle.task_id
    then = "cancels the task" if choices.cancel_on_interrupt else "stops waiting"
    try:
        # The note is inside the try: a Ctrl-C right after it must still name the task.
        state.render.note(f"task {task_id}: waiting (Ctrl-C {then})")
        with state.render.progress_display(task_id, titles) as on_progress:
            return handle.wait(
                timeout=choices.timeout,
                cancel_on_timeout=choices.cancel_on_timeout,
                on_progress=on_progress,
            )
    except KeyboardInterrupt:
        if choices.cancel_on_interrupt:
            state.render.note(f"task {task_id}: cancelling")
            handle.cancel()
            raise InterruptedWait(task_id, cancelled=True) from None
        raise InterruptedWait(task_id) from None


def node_titles(
    state: CliState, client: Client, *, workflow_id: str | None = None, app_id: str | None = None
) -> dict[str, str]:
    """Node id -> title (else class) for the live line; read only when the line is shown
    (the graph cache usually has it), and empty when it cannot be read."""
    from runninghub import RunningHubError

    if not state.render.live:
        return {}
    try:
        if app_id is not None:
            return {i.node_id: i.node_name for i in client.app_inputs(app_id) if i.node_name}
        graph = client.workflow_graph(workflow_id or "")
    except RunningHubError:
        return {}
    named = ((node.id, node.title or node.class_type) for node in graph.nodes)
    return {node_id: name for node_id, name in named if name}


def _recorded_titles(state: CliState, client: Client, task_id: str) -> dict[str, str]:
    """The node titles of the workflow or app the journal says ``task_id`` runs."""
    from runninghub.journal import JournalError

    journal = client.journal
    if journal is None or not state.render.live:
        return {}
    try:
        entry = journal.show(task_id).entry
    except JournalError:
        return {}
    if entry.kind == "app":
        return node_titles(state, client, app_id=entry.target)
    return node_titles(state, client, workflow_id=entry.target) if entry.kind == "workflow" else {}


def save_outputs(
    client: Client, task: Task, out_dir: Path, *, overwrite: bool = False
) -> list[SavedFile]:
    """Save every output of a finished task (files and texts) into ``out_dir``."""
    if not task.outputs:
        return []
    return list(client.download(task, out_dir, overwrite=overwrite))


def saved_note(saved: Sequence[SavedFile], out_dir: Path | None) -> str | None:
    """``saved 2 file(s) to DIR``, saying how many were already there with the same bytes."""
    if not saved:
        return None
    reused = sum(1 for item in saved if item.reused)
    if not reused:
        return f"saved {len(saved)} file(s) to {out_dir}"
    return f"saved {len(saved) - reused} file(s) to {out_dir}; {reused} already there, unchanged"


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
    """Print a task: JSON, or a line per output (the saved path, else the URL), each text
    output followed by its text, indented (the renderer escapes terminal controls in it)."""
    paths = _saved_paths(task, saved)
    lines: list[str] = []
    for output, path in zip(task.outputs, paths, strict=True):
        lines.extend(_output_lines(path or output.url, output.text))
    state.render.result(task_document(task, saved), lines)


def _output_lines(where: str | None, text: str | None) -> list[str]:
    if not text:
        return [where] if where else []
    body = text.splitlines() or [text]
    if not where:
        return body
    return [where, *(f"  {line}" for line in body)]


def finish(
    state: CliState,
    client: Client,
    handle: TaskHandle,
    choices: FinishChoices,
    titles: Mapping[str, str] | None = None,
) -> None:
    """Wait for a submitted task, save its outputs (unless told not to) and print where they
    are, or their URLs."""
    saved: list[SavedFile] = []
    out_dir = None
    try:
        started = time.monotonic()
        if titles is None:  # `wait`: the journal may know what the task runs
            titles = _recorded_titles(state, client, handle.task_id)
        task = wait_for(state, handle, choices, titles)
        waited = time.monotonic() - started
        state.render.note(f"task {task.task_id}: {task.status.value} after {waited:.1f} s")
        if choices.download:
            out_dir = choices.out or default_out_dir(task.task_id)
            saved = save_outputs(client, task, out_dir, overwrite=choices.overwrite)
    except KeyboardInterrupt:
        # Between the steps (or while downloading): `runninghub wait` picks it up again.
        raise InterruptedWait(handle.task_id) from None
    note = saved_note(saved, out_dir)
    if note:
        state.render.note(note)
    report_task(state, task, saved)
