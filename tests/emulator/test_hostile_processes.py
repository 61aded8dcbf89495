"""Hostile loads against an emulator process: stopping mid-task, and half-sent requests."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time

import httpx

from runninghub.emulator import EmulatorServer

READY = re.compile(r"RunningHub emulator listening on (http://127\.0\.0\.1:(\d+))")
INVERT = "1987728214757978114"
KEY = "0123456789abcdef0123456789abcdef"
BEARER = {"Authorization": f"Bearer {KEY}"}


# Runs the emulator's module as __main__ after lowering the open-file limit (argv[1]).
_LIMITED = (
    "import resource, runpy, sys\n"
    "limit = int(sys.argv.pop(1))\n"
    "if limit: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))\n"
    "runpy.run_module('runninghub.emulator.server', run_name='__main__', alter_sys=True)\n"
)


def _start(*args: str, max_files: int = 0) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-c", _LIMITED, str(max_files), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    match = READY.fullmatch(process.stdout.readline().strip())
    assert match, process.stderr.read() if process.poll() is not None else "no ready line"
    return process, match.group(1)


def _stop(process: subprocess.Popen[str], how: signal.Signals, timeout: float) -> str:
    """Signal the process and return its stderr; kill it (and fail) if it does not exit."""
    process.send_signal(how)
    try:
        return process.communicate(timeout=timeout)[1]
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise


def _long_graph(blurs: int) -> str:
    graph = {"1": {"class_type": "EmptyImage", "inputs": {"width": 4096, "height": 4096}}}
    for index in range(2, blurs + 2):
        blur = {"image": [str(index - 1), 0], "blur_radius": 31, "sigma": 10.0}
        graph[str(index)] = {"class_type": "ImageBlur", "inputs": blur}
    graph["999"] = {"class_type": "SaveImage", "inputs": {"images": [str(blurs + 1), 0]}}
    return json.dumps(graph)


def _wait_running(url: str, task_id: str) -> None:
    while True:  # ends when RUNNING, or by the test's timeout
        task = httpx.post(f"{url}/openapi/v2/query", json={"taskId": task_id}, headers=BEARER)
        if task.json()["status"] == "RUNNING":
            return
        time.sleep(0.05)


def test_sigterm_stops_a_long_task_and_the_process_exits_cleanly() -> None:
    process, url = _start("--task-seconds", "0", "--queue-seconds", "0")
    try:
        body = {"workflow": _long_graph(60)}
        answer = httpx.post(f"{url}/openapi/v2/run/workflow/{INVERT}", json=body, headers=BEARER)
        task_id = answer.json()["taskId"]
        _wait_running(url, task_id)
    finally:
        # Sixty blurs of a 4096-square image take far longer than this on any machine.
        err = _stop(process, signal.SIGTERM, timeout=15)
    assert process.returncode == 0, err
    assert "Traceback" not in err


def test_a_task_cut_short_by_sigterm_runs_again_after_a_restart(tmp_path) -> None:
    state = str(tmp_path / "state.db")
    process, url = _start("--task-seconds", "0", "--state", state)
    try:
        body = {"workflow": _long_graph(60)}
        answer = httpx.post(f"{url}/openapi/v2/run/workflow/{INVERT}", json=body, headers=BEARER)
        task_id = answer.json()["taskId"]
        _wait_running(url, task_id)
    finally:
        _stop(process, signal.SIGTERM, timeout=15)
    process, url = _start("--task-seconds", "0", "--state", state)
    try:
        again = httpx.post(f"{url}/openapi/v2/query", json={"taskId": task_id}, headers=BEARER)
    finally:
        err = _stop(process, signal.SIGTERM, timeout=15)
    assert again.json()["status"] == "RUNNING", again.json()
    assert "Traceback" not in err


def _half_sent(host: str, port: int, count: int) -> list[socket.socket]:
    hanging = []
    for _ in range(count):
        connection = socket.create_connection((host, port), timeout=10)
        connection.sendall(b"POST /openapi/v2/query HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        hanging.append(connection)
    return hanging


def _answered_despite(url: str) -> httpx.Response:
    while True:  # each try may wait in the backlog or be turned away; ends by the test timeout
        try:
            answer = httpx.post(
                f"{url}/openapi/v2/query", json={"taskId": "1"}, headers=BEARER, timeout=5
            )
        except httpx.TransportError:
            continue
        if answer.status_code == 200:
            return answer


def test_half_sent_headers_time_out_and_the_accept_loop_stays_quiet() -> None:
    process, url = _start("--header-timeout", "0.5", "--max-connections", "1000", max_files=128)
    hanging: list[socket.socket] = []
    try:
        hanging = _half_sent("127.0.0.1", int(url.rsplit(":", 1)[1]), 300)
        answer = _answered_despite(url)
    finally:
        for connection in hanging:
            connection.close()
        err = _stop(process, signal.SIGTERM, timeout=15)
    assert answer.json()["errorCode"] == "1004"
    assert "Traceback" not in err
    assert len(err.splitlines()) < 20, err[:2000]


def test_connections_over_the_cap_are_turned_away_with_503(make_emulator) -> None:
    server: EmulatorServer = make_emulator(max_connections=4)
    host, port = server.base_url.removeprefix("http://").split(":")
    hanging = _half_sent(host, int(port), 4)
    try:
        with socket.create_connection((host, int(port)), timeout=10) as extra:
            turned_away = extra.recv(65536)  # answered before it sends a byte
    finally:
        hanging.pop().close()
    assert turned_away.startswith(b"HTTP/1.1 503")
    assert b"retry-after: 1" in turned_away.lower()
    for connection in hanging:
        connection.close()
    assert _answered_despite(server.base_url).status_code == 200
