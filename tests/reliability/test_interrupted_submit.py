"""Ctrl-C while the submit is on its way: a real ``runninghub`` process, interrupted (SIGINT)
while the emulator holds the submit's answer, says a task may exist and how to check, exits
130, and leaves the submit in the journal as ``unknown`` for ``history`` to show.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from runninghub.emulator import EmulatorServer
from tests.cli.cli_harness import runninghub_command, sigint_reaches_children, subprocess_env
from tests.conftest import API_KEY

DEADLINE = 60.0  # generous: only reached when something hangs
HELD = 20.0  # how long the emulator holds every API answer (the process is interrupted first)
COMMANDS = {
    "run": ("run", "1904136902449209346", "--no-validate"),
    "app run": ("app", "run", "1877265245566922753", "--no-validate"),
    "model run": (
        "model", "run", "rhart-image-n-pro/text-to-image", "--no-validate",
        "--set", "prompt=a red fox",
    ),
}  # fmt: skip
SUBMIT_PATHS = ("/openapi/v2/run/", "/openapi/v2/rhart-")


def submits_received(server: EmulatorServer) -> int:
    requests: dict[str, int] = server.stats()["requests"]
    return sum(n for path, n in requests.items() if path.startswith(SUBMIT_PATHS))


def wait_for_a_submit(server: EmulatorServer, process: subprocess.Popen[str]) -> None:
    """Until the emulator has the submit request in hand (and holds its answer)."""
    deadline = time.monotonic() + DEADLINE
    while submits_received(server) == 0:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the submit never reached the emulator"
        time.sleep(0.05)


@pytest.fixture
def holding(make_emulator: Any, tmp_path: Path) -> tuple[EmulatorServer, dict[str, str]]:
    server = make_emulator(fault_rate=1.0, fault_kinds=("slow",), fault_slow_seconds=HELD)
    env = subprocess_env(
        {
            "RUNNINGHUB_API_KEY": API_KEY,
            "RUNNINGHUB_BASE_URL": server.base_url,
            "RUNNINGHUB_CONFIG_DIR": str(tmp_path / "config"),
            "RUNNINGHUB_DATA_DIR": str(tmp_path / "data"),
        }
    )
    return server, env


@pytest.mark.parametrize("command", list(COMMANDS))
def test_ctrl_c_during_the_submit_says_a_task_may_exist(
    holding: tuple[EmulatorServer, dict[str, str]], tmp_path: Path, command: str
) -> None:
    server, env = holding
    with sigint_reaches_children():
        process = subprocess.Popen(
            runninghub_command(*COMMANDS[command]),
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    try:
        wait_for_a_submit(server, process)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=DEADLINE)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert (
        "error: interrupted during the submit: a task may have been created (and billed)"
        in stderr.splitlines()
    )
    assert "hint: check with: runninghub history --status unknown" in stderr
    assert "runninghub history resolve INTENT --task ID" in stderr
    assert stdout == ""

    listed = subprocess.run(
        runninghub_command("history", "--status", "unknown", "--json"),
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    (entry,) = json.loads(listed.stdout)["entries"]
    assert entry["state"] == "unknown"
