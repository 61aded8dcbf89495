"""``runninghub account`` and ``runninghub upload PATH``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ._context import CliState, json_option, pass_state

__all__ = ["account", "upload"]


@click.command()
@json_option
@pass_state
def account(state: CliState) -> None:
    """Show the balance, the running tasks and the concurrency limit.

    \b
    Example:
      runninghub account --json
    """
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


@click.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@pass_state
def upload(state: CliState, path: Path) -> None:
    """Upload a file (image, video, audio, zip; up to 30 MB) and print its name.

    The printed name is what a loader node's field takes, e.g. --set 107.image=NAME.

    \b
    Example:
      runninghub upload photo.png
    """
    with state.client() as client:
        uploaded = client.upload(path)
    state.render.note(f"uploaded {path.name}")
    state.render.result(uploaded.to_dict(), [uploaded.file_name])
