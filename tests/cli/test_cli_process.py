"""Real ``runninghub`` processes: start-up, Ctrl-C while waiting, the emulator command."""

from __future__ import annotations

import json
import re
import selectors
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pytest

from tests.cli.cli_harness import runninghub_command, sigint_reaches_children, subprocess_env

TEXT_TO_IMAGE = "1904136902449209346"
TASK_ID = re.compile(r"task (\d{15,})")
DEADLINE = 30.0


def _read_until(stream: IO[str], found: Callable[[str], bool], seen: list[str]) -> str:
    """Read lines from ``stream`` until one satisfies ``found``; fail after DEADLINE."""
    selector = selectors.DefaultSelector()
    selector.register(stream, selectors.EVENT_READ)
    deadline = time.monotonic() + DEADLINE
    try:
        while (left := deadline - time.monotonic()) > 0:
            if not selector.select(timeout=left):
                continue
            line = stream.readline()
            if not line:
                break
            seen.append(line)
            if found(line):
                return line
    finally:
        selector.close()
    raise AssertionError(f"never saw the expected line; got {''.join(seen)!r}")


@contextmanager
def _process(*args: str, env: dict[str, str], cwd: Path) -> Iterator[subprocess.Popen[str]]:
    with sigint_reaches_children():
        process = subprocess.Popen(
            runninghub_command(*args),
            env=subprocess_env(env),
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=DEADLINE)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def slow_env(make_emulator: Any, api_key: str, tmp_path: Path) -> dict[str, Any]:
    """A process environment pointed at an emulator whose tasks run for a minute."""
    server = make_emulator(task_seconds=60)
    env = {
        "RUNNINGHUB_API_KEY": api_key,
        "RUNNINGHUB_BASE_URL": server.base_url,
        "RUNNINGHUB_CONFIG_DIR": str(tmp_path / "config"),
    }
    return {"server": server, "env": env, "cwd": tmp_path}


def _interrupt_while_waiting(slow_env: dict[str, Any], *extra: str) -> tuple[int, str, str]:
    """Run a long task, wait for the "waiting" line, send SIGINT; return (code, id, stderr)."""
    args = ("run", TEXT_TO_IMAGE, *extra)
    with _process(*args, env=slow_env["env"], cwd=slow_env["cwd"]) as process:
        assert process.stderr is not None
        seen: list[str] = []
        line = _read_until(process.stderr, lambda text: "waiting" in text, seen)
        match = TASK_ID.search(line)
        assert match, line
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=DEADLINE)
        return process.returncode, match.group(1), "".join(seen) + rest


def test_ctrl_c_stops_waiting_and_prints_how_to_resume(slow_env: dict[str, Any]) -> None:
    code, task_id, stderr = _interrupt_while_waiting(slow_env)

    assert code == 130, stderr
    assert f"hint: resume with: runninghub wait {task_id}" in stderr
    assert "Traceback" not in stderr
    server = slow_env["server"]
    assert server.stats()["tasks_by_status"].get("CANCEL", 0) == 0
    server.configure(task_seconds=0)  # let the task end so the fixture stops cleanly


def test_ctrl_c_reaches_the_child_when_the_suite_itself_ignores_sigint(
    slow_env: dict[str, Any],
) -> None:
    # What `make test &` in a script does to this process: SIGINT ignored, and inherited so.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        code, task_id, stderr = _interrupt_while_waiting(slow_env)
    finally:
        signal.signal(signal.SIGINT, previous)

    assert code == 130, stderr
    assert f"hint: resume with: runninghub wait {task_id}" in stderr
    slow_env["server"].configure(task_seconds=0)  # let the task end so the fixture stops cleanly


def test_cancel_on_interrupt_cancels_the_task(slow_env: dict[str, Any]) -> None:
    code, task_id, stderr = _interrupt_while_waiting(slow_env, "--cancel-on-interrupt")

    assert code == 130, stderr
    assert f"task {task_id} was cancelled" in stderr
    assert slow_env["server"].stats()["tasks_by_status"] == {"CANCEL": 1}


def _run_once(config_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``runninghub ARGS`` to its end, with no key and its own config dir."""
    return subprocess.run(
        runninghub_command(*args),
        env=subprocess_env({"RUNNINGHUB_CONFIG_DIR": str(config_dir)}),
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )


def test_help_in_a_real_process(tmp_path: Path) -> None:
    result = _run_once(tmp_path, "--help")

    assert result.returncode == 0
    assert "Usage: runninghub" in result.stdout
    assert result.stderr == ""


def test_json_errors_in_a_real_process(tmp_path: Path) -> None:
    result = _run_once(tmp_path, "status", "1", "--json")

    assert result.returncode == 3
    assert json.loads(result.stdout)["error"]["type"] == "ConfigError"


def test_the_emulator_command_serves_until_interrupted(api_key: str, tmp_path: Path) -> None:
    with _process(
        "emulator", "--port", "0", "--task-seconds", "0.1", env={}, cwd=tmp_path
    ) as emulator:
        assert emulator.stdout is not None
        ready = _read_until(emulator.stdout, lambda text: "listening on" in text, [])
        base_url = ready.rsplit(" ", 1)[1].strip()
        env = {
            "RUNNINGHUB_API_KEY": api_key,
            "RUNNINGHUB_CONFIG_DIR": str(tmp_path / "config"),
        }
        account = subprocess.run(
            runninghub_command("--base-url", base_url, "account", "--json"),
            env=subprocess_env(env),
            capture_output=True,
            text=True,
            timeout=DEADLINE,
            check=False,
        )
        emulator.send_signal(signal.SIGINT)
        emulator.wait(timeout=DEADLINE)

    assert ready.startswith("RunningHub emulator listening on http://127.0.0.1:")
    assert account.returncode == 0, account.stderr
    assert json.loads(account.stdout)["concurrent_limit"] == 2
    assert emulator.returncode == 0


def test_a_port_in_use_is_named_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run_once(tmp_path, "emulator", "--port", str(port))

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: port {port} on 127.0.0.1 is already in use; pick another with --port "
        "(0 = any free port)\n"
    )
