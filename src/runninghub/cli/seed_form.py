"""The seed's command-line form: ``runninghub --workflow-id ID --action ...``.

People and agents already run ``python3 scripts/runninghub_client.py`` with these flags; the
same flags given to ``runninghub`` do what that script documented:

- ``--save-key KEY`` stores the key (in our config file, mode 0600);
- ``--api-key KEY`` uses a key for this call only (discouraged: argv leaks);
- ``--action submit`` runs the workflow as saved and prints the task id;
- ``--action run-with-image --image PATH --node-id 107 --field-name image`` uploads the image,
  submits with that one override, waits and prints the output URLs;
- ``--action query --task-id T`` prints the task's status (and URLs when done);
- ``--action wait --task-id T [--poll-interval 5] [--max-attempts 60]`` waits, prints URLs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ._context import CliState

if TYPE_CHECKING:
    from runninghub import Client, Task

__all__ = ["SeedOptions", "apply_key_options", "run_seed_action", "seed_options"]

F = TypeVar("F", bound=Callable[..., Any])

ACTIONS = ("submit", "query", "wait", "run-with-image")
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
        click.option("--node-id", metavar="ID", help="(seed) Node that takes the image."),
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
    for option in reversed(options):
        func = option(func)
    return func


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
            _report(state, client.query(_required(seed.task_id)))
        elif action == "wait":
            _wait(state, client, _required(seed.task_id), seed)
        else:
            _run_with_image(state, client, seed)


_REQUIRED: dict[str, tuple[str, ...]] = {
    "submit": ("workflow_id",),
    "query": ("task_id",),
    "wait": ("task_id",),
    "run-with-image": ("workflow_id", "image", "node_id"),
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


def _submit(state: CliState, client: Client, seed: SeedOptions) -> None:
    handle = client.submit(_required(seed.workflow_id))
    state.render.note(f"submitted task {handle.task_id}")
    state.render.result({"task_id": handle.task_id}, [handle.task_id])


def _wait(state: CliState, client: Client, task_id: str, seed: SeedOptions) -> None:
    from ._flow import wait_for

    handle = client.task(task_id)
    task = wait_for(state, handle, timeout=seed.wait_timeout)
    _report(state, task)


def _run_with_image(state: CliState, client: Client, seed: SeedOptions) -> None:
    from ._flow import wait_for

    image = seed.image
    assert image is not None  # checked by _check_required
    upload = client.upload(image)
    state.render.note(f"uploaded {image.name} as {upload.file_name}")
    override = (_required(seed.node_id), seed.field_name or "image", upload.file_name)
    handle = client.submit(_required(seed.workflow_id), [override])
    task = wait_for(state, handle, timeout=seed.wait_timeout)
    _report(state, task)


def _report(state: CliState, task: Task) -> None:
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
