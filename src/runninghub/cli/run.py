"""``runninghub run`` and ``runninghub app run``: submit, wait, save the outputs."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ._complete import complete_address
from ._context import CliState, json_option, pass_state, with_options
from ._finish_options import FinishChoices, finish_options
from ._id_hints import other_kind_hint
from ._option_kinds import file_option, repeated_option
from ._submitting import submitting
from .lists import app_list
from .nodes import app_inputs

if TYPE_CHECKING:
    from runninghub import Client, TaskHandle

__all__ = ["app", "parse_overrides", "run"]

F = TypeVar("F", bound=Callable[..., Any])


def _split_assignment(text: str, option: str, what: str) -> tuple[str, str]:
    """``NODE.FIELD=VALUE`` split on the first ``=`` (values may hold more)."""
    address, equals, value = text.partition("=")
    address = address.strip()
    node, dot, name = address.rpartition(".")
    if not equals or not dot or not node or not name:
        raise click.BadParameter(
            f"expected NODE.FIELD={what}, got {text!r} (e.g. 6.text=...)", param_hint=option
        )
    return address, value


def parse_overrides(sets: tuple[str, ...], files: tuple[str, ...]) -> dict[str, Any]:
    """``--set`` and ``--file`` values as ``{"NODE.FIELD": value}``; files become Paths.

    The addresses are resolved (and the values coerced) by the workflow module, against the
    workflow's own graph, before anything is submitted.
    """
    overrides: dict[str, Any] = {}
    for text in sets:
        address, value = _split_assignment(text, "--set", "VALUE")
        overrides[address] = value
    for text in files:
        address, value = _split_assignment(text, "--file", "PATH")
        overrides[address] = _readable_file(value, address)
    return overrides


def _readable_file(value: str, address: str) -> Path:
    """The path of a ``--file`` value, refused here (before any upload) if it cannot be read."""
    path = Path(value).expanduser()
    if value.strip().lower().startswith(("http://", "https://")):
        problem = f"{value} is a URL, not a local file; pass a URL with --set {address}={value}"
    elif not path.exists():
        problem = f"no such file: {value}"
    elif path.is_dir():
        problem = f"{value} is a directory, not a file"
    elif not path.is_file():
        problem = f"{value} is not a regular file"  # a FIFO or a device may never end
    else:
        try:
            path.open("rb").close()
            return path
        except OSError as exc:
            problem = f"cannot read {value}: {exc.strerror or exc}"
    raise click.BadParameter(problem, param_hint="--file")


def override_options(func: F) -> F:
    """``--set`` and ``--file``, both repeatable."""
    func = repeated_option(
        "--file",
        "files",
        metavar="NODE.FIELD=PATH",
        help="Upload a local file into a field (repeatable).",
        shell_complete=complete_address,
    )(func)
    return repeated_option(
        "--set",
        "sets",
        metavar="NODE.FIELD=VALUE",
        help="Set a field; NODE is an id, a title or a class (repeatable).",
        shell_complete=complete_address,
    )(func)


def wait_options(func: F) -> F:
    """What to do once submitted: wait (with a deadline), save, or return at once."""
    options = [
        click.option("--no-wait", is_flag=True, help="Print the task id and return at once."),
        click.option(
            "--instance",
            type=click.Choice(["default", "plus"]),
            default="default",
            show_default=True,
            help="24 GB (default) or 48 GB (plus) machine.",
        ),
        click.option("--webhook", metavar="URL", help="POSTed a TASK_END event when done."),
        click.option("--no-validate", is_flag=True, help="Skip the local check of the overrides."),
        click.option(
            "--personal-queue", is_flag=True, help="Exclusive keys: wait in the account's queue."
        ),
        click.option(
            "--retain-seconds",
            type=click.IntRange(10, 180),
            metavar="S",
            help="Keep the machine warm S seconds (10-180) after the task (billed).",
        ),
    ]
    return finish_options(with_options(func, options))


def _check_out_dir(params: dict[str, Any]) -> None:
    """Contradicting options, or an output folder that cannot be made, are refused before
    the task is paid for."""
    choices = FinishChoices.from_params(params)
    if not params["no_wait"] and choices.download:
        from ._flow import check_out_dir, default_out_dir

        check_out_dir(choices.out or default_out_dir("TASK_ID").parent)


def submit_and_finish(
    state: CliState,
    client: Client,
    submit: Callable[..., TaskHandle],
    params: dict[str, Any],
    titles: Callable[[], dict[str, str]] = dict,
) -> None:
    """``submit`` given the command's submit options (a Ctrl-C there may leave a paid task:
    InterruptedSubmit), then wait and save, or print the task id at once with --no-wait."""
    with submitting(client):
        handle = submit(**submit_keywords(params))
    _finish_or_return(state, client, handle, params, titles)


def _finish_or_return(
    state: CliState,
    client: Client,
    handle: TaskHandle,
    params: dict[str, Any],
    titles: Callable[[], dict[str, str]] = dict,
) -> None:
    if params["no_wait"]:
        from ._flow import task_document

        task_id = handle.task_id
        state.render.note(f"submitted task {task_id}; follow it with: runninghub wait {task_id}")
        task = handle.last or handle.refresh()
        state.render.result(task_document(task), [task_id])
        return
    from ._flow import finish

    finish(state, client, handle, FinishChoices.from_params(params), titles())


def _read_workflow_json(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise click.BadParameter(
            f"{path} is not JSON: {exc}", param_hint="--workflow-json"
        ) from None
    if not isinstance(data, dict):
        raise click.BadParameter(
            f"{path} is not an API-format workflow (a JSON object)", param_hint="--workflow-json"
        )
    return data


@click.command()
@click.argument("workflow_id")
@override_options
@wait_options
@file_option(
    "--workflow-json",
    exists=True,
    help="Run this API-format graph instead of the saved one.",
)
@json_option
@pass_state
def run(
    state: CliState,
    /,
    workflow_id: str,
    sets: tuple[str, ...],
    files: tuple[str, ...],
    workflow_json: Path | None,
    **params: Any,
) -> None:
    """Run a saved workflow, wait, and save its outputs.

    \b
    Examples:
      runninghub run 1904136902449209346 --set 6.text="a red fox" --set KSampler.seed=42
      runninghub run 1987728214757978114 --file 107.image=photo.png --out ./inverted
      runninghub run 1904136902449209346 --no-wait --json
    """
    overrides = parse_overrides(sets, files)
    graph = _read_workflow_json(workflow_json)
    _check_out_dir(params)
    with state.client() as client, other_kind_hint(client, workflow_id, "workflow"):
        submit = functools.partial(
            client.submit, workflow_id, overrides or None, workflow_json=graph
        )
        titles = functools.partial(_titles, state, client, workflow_id=workflow_id)
        submit_and_finish(state, client, submit, params, titles)


def _titles(state: CliState, client: Client, **ident: str) -> dict[str, str]:
    from ._flow import node_titles

    return node_titles(state, client, **ident)


def submit_keywords(params: dict[str, Any]) -> dict[str, Any]:
    """``--webhook``, ``--instance``, ``--no-validate``, ``--personal-queue`` and
    ``--retain-seconds`` as the library's submit keywords."""
    return {
        "webhook_url": params["webhook"],
        "instance": params["instance"],
        "validate": False if params["no_validate"] else None,
        "personal_queue": True if params["personal_queue"] else None,
        "retain_seconds": params["retain_seconds"],
    }


@click.group()
def app() -> None:
    """AI apps: list the public ones, show an app's inputs, run it.

    \b
    Examples:
      runninghub app inputs 1877265245566922753
      runninghub app run 1877265245566922753 --file 39.image=cat.png --set 52.text="oil painting"
    """


@app.command("run")
@click.argument("app_id")
@override_options
@wait_options
@json_option
@pass_state
def app_run(
    state: CliState,
    /,
    app_id: str,
    sets: tuple[str, ...],
    files: tuple[str, ...],
    **params: Any,
) -> None:
    """Run an AI app, wait, and save its outputs.

    \b
    Example:
      runninghub app run 1877265245566922753 --file 39.image=cat.png --set 52.text="oil painting"
    """
    overrides = parse_overrides(sets, files)
    _check_out_dir(params)
    with state.client() as client, other_kind_hint(client, app_id, "app"):
        submit = functools.partial(client.submit_app, app_id, overrides or None)
        titles = functools.partial(_titles, state, client, app_id=app_id)
        submit_and_finish(state, client, submit, params, titles)


app.add_command(app_inputs, "inputs")
app.add_command(app_list, "list")
