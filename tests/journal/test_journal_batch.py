"""Batch rows in the journal: each submit recorded with its batch and row, lost answers as the
same ``unknown`` record the ledger keeps, and the upload cache shared across batch runs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from tests.batch.batch_helpers import API_KEY, INVERT, TEXT, make_images, start_batch, write_prompts

from runninghub.cli.main import cli
from runninghub.emulator import EmulatorServer
from runninghub.journal import IntentState, Journal

ISOLATED = ("RUNNINGHUB_API_KEY", "RUNNINGHUB_BASE_URL", "RUNNINGHUB_CONFIG_DIR", "NO_COLOR")


@pytest.fixture
def rh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    monkeypatch.chdir(tmp_path)
    env: dict[str, str | None] = dict.fromkeys(ISOLATED)
    env.update(RUNNINGHUB_API_KEY=API_KEY, RUNNINGHUB_CONFIG_DIR=str(tmp_path / "config"))

    def invoke(*args: str) -> Result:
        result = CliRunner().invoke(cli, list(args), env=env)
        assert API_KEY not in result.output
        return result

    return invoke


def test_batch_rows_are_recorded_with_their_row_and_files_are_uploaded_once_across_runs(
    rh: Callable[..., Result], emulator: EmulatorServer, tmp_path: Path, journal: Journal
) -> None:
    make_images(tmp_path / "photos", 3)
    url = emulator.base_url
    for out in ("first", "second"):
        result = rh("--base-url", url, "batch", "run", INVERT, "--inputs", "photos", "--out", out)
        assert result.exit_code == 0, result.output
    assert emulator.stats()["tasks_created"] == 6
    assert emulator.stats()["uploads"] == 3  # the second batch reused every upload
    entries = journal.history()
    ledgers = {str(tmp_path / out / "batch.sqlite") for out in ("first", "second")}
    assert {entry.batch for entry in entries} == ledgers
    for ledger in ledgers:
        rows = sorted(entry.batch_row or 0 for entry in entries if entry.batch == ledger)
        assert rows == [1, 2, 3]
    assert {entry.shown_status for entry in entries} == {"SUCCESS"}
    shown = json.loads(rh("history", "show", entries[0].task_id or "", "--json").stdout)
    assert shown["batch"] in ledgers and shown["outputs"][0]["sha256"]


def test_batch_unknown_rows_are_unknown_in_the_journal_and_a_retry_records_new_submits(
    rh: Callable[..., Result],
    make_emulator: Callable[..., EmulatorServer],
    tmp_path: Path,
    journal: Journal,
) -> None:
    server = make_emulator(task_seconds=0.05)
    write_prompts(tmp_path / "prompts.csv", 2)

    def lose_every_answer(progress: Any) -> None:  # from the first submit on
        server.configure(fault_rate=1.0, fault_kinds=["http_500"])

    batch = start_batch(
        server.base_url,
        tmp_path / "prompts.csv",
        tmp_path / "out",
        workflow=TEXT,
        maps={"prompt": "6.text"},
        on_progress=lose_every_answer,
        journal=journal,
    )
    asyncio.run(batch)
    server.configure(fault_rate=0.0)
    ledger = str(tmp_path / "out" / "batch.sqlite")
    lost = journal.history()
    assert sorted((e.state, e.batch, e.batch_row) for e in lost) == [
        (IntentState.UNKNOWN, ledger, 1),
        (IntentState.UNKNOWN, ledger, 2),
    ]
    listed = json.loads(rh("history", "--json").stdout)
    assert sorted(item["row"] for item in listed["unknown"]) == [1, 2]
    retried = rh("--base-url", server.base_url, "batch", "retry", "--unknown", "--ledger", ledger)
    assert retried.exit_code == 0, retried.output
    again = [e for e in journal.history() if e.state is IntentState.SUBMITTED]
    assert sorted((e.shown_status, e.batch_row) for e in again) == [("SUCCESS", 1), ("SUCCESS", 2)]
