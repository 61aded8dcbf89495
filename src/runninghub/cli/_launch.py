"""The console scripts' entry point: ``runninghub --help`` from a kept copy, the rest by click.

Importing click alone takes about half as long as the whole published RunningHub CLI takes to
print its help. The root help is the same text on every run of one installation, so the first
``runninghub --help`` renders it with click and keeps it under ``<config dir>/cache/help/``;
later ones print the kept copy and import nothing but this module. The copy's name holds
everything the text depends on: the program name, the terminal width, the version, and the
size and modification time of every module of the command line, so an upgrade or an edit
renders it again. A copy that cannot be read or written is simply not used.
"""

from __future__ import annotations

import gc
import os
import sys
import zlib

from runninghub import __version__
from runninghub._support import default_config_dir

__all__ = ["help_cache_file", "main", "terminal_columns"]

_HELP_ARGS = (["--help"], ["-h"])
_CLI_DIR = os.path.dirname(os.path.abspath(__file__))


def main() -> None:
    """``runninghub`` and ``rhub``."""
    if sys.argv[1:] in _HELP_ARGS:
        _print_root_help(os.path.basename(sys.argv[0]) or "runninghub")
        return
    from .main import main as click_main

    try:
        click_main()
    finally:
        # The interpreter's last collection at exit walks every object the command made
        # (85 - 190 ms after a 60-row batch); frozen, they are skipped. Nothing relies on it:
        # ledgers, the journal and saved files are closed explicitly before this point.
        gc.freeze()


def _print_root_help(prog: str) -> None:
    path = help_cache_file(prog)
    text = _read(path)
    if text is None:
        text = _render_root_help(prog)
        _keep(path, text)
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `runninghub --help | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def help_cache_file(prog: str) -> str:
    """Where the root help of ``prog`` at this terminal width is kept."""
    width = terminal_columns()
    return os.path.join(
        default_config_dir(), "cache", "help", f"{prog}-{width}-{_fingerprint()}.txt"
    )


def terminal_columns() -> int:
    """The width click formats help for: ``shutil.get_terminal_size().columns``, computed the
    same way ($COLUMNS, else the terminal, else 80) without importing shutil (and re)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    stdout = sys.__stdout__
    if stdout is None:
        return 80
    try:
        columns = os.get_terminal_size(stdout.fileno()).columns
    except (ValueError, OSError):  # closed, detached, or not a terminal
        return 80
    return columns or 80


def _fingerprint() -> str:
    """A checksum of the version and of the name, size and mtime of each CLI module."""
    parts = [__version__]
    with os.scandir(_CLI_DIR) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name.endswith(".py"):
                stat = entry.stat()
                parts.append(f"{entry.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return format(zlib.crc32("|".join(parts).encode()), "08x")


def _render_root_help(prog: str) -> str:
    import click

    from .main import cli

    with click.Context(cli, info_name=prog, **cli.context_settings) as ctx:
        return ctx.get_help() + "\n"


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read() or None
    except (OSError, ValueError):
        return None


def _keep(path: str, text: str) -> None:
    """Write the copy atomically, and drop the copies made by other versions of the code."""
    folder, name = os.path.split(path)
    current = name.rsplit("-", 1)[1]  # "<fingerprint>.txt": every width of this code stays
    temporary = os.path.join(folder, f".{name}.{os.getpid()}")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
        for old in os.listdir(folder):
            if not old.startswith(".") and not old.endswith(f"-{current}"):
                os.unlink(os.path.join(folder, old))
    except OSError:
        return  # the copy only saves time
