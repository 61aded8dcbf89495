"""``runninghub emulator``: a local RunningHub on 127.0.0.1, for offline runs and tests."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

import click

from ._context import CliState, pass_state

__all__ = ["emulator"]


def _read_keys(path: Path | None) -> frozenset[str] | None:
    if path is None:
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    keys = frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))
    if not keys:
        raise click.BadParameter(f"{path} lists no keys", param_hint="--keys")
    return keys


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0: any free port."
)
@click.option(
    "--workflows",
    "workflows_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    metavar="DIR",
    help="More API-format workflows, one <workflow id>.json per file.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Tasks one key may run at once (the next gets 421).",
)
@click.option(
    "--queue-seconds", type=click.FloatRange(min=0), default=0.0, show_default=True, metavar="S"
)
@click.option(
    "--task-seconds", type=click.FloatRange(min=0), default=2.0, show_default=True, metavar="S"
)
@click.option(
    "--fault-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    metavar="F",
    help="Fraction of API requests that suffer a transient fault.",
)
@click.option(
    "--time-scale",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    metavar="X",
    help="Speed of the emulated clock (expiries).",
)
@click.option(
    "--keys",
    "keys_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Accept only these keys (one per line); default: any 32-hex key.",
)
@click.option(
    "--state",
    "state_file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Keep tasks, uploads and outputs in this file across restarts.",
)
@pass_state
def emulator(state: CliState, /, keys_file: Path | None, **options: Any) -> None:
    """Serve the RunningHub API locally (really runs a set of ComfyUI image nodes).

    Prints its base URL on stdout when ready; Ctrl-C stops it.

    \b
    Examples:
      runninghub emulator --port 8188 --task-seconds 1
      RUNNINGHUB_BASE_URL=http://127.0.0.1:8188 runninghub run 1904136902449209346
    """
    from runninghub.emulator import serve_in_thread

    server = serve_in_thread(keys=_read_keys(keys_file), **options)
    stop = threading.Event()
    # A service manager stops us with SIGTERM: leave as cleanly as on Ctrl-C.
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        state.render.raw(f"RunningHub emulator listening on {server.base_url}")
        state.render.note("press Ctrl-C to stop")
        while not stop.wait(3600):
            pass
    except KeyboardInterrupt:
        state.render.note("stopping")
    finally:
        server.stop()
