"""The MCP server records what it runs in the journal, as the command line does; the global
``--no-journal`` before ``mcp`` turns that off."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from runninghub.journal import Journal
from tests.mcp_server.mcp_harness import start_server, structured

INVERT = "1987728214757978114"


@pytest.fixture
def data_dir() -> Path:
    return Path(os.environ["RUNNINGHUB_DATA_DIR"])


def _env(server_env: dict[str, str]) -> dict[str, str]:
    return {**server_env, "RUNNINGHUB_DATA_DIR": os.environ["RUNNINGHUB_DATA_DIR"]}


def _png(path: Path) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 30)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


async def test_a_workflow_run_by_the_mcp_server_is_in_the_journal(
    emulator: Any, server_env: dict[str, str], tmp_path: Path, data_dir: Path
) -> None:
    photo = _png(tmp_path / "leaf.png")
    arguments = {"workflow_id": INVERT, "files": {"107.image": str(photo)}, "wait_seconds": 60}
    async with start_server(emulator.base_url, _env(server_env), tmp_path) as server:
        task = structured(await server.call("run_workflow", arguments))
    assert task["status"] == "SUCCESS"
    with Journal(data_dir / "journal.sqlite") as journal:
        record = journal.show(task["task_id"])
    assert record.entry.shown_status == "SUCCESS"
    assert [item.path for item in record.inputs] == [str(photo)]
    assert record.usage["coins"] not in (None, "0")


async def test_no_journal_before_mcp_records_nothing(
    emulator: Any, server_env: dict[str, str], tmp_path: Path, data_dir: Path
) -> None:
    arguments = {"workflow_id": INVERT, "wait_seconds": 60}
    env = _env(server_env)
    async with start_server(emulator.base_url, env, tmp_path, global_args=("--no-journal",)) as s:
        task = structured(await s.call("run_workflow", arguments))
    assert task["status"] == "SUCCESS"
    assert not (data_dir / "journal.sqlite").exists()
