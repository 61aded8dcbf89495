"""``runninghub mcp``: serve the RunningHub tools to an AI agent host over MCP."""

from __future__ import annotations

from pathlib import Path

import click

from ._context import CliState, pass_state
from ._option_kinds import file_option, repeated_option

__all__ = ["mcp"]

_EPILOG = """\b
Examples:
  runninghub mcp                          # stdio: what agent hosts start
  runninghub mcp --http 8765              # streamable HTTP on http://127.0.0.1:8765/mcp
  runninghub mcp --base-url http://127.0.0.1:8188   # against a local emulator
\b
Host configuration (mcpServers):
  {"runninghub": {"command": "runninghub", "args": ["mcp"],
                  "env": {"RUNNINGHUB_API_KEY": "<your key>"}}}
"""


@click.command("mcp", epilog=_EPILOG)
@click.option(
    "--http",
    "http_port",
    type=click.IntRange(0, 65535),
    metavar="PORT",
    help="Serve streamable HTTP on 127.0.0.1:PORT (0: any free port) instead of stdio.",
)
@repeated_option(
    "--allow-origin",
    "allowed_origins",
    metavar="ORIGIN",
    help="With --http: also accept requests from this web origin (e.g. http://localhost:5173);"
    " by default only the server's own origin. Repeatable.",
)
@click.option("--base-url", metavar="URL", help="API base URL (e.g. an emulator's).")
@file_option(
    "--api-key-file",
    metavar="PATH",
    help="Read the API key from this file (the bare key, or JSON with api_key).",
)
@click.option("--site", type=click.Choice(["cn", "ai"]), help="www.runninghub.cn or .ai.")
@pass_state
def mcp(  # noqa: PLR0913 - one parameter per option of the command
    state: CliState,
    *,
    http_port: int | None,
    allowed_origins: tuple[str, ...],
    base_url: str | None,
    api_key_file: Path | None,
    site: str | None,
) -> None:
    """Serve RunningHub to an AI agent over the Model Context Protocol (stdio by default).

    Tools: list_workflow_fields, run_workflow, get_task, wait_task, download_outputs,
    cancel_task, list_app_inputs, run_app, account. The API key comes from the usual
    configuration (RUNNINGHUB_API_KEY, the config file, --api-key-file), never from the agent.
    Logs go to stderr; on stdio, stdout carries only the protocol.
    """
    state.base_url = base_url or state.base_url
    state.api_key_file = api_key_file or state.api_key_file
    state.site = site or state.site
    _require_mcp_package()
    from runninghub.mcp import ServerConfig, serve

    config = ServerConfig(
        api_key=state.resolved_key(),
        base_url=state.base_url,
        site=state.site,
        http_port=http_port,
        verbose=state.verbose,
        allowed_origins=tuple(origin.rstrip("/") for origin in allowed_origins),
        journal=not state.no_journal,
        upload_cache=not state.no_upload_cache,
    )
    serve(config, on_ready=lambda url: state.render.note(f"RunningHub MCP server on {url}"))


def _require_mcp_package() -> None:
    try:
        import mcp.server.mcpserver  # noqa: F401  (the MCP SDK, version 2 or later)
    except ImportError:
        from runninghub._support import missing_extra

        raise missing_extra("mcp", "`runninghub mcp`", ["mcp.server.mcpserver"]) from None
