"""Running the emulator: in a background thread (tests, demo) or in the foreground (CLI).

Example::

    with serve_in_thread(task_seconds=0.2) as emulator:
        httpx.post(f"{emulator.base_url}/openapi/v2/query", ...)
        print(emulator.stats()["tasks_created"])
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import secrets
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from .app import build_app
from .connections import QuietAcceptErrors, protocol_class
from .guard import TOKEN_HEADER, ControlGuard, is_loopback
from .options import (
    FAULT_KINDS,
    SWITCH_FLAGS,
    TABLE_FLAGS,
    EmulatorOptions,
    build_options,
    default_of,
    read_keys_file,
)
from .state import EmulatorState

READY_LINE = "RunningHub emulator listening on {url}"
PUBLIC_LINE = "URLs it hands out start with {url}"
START_TIMEOUT = 20.0


class _Server(uvicorn.Server):
    """uvicorn without its fixed shutdown pause, announcing readiness when listening."""

    def __init__(self, config: uvicorn.Config, on_ready: threading.Event) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        asyncio.get_running_loop().set_exception_handler(QuietAcceptErrors())
        await super().startup(sockets)
        self._on_ready.set()

    async def main_loop(self) -> None:
        # uvicorn checks for exit every 0.1 s; tests stop hundreds of servers.
        ticks = 0
        while not await self.on_tick(ticks):
            await asyncio.sleep(0.01)
            ticks = (ticks + 1) % 864000

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        for _ in range(50):  # up to 0.5 s for in-flight answers
            if not self.server_state.connections:
                break
            await asyncio.sleep(0.01)
        await self.lifespan.shutdown()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP lets asyncio set TCP_NODELAY on accepted connections; without it
    # every answer waits ~40 ms for a delayed ACK (headers and body are separate writes).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class EmulatorServer:
    """A running emulator: ``base_url``, ``stop()``, and the control routes as methods."""

    def __init__(self, options: EmulatorOptions) -> None:
        if options.control_token is None and not is_loopback(options.host):
            # Reachable from other machines: the control routes need a secret from now on.
            options = dataclasses.replace(options, control_token=secrets.token_urlsafe(18))
        self.options = options
        self.state = EmulatorState(options)
        try:
            self._socket = _bind(options.host, options.port)
        except OSError:
            self.state.close()
            raise
        port = self._socket.getsockname()[1]
        self.base_url = f"http://{_url_host(options.host)}:{port}"
        self.state.base_url = self.base_url
        self.state.control_guard = ControlGuard(options.host, port, options.control_token)
        config = uvicorn.Config(
            build_app(self.state),
            log_level="warning",
            access_log=False,  # keys travel in bodies and headers: no request log at all
            lifespan="on",
            http=protocol_class(options.header_timeout, options.max_connections),
            ws="websockets-sansio",
            timeout_graceful_shutdown=1,
        )
        self.ready = threading.Event()
        self._server = _Server(config, self.ready)
        self._thread: threading.Thread | None = None
        self._control_lock = threading.Lock()
        self._control_client: httpx.Client | None = None

    @property
    def public_url(self) -> str:
        """The base of the URLs in answers: ``--public-url``, else :attr:`base_url`."""
        return self.state.public_base

    def start(self) -> EmulatorServer:
        """Serve in a daemon thread; returns once the server accepts requests."""
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._thread.start()
        if not self.ready.wait(START_TIMEOUT) or not self._thread.is_alive():
            self.stop()
            raise RuntimeError("the emulator did not start")
        return self

    def run_forever(self) -> None:
        """Serve in this thread until SIGINT/SIGTERM (handled by uvicorn)."""
        self._server.run(sockets=[self._socket])

    def request_stop(self) -> None:
        """Ask the server to stop (safe from a signal handler or another thread)."""
        self._server.should_exit = True

    def stop(self) -> None:
        """Stop the server and wait for its thread."""
        self.request_stop()
        with self._control_lock:
            if self._control_client is not None:
                self._control_client.close()
                self._control_client = None
        if self._thread is not None:
            self._thread.join(timeout=10)
        with contextlib.suppress(OSError):
            self._socket.close()

    def _control(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        with self._control_lock:  # one kept-alive client: tests poll stats() in loops
            if self._control_client is None:
                self._control_client = httpx.Client(
                    base_url=self.base_url, trust_env=False, timeout=10
                )
            client = self._control_client
        headers = (
            {} if self.options.control_token is None else {TOKEN_HEADER: self.options.control_token}
        )
        answer = client.request(method, path, json=body or {}, headers=headers)
        if answer.status_code != 200:
            raise ValueError(answer.json().get("error", answer.text))
        result: dict[str, Any] = answer.json()
        return result

    def stats(self) -> dict[str, Any]:
        """Same as ``GET /__emulator__/stats``."""
        return self._control("GET", "/__emulator__/stats")

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Same as ``POST /__emulator__/config``; ValueError names a bad setting."""
        return self._control("POST", "/__emulator__/config", changes)

    def reset(self) -> None:
        """Same as ``POST /__emulator__/reset``."""
        self._control("POST", "/__emulator__/reset")

    def __enter__(self) -> EmulatorServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_thread(**options: Any) -> EmulatorServer:
    """Start an emulator in a background thread. Options: see :class:`EmulatorOptions`."""
    return EmulatorServer(build_options(**options)).start()


def serve(options: EmulatorOptions) -> None:
    """Serve in the foreground; prints the ready line, returns on SIGINT/SIGTERM."""
    _serve_forever(EmulatorServer(options))


def exposure_warning(server: EmulatorServer) -> str | None:
    """The warning a bind beyond this machine deserves (None on a loopback bind)."""
    host = server.options.host
    if is_loopback(host):
        return None
    return (
        f"warning: listening on {host}: any machine that can reach this port can use the "
        f"emulator; the control routes need the header {TOKEN_HEADER}: "
        f"{server.options.control_token}"
    )


# When the emulator owns the process: hand the GIL back to the event loop after 1 ms rather
# than 5, so a long body parsed in a thread (or a task's media read for its worker process)
# delays other clients' answers less. Graphs themselves execute in other processes.
_SWITCH_INTERVAL = 0.001


def _serve_forever(server: EmulatorServer) -> None:
    sys.setswitchinterval(_SWITCH_INTERVAL)
    ready = server.ready
    warning = exposure_warning(server)
    if warning is not None:
        print(warning, file=sys.stderr, flush=True)
    public = server.public_url if server.public_url != server.base_url else None
    announce = (ready, server.base_url, public)
    threading.Thread(target=_announce, args=announce, daemon=True).start()

    def request_stop(signum: int, frame: Any) -> None:
        # Before uvicorn took over the signals, or when it re-raises the one it handled.
        server.request_stop()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run_forever()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _announce(ready: threading.Event, url: str, public: str | None) -> None:
    if ready.wait(START_TIMEOUT):
        print(READY_LINE.format(url=url), flush=True)
        if public:
            print(PUBLIC_LINE.format(url=public), flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="runninghub emulator", description="Run a local RunningHub API emulator."
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    add("--port", type=int, default=0, help="0 picks a free port")
    add("--workflows", type=Path, help="directory of extra API-format workflows (<id>.json)")
    add("--concurrency", type=int, default=2, help="tasks per key at once (default 2)")
    add("--queue-seconds", type=float, default=0.0, help="seconds a task stays QUEUED (default 0)")
    add("--task-seconds", type=float, default=2.0, help="seconds a task stays RUNNING (default 2)")
    add("--fault-rate", type=float, default=0.0, help="share of requests given a fault (0-1)")
    add("--fault-kinds", default=",".join(FAULT_KINDS), help="comma-separated fault kinds")
    add("--keys", type=Path, help="file of valid keys, one per line (optionally 'ai:KEY')")
    add("--site", choices=["cn", "ai"], help="refuse keys listed for the other site")
    add("--state", type=Path, help="SQLite file keeping tasks, uploads and outputs")
    add("--time-scale", type=float, default=1.0, help="speed of the emulated clock")
    add("--seed", type=int, help="seed of the fault sequence")
    add("--public-url", help="base of the URLs handed out (behind a proxy or port map)")
    add(
        "--cancel-status-v2",
        choices=["CANCEL", "FAILED"],
        default="CANCEL",
        help="what the v2 query reports for a cancelled task (default CANCEL)",
    )
    add("--fetch-host", action="append", default=[], help="host whose media URLs may be fetched")
    _add_guard_options(parser)
    return parser


def _add_guard_options(parser: argparse.ArgumentParser) -> None:
    for flag, (name, kind, text) in TABLE_FLAGS.items():
        parser.add_argument(flag, dest=name, type=kind, help=f"{text} ({default_of(name)})")
    for flag, (name, text) in SWITCH_FLAGS.items():
        parser.add_argument(flag, dest=name, action="store_true", default=None, help=text)


# The flags whose argparse destination is not the option's own name.
_OPTION_OF_DEST = {
    "workflows": "workflows_dir",
    "seed": "fault_seed",
    "state": "state_file",
    "fetch_host": "fetch_hosts",
}


def options_from_args(args: argparse.Namespace) -> EmulatorOptions:
    # A flag left out is None: the option's default applies (every default of a flag that
    # has no argparse default is None too, so leaving it out changes nothing).
    given = {
        _OPTION_OF_DEST.get(dest, dest): value
        for dest, value in vars(args).items()
        if value is not None
    }
    if "keys" in given:
        given["keys"] = sorted(read_keys_file(given["keys"]))
    return build_options(**given)


def main(argv: list[str] | None = None) -> int:
    """``runninghub emulator`` as a function: 0 after a clean stop, 2 for bad options."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        server = EmulatorServer(options_from_args(args))
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    _serve_forever(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
