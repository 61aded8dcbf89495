"""The ``runninghub mcp`` command: configuration, secrecy, the HTTP transport, a missing extra."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from runninghub._config import save_key
from tests.mcp_server.mcp_harness import error_of, start_server, structured

IMAGE_APP = "1877265245566922753"
TEXT_TO_IMAGE = "1904136902449209346"


async def test_the_key_never_shows_in_results_or_in_verbose_logs(
    emulator: Any, server_env: dict[str, str], tmp_path: Path, api_key: str
) -> None:
    async with start_server(
        emulator.base_url, server_env, tmp_path, global_args=("--verbose",)
    ) as server:
        # apiCallDemo carries the key in its query string: the request log line must not.
        assert not (await server.call("list_app_inputs", {"app_id": IMAGE_APP})).is_error
        assert not (await server.call("account")).is_error
        await server.call("get_task", {"task_id": "1999999999999999999"})
        await server.call(
            "run_workflow", {"workflow_id": TEXT_TO_IMAGE, "overrides": {"6.txet": "x"}}
        )

    log = server.stderr()
    assert "apiCallDemo" in log, "the verbose log should show the requests it made"
    server.assert_never_shows(api_key)


async def test_a_key_from_the_config_file_works_and_never_shows(
    emulator: Any, tmp_path: Path, api_key: str
) -> None:
    config_dir = tmp_path / "config"
    save_key(api_key, "cn", config_dir)
    env = {"RUNNINGHUB_CONFIG_DIR": str(config_dir)}
    async with start_server(emulator.base_url, env, tmp_path, global_args=("--verbose",)) as server:
        account = await server.call("account")
        await server.call("list_app_inputs", {"app_id": IMAGE_APP})

    assert not account.is_error
    server.assert_never_shows(api_key)


async def test_a_key_file_given_on_the_command_line_is_used(
    emulator: Any, tmp_path: Path, api_key: str
) -> None:
    key_file = tmp_path / "key.txt"
    key_file.write_text(api_key + "\n", encoding="utf-8")
    env = {"RUNNINGHUB_CONFIG_DIR": str(tmp_path / "empty-config")}
    async with start_server(
        emulator.base_url, env, tmp_path, global_args=("--api-key-file", str(key_file))
    ) as server:
        account = await server.call("account")

    assert not account.is_error
    server.assert_never_shows(api_key)


async def test_without_a_key_every_tool_reports_it_and_the_server_stays_up(
    emulator: Any, tmp_path: Path
) -> None:
    env = {"RUNNINGHUB_CONFIG_DIR": str(tmp_path / "empty-config")}
    async with start_server(emulator.base_url, env, tmp_path) as server:
        first = await server.call("account")
        second = await server.call("get_task", {"task_id": "1"})

    for result in (first, second):
        error = error_of(result)
        assert error["type"] == "ConfigError"
        assert "RUNNINGHUB_API_KEY" in error["message"]
    assert "RUNNINGHUB_API_KEY" in server.stderr()
    assert emulator.stats()["requests"] == {}


async def test_a_malformed_key_is_reported_without_echoing_it(
    emulator: Any, tmp_path: Path
) -> None:
    wrong = "Secret-Looking-Value-That-Is-Not-A-Key"
    env = {"RUNNINGHUB_API_KEY": wrong, "RUNNINGHUB_CONFIG_DIR": str(tmp_path / "c")}
    async with start_server(emulator.base_url, env, tmp_path) as server:
        result = await server.call("account")

    assert error_of(result)["type"] == "ConfigError"
    server.assert_never_shows(wrong)


async def test_streamable_http_on_loopback(
    emulator: Any, server_env: dict[str, str], tmp_path: Path, api_key: str
) -> None:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), **server_env}
    command = [sys.executable, "-m", "runninghub", "mcp", "--http", "0"]
    process = subprocess.Popen(
        [*command, "--base-url", emulator.base_url],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        banner = await asyncio.wait_for(asyncio.to_thread(process.stderr.readline), 60)
        url = banner.strip().rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:") and url.endswith("/mcp"), banner
        async with streamable_http_client(url) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = (await session.list_tools()).tools
                account = await session.call_tool("account", {})
    finally:
        process.terminate()
        _, rest = process.communicate(timeout=30)

    assert len(tools) == 14  # the workflow, app, task and webhook tools, the model tools, account
    assert not account.is_error and "remain_coins" in structured(account)
    assert api_key not in banner + rest + account.model_dump_json()


def test_without_the_mcp_extra_the_command_says_what_to_install(tmp_path: Path) -> None:
    # A real subprocess in which the `mcp` package cannot be imported, as when the extra is absent.
    program = (
        "import sys; sys.modules['mcp'] = None\n"
        "from runninghub.cli.main import main\n"
        "main(['mcp'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)},
        timeout=60,
    )

    assert result.returncode == 3
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "runninghub[mcp]" in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def _start_http(
    emulator: Any, server_env: dict[str, str], tmp_path: Path, *extra: str
) -> tuple[subprocess.Popen[str], str]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), **server_env}
    command = [sys.executable, "-m", "runninghub", "mcp", "--http", "0", *extra]
    process = subprocess.Popen(
        [*command, "--base-url", emulator.base_url],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    banner = process.stderr.readline()
    return process, banner.strip().rsplit(" ", 1)[-1]


_INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "page", "version": "1"},
    },
}
_MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


def _initialize(url: str, origin: str) -> httpx.Response:
    headers = {**_MCP_HEADERS, "Origin": origin}
    return httpx.post(url, json=_INITIALIZE, headers=headers, trust_env=False, timeout=30)


def test_http_accepts_only_its_own_origin(
    emulator: Any, server_env: dict[str, str], tmp_path: Path
) -> None:
    process, url = _start_http(emulator, server_env, tmp_path)
    try:
        own = url.removesuffix("/mcp")
        port = int(own.rsplit(":", 1)[1])
        dev_server = _initialize(url, f"http://localhost:{port + 1}")
        other_page = _initialize(url, "http://evil.example")
        same = _initialize(url, own)
        same_by_name = _initialize(url, f"http://localhost:{port}")
    finally:
        process.terminate()
        process.communicate(timeout=30)
    assert dev_server.status_code == 403 and other_page.status_code == 403
    assert same.status_code == 200 and same_by_name.status_code == 200


def test_http_accepts_an_origin_it_is_told_to(
    emulator: Any, server_env: dict[str, str], tmp_path: Path
) -> None:
    process, url = _start_http(
        emulator, server_env, tmp_path, "--allow-origin", "http://localhost:5173"
    )
    try:
        allowed = _initialize(url, "http://localhost:5173")
        other = _initialize(url, "http://localhost:5174")
    finally:
        process.terminate()
        process.communicate(timeout=30)
    assert allowed.status_code == 200 and other.status_code == 403
