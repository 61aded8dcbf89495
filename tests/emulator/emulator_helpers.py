"""Real network parts for the emulator tests: a webhook receiver and a TCP port map.

Both listen on 127.0.0.1 (port 0) in daemon threads and are closed by their fixtures.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    """A webhook endpoint on 127.0.0.1 that answers 500 to the first ``failures`` calls."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                with receiver.lock:
                    receiver.calls.append(body)
                    failing = len(receiver.calls) <= receiver.failures
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"no" if failing else b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def wait_for(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.calls) < count:
            assert time.monotonic() < deadline, f"{len(self.calls)} of {count} calls"
            time.sleep(0.02)
        return list(self.calls)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_for_deliveries(server: Any, count: int, timeout: float = 10) -> None:
    """Until the emulator ``server`` has delivered ``count`` webhooks (fails after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while server.stats()["webhooks"]["delivered"] < count:
        assert time.monotonic() < deadline, server.stats()["webhooks"]
        time.sleep(0.02)


class PortMap:
    """A TCP port map on 127.0.0.1, like a NAT or ``docker -p``: every connection to
    :attr:`port` is piped, byte for byte, to ``target`` (set once the target is known)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.target: tuple[str, int] | None = None
        self.connections = 0
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def forward_to(self, url: str) -> None:
        host, _, port = url.split("://", 1)[1].rstrip("/").rpartition(":")
        self.target = (host, int(port))

    def _accept(self) -> None:
        while True:
            try:
                inbound, _ = self.listener.accept()
            except OSError:  # closed
                return
            assert self.target is not None, "the port map has no target yet"
            outbound = socket.create_connection(self.target)
            with self._lock:
                self.connections += 1
                self._sockets += [inbound, outbound]
            for source, sink in ((inbound, outbound), (outbound, inbound)):
                threading.Thread(target=_pipe, args=(source, sink), daemon=True).start()

    def close(self) -> None:
        self.listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    """Copy until the source ends, then end the other direction's write side too."""
    with contextlib.suppress(OSError):
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)
