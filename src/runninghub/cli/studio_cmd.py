"""``runninghub studio``: the local web page, on 127.0.0.1, opened with a one-time token."""

from __future__ import annotations

import contextlib
import secrets
import tempfile
import webbrowser
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from ._context import CliState, pass_state
from ._option_kinds import dir_option

__all__ = ["studio"]


@click.command()
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0: any free port."
)
@click.option("--no-browser", is_flag=True, help="Print the address only; open no browser.")
@click.option(
    "--emulator",
    "use_emulator",
    is_flag=True,
    help="Start the bundled emulator in-process and use it, with a throwaway key (offline).",
)
@dir_option(
    "--out",
    default=Path("studio-outputs"),
    show_default=True,
    help="Where the outputs of the studio's runs are saved.",
)
@pass_state
def studio(state: CliState, port: int, no_browser: bool, use_emulator: bool, out: Path) -> None:
    """A local web page to run workflows, watch them and browse what they made.

    Serves on 127.0.0.1 only and prints the address with a one-time token; the page keeps
    it in a cookie. The API key stays in this process and never reaches the page.

    \b
    Examples:
      runninghub studio
      runninghub studio --emulator --no-browser --port 8765
    """
    from runninghub._support import require_extra

    require_extra("studio", "`runninghub studio`")
    if use_emulator:
        require_extra("emulator", "`runninghub studio --emulator`")
    with _client(state, use_emulator) as client:
        server = _server(state, client, port, out)
        state.render.note(f"studio listening; open {server.address}")
        if not no_browser:
            webbrowser.open(server.address)
        server.serve_forever()


@contextlib.contextmanager
def _client(state: CliState, use_emulator: bool) -> Iterator[Any]:
    """The studio's client: the user's own, or a throwaway one on an in-process emulator."""
    from runninghub import Client

    if not use_emulator:
        with state.client() as client:
            yield client
        return
    from runninghub.emulator import serve_in_thread

    key = secrets.token_hex(16)
    state.render.add_secret(key)
    with (
        # A wallet key (SHARED): the standard models refuse the default coin key.
        serve_in_thread(queue_seconds=0.5, task_seconds=1.5, key_type="SHARED") as emulator,
        tempfile.TemporaryDirectory(prefix="runninghub-studio-") as config_dir,
        Client(
            api_key=key,
            base_url=emulator.base_url,
            config_dir=Path(config_dir),
            **state.journal_options(),
        ) as client,
    ):
        state.render.note(f"emulator listening on {emulator.base_url}")
        yield client


def _server(state: CliState, client: Any, port: int, out: Path) -> Any:
    from runninghub.studio import StudioConfig, StudioGuard
    from runninghub.studio.server import StudioServer, bind

    try:
        sock = bind(port)
    except OSError as exc:
        raise click.UsageError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
    # Without the journal (--no-journal) the studio still runs; its history stays empty.
    config = StudioConfig(client, out.resolve(), StudioGuard(), state.journal())
    return StudioServer(config, sock)
