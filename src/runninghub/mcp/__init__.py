"""An MCP (Model Context Protocol) server over the RunningHub client, for AI agent hosts.

Needs the optional dependency: ``pip install 'runninghub[mcp]'``. Started by ``runninghub mcp``
(stdio) or ``runninghub mcp --http PORT`` (streamable HTTP on 127.0.0.1). The API key comes from
the same configuration as the CLI, never from a tool argument, and never appears in a result or
a log line.
"""

from __future__ import annotations

from ._runtime import ServerConfig, serve
from ._server import build_server

__all__ = ["ServerConfig", "build_server", "serve"]
