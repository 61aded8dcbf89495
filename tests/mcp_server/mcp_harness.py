"""Start ``runninghub mcp`` as a real subprocess and talk to it with the MCP SDK's own client."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.types import CallToolResult

ProgressCallback = Callable[[float, float | None, str | None], Any]


@dataclass
class ServerSession:
    """An MCP session with a ``runninghub mcp`` subprocess; records everything it returns."""

    session: ClientSession
    stderr_path: Path
    transcript: list[str] = field(default_factory=list)

    async def call(
        self,
        tool: str,
        arguments: dict[str, Any] | None = None,
        progress: ProgressCallback | None = None,
    ) -> CallToolResult:
        result = await self.session.call_tool(tool, arguments or {}, progress_callback=progress)
        self.transcript.append(result.model_dump_json())
        return result

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def assert_never_shows(self, secret: str) -> None:
        """Neither a tool result nor the server's log contains ``secret`` (in any case)."""
        for text in [*self.transcript, self.stderr()]:
            assert secret.lower() not in text.lower()


@asynccontextmanager
async def start_server(
    base_url: str,
    env: dict[str, str],
    workdir: Path,
    *,
    global_args: tuple[str, ...] = (),
    message_handler: Any = None,
) -> AsyncIterator[ServerSession]:
    """Run ``python -m runninghub [global_args] mcp --base-url URL`` over stdio."""
    stderr_path = workdir / "mcp-server-stderr.log"
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "runninghub", *global_args, "mcp", "--base-url", base_url],
        env=env,
        cwd=workdir,
    )
    with stderr_path.open("w", encoding="utf-8") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write):
            async with ClientSession(read, write, message_handler=message_handler) as session:
                await session.initialize()
                yield ServerSession(session, stderr_path)


def structured(result: CallToolResult) -> dict[str, Any]:
    assert result.structured_content is not None, result
    return result.structured_content


def error_of(result: CallToolResult) -> dict[str, Any]:
    """The ``error`` object of a tool error (checks that it is one)."""
    assert result.is_error, result
    error: dict[str, Any] = structured(result)["error"]
    return error
