"""A server that drips its answer one byte at a time cannot hold a request past its deadline.

httpx bounds each read, and a byte every half second satisfies every read. The client bounds
every request as a whole: a wait's requests end at the wait's deadline (plus one last look),
and any request or download is cut when it stalls for the client's ``timeout``. The server
here is a real socket server on 127.0.0.1 that writes one byte every ``DRIP`` seconds, the
status line and headers included. The emulator's time scale does not apply to it: times are
small and real, and the upper bounds on durations are generous (they only catch a hang).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from runninghub import (
    APIConnectionError,
    APITimeoutError,
    AsyncClient,
    Client,
    PollPolicy,
    RetryPolicy,
    WaitTimeoutError,
)
from tests.cli.cli_harness import ISOLATED, Invoker
from tests.reliability.test_hostile_server import KEY, Blocking

DRIP = 0.25  # seconds between two bytes
HANG = 30.0  # far beyond every deadline below: reaching it means the deadline did not hold
QUERY = "/openapi/v2/query"
RUNNING = {"taskId": "7", "status": "RUNNING", "errorCode": "", "errorMessage": "", "results": []}


def http_answer(body: bytes, content_type: str = "application/json") -> bytes:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


class DripServer:
    """Answers each path with scripted bytes: all at once, or (``drip``) one byte at a time."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._answers: dict[str, tuple[bytes, bool]] = {}
        self._stopping = threading.Event()
        self.requests: list[str] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def route(self, path: str, answer: bytes, *, drip: bool = False) -> None:
        self._answers[path] = (answer, drip)

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return  # closed by stop()
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            request = self._read_request(connection)
            path = request.split(" ")[1].split("?")[0] if request.count(" ") >= 2 else ""
            self.requests.append(path)
            answer, drip = self._answers.get(path, (http_answer(b"{}"), False))
            try:
                if not drip:
                    connection.sendall(answer)
                    return
                for index in range(len(answer)):
                    if self._stopping.wait(DRIP):
                        return
                    connection.sendall(answer[index : index + 1])
            except OSError:
                return  # the client hung up: what a deadline does

    @staticmethod
    def _read_request(connection: socket.socket) -> str:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = connection.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            (int(line.split(b":")[1]) for line in head.split(b"\r\n")
             if line.lower().startswith(b"content-length:")), 0,
        )  # fmt: skip
        while len(body) < length and (chunk := connection.recv(65536)):
            body += chunk
        return head.split(b"\r\n")[0].decode("latin-1")

    def __enter__(self) -> DripServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._listener.close()


@pytest.fixture
def drip() -> Iterator[DripServer]:
    with DripServer() as server:
        yield server


def options(server: DripServer, tmp_path: Path, timeout: float) -> dict[str, Any]:
    return {
        "base_url": server.base_url,
        "timeout": timeout,
        "retry": RetryPolicy(max_attempts=2, initial_delay=0.01, max_delay=0.02),
        "poll": PollPolicy(initial=0.05, factor=1.0, max_interval=0.05, websocket=False),
        "config_dir": tmp_path / "config",
        "validate": False,
    }


@contextmanager
def client_faces(face: str, settings: dict[str, Any]) -> Iterator[Any]:
    """One face of the client behind a blocking interface."""
    if face == "sync":
        with Client(KEY, **settings) as sync_client:
            yield Blocking(sync_client, None)
        return
    loop = asyncio.new_event_loop()
    async_client = AsyncClient(KEY, **settings)
    try:
        yield Blocking(async_client, loop)
    finally:
        loop.run_until_complete(async_client.close())
        loop.close()


@pytest.mark.parametrize("face", ["sync", "async"])
def test_a_dripped_poll_ends_at_the_wait_deadline(
    drip: DripServer, tmp_path: Path, face: str
) -> None:
    drip.route(QUERY, http_answer(json.dumps(RUNNING).encode()), drip=True)
    started = time.monotonic()

    with client_faces(face, options(drip, tmp_path, timeout=HANG)) as client:
        with pytest.raises(WaitTimeoutError, match="did not finish within 1 s") as caught:
            client.task("7").wait(timeout=1)

    assert caught.value.task_id == "7"
    assert time.monotonic() - started < HANG / 2
    assert drip.requests[:2] == [QUERY, QUERY]  # the first poll, then the last look


@pytest.mark.parametrize("face", ["sync", "async"])
def test_a_stalled_answer_is_cut_at_the_client_timeout(
    drip: DripServer, tmp_path: Path, face: str
) -> None:
    drip.route(QUERY, http_answer(json.dumps(RUNNING).encode()), drip=True)
    started = time.monotonic()

    with client_faces(face, options(drip, tmp_path, timeout=1)) as client:
        with pytest.raises(APITimeoutError, match="timed out waiting for the answer"):
            client.query("7")

    assert time.monotonic() - started < HANG / 2
    assert drip.requests == [QUERY, QUERY]  # a query is retried, each attempt cut


@pytest.mark.parametrize("face", ["sync", "async"])
def test_a_dripped_download_is_cut_at_the_client_timeout(
    drip: DripServer, tmp_path: Path, face: str
) -> None:
    picture = b"\x89PNG\r\n\x1a\n" + b"p" * 200
    done = {**RUNNING, "status": "SUCCESS", "results": [{"url": f"{drip.base_url}/f/a.png"}]}
    drip.route(QUERY, http_answer(json.dumps(done).encode()))
    drip.route("/f/a.png", http_answer(picture, "image/png"), drip=True)
    started = time.monotonic()

    with client_faces(face, options(drip, tmp_path, timeout=1)) as client:
        task = client.query("7")
        with pytest.raises(APIConnectionError, match=r"download of 7-\S+\.png failed: timed out"):
            client.download(task, tmp_path / "out")

    assert time.monotonic() - started < HANG
    assert not any(path.suffix == ".png" for path in (tmp_path / "out").glob("*"))


def test_the_cli_wait_exits_5_at_its_deadline_against_a_drip(
    drip: DripServer, tmp_path: Path
) -> None:
    drip.route(QUERY, http_answer(json.dumps(RUNNING).encode()), drip=True)
    env: dict[str, str | None] = dict.fromkeys(ISOLATED)
    env.update(
        RUNNINGHUB_API_KEY=KEY,
        RUNNINGHUB_BASE_URL=drip.base_url,
        RUNNINGHUB_CONFIG_DIR=str(tmp_path / "config"),
    )
    started = time.monotonic()

    result = Invoker(env=env, secrets=(KEY,))("wait", "7", "--timeout", "1.5")

    assert result.exit_code == 5, result.output
    assert "task 7 did not finish within 1.5 s" in result.stderr
    assert "resume with: runninghub wait 7" in result.stderr
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < HANG / 2
