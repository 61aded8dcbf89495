"""``runninghub status | wait | outputs | cancel TASK_ID``: follow a task by its id."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ._context import CliState, json_option, pass_state
from ._finish_options import FinishChoices, finish_options, overwrite_option
from ._option_kinds import dir_option

__all__ = ["cancel", "outputs", "status", "wait"]

F = TypeVar("F", bound=Callable[..., Any])


def _out_option(help_text: str) -> Callable[[F], F]:
    return dir_option("--out", help=help_text)


@click.command()
@click.argument("task_id")
@json_option
@pass_state
def status(state: CliState, task_id: str) -> None:
    """Show a task's status (and its outputs' URLs once it has succeeded).

    Exits 0 whenever the status could be read, whatever it is.

    \b
    Example:
      runninghub status 1910246754753896450 --json
    """
    from ._flow import report_task

    with state.client() as client:
        task = client.query(task_id)
    state.render.note(f"task {task.task_id}: {task.status.value}")
    report_task(state, task)


@click.command()
@click.argument("task_id")
@finish_options
@json_option
@pass_state
def wait(state: CliState, /, task_id: str, **params: Any) -> None:
    """Wait for a task to finish, then save its outputs.

    Resumes a wait that was interrupted or timed out; never resubmits anything.

    \b
    Examples:
      runninghub wait 1910246754753896450 --timeout 600 --out ./results
      runninghub wait 1910246754753896450 --timeout 60 --cancel-on-timeout --no-download
    """
    from ._flow import check_out_dir, default_out_dir, finish

    choices = FinishChoices.from_params(params)
    if choices.download:
        check_out_dir(choices.out or default_out_dir(task_id))
    with state.client() as client:
        finish(state, client, client.task(task_id), choices)


@click.command()
@click.argument("task_id")
@_out_option("Download the outputs here too (without it they are only listed).")
@overwrite_option
@json_option
@pass_state
def outputs(state: CliState, task_id: str, out: Path | None, overwrite: bool) -> None:
    """List a finished task's outputs; with --out, download them too.

    A failed or cancelled task exits 1 with its failure; an unfinished one prints its status.

    \b
    Examples:
      runninghub outputs 1910246754753896450
      runninghub outputs 1910246754753896450 --out ./results --json
    """
    from runninghub._support import raise_if_failed

    from ._flow import report_task, save_outputs, saved_note

    with state.client() as client:
        task = raise_if_failed(client.outputs(task_id))
        if not task.is_terminal:
            state.render.note(
                f"task {task_id} is {task.status.value}: no outputs yet; "
                f"wait with: runninghub wait {task_id}"
            )
        saved = save_outputs(client, task, out, overwrite=overwrite) if out is not None else []
    note = saved_note(saved, out)
    if note:
        state.render.note(note)
    report_task(state, task, saved)


@click.command()
@click.argument("task_id")
@json_option
@pass_state
def cancel(state: CliState, task_id: str) -> None:
    """Cancel a queued or running task (it stops billing).

    \b
    Example:
      runninghub cancel 1910246754753896450
    """
    with state.client() as client:
        client.cancel(task_id)
    state.render.note(f"cancelled task {task_id}")
    state.render.result({"task_id": task_id, "cancelled": True}, [])
