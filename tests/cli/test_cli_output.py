"""How output is shaped: --quiet, --verbose, progress and colour on a terminal, lazy start-up,
and the root help in step with the commands."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from runninghub.cli.main import _SUMMARIES, cli
from tests.cli.cli_harness import Invoker, runninghub_command, subprocess_env

TEXT_TO_IMAGE = "1904136902449209346"
SGR = re.compile(r"\x1b\[([0-9;]*)m")


def _has_colour(screen: str) -> bool:
    """Whether any SGR sequence sets a foreground or background colour (bold is not one)."""
    for match in SGR.finditer(screen):
        codes = [int(code) for code in match.group(1).split(";") if code]
        if any(30 <= c <= 49 or 90 <= c <= 107 for c in codes):
            return True
    return False


def test_quiet_leaves_only_the_result(live: Invoker) -> None:
    result = live("--quiet", "run", TEXT_TO_IMAGE)

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert Path(result.stdout.strip()).is_file()


def test_verbose_shows_the_traceback_and_debug_log_but_never_the_key(
    live: Invoker, rh: Invoker
) -> None:
    failed = rh("--verbose", "status", "1")
    logged = live("--verbose", "app", "inputs", "1877265245566922753")

    assert failed.exit_code == 3
    assert "Traceback" in failed.stderr
    assert failed.stderr.count("error: ") == 1
    assert logged.exit_code == 0, logged.output
    assert "debug: runninghub" in logged.stderr  # the Invoker checks that the key is absent


def test_root_help_lists_each_command_with_its_own_summary() -> None:
    ctx = click.Context(cli)
    for name in cli.list_commands(ctx):
        command = cli.get_command(ctx, name)
        assert command is not None, name
        first_line = (command.help or "").strip().splitlines()[0]
        assert _SUMMARIES[name] == first_line, name


def test_help_loads_no_command_module_and_no_heavy_library(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from runninghub.cli.main import cli\n"
        "cli.main(['--help'], standalone_mode=False)\n"
        "heavy = ('httpx', 'rich', 'starlette', 'uvicorn', 'PIL', 'asyncio', 'websockets')\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in heavy]\n"
        "commands = [m for m in sys.modules if m.startswith('runninghub.cli.')\n"
        "            and m.rsplit('.', 1)[1]\n"
        "            not in ('main', 'seed_form', '_context', '_render', '_globals')]\n"
        "print(sorted(loaded + commands), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env=subprocess_env({"RUNNINGHUB_CONFIG_DIR": str(tmp_path)}),
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stderr.strip() == "[]"


def _run_on_a_terminal(
    args: list[str], env: dict[str, str], cwd: Path, seen: Callable[[str], None] | None = None
) -> str:
    """Run with stdout and stderr on a pseudo-terminal; return everything it wrote.

    ``seen`` is given the screen so far after each read, to act on what the process showed."""
    main, replica = pty.openpty()
    # A wide terminal, so that tables keep each cell on one line.
    fcntl.ioctl(replica, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    process = subprocess.Popen(
        args, env=subprocess_env(env), cwd=cwd, stdout=replica, stderr=replica, close_fds=True
    )
    os.close(replica)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
        if seen is not None:
            seen(b"".join(chunks).decode("utf-8", "replace"))
    process.wait(timeout=60)
    os.close(main)
    assert process.returncode == 0, b"".join(chunks)
    return b"".join(chunks).decode("utf-8", "replace")


def test_progress_is_live_on_a_terminal(make_emulator: Any, api_key: str, tmp_path: Path) -> None:
    server = make_emulator(task_seconds=1.5)
    env = {
        "RUNNINGHUB_API_KEY": api_key,
        "RUNNINGHUB_BASE_URL": server.base_url,
        "RUNNINGHUB_CONFIG_DIR": str(tmp_path / "config"),
        "NO_COLOR": "1",
    }

    screen = _run_on_a_terminal(runninghub_command("run", TEXT_TO_IMAGE), env, tmp_path)

    task_id = re.search(r"task (\d{15,}): waiting", screen)
    assert task_id, screen
    assert re.search(rf"task {task_id.group(1)} · running( · .*\(node \d+\))?.* · \d+ s", screen)
    assert not _has_colour(screen), "NO_COLOR was not respected"


def test_tables_on_a_terminal_respect_no_color(
    make_emulator: Any, api_key: str, tmp_path: Path
) -> None:
    server = make_emulator()
    env = {
        "RUNNINGHUB_API_KEY": api_key,
        "RUNNINGHUB_BASE_URL": server.base_url,
        "RUNNINGHUB_CONFIG_DIR": str(tmp_path / "config"),
    }

    coloured = _run_on_a_terminal(runninghub_command("nodes", TEXT_TO_IMAGE), env, tmp_path)
    plain = _run_on_a_terminal(
        runninghub_command("nodes", TEXT_TO_IMAGE), {**env, "NO_COLOR": "1"}, tmp_path
    )

    assert "Positive Prompt" in plain
    assert "┃" in plain or "│" in plain  # drawn as a table, not tab-separated
    assert _has_colour(coloured)
    assert not _has_colour(plain)


def test_auth_set_on_a_terminal_prompts_without_echo(api_key: str, tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    main, replica = pty.openpty()
    process = subprocess.Popen(
        runninghub_command("auth", "set"),
        env=subprocess_env({"RUNNINGHUB_CONFIG_DIR": str(config_dir)}),
        stdin=replica,
        stdout=replica,
        stderr=replica,
        close_fds=True,
    )
    os.close(replica)
    screen = b""
    while b"API key:" not in screen:
        ready, _, _ = select.select([main], [], [], 30)
        assert ready, f"no prompt; got {screen!r}"
        screen += os.read(main, 1024)
    os.write(main, api_key.encode() + b"\n")
    process.wait(timeout=60)
    with contextlib.suppress(OSError):
        while chunk := os.read(main, 65536):
            screen += chunk
    os.close(main)

    assert process.returncode == 0, screen
    assert api_key.encode() not in screen
    assert b"0123\xe2\x80\xa6cdef" in screen  # the mask, 0123…cdef
    assert json.loads((config_dir / "config.json").read_text())["api_key"] == api_key
