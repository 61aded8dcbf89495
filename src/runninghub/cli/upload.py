"""``runninghub upload PATH``."""

from __future__ import annotations

from pathlib import Path

import click

from ._context import CliState, json_option, pass_state
from ._option_kinds import EXISTING_FILE

__all__ = ["upload"]


@click.command()
@click.argument("path", type=EXISTING_FILE)
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
