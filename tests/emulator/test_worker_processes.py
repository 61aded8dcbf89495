"""Graphs execute in worker processes of the emulator, which never outlive it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import API_KEY

from .test_hostile_processes import BEARER, INVERT, _long_graph, _start, _stop, _wait_running


def _parents() -> dict[int, int]:
    """The parent of every live process (read from /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # ended while we looked
        if fields[0] != "Z":
            parents[int(stat.parent.name)] = int(fields[1])
    return parents


def _children(pid: int) -> set[int]:
    """Every live descendant of ``pid``."""
    parents = _parents()
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def _running_task(url: str) -> str:
    body = {"workflow": _long_graph(60)}
    answer = httpx.post(f"{url}/openapi/v2/run/workflow/{INVERT}", json=body, headers=BEARER)
    task_id: str = answer.json()["taskId"]
    _wait_running(url, task_id)
    return task_id


def _workers(server: int) -> set[int]:
    """The worker processes (the server's children), once there are some."""
    while True:  # ends when the first worker has started, or by the test's timeout
        workers = _children(server)
        if workers:
            return workers
        time.sleep(0.05)


def _status(url: str, task_id: str) -> dict[str, object]:
    while True:  # ends when the task has ended, or by the test's timeout
        answer = httpx.post(f"{url}/openapi/v2/query", json={"taskId": task_id}, headers=BEARER)
        task: dict[str, object] = answer.json()
        if task["status"] not in ("QUEUED", "RUNNING"):
            return task
        time.sleep(0.05)


def test_no_worker_starts_before_the_first_task() -> None:
    process, url = _start("--task-seconds", "0")
    try:
        idle = _children(process.pid)
        _running_task(url)
        busy = _workers(process.pid)
    finally:
        _stop(process, signal.SIGTERM, timeout=15)
    assert idle == set()
    assert busy, "the graph did not run in a worker process"


def test_sigterm_ends_the_workers_with_the_server() -> None:
    process, url = _start("--task-seconds", "0", "--queue-seconds", "0")
    try:
        _running_task(url)
        workers = _workers(process.pid)
    finally:
        err = _stop(process, signal.SIGTERM, timeout=15)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert workers
    # The server stops its workers before it exits (not their watch of it, half a second on).
    assert not any(_alive(pid) for pid in workers)


def test_workers_of_a_killed_server_exit_on_their_own() -> None:
    process, url = _start("--task-seconds", "0")
    try:
        _running_task(url)
        workers = _workers(process.pid)
    finally:
        _stop(process, signal.SIGKILL, timeout=15)
    assert workers
    _wait_gone(workers)


def _wait_gone(pids: set[int]) -> None:
    # A worker notices its server's end within half a second; a leak never ends.
    while any(_alive(pid) for pid in pids):  # ends when they exit, or by the test timeout
        time.sleep(0.05)


def test_a_killed_worker_fails_its_task_and_the_next_task_runs() -> None:
    process, url = _start("--task-seconds", "0")
    try:
        task_id = _running_task(url)
        workers = _workers(process.pid)
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        failed = _status(url, task_id)
        body = {"workflow": _long_graph(1)}
        run = httpx.post(f"{url}/openapi/v2/run/workflow/{INVERT}", json=body, headers=BEARER)
        after = _status(url, run.json()["taskId"])
    finally:
        _stop(process, signal.SIGTERM, timeout=15)
    assert failed["status"] == "FAILED"
    assert "ended abruptly" in json.dumps(failed["failedReason"])
    assert after["status"] == "SUCCESS", after


def _niceness(pid: int) -> int:
    # Field 19 of /proc/PID/stat; the fields after the command's closing parenthesis start at 3.
    return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[16])


def test_workers_run_below_the_server_s_priority() -> None:
    process, url = _start("--task-seconds", "0")
    try:
        _running_task(url)
        workers = _workers(process.pid)
        wanted = min(_niceness(process.pid) + 10, 19)
        # A worker sets its priority as it starts, then starts the thread watching the
        # server: once that thread runs, the priority is the one it keeps.
        while not all(_threads(pid) > 1 for pid in workers if _alive(pid)):
            time.sleep(0.05)
        niceness = {_niceness(pid) for pid in workers if _alive(pid)}
    finally:
        _stop(process, signal.SIGTERM, timeout=15)
    assert niceness == {wanted}


def _threads(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return int(status.partition("Threads:")[2].split()[0])


_SCRIPT_WITHOUT_GUARD = """
import runninghub
from runninghub.emulator import serve_in_thread

print("top-level code ran")
with serve_in_thread(task_seconds=0.2, concurrency=2) as server:
    client = runninghub.Client({key!r}, base_url=server.base_url)
    task = client.run("1900000000000000201")
    print("status:", task.status.value, "outputs:", len(task.outputs))
"""


def test_a_script_without_a_main_guard_embeds_the_emulator(tmp_path: Path) -> None:
    # The README's example as a plain script: its workers must not run it again.
    script = tmp_path / "embed.py"
    script.write_text(_SCRIPT_WITHOUT_GUARD.format(key=API_KEY))
    env = {**os.environ, "HOME": str(tmp_path), "RUNNINGHUB_CONFIG_DIR": str(tmp_path / "cfg")}
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("top-level code ran") == 1
    assert "status: SUCCESS outputs: 3" in done.stdout, done.stdout
    assert "Traceback" not in done.stderr
