"""Serving the studio: always on 127.0.0.1, on a socket bound before the app is built.

Binding first tells the guard its own port (for the Host and Origin checks) before any
request can arrive. ``StudioServer`` runs in a background thread (tests, ``--emulator``);
``serve_forever`` holds the foreground until Ctrl-C.
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType

import uvicorn

from .app import StudioConfig, create_app

__all__ = ["LOOPBACK", "StudioServer", "bind"]

LOOPBACK = "127.0.0.1"


def bind(port: int = 0) -> socket.socket:
    """A listening loopback socket (port 0: any free port). Raises OSError when taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, port))
    sock.listen(64)
    return sock


class StudioServer:
    def __init__(self, config: StudioConfig, sock: socket.socket) -> None:
        self.sock = sock
        self.port: int = sock.getsockname()[1]
        config.guard.port = self.port
        self.config = config
        self.app = create_app(config)
        uv = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,  # the first address carries the token: no request log at all
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(uv)
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        return self.config.guard.address()

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def serve_forever(self) -> None:
        try:
            self._server.run(sockets=[self.sock])
        finally:
            self.app.state.board.close()

    def start(self) -> StudioServer:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the studio server stopped while starting")
            threading.Event().wait(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.sock.close()

    def __enter__(self) -> StudioServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
