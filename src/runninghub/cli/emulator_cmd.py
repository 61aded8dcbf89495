"""``runninghub emulator``: a local RunningHub on 127.0.0.1, for offline runs and tests."""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from runninghub.emulator.options import SWITCH_FLAGS, TABLE_FLAGS, default_of

from ._option_kinds import dir_option, file_option, repeated_option, seconds_option

__all__ = ["emulator"]

F = TypeVar("F", bound=Callable[..., Any])


def _guard_options(command: Any) -> Any:
    """The limits and guards, one flag each (docs/reliability.md lists them)."""
    for flag, (name, kind, text) in reversed(TABLE_FLAGS.items()):
        metavar = {int: "N", float: "S"}.get(kind, "TEXT")
        help_text = f"{text[0].upper()}{text[1:]} ({default_of(name)})."
        command = click.option(flag, name, type=kind, metavar=metavar, help=help_text)(command)
    for flag, (name, text) in reversed(SWITCH_FLAGS.items()):
        help_text = f"{text[0].upper()}{text[1:]} (default: off)."
        command = click.option(flag, name, is_flag=True, default=None, help=help_text)(command)
    return command


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0: any free port."
)
@dir_option(
    "--workflows",
    "workflows_dir",
    exists=True,
    help="More API-format workflows, one <workflow id>.json per file.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Tasks one key may run at once (the next gets 421).",
)
@seconds_option("--queue-seconds", 0.0, "How long a task stays QUEUED before it runs.")
@seconds_option(
    "--task-seconds", 2.0, "How long a task stays RUNNING (at least; the graph really runs)."
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
    "--fault-kinds",
    metavar="K,K",
    help="Which faults to inject (default: all of http_502, http_503, slow, http_500, "
    "truncated, non_json).",
)
@click.option("--seed", type=int, help="Seed of the fault sequence (repeatable runs).")
@file_option(
    "--keys",
    "keys_file",
    exists=True,
    help="Accept only these keys (one per line, optionally 'ai:KEY'); default: any 32-hex key.",
)
@click.option(
    "--site",
    "emulated_site",
    type=click.Choice(["cn", "ai"]),
    help="Act as this site: refuse keys listed for the other one.",
)
@file_option(
    "--state",
    "state_file",
    help="Keep tasks, uploads and outputs in this file across restarts.",
)
@click.option(
    "--public-url",
    metavar="URL",
    help="Base of every URL it hands out (outputs, download_url, netWssUrl), when it sits "
    "behind a proxy, a TLS front or a port map; default: the listening address.",
)
@click.option(
    "--cancel-status-v2",
    type=click.Choice(["CANCEL", "FAILED"]),
    default="CANCEL",
    show_default=True,
    help="What /openapi/v2/query reports for a cancelled task.",
)
@repeated_option(
    "--fetch-host",
    "fetch_hosts",
    metavar="HOST[:PORT]",
    help="A host whose media URLs tasks may fetch (your own test server); repeatable. "
    "Default: none, the emulator stays offline.",
)
@_guard_options
def emulator(keys_file: Path | None, **options: Any) -> None:
    """Serve the RunningHub API locally (really runs a set of ComfyUI image nodes).

    Prints its base URL on stdout when ready; Ctrl-C stops it.

    \b
    Examples:
      runninghub emulator --port 8188 --task-seconds 1
      RUNNINGHUB_BASE_URL=http://127.0.0.1:8188 runninghub run 1904136902449209346
    """
    from runninghub._support import require_extra

    require_extra("emulator", "`runninghub emulator`")
    from runninghub.emulator.options import build_options, read_keys_file
    from runninghub.emulator.server import serve

    options = {name: value for name, value in options.items() if value is not None}
    options["site"] = options.pop("emulated_site", None)
    options["fault_seed"] = options.pop("seed", None)
    if keys_file is not None:
        options["keys"] = sorted(read_keys_file(keys_file))
    try:
        emulator_options = build_options(**options)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    # Prints "RunningHub emulator listening on URL" when ready; returns on Ctrl-C / SIGTERM.
    try:
        serve(emulator_options)
    except OSError as exc:
        raise _bind_error(exc, options["host"], options["port"]) from None


_BIND_PROBLEMS = {
    errno.EADDRINUSE: "port {port} on {host} is already in use; pick another with --port "
    "(0 = any free port)",
    errno.EACCES: "port {port} on {host} needs privileges; pick one above 1023 with --port "
    "(0 = any free port)",
    errno.EADDRNOTAVAIL: "{host} is not an address of this machine (port {port}); "
    "pick another with --host",
}


def _bind_error(exc: OSError, host: str, port: int) -> Exception:
    """A bind failure as one line that names the address (exit 2); anything else unchanged."""
    problem = _BIND_PROBLEMS.get(exc.errno or 0)
    if problem is None:
        return exc
    return click.ClickException(problem.format(host=host, port=port))
