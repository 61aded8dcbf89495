"""A tiny HTTP server on 127.0.0.1 for answers the emulator never gives: hostile output names,
foreign hosts, redirect loops, endless bodies, broken JSON, undocumented statuses, HTML pages.

Each path (any method, query string ignored) answers a scripted :class:`Reply`, or a function
that builds one when the request arrives; an unscripted path answers ``default`` (a JSON 404
unless changed). Every request is recorded as ``"METHOD /path"`` in ``requests`` (its
headers in ``request_headers``), and with the bytes of body sent (up to where the client
hung up) in ``sent``, complete once :meth:`stop` returned.

    with HostileServer() as server:
        server.route("/openapi/v2/query", task_reply(status="PAUSED"))
        client = Client(KEY, base_url=server.base_url)
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

__all__ = ["HostileServer", "Reply", "json_reply", "task_reply"]

CHUNK = 64 * 1024
# An "endless" body still stops somewhere, so that a client that never hangs up cannot pin
# the test run; far above any cap the client is tested with.
ENDLESS_LIMIT = 256 * 1024 * 1024


@dataclass(frozen=True)
class Reply:
    """One scripted answer.

    ``endless``: after ``body``, keep sending bytes (no Content-Length) until the client
    hangs up. ``length``: send a Content-Length header (a number to lie about the size).
    """

    status: int = 200
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    endless: bool = False
    length: int | bool = True


def json_reply(document: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(document).encode())


def task_reply(
    status: str = "SUCCESS", results: Iterable[dict[str, Any]] = (), **fields: Any
) -> Reply:
    """A v2 task object (the answer of query and submit), ``taskId`` "7" unless given."""
    task = {"taskId": "7", "status": status, "errorCode": "", "errorMessage": ""}
    task.update(results=list(results), **fields)
    return json_reply(task)


Script = Reply | Callable[[], Reply]


@dataclass
class _Routes:
    replies: dict[str, Script] = field(default_factory=dict)
    default: Script = field(default_factory=lambda: json_reply({"code": 404, "msg": "nope"}, 404))
    requests: list[str] = field(default_factory=list)
    sent: list[tuple[str, int]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, method: str, path: str, headers: dict[str, str]) -> Reply:
        with self.lock:
            self.requests.append(f"{method} {path}")
            self.headers.append(headers)
            script = self.replies.get(path.split("?", 1)[0], self.default)
        return script() if callable(script) else script


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: _Routes

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self._answer()

    def _answer(self) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = self.routes.answer(self.command, self.path, headers)
        self.send_response(reply.status)
        if reply.content_type:
            self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers:
            self.send_header(name, value)
        if reply.length is not False and not reply.endless:
            size = len(reply.body) if reply.length is True else int(reply.length)
            self.send_header("Content-Length", str(size))
        self.end_headers()
        sent = 0
        try:
            self.wfile.write(reply.body)
            sent = len(reply.body)
            while reply.endless and sent < ENDLESS_LIMIT:
                self.wfile.write(b"x" * CHUNK)
                sent += CHUNK
        except OSError:
            pass  # the client hung up: what a capped reader does
        with self.routes.lock:
            self.routes.sent.append((f"{self.command} {self.path}", sent))

    def log_message(self, format: str, *args: Any) -> None:
        return None


class HostileServer:
    """Serves scripted replies on ``base_url`` until :meth:`stop` (or the ``with`` block ends)."""

    def __init__(self) -> None:
        self._routes = _Routes()
        handler = type("Handler", (_Handler,), {"routes": self._routes})
        # Not daemon threads: closing the server waits for every answer to end.
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = False
        self._stopped = False
        # A short poll interval: shutdown() waits for one, and every test stops a server.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def route(self, path: str, reply: Script) -> None:
        """Answer ``path`` (any method) with ``reply`` from now on."""
        with self._routes.lock:
            self._routes.replies[path] = reply

    def default(self, reply: Script) -> None:
        """Answer every unscripted path with ``reply``."""
        with self._routes.lock:
            self._routes.default = reply

    @property
    def requests(self) -> list[str]:
        with self._routes.lock:
            return list(self._routes.requests)

    @property
    def request_headers(self) -> list[dict[str, str]]:
        """The headers of each request, in the order of ``requests`` (names in lower case)."""
        with self._routes.lock:
            return list(self._routes.headers)

    @property
    def sent(self) -> list[tuple[str, int]]:
        with self._routes.lock:
            return list(self._routes.sent)

    def start(self) -> HostileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and wait for the answers in progress (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
