"""The seed's command-line form: ``runninghub --workflow-id ID --action ...``.

People and agents already run ``python3 scripts/runninghub_client.py`` with these flags, and
parse what it printed; the same flags given to ``runninghub`` print the same on stdout:

- ``--save-key KEY`` stores the key (in our config file, mode 0600); alone, or with
  ``--workflow-id``, it runs nothing unless ``--action`` asks for it;
- ``--api-key KEY`` uses a key for this call only (discouraged: argv leaks);
- ``--action submit`` runs the workflow as saved and prints the API's answer (the v2 task
  object of ``POST /openapi/v2/run/workflow/{id}``) as JSON;
- ``--action query --task-id T`` prints the answer of ``POST /openapi/v2/query`` as JSON;
- ``--action wait --task-id T [--poll-interval 5] [--max-attempts 60]`` waits and prints the
  final query answer as JSON (exit 1 when the task failed);
- ``--action run-with-image --image PATH [--node-id 107] [--field-name image]`` uploads the
  image, submits with that one override, waits and prints the output URLs.

JSON is printed as ``json.dumps(answer, ensure_ascii=False, indent=2)``; a refusal prints the
API's answer too, then fails with one line on stderr and the usual exit code. Notes and
progress go to stderr.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ._context import CliState, with_options

if TYPE_CHECKING:
    from runninghub import Client, Task

__all__ = ["SeedOptions", "apply_key_options", "run_seed_action", "seed_options"]

F = TypeVar("F", bound=Callable[..., Any])

ACTIONS = ("submit", "query", "wait", "run-with-image")
DEFAULT_NODE_ID = "107"  # the seed's defaults: its example workflow's LoadImage
DEFAULT_FIELD = "image"
_ARGV_KEY_WARNING = (
    "an API key on the command line can leak through shell history and process lists; "
    "prefer `runninghub auth set` or the RUNNINGHUB_API_KEY environment variable"
)


def seed_options(func: F) -> F:
    """Add the seed script's flags to the root command."""
    options = [
        click.option("--workflow-id", metavar="ID", help="(seed) Workflow to run."),
        click.option(
            "--action",
            type=click.Choice(ACTIONS),
            help="(seed) submit | query | wait | run-with-image.",
        ),
        click.option(
            "--image",
            type=click.Path(path_type=Path),
            metavar="PATH",
            help="(seed) Image for run-with-image.",
        ),
        click.option(
            "--node-id", metavar="ID", help="(seed) Node that takes the image (default: 107)."
        ),
        click.option("--field-name", metavar="NAME", help="(seed) Field (default: image)."),
        click.option("--task-id", metavar="ID", help="(seed) Task for query / wait."),
        click.option(
            "--poll-interval",
            type=click.FloatRange(min=0.1),
            metavar="S",
            help="(seed) Longest pause between polls, seconds (default 5).",
        ),
        click.option(
            "--max-attempts",
            type=click.IntRange(min=1),
            metavar="N",
            help="(seed) Give up after about N polls (default 60).",
        ),
        click.option("--api-key", metavar="KEY", help="(seed) Key for this call (discouraged)."),
        click.option("--save-key", metavar="KEY", help="(seed) Store a key in the config file."),
    ]
    return with_options(func, options)


@dataclass(frozen=True)
class SeedOptions:
    """The seed flags as given (``None`` when absent)."""

    workflow_id: str | None = None
    action: str | None = None
    image: Path | None = None
    node_id: str | None = None
    field_name: str | None = None
    task_id: str | None = None
    poll_interval: float | None = None
    max_attempts: int | None = None
    api_key: str | None = field(default=None, repr=False)
    save_key: str | None = field(default=None, repr=False)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> SeedOptions:
        return cls(**{name: params.get(name) for name in cls.__dataclass_fields__})

    def wants_action(self) -> bool:
        if self.save_key and not self.action:
            return False  # storing a key never spends credit: a run needs --action
        return bool(self.action or self.workflow_id or self.task_id)

    def resolved_action(self) -> str:
        """The action, defaulting as the seed did: submit for a workflow, query for a task."""
        if self.action:
            return self.action
        return "submit" if self.workflow_id else "query"

    @property
    def wait_timeout(self) -> float:
        """The seed waited ``poll_interval * max_attempts`` seconds (5 s x 60 by default)."""
        return (self.poll_interval or 5.0) * (self.max_attempts or 60)


def apply_key_options(state: CliState, seed: SeedOptions) -> None:
    """Handle ``--api-key`` (this call only) and ``--save-key`` (store it, mode 0600)."""
    for key in (seed.api_key, seed.save_key):
        state.render.add_secret(key)
    if seed.api_key:
        state.render.warn(_ARGV_KEY_WARNING)
        state.api_key = seed.api_key.strip()
    if seed.save_key:
        from runninghub import _support as _config

        state.render.warn(_ARGV_KEY_WARNING)
        key = seed.save_key.strip()
        # Keep the stored site unless --site says otherwise: a .ai user stays on .ai.
        site = state.site or _config.load_config().get("site") or _config.DEFAULT_SITE
        path = _config.save_key(key, site)
        state.render.note(f"API key {_config.mask_key(key)} saved to {path}")
        if not seed.wants_action() and (seed.workflow_id or seed.task_id):
            state.render.note("nothing was run: add --action submit (or query, wait) for that")
        if state.api_key is None:
            state.api_key = key


def run_seed_action(state: CliState, seed: SeedOptions) -> None:
    """Run ``--action`` as the seed documented it."""
    action = seed.resolved_action()
    _check_required(seed, action)
    with state.client(poll=_poll_policy(seed)) as client:
        if action == "submit":
            _submit(state, client, seed)
        elif action == "query":
            _query(state, client, _required(seed.task_id))
        elif action == "wait":
            _wait(state, client, _required(seed.task_id), seed)
        else:
            _run_with_image(state, client, seed)


_REQUIRED: dict[str, tuple[str, ...]] = {
    "submit": ("workflow_id",),
    "query": ("task_id",),
    "wait": ("task_id",),
    "run-with-image": ("workflow_id", "image"),
}


def _check_required(seed: SeedOptions, action: str) -> None:
    missing = [name for name in _REQUIRED[action] if getattr(seed, name) is None]
    if missing:
        flags = ", ".join("--" + name.replace("_", "-") for name in missing)
        raise click.UsageError(f"--action {action} needs {flags}")
    if seed.image is not None and not seed.image.is_file():
        raise click.BadParameter(f"no such file: {seed.image}", param_hint="--image")


def _required(value: str | None) -> str:
    if value is None:  # _check_required ran first; this keeps the types honest
        raise click.UsageError("a required flag is missing")
    return value


@contextmanager
def _answer_printed_on_refusal(state: CliState) -> Iterator[None]:
    """A refusal's answer is still the API's answer: print it, as the seed did, then fail
    (one line on stderr, the documented exit code)."""
    from runninghub import APIError, SubmitOutcomeUnknownError

    try:
        yield
    except APIError as exc:
        if isinstance(exc.raw, dict) and not isinstance(exc, SubmitOutcomeUnknownError):
            state.render.wire_document(exc.raw)
        raise


def _submit(state: CliState, client: Client, seed: SeedOptions) -> None:
    with _answer_printed_on_refusal(state):
        handle = client.submit(_required(seed.workflow_id))
    state.render.note(f"submitted task {handle.task_id}")
    state.render.wire_document(_wire(handle.last))


def _query(state: CliState, client: Client, task_id: str) -> None:
    with _answer_printed_on_refusal(state):
        task = client.query(task_id)
    state.render.note(f"task {task.task_id}: {task.status.value}")
    state.render.wire_document(_wire(task))


def _wait(state: CliState, client: Client, task_id: str, seed: SeedOptions) -> None:
    """Wait, then print the final query answer; a failed task still prints it (exit 1)."""
    from runninghub import TaskFailedError

    from ._finish_options import FinishChoices
    from ._flow import wait_for

    try:
        task = wait_for(state, client.task(task_id), FinishChoices(timeout=seed.wait_timeout))
    except TaskFailedError as exc:
        state.render.wire_document(_final_answer(client, task_id, exc.task))
        raise
    state.render.note(f"task {task.task_id}: {task.status.value}")
    state.render.wire_document(_final_answer(client, task_id, task))


def _final_answer(client: Client, task_id: str, task: Task | None) -> dict[str, Any]:
    """The v2 query answer of a finished task (asked again if the wait ended elsewhere)."""
    if task is not None and _is_task_object(task.raw):
        return dict(task.raw)
    return _wire(client.query(task_id))


def _is_task_object(raw: Any) -> bool:
    return isinstance(raw, dict) and "taskId" in raw and "status" in raw and "code" not in raw


def _wire(task: Task | None) -> dict[str, Any]:
    raw = None if task is None else task.raw
    return dict(raw) if isinstance(raw, dict) else {}


def _run_with_image(state: CliState, client: Client, seed: SeedOptions) -> None:
    from ._finish_options import FinishChoices
    from ._flow import wait_for

    image = seed.image
    assert image is not None  # checked by _check_required
    upload = client.upload(image)
    state.render.note(f"uploaded {image.name} as {upload.file_name}")
    override = (seed.node_id or DEFAULT_NODE_ID, seed.field_name or DEFAULT_FIELD, upload.file_name)
    handle = client.submit(_required(seed.workflow_id), [override])
    task = wait_for(state, handle, FinishChoices(timeout=seed.wait_timeout))
    _report_urls(state, task)


def _report_urls(state: CliState, task: Task) -> None:
    """The task as JSON, or its output URLs one per line (the status on stderr)."""
    state.render.note(f"task {task.task_id}: {task.status.value}")
    urls = [output.url or output.text or "" for output in task.outputs]
    state.render.result(task.to_dict(), [url for url in urls if url])


def _poll_policy(seed: SeedOptions) -> Any:
    if seed.poll_interval is None:
        return None
    from runninghub import PollPolicy

    # The seed polled at a fixed interval; our backoff starts shorter and stops growing there.
    return PollPolicy(max_interval=seed.poll_interval)
