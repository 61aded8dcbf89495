"""A real ``runninghub batch run`` while the account's queue is full (a task from elsewhere
holds the only slot): it says so once per pause, in a log and on a terminal, goes on when a
slot frees, and a Ctrl-C during the pause names the rows that were not submitted."""

from __future__ import annotations

import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.batch.batch_helpers import API_KEY, INVERT, make_images
from tests.cli.cli_harness import runninghub_command
from tests.cli.test_cli_output import _run_on_a_terminal
from tests.cli.test_cli_process import DEADLINE, TEXT_TO_IMAGE, _process, _read_until

QUEUE_FULL = "queue full (1/1 running); waiting for a free slot"


@pytest.fixture
def full_queue(make_emulator: Any, make_raw_api: Any, tmp_path: Path) -> Iterator[Any]:
    """An emulator whose only slot holds a long task, two photos, and an environment."""
    server = make_emulator(concurrency=1, task_seconds=60)
    api = make_raw_api(server, API_KEY)
    occupant = api.run_workflow(TEXT_TO_IMAGE)["taskId"]
    make_images(tmp_path / "photos", 2)
    env = {
        "RUNNINGHUB_API_KEY": API_KEY,
        "RUNNINGHUB_BASE_URL": server.base_url,
        "RUNNINGHUB_CONFIG_DIR": str(tmp_path / "config"),
        "NO_COLOR": "1",
    }

    def free_the_slot() -> None:
        server.configure(task_seconds=0.2)
        api.v1("/task/openapi/cancel", {"taskId": occupant})

    yield {"server": server, "env": env, "cwd": tmp_path, "free": free_the_slot}
    server.configure(task_seconds=0)  # let the tasks end so the fixture stops cleanly


ARGS = ("batch", "run", INVERT, "--inputs", "photos", "--out", "out")


def _refusals(server: Any) -> int:
    """Workflow submits the emulator refused: those it answered less the tasks it created."""
    stats = server.stats()
    submits = sum(n for path, n in stats["requests"].items() if "/run/workflow/" in path)
    return submits - stats["tasks_created"]


def _until_refused(server: Any, times: int) -> None:
    """Wait (polling the emulator, at most DEADLINE) until ``times`` submits were refused."""
    deadline = time.monotonic() + DEADLINE
    while _refusals(server) < times:
        assert time.monotonic() < deadline, server.stats()["requests"]
        threading.Event().wait(0.1)


def test_in_a_log_a_pause_is_one_line_however_many_retries(full_queue: Any) -> None:
    server = full_queue["server"]
    with _process(*ARGS, env=full_queue["env"], cwd=full_queue["cwd"]) as process:
        assert process.stderr is not None
        seen: list[str] = []
        line = _read_until(process.stderr, lambda text: "queue full" in text, seen)
        assert line.strip() == f"{QUEUE_FULL}..."
        _until_refused(server, 3)  # the runner tries again, with growing pauses
        full_queue["free"]()
        _, rest = process.communicate(timeout=DEADLINE)
    stderr = "".join(seen) + rest
    assert process.returncode == 0, stderr
    assert stderr.count("queue full") == 1, stderr
    assert stderr.count("a slot is free again; submitting") == 1, stderr
    assert "row 1: succeeded" in stderr and "row 2: succeeded" in stderr
    assert server.stats()["tasks_created"] == 3


def test_ctrl_c_during_the_pause_names_the_rows_not_submitted(full_queue: Any) -> None:
    with _process(*ARGS, env=full_queue["env"], cwd=full_queue["cwd"]) as process:
        assert process.stderr is not None
        seen: list[str] = []
        _read_until(process.stderr, lambda text: "queue full" in text, seen)
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=DEADLINE)
    stderr = "".join(seen) + rest
    assert process.returncode == 130, stderr
    assert (
        "warning: interrupted while waiting for a free slot of the full queue;"
        " 2 rows not submitted (rows 1-2); submitted tasks keep running;"
        " `batch resume` picks up"
    ) in stderr
    assert "Traceback" not in stderr
    assert full_queue["server"].stats()["tasks_created"] == 1  # only the occupant


def test_on_a_terminal_the_status_line_shows_the_full_queue(full_queue: Any) -> None:
    status = re.compile(
        r"0/2 done  0 running  2 queued  0 failed  -  eta -  \d+s  " + re.escape(QUEUE_FULL)
    )
    freed: list[bool] = []

    def free_once_shown(screen: str) -> None:
        if not freed and status.search(screen):
            full_queue["free"]()
            freed.append(True)

    args = runninghub_command(*ARGS)
    screen = _run_on_a_terminal(args, full_queue["env"], full_queue["cwd"], free_once_shown)
    assert freed, screen[-2000:]  # the status line showed the full queue
    redraws = [part for part in screen.split("\r") if " done " in part]
    assert "2/2 done" in redraws[-1]
    assert "queue full" not in redraws[-1]  # gone once the batch went on
    assert full_queue["server"].stats()["tasks_created"] == 3
