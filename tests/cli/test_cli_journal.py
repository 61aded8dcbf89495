"""The command line records its submits in the journal by default; ``--no-journal`` and
``--no-upload-cache`` turn recording and upload reuse off."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

from PIL import Image

from runninghub.journal import Journal
from tests.cli.cli_harness import Invoker

INVERT = "1987728214757978114"
TEXT_TO_IMAGE = "1904136902449209346"


def _journal_file() -> Path:
    return Path(os.environ["RUNNINGHUB_DATA_DIR"]) / "journal.sqlite"


def _png(path: Path) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (90, 20, 240)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def test_a_submit_without_waiting_is_filled_in_by_outputs(live: Invoker, emulator: Any) -> None:
    submitted = live("run", TEXT_TO_IMAGE, "--set", "6.text=a quiet pond", "--no-wait", "--json")
    assert submitted.exit_code == 0, submitted.output
    task_id = json.loads(submitted.stdout)["task_id"]
    with Journal(_journal_file()) as journal:
        assert journal.show(task_id).usage["coins"] is None  # not finished when submitted
    done = live("wait", task_id, "--json")
    assert done.exit_code == 0, done.output
    shown = json.loads(live("history", "show", task_id, "--json").stdout)
    assert shown["status"] == "SUCCESS" and shown["usage"]["coins"] not in (None, "0")
    assert shown["outputs"] and all(item["sha256"] for item in shown["outputs"])
    assert shown["params"] == {"6.text": "a quiet pond"}


def test_no_journal_records_nothing(live: Invoker, emulator: Any) -> None:
    result = live("--no-journal", "run", TEXT_TO_IMAGE, "--set", "6.text=unrecorded", "--no-wait")
    assert result.exit_code == 0, result.output
    assert emulator.stats()["tasks_created"] == 1
    assert not _journal_file().exists()


def test_the_upload_cache_reuses_a_file_unless_told_not_to(
    live: Invoker, emulator: Any, workdir: Path
) -> None:
    photo = _png(workdir / "photo.png")
    for _ in range(2):
        assert live("upload", str(photo)).exit_code == 0
    assert emulator.stats()["uploads"] == 1
    assert live("--no-upload-cache", "upload", str(photo)).exit_code == 0
    assert emulator.stats()["uploads"] == 2


def test_a_broken_journal_is_a_warning_and_the_run_goes_on(live: Invoker, emulator: Any) -> None:
    _journal_file().parent.mkdir(parents=True, exist_ok=True)
    _journal_file().write_bytes(b"this is not a database, just some bytes" * 100)
    result = live("run", TEXT_TO_IMAGE, "--set", "6.text=still runs", "--no-wait")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("warning: the journal")
    assert "not recording this run" in result.stderr
    assert emulator.stats()["tasks_created"] == 1


def test_a_run_failing_on_a_lost_cached_upload_evicts_it_for_the_next_run(
    live: Invoker, emulator: Any, workdir: Path, api_key: str
) -> None:
    from runninghub.journal import LocalInput

    photo = _png(workdir / "photo.png")
    local = LocalInput.of("107.image", photo)
    with Journal(_journal_file()) as journal:
        journal.uploads.store(api_key, local.sha256, local.size, "openapi/forgotten.png")
    failed = live("run", INVERT, "--file", f"107.image={photo}")
    assert failed.exit_code == 1, failed.output
    assert emulator.stats()["uploads"] == 0
    again = live("run", INVERT, "--file", f"107.image={photo}")
    assert again.exit_code == 0, again.output
    assert emulator.stats()["uploads"] == 1
