"""MCP run tools check their download folder before submitting, and every answer after a
submit names the task, failures included.

A ``download_dir`` that is an existing file, lies under one, or has a name no file system
takes is refused before anything is sent: no task, nothing paid. Once a task exists, any
failure (a poll refused, a save that failed) carries its ``task_id`` and says how to follow
it, so an agent never runs the same paid input again to find out.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.mcp_server.mcp_harness import error_of, start_server
from tests.reliability.hostile_server import HostileServer, Reply, task_reply
from tests.tmpfs import CannotMount, mounted_tmpfs

TEXT_TO_IMAGE = "1904136902449209346"
IMAGE_APP = "1877265245566922753"
MODEL = "rhart-image-n-pro/text-to-image"
RUNS = {
    "run_workflow": {"workflow_id": TEXT_TO_IMAGE},
    "run_app": {"app_id": IMAGE_APP},
    "run_model": {"endpoint": MODEL, "params": {"prompt": "a fox"}},
}


def bad_folders(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """name -> (download_dir, what the refusal says)"""
    a_file = tmp_path / "taken.png"
    a_file.write_bytes(b"\x89PNG\r\n\x1a\n")
    return {
        "an existing file": (a_file, f"download_dir: {a_file} is not a directory"),
        "under a file": (a_file / "out", f"cannot create {a_file / 'out'}"),
        "a name over 255 bytes": (tmp_path / ("n" * 300), "is too long"),
    }


@pytest.mark.parametrize("tool", list(RUNS))
async def test_an_unusable_download_dir_is_refused_before_the_submit(
    emulator: Any, server_env: dict[str, str], tmp_path: Path, tool: str
) -> None:
    async with start_server(emulator.base_url, server_env, tmp_path) as server:
        for folder, message in bad_folders(tmp_path).values():
            arguments = {**RUNS[tool], "wait_seconds": 5, "download_dir": str(folder)}
            error = error_of(await server.call(tool, arguments))
            assert error["type"] == "InvalidRequestError"
            assert message in error["message"]
            assert error["task_id"] is None

    assert emulator.stats()["tasks_created"] == 0


@pytest.fixture
def lost_task(tmp_path: Path) -> Iterator[HostileServer]:
    """A service that takes the submit (task 7), then breaks every query's connection (a body
    shorter than its Content-Length): poll after poll fails below HTTP, and the wait gives up."""
    with HostileServer() as server:
        server.route(f"/openapi/v2/run/workflow/{TEXT_TO_IMAGE}", task_reply(status="QUEUED"))
        server.route("/openapi/v2/query", Reply(body=b'{"code": 0', length=1000))
        yield server


async def test_a_failure_while_waiting_after_the_submit_names_the_task(
    lost_task: HostileServer, server_env: dict[str, str], tmp_path: Path
) -> None:
    async with start_server(lost_task.base_url, server_env, tmp_path) as server:
        error = error_of(
            await server.call("run_workflow", {"workflow_id": TEXT_TO_IMAGE, "wait_seconds": 30})
        )

    assert error["type"] == "APIConnectionError"
    assert error["task_id"] == "7"
    assert "task 7 exists: follow it with wait_task" in error["hint"]
    assert lost_task.requests.count(f"POST /openapi/v2/run/workflow/{TEXT_TO_IMAGE}") == 1


async def test_a_failed_save_after_the_submit_names_the_task_and_the_tool_to_fetch_it(
    emulator: Any, server_env: dict[str, str], tmp_path: Path
) -> None:
    try:
        with mounted_tmpfs(tmp_path / "small-disk", "16k") as disk:
            (disk / "filler").write_bytes(b"\0" * 12 * 1024)  # leaves no room for an output
            async with start_server(emulator.base_url, server_env, tmp_path) as server:
                error = error_of(
                    await server.call(
                        "run_workflow",
                        {
                            "workflow_id": TEXT_TO_IMAGE,
                            "wait_seconds": 60,
                            "download_dir": str(disk),
                        },
                    )
                )
    except CannotMount as exc:
        pytest.fail(f"cannot mount a tmpfs here ({exc}): the test needs root")

    assert emulator.stats()["tasks_created"] == 1
    task_id = error["task_id"]
    assert task_id and task_id.isdigit()
    assert "outputs were not saved" in error["message"]
    assert f"download_outputs (task_id {task_id!r})" in error["hint"]
