"""What the fault, crash and restart campaigns share: expected results computed independently
of the client, the accounting of faults, and a webhook receiver that fails on purpose.

The batch tests' helpers (inputs, fast policies, ledger inspection) are reused from
``tests/batch/batch_helpers.py``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from runninghub._protocol import submit_input_hash
from runninghub.emulator import catalog, nodes
from runninghub.emulator.server import READY_LINE
from tests.batch.batch_helpers import (  # re-exported for the campaign tests
    API_KEY,
    INVERT,
    is_inverted,
    make_images,
    resume_batch,
    row_states,
    start_batch,
)

__all__ = [
    "API_KEY",
    "INVERT",
    "EmulatorProcess",
    "FlakyReceiver",
    "check_fingerprints",
    "check_unknowns_are_lost_answers",
    "cli_command",
    "cli_env",
    "expected_output_sha",
    "free_port",
    "input_fingerprint",
    "is_inverted",
    "lost_answer_kind",
    "make_images",
    "requests_per_task",
    "resume_batch",
    "row_states",
    "sha256",
    "start_batch",
    "upload_name",
    "wait_until",
]

# How the client words a submit whose answer an after-handler fault destroyed, by fault kind.
LOST_ANSWER_SIGNS = {
    "http_500": re.compile(r"answered HTTP 500\b"),
    "truncated": re.compile(r"the connection broke"),
    "non_json": re.compile(r"answered HTTP 200 with a body that is not JSON"),
}


ISOLATED = ("RUNNINGHUB_API_KEY", "RUNNINGHUB_BASE_URL", "RUNNINGHUB_CONFIG_DIR", "NO_COLOR")


def cli_env(config_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a real ``runninghub`` process: the test key, its own config dir,
    nothing inherited from the developer's shell."""
    env = {k: v for k, v in os.environ.items() if k not in ISOLATED}
    env.update(
        RUNNINGHUB_API_KEY=API_KEY, RUNNINGHUB_CONFIG_DIR=str(config_dir), PYTHONUNBUFFERED="1"
    )
    env.update(extra)
    return env


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "runninghub", *args]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload_name(image: Path) -> str:
    """The name the emulator gives a v2 upload: content-addressed."""
    return f"openapi/{sha256(image.read_bytes())}.{image.suffix.lstrip('.')}"


def input_fingerprint(image: Path) -> str:
    """The emulator's fingerprint of the invert workflow run on ``image``."""
    item = {"nodeId": "107", "fieldName": "image", "fieldValue": upload_name(image)}
    return submit_input_hash("workflow", INVERT, [item])


@cache
def _invert_graph() -> dict[str, Any]:
    return catalog.load_workflows()[INVERT]


def expected_output_sha(image: Path) -> str:
    """SHA-256 of the PNG the emulator produces for ``image``, recomputed here by running the
    same graph through the emulator's node engine (no server, no client involved)."""
    graph = copy.deepcopy(_invert_graph())
    graph["107"]["inputs"]["image"] = upload_name(image)
    data = image.read_bytes()
    [produced] = nodes.execute(graph, load_media=lambda name: data)
    return sha256(produced.data)


def lost_answer_kind(error: str) -> str | None:
    """Which after-handler fault a "submit outcome unknown" error reports, if any."""
    for kind, sign in LOST_ANSWER_SIGNS.items():
        if sign.search(error):
            return kind
    return None


def check_unknowns_are_lost_answers(errors: Iterable[str], faults: dict[str, int]) -> int:
    """Every unknown outcome names a lost answer, and no more of each kind than were injected.

    Returns how many there were.
    """
    kinds = Counter()
    for error in errors:
        kind = lost_answer_kind(error)
        assert kind is not None, f"an unknown outcome without a lost answer: {error}"
        kinds[kind] += 1
    for kind, count in kinds.items():
        assert count <= faults.get(kind, 0), f"{count} {kind} unknowns, {faults} injected"
    return sum(kinds.values())


def check_fingerprints(
    stats: dict[str, Any], succeeded: Iterable[str], unknown: Iterable[str]
) -> None:
    """No input ran twice; every success ran once; an unknown input ran at most once; nothing
    ran that was not asked for."""
    counts = stats["tasks_by_fingerprint"]
    assert set(counts.values()) <= {1}, f"an input ran twice: {Counter(counts.values())}"
    ran, done, maybe = set(counts), set(succeeded), set(unknown)
    assert done <= ran, "a success the emulator never ran"
    assert ran <= done | maybe, "a task nobody accounts for"


def requests_per_task(stats: dict[str, Any], tasks: int) -> float:
    return sum(stats["requests"].values()) / tasks


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` every 10 ms until it holds; fail with ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def free_port() -> int:
    """A port that was free a moment ago (the OS does not hand it out again at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class EmulatorProcess:
    """``python -m runninghub.emulator`` as a real process, restartable on the same port.

    ``port`` 0 lets the first start pick one (later starts reuse it). Each start's stderr
    goes to ``log_dir/emulator-<n>.log``.
    """

    def __init__(self, log_dir: Path, port: int, *options: str) -> None:
        self.log_dir = log_dir
        self.port = port
        self.options = options
        self.base_url = ""
        self.proc: subprocess.Popen[str] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        command = [sys.executable, "-m", "runninghub.emulator", "--port", str(self.port)]
        with (self.log_dir / f"emulator-{self.starts}.log").open("w") as log:
            self.proc = subprocess.Popen(
                [*command, *self.options], stdout=subprocess.PIPE, stderr=log, text=True
            )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()  # blocks until ready (or the process died)
        prefix = READY_LINE.format(url="")
        assert line.startswith(prefix), line
        self.base_url = line[len(prefix) :]
        self.port = int(self.base_url.rsplit(":", 1)[1])

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait(timeout=30)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def stats(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.base_url}/__emulator__/stats", timeout=10).json())

    def configure(self, **changes: Any) -> None:
        answer = httpx.post(f"{self.base_url}/__emulator__/config", json=changes, timeout=10)
        assert answer.status_code == 200, answer.text


class FlakyReceiver:
    """A webhook endpoint on 127.0.0.1 that refuses deliveries with HTTP 500 on purpose.

    The n-th task it hears of (counting from 0) is refused ``n % 3`` times before a delivery
    is accepted, so every task gets through within the emulator's retries while a third of
    them need two retries. It records what it received.
    """

    def __init__(self) -> None:
        self.refused = 0
        self.accepted: Counter[str] = Counter()
        self._tries: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True).start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                accept = receiver._record(str(body.get("taskId")))
                self.send_response(200 if accept else 500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def _record(self, task_id: str) -> bool:
        with self._lock:
            if task_id not in self._tries:
                self._tries[task_id] = len(self._tries) % 3
            if self._tries[task_id] > 0:
                self._tries[task_id] -= 1
                self.refused += 1
                return False
            self.accepted[task_id] += 1
            return True

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
