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
    document: dict[str, Any] = {**info.to_dict(), **queue.to_dict()}
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


account.add_command(account_keys, "keys")
