"""A real ``runninghub run`` killed with SIGKILL between the intent and the task id: the journal
shows the submit as ``unknown``, ``history resolve`` attaches the task id found elsewhere, and
``runninghub wait`` fills the record in. The moment is made deterministic by a loopback proxy
that passes the submit to the emulator (the task exists) and holds its answer back."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.cli.cli_harness import runninghub_command, subprocess_env

from runninghub.emulator import EmulatorServer
from runninghub.journal import IntentState, Journal

TEXT_TO_IMAGE = "1904136902449209346"
PROMPT = "6.text=a harbour at night"
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


class HoldingProxy(ThreadingHTTPServer):
    """Forwards every request to the emulator; keeps a submit's answer to itself."""

    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.upstream = httpx.Client(base_url=upstream, trust_env=False, timeout=30)
        self.submitted = threading.Event()
        self.release = threading.Event()
        self.answer: dict[str, Any] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Forward(BaseHTTPRequestHandler):
    server: HoldingProxy

    def do_GET(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
        answer = self.server.upstream.request(
            self.command, self.path, content=body, headers=headers
        )
        if self.path.startswith("/openapi/v2/run/"):
            self.server.answer = answer.json()
            self.server.submitted.set()
            self.server.release.wait()  # the client is killed while it waits for this
            return
        self.send_response(answer.status_code)
        for name, value in answer.headers.items():
            if name.lower() not in _HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    def log_message(self, format: str, *args: Any) -> None:
        del format, args


@contextlib.contextmanager
def _proxy_to(emulator: EmulatorServer) -> Iterator[HoldingProxy]:
    server = HoldingProxy(emulator.base_url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        server.upstream.close()


@pytest.fixture
def proxy(emulator: EmulatorServer) -> Iterator[HoldingProxy]:
    with _proxy_to(emulator) as server:
        yield server


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        runninghub_command(*args), check=False, env=env, capture_output=True, text=True, timeout=120
    )


def _env(api_key: str, base_url: str, tmp_path: Path) -> dict[str, str]:
    return subprocess_env(
        {
            "RUNNINGHUB_API_KEY": api_key,
            "RUNNINGHUB_BASE_URL": base_url,
            "RUNNINGHUB_CONFIG_DIR": str(tmp_path / "config"),
        }
    )


def _killed_run(proxy: HoldingProxy, env: dict[str, str], cwd: Path, *args: str) -> str:
    """Start ``runninghub ARGS`` through the proxy, kill -9 it once its submit has created a
    task but before the answer arrives; the task id the answer held."""
    child = subprocess.Popen(runninghub_command(*args), env=env, cwd=cwd, stderr=subprocess.DEVNULL)
    try:
        assert proxy.submitted.wait(timeout=120), "the submit never reached the emulator"
        with Journal.open() as journal:
            [entry] = journal.history()
            assert entry.state is IntentState.SUBMITTING  # written before the submit was sent
        child.kill()
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
    return str(proxy.answer["taskId"])


def test_a_run_killed_before_its_task_id_is_unknown_until_resolved_and_waited(
    proxy: HoldingProxy, emulator: EmulatorServer, api_key: str, tmp_path: Path
) -> None:
    env = _env(api_key, proxy.url, tmp_path)
    task_id = _killed_run(proxy, env, tmp_path, "run", TEXT_TO_IMAGE, "--set", PROMPT)
    assert emulator.stats()["tasks_created"] == 1

    env["RUNNINGHUB_BASE_URL"] = emulator.base_url  # later sessions reach the service itself
    listed = json.loads(_cli(env, "history", "--json").stdout)
    [unknown] = listed["unknown"]
    assert unknown["status"] == "unknown" and unknown["task_id"] is None
    assert "harbour" in unknown["summary"]

    resolved = _cli(env, "history", "resolve", f"i{unknown['intent']}", "--task", task_id)
    assert resolved.returncode == 0, resolved.stderr
    waited = _cli(env, "wait", task_id, "--out", str(tmp_path / "out"), "--json")
    assert waited.returncode == 0, waited.stderr
    shown = json.loads(_cli(env, "history", "show", task_id, "--json").stdout)
    assert shown["status"] == "SUCCESS" and shown["task_id"] == task_id
    assert shown["outputs"] and all(item["sha256"] for item in shown["outputs"])
    assert shown["usage"]["coins"] not in (None, "0")
    found = json.loads(_cli(env, "history", "--search", "harbour", "--json").stdout)
    assert [item["task_id"] for item in found["entries"]] == [task_id]
    assert found["unknown"] == []


def test_a_new_submit_of_the_same_input_is_warned_while_the_account_runs_an_unknown_task(
    make_emulator: Callable[..., EmulatorServer], api_key: str, tmp_path: Path
) -> None:
    slow = make_emulator(queue_seconds=0, task_seconds=3600, concurrency=5)  # still running
    with _proxy_to(slow) as proxy:
        env = _env(api_key, proxy.url, tmp_path)
        _killed_run(proxy, env, tmp_path, "run", TEXT_TO_IMAGE, "--set", PROMPT)
    env["RUNNINGHUB_BASE_URL"] = slow.base_url

    other = _cli(env, "run", TEXT_TO_IMAGE, "--set", "6.text=another input", "--no-wait")
    assert other.returncode == 0, other.stderr
    assert "warning" not in other.stderr
    again = _cli(env, "run", TEXT_TO_IMAGE, "--set", PROMPT, "--no-wait")
    assert again.returncode == 0, again.stderr
    [warning] = [line for line in again.stderr.splitlines() if line.startswith("warning:")]
    assert "the account runs 2 task(s) and the journal knows of 1" in warning
    assert "runninghub history resolve i1 --task TASK_ID" in warning
    assert slow.stats()["tasks_created"] == 3  # a warning, never a refusal
