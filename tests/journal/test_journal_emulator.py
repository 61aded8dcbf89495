"""The journal as the client flows write it, against the emulator over loopback HTTP: the
intent before the submit, the task id, the states, outputs and usage, and the upload cache."""

from __future__ import annotations

import asyncio
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import runninghub
from runninghub.emulator import EmulatorServer
from runninghub.journal import HistoryFilter, IntentState, Journal, LocalInput, total

INVERT = "1987728214757978114"  # 107 LoadImage -> 108 ImageInvert -> 109 SaveImage
TEXT_TO_IMAGE = "1904136902449209346"
MODEL = "rhart-image-n-pro/text-to-image"  # a hosted image model of the catalogue


def _png(path: Path) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def _client(emulator: EmulatorServer, key: str, journal: Journal | None) -> runninghub.Client:
    return runninghub.Client(key, base_url=emulator.base_url, journal=journal)


def test_spend_equals_what_the_emulator_charged_and_a_file_used_twice_is_uploaded_once(
    emulator: EmulatorServer, api_key: str, journal: Journal, tmp_path: Path
) -> None:
    photo = _png(tmp_path / "photo.png")
    with _client(emulator, api_key, journal) as client:
        before = client.account().remain_coins
        tasks = [
            client.run(INVERT, {"107.image": photo}, timeout=30, out_dir=tmp_path / "out")
            for _ in range(2)
        ]
        tasks.append(client.run(TEXT_TO_IMAGE, {"6.text": "a lighthouse at dawn"}, timeout=30))
        after = client.account().remain_coins

    assert emulator.stats()["uploads"] == 1
    assert [task.status for task in tasks] == [runninghub.TaskStatus.SUCCESS] * 3
    assert before is not None and after is not None
    spent = total(journal.spend(by="key"))
    assert (spent.tasks, spent.failures) == (3, 0)
    assert spent.coins == before - after > 0
    assert spent.coins == sum(task.usage.consume_coins for task in tasks if task.usage)
    [found] = journal.history(HistoryFilter(search="lighthouse"))
    assert found.task_id == tasks[2].task_id
    record = journal.show(tasks[0].task_id)
    assert [s.status for s in record.statuses][-1] == "SUCCESS"
    assert record.outputs and all(output.sha256 and output.path for output in record.outputs)
    assert Path(record.outputs[0].path or "").is_file()
    assert [item.to_dict() for item in record.inputs] == [
        LocalInput.of("107.image", photo).to_dict()
    ]
    assert Decimal(record.usage["coins"] or 0) > 0


def test_the_sdk_records_nothing_unless_given_a_journal(
    emulator: EmulatorServer, api_key: str, data_dir: Path
) -> None:
    with _client(emulator, api_key, None) as client:
        assert client.journal is None
        client.run(TEXT_TO_IMAGE, {"6.text": "unrecorded"}, timeout=30)
    assert not (data_dir / "journal.sqlite").exists()


def test_a_refused_submit_is_recorded_as_refused_with_nothing_billed(
    emulator: EmulatorServer, api_key: str, journal: Journal
) -> None:
    with (
        _client(emulator, api_key, journal) as client,
        pytest.raises(runninghub.NotFoundError),
    ):
        client.submit("1900000000000000999", {"6.text": "no such workflow"}, validate=False)
    [entry] = journal.history()
    assert entry.state is IntentState.REFUSED and entry.task_id is None
    assert emulator.stats()["tasks_created"] == 0


def test_a_cached_upload_the_service_lost_is_evicted_uploaded_again_and_run_once_more(
    emulator: EmulatorServer, api_key: str, journal: Journal, tmp_path: Path
) -> None:
    photo = _png(tmp_path / "photo.png")
    local = LocalInput.of("107.image", photo)
    journal.uploads.store(api_key, local.sha256, local.size, "openapi/forgotten.png")
    with _client(emulator, api_key, journal) as client:
        task = client.run(INVERT, {"107.image": photo}, timeout=30)
    assert task.status is runninghub.TaskStatus.SUCCESS
    assert emulator.stats()["uploads"] == 1
    assert emulator.stats()["tasks_created"] == 2  # the failed one, then the run again
    fresh = journal.uploads.lookup(api_key, local.sha256, local.size)
    assert fresh is not None and fresh.file_name != "openapi/forgotten.png"
    failed, succeeded = sorted(journal.history(), key=lambda entry: entry.intent_id)
    assert (failed.shown_status, succeeded.shown_status) == ("FAILED", "SUCCESS")


def test_the_async_face_also_uploads_a_lost_cached_file_again_and_runs_once_more(
    emulator: EmulatorServer, api_key: str, journal: Journal, tmp_path: Path
) -> None:
    photo = _png(tmp_path / "photo.png")
    local = LocalInput.of("107.image", photo)
    journal.uploads.store(api_key, local.sha256, local.size, "openapi/forgotten.png")

    async def run() -> runninghub.Task:
        async with runninghub.AsyncClient(
            api_key, base_url=emulator.base_url, journal=journal
        ) as client:
            return await client.run(INVERT, {"107.image": photo}, timeout=30)

    task = asyncio.run(run())
    assert task.status is runninghub.TaskStatus.SUCCESS
    assert (emulator.stats()["uploads"], emulator.stats()["tasks_created"]) == (1, 2)
    fresh = journal.uploads.lookup(api_key, local.sha256, local.size)
    assert fresh is not None and fresh.file_name != "openapi/forgotten.png"


def test_no_upload_cache_uploads_every_time(
    emulator: EmulatorServer, api_key: str, journal: Journal, tmp_path: Path
) -> None:
    photo = _png(tmp_path / "photo.png")
    with runninghub.Client(
        api_key, base_url=emulator.base_url, journal=journal, upload_cache=False
    ) as client:
        for _ in range(2):
            client.upload(photo)
    assert emulator.stats()["uploads"] == 2


def test_the_database_holds_no_key_after_real_runs(
    emulator: EmulatorServer, api_key: str, journal: Journal, tmp_path: Path
) -> None:
    photo = _png(tmp_path / "photo.png")
    with _client(emulator, api_key, journal) as client:
        client.run(INVERT, {"107.image": photo}, timeout=30, out_dir=tmp_path / "out")
        client.run(TEXT_TO_IMAGE, {"6.text": f"prompt that quotes {api_key}"}, timeout=30)
    journal.close()
    files = [p for p in journal.path.parent.iterdir() if p.name.startswith("journal.sqlite")]
    assert files
    for path in files:
        data = path.read_bytes()
        assert api_key.encode() not in data, path
        assert api_key.lower().encode() not in data.lower(), path


def test_a_hosted_model_run_is_recorded_under_its_endpoint(
    make_emulator: Any, api_key: str, journal: Journal
) -> None:
    shared = make_emulator(key_type="SHARED", queue_seconds=0, task_seconds=0.05)
    with _client(shared, api_key, journal) as client:
        task = client.run_model(
            MODEL,
            {"prompt": "a red kite over dunes", "resolution": "1k", "aspectRatio": "1:1"},
            timeout=30,
        )

    [entry] = journal.history(HistoryFilter(search="kite"))
    assert (entry.kind, entry.target, entry.task_id) == ("model", MODEL, task.task_id)
    assert entry.status == "SUCCESS" and entry.state is IntentState.SUBMITTED
    [group] = journal.spend(by="model")
    assert group.tasks == 1
