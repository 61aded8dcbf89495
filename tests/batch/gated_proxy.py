"""A forwarding HTTP proxy on 127.0.0.1 that can hold requests at a gate until the test opens it.

It lets a test choose the moment at which two real processes pass a step (both wait at the
gate until both arrived), or act while a request is provably in flight (a submit held at the
gate while the test sends a signal to the process that sent it). Everything else is passed
through to the target unchanged.

    with GatedProxy(emulator.base_url) as proxy:
        gate = proxy.gate("/openapi/v2/run/workflow/")
        ... start processes against proxy.base_url ...
        gate.wait_for(1)      # a submit has arrived and is held
        gate.open()           # let it (and every later one) through
"""

from __future__ import annotations

import http.client
import http.server
import threading
import urllib.parse
from types import TracebackType
from typing import Any

__all__ = ["Gate", "GatedProxy"]

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}
_GATE_TIMEOUT = 60.0  # a gate nobody opens still lets go, so a failing test cannot hang


class Gate:
    """Holds the requests whose path starts with ``prefix`` until :meth:`open`."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._opened = threading.Event()
        self._arrived = threading.Condition()
        self.count = 0

    def pass_through(self) -> None:
        with self._arrived:
            self.count += 1
            self._arrived.notify_all()
        self._opened.wait(_GATE_TIMEOUT)

    def wait_for(self, count: int, timeout: float = 60.0) -> bool:
        """Block until ``count`` requests arrived; False if they did not within ``timeout``."""
        with self._arrived:
            return self._arrived.wait_for(lambda: self.count >= count, timeout)

    def open(self) -> None:
        self._opened.set()


class _Handler(http.server.BaseHTTPRequestHandler):
    proxy: GatedProxy
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        for gate in self.proxy.gates:
            if self.path.startswith(gate.prefix):
                gate.pass_through()
        target = self.proxy.target
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            conn.request(self.command, self.path, body=body, headers=headers)
            answer = conn.getresponse()
            # Links the target hands out (download URLs) must point back through the proxy.
            data = answer.read().replace(self.proxy.target_url, self.proxy.base_url.encode())
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in _HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True  # the client hung up: nothing more to do
        finally:
            conn.close()

    def log_message(self, format: str, *args: Any) -> None:
        return None


class GatedProxy:
    """Forwards every request to ``target_url``; see :meth:`gate`."""

    def __init__(self, target_url: str) -> None:
        self.target = urllib.parse.urlsplit(target_url)
        self.target_url = target_url.rstrip("/").encode()
        self.gates: list[Gate] = []
        handler = type("Handler", (_Handler,), {"proxy": self})
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def gate(self, prefix: str) -> Gate:
        gate = Gate(prefix)
        self.gates.append(gate)
        return gate

    def __enter__(self) -> GatedProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for gate in self.gates:
            gate.open()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
