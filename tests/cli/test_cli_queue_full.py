"""A full queue on a real ``runninghub run``: it says so, waits, and a Ctrl-C submits nothing."""

from __future__ import annotations

import re
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli_process import DEADLINE, TEXT_TO_IMAGE, _process, _read_until


@pytest.fixture
def full_queue(make_emulator: Any, make_raw_api: Any, api_key: str, tmp_path: Path) -> Any:
    """An emulator whose only slot holds a long task, and a process environment aimed at it."""
    server = make_emulator(concurrency=1, task_seconds=60)
    api = make_raw_api(server)
    occupant = api.run_workflow(TEXT_TO_IMAGE)["taskId"]
    env = {
        "RUNNINGHUB_API_KEY": api_key,
        "RUNNINGHUB_BASE_URL": server.base_url,
        "RUNNINGHUB_CONFIG_DIR": str(tmp_path / "config"),
    }
    yield {"server": server, "api": api, "occupant": occupant, "env": env, "cwd": tmp_path}
    server.configure(task_seconds=0)  # let the tasks end so the fixture stops cleanly


def _queue_line(text: str) -> bool:
    return "queue full" in text


def _long_pause(text: str) -> bool:
    """A queue-full line announcing a pause of 6 s or more (the third: the backoff doubles
    from 2 s, less up to a quarter of jitter), so that a Ctrl-C sent on reading it lands in
    the pause even on a busy machine, not in the next submit."""
    found = re.search(r"queue full .* next try in (\d+) s", text)
    return found is not None and int(found.group(1)) >= 6


def test_a_full_queue_is_announced_and_the_run_goes_on_once_a_slot_frees(full_queue: Any) -> None:
    server = full_queue["server"]
    with _process("run", TEXT_TO_IMAGE, env=full_queue["env"], cwd=full_queue["cwd"]) as process:
        assert process.stderr is not None
        seen: list[str] = []
        line = _read_until(process.stderr, _queue_line, seen)
        assert "queue full (1/1 running); waiting for a free slot..." in line
        assert server.stats()["tasks_created"] == 1
        server.configure(task_seconds=0.2)
        full_queue["api"].v1("/task/openapi/cancel", {"taskId": full_queue["occupant"]})
        out, rest = process.communicate(timeout=DEADLINE)
    assert process.returncode == 0, "".join(seen) + rest
    assert server.stats()["tasks_created"] == 2
    assert out.strip().endswith(".png")


def test_ctrl_c_while_the_queue_is_full_says_nothing_was_submitted(full_queue: Any) -> None:
    with _process("run", TEXT_TO_IMAGE, env=full_queue["env"], cwd=full_queue["cwd"]) as process:
        assert process.stderr is not None
        seen: list[str] = []
        _read_until(process.stderr, _long_pause, seen)
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=DEADLINE)
    stderr = "".join(seen) + rest
    assert process.returncode == 130, stderr
    assert "error: interrupted while waiting for a free slot; nothing was submitted" in stderr
    assert "Traceback" not in stderr and "hint: resume" not in stderr
    assert full_queue["server"].stats()["tasks_created"] == 1
