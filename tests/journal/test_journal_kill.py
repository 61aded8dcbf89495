"""A real ``runninghub run`` killed with SIGKILL between the intent and the task id: the journal
shows the submit as ``unknown``, ``history resolve`` attaches the task id found elsewhere, and
``runninghub wait`` fills the record in. The moment is made deterministic by a loopback proxy
that passes the submit to the emulator (the task exists) and holds its answer back."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from runninghub.emulator import EmulatorServer
from runninghub.journal import IntentState, Journal
from tests.cli.cli_harness import runninghub_command, subprocess_env

TEXT_TO_IMAGE = "1904136902449209346"
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


@pytest.fixture
def proxy(emulator: EmulatorServer) -> Iterator[HoldingProxy]:
    server = HoldingProxy(emulator.base_url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    server.upstream.close()


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        runninghub_command(*args), env=env, capture_output=True, text=True, timeout=120
    )


def test_a_run_killed_before_its_task_id_is_unknown_until_resolved_and_waited(
    proxy: HoldingProxy, emulator: EmulatorServer, api_key: str, tmp_path: Path, data_dir: Path
) -> None:
    env = subprocess_env(
        {
            "RUNNINGHUB_API_KEY": api_key,
            "RUNNINGHUB_BASE_URL": proxy.url,
            "RUNNINGHUB_CONFIG_DIR": str(tmp_path / "config"),
        }
    )
    argv = runninghub_command("run", TEXT_TO_IMAGE, "--set", "6.text=a harbour at night")
    child = subprocess.Popen(argv, env=env, cwd=tmp_path, stderr=subprocess.DEVNULL)
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
    task_id = proxy.answer["data"]["taskId"] if "data" in proxy.answer else proxy.answer["taskId"]
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
