"""``runninghub account``."""

from __future__ import annotations

from typing import Any

import click

from ._context import CliState, json_option, pass_state
from .lists import account_keys

__all__ = ["account"]


@click.group(invoke_without_command=True)
@json_option
@pass_state
def account(state: CliState) -> None:
    """Show the balance, the running tasks and the concurrency limit.

    `account keys` lists the account's API keys (masked).

    \b
    Examples:
      runninghub account --json
      runninghub account keys
    """
    if click.get_current_context().invoked_subcommand is not None:
        return
    with state.client() as client:
        info = client.account()
        queue = client.queue_status()
    document = _account_document(info.to_dict(), queue.to_dict())
    labels = {
        "remain_coins": "coins",
        "remain_money": "money",
        "currency": "currency",
        "api_type": "key type",
        "current_task_counts": "tasks",
        "running_count": "running",
        "queued_count": "queued",
        "concurrent_limit": "concurrency limit",
    }
    lines = [
        f"{label}: {document[name]}" for name, label in labels.items() if document[name] is not None
    ]
    state.render.result(document, lines)


def _account_document(info: dict[str, Any], queue: dict[str, Any]) -> dict[str, Any]:
    """The account and queue answers as one document, each figure under one name: the queue's
    own words for the key type and the task count say what the account's already say."""
    document = {**info}
    for name, same_as in _SAME_AS.items():
        value = queue.pop(name, None)
        if document.get(same_as) is None:
            document[same_as] = value
    return {**document, **queue}


_SAME_AS = {"api_key_type": "api_type", "total_current_tasks": "current_task_counts"}


account.add_command(account_keys, "keys")
