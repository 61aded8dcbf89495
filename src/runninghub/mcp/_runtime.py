"""Running the server: configuration, the shared client, redacted logs, stdio and HTTP."""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from runninghub import ConfigError
from runninghub._support import redact, redact_secrets, resolve_settings

from ._operations import Operations
from ._queue_notes import on_queue_full
from ._server import build_server

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer
    from mcp.server.transport_security import TransportSecuritySettings

    from runninghub import AsyncClient
    from runninghub.journal import Journal

__all__ = ["ServerConfig", "serve"]

logger = logging.getLogger("runninghub.mcp")

HOST = "127.0.0.1"
MCP_PATH = "/mcp"


@dataclass(frozen=True)
class ServerConfig:
    """How to reach RunningHub and how to serve MCP.

    ``api_key`` is the key given on the command line (``--api-key-file``); ``None`` lets the
    client read ``RUNNINGHUB_API_KEY`` or the config file, exactly as the CLI does.
    ``http_port`` ``None`` serves over stdio; a number (0: any free port) serves streamable
    HTTP on 127.0.0.1. Over HTTP only the server's own origin may call it (a page of a local
    dev server on another port must not drive it), plus ``allowed_origins``.
    """

    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    site: str | None = None
    http_port: int | None = None
    verbose: bool = False
    allowed_origins: tuple[str, ...] = ()
    journal: bool = True  # record every submit (off too with RUNNINGHUB_NO_JOURNAL=1)
    upload_cache: bool = True


class Secrets:
    """Values that must never be written: every result and log line passes through here."""

    def __init__(self) -> None:
        self._values: set[str] = set()

    def add(self, value: str | None) -> None:
        if value and len(value) >= 8:
            self._values.add(value)

    def redact(self, text: str) -> str:
        for value in self._values:
            text = redact(text, value)
        return text


class ClientProvider:
    """The one ``AsyncClient`` the tools share, built on first use.

    A configuration error (no key yet) is not fatal: each tool call reports it and the next one
    tries again, so a key saved with ``runninghub auth set`` meanwhile is picked up.
    """

    def __init__(self, config: ServerConfig, secrets: Secrets) -> None:
        self._config = config
        self._secrets = secrets
        self._client: AsyncClient | None = None

    async def get(self) -> AsyncClient:
        if self._client is None:
            self._client = self._build()
        return self._client

    def _build(self) -> AsyncClient:
        from runninghub import AsyncClient

        # Resolved here too (the client does the same) so that the key in use is known to the
        # redaction wherever it came from: argument, environment or config file.
        settings = resolve_settings(
            self._config.api_key, base_url=self._config.base_url, site=self._config.site
        )
        self._secrets.add(settings.api_key)
        return AsyncClient(  # site and base URL as given: the client may find the key's site
            api_key=settings.api_key,
            base_url=self._config.base_url,
            site=self._config.site,
            journal=self._journal(),
            upload_cache=self._config.upload_cache,
            on_queue_full=on_queue_full,  # told to the tool call whose submit waits
        )

    def _journal(self) -> Journal | None:
        from runninghub.journal import Journal, journal_disabled

        if not self._config.journal or journal_disabled():
            return None
        return Journal.open()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


class _RedactingFilter(logging.Filter):
    def __init__(self, secrets: Secrets) -> None:
        super().__init__()
        self._secrets = secrets
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._clean(record, record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = self._clean(record, self._formatter.formatException(record.exc_info))
            record.exc_info = None
        return True

    def _clean(self, record: logging.LogRecord, text: str) -> str:
        text = self._secrets.redact(text)
        # The server's own lines are composed from library messages (which may say "pass
        # api_key=..."); credential-shaped text is hidden in everybody else's.
        return text if record.name.startswith(logger.name) else redact_secrets(text)


def configure_logging(secrets: Secrets, *, verbose: bool) -> None:
    """All logs to stderr (stdout carries the protocol), redacted, warnings only by default."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("runninghub-mcp: %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_RedactingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    # The library's own logger may carry the CLI's debug handler: one handler, one line each.
    library = logging.getLogger("runninghub")
    library.handlers.clear()
    library.propagate = True
    library.setLevel(logging.NOTSET)
    if verbose:
        # The HTTP libraries' debug output is wire-level noise; their INFO lines are enough.
        for name in ("httpx", "httpcore", "httpx2", "httpcore2", "anyio", "uvicorn.access"):
            logging.getLogger(name).setLevel(logging.INFO)


def serve(config: ServerConfig, *, on_ready: Callable[[str], None] | None = None) -> None:
    """Serve the RunningHub tools until the client disconnects (stdio) or Ctrl-C (HTTP).

    ``on_ready`` receives the endpoint URL once an HTTP server listens.
    """
    secrets = Secrets()
    secrets.add(config.api_key)
    secrets.add(os.environ.get("RUNNINGHUB_API_KEY"))
    configure_logging(secrets, verbose=config.verbose)
    anyio.run(_serve, config, secrets, on_ready)


async def _serve(
    config: ServerConfig, secrets: Secrets, on_ready: Callable[[str], None] | None
) -> None:
    provider = ClientProvider(config, secrets)
    await _check_configuration(provider)
    server = build_server(Operations(provider.get), secrets.redact)
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(server.presets.watch, server.announce_tools_changed)
            if config.http_port is None:
                await server.run_stdio_async()
            else:
                await _serve_http(server, config, on_ready)
            group.cancel_scope.cancel()  # the transport has ended: stop watching
    finally:
        await provider.aclose()


async def _check_configuration(provider: ClientProvider) -> None:
    try:
        await provider.get()
    except ConfigError as exc:
        logger.warning("%s; every tool will report this until a key is configured", exc.message)


def transport_security(port: int, extra_origins: tuple[str, ...]) -> TransportSecuritySettings:
    """Host and Origin checks for this port only (the SDK's default accepts any local port)."""
    from mcp.server.transport_security import TransportSecuritySettings

    names = ("127.0.0.1", "localhost", "[::1]")
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{name}:{port}" for name in names],
        allowed_origins=[*(f"http://{name}:{port}" for name in names), *extra_origins],
    )


async def _serve_http(
    server: MCPServer[Any], config: ServerConfig, on_ready: Callable[[str], None] | None
) -> None:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, config.http_port or 0))
    sock.listen(128)  # connections made from now on wait in the backlog until uvicorn accepts
    port = sock.getsockname()[1]
    security = transport_security(port, config.allowed_origins)
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH, host=HOST, transport_security=security
    )
    url = f"http://{HOST}:{port}{MCP_PATH}"
    # log_config=None: uvicorn's loggers propagate to the redacting handler above.
    uvicorn_config = uvicorn.Config(app, log_config=None, lifespan="on", access_log=False)
    if on_ready is not None:
        on_ready(url)
    await uvicorn.Server(uvicorn_config).serve(sockets=[sock])
