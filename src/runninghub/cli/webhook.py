"""``runninghub webhook show | retry TASK_ID``: a task's webhook delivery, and sending it again."""

from __future__ import annotations

from typing import Any

import click

from ._context import CliState, json_option, pass_state

__all__ = ["webhook"]


@click.group()
def webhook() -> None:
    """A task's webhook: show how its delivery went, send it again.

    \b
    Examples:
      runninghub webhook show 1910246754753896450
      runninghub webhook retry 1910246754753896450 --url https://example.com/hook
    """


@webhook.command("show")
@click.argument("task_id")
@json_option
@pass_state
def show(state: CliState, task_id: str) -> None:
    """Show the webhook delivery of a task: its URL, status and retry count.

    A task submitted without --webhook has no delivery: exit 4 (not found).

    \b
    Example:
      runninghub webhook show 1910246754753896450 --json
    """
    with state.client() as client:
        detail = client.webhook_detail(task_id)
    document: dict[str, Any] = detail.to_dict()
    lines = [f"{name}: {value}" for name, value in document.items() if value is not None]
    state.render.result(document, lines)


@webhook.command("retry")
@click.argument("task_id")
@click.option(
    "--url",
    metavar="URL",
    help="Deliver to this http(s) URL instead of the one the task was submitted with.",
)
@json_option
@pass_state
def retry(state: CliState, task_id: str, url: str | None) -> None:
    """Send a task's webhook (its TASK_END event) again.

    \b
    Examples:
      runninghub webhook retry 1910246754753896450
      runninghub webhook retry 1910246754753896450 --url https://example.com/hook
    """
    with state.client() as client:
        detail = client.retry_task_webhook(task_id, url)
    target = url or detail.webhook_url
    state.render.note(f"task {task_id}: webhook sent again to {target}")
    document = {"task_id": task_id, "webhook_id": detail.id, "webhook_url": target, "retried": True}
    state.render.result(document, [])
