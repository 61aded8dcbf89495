"""The journal against the emulator, with the public client: the recorder's calls made as the
client flows make them (intent before the submit, task id right after, the task as followed),
and the upload cache consulted before each upload."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

from PIL import Image

import runninghub
from runninghub.emulator import EmulatorServer
from runninghub.journal import HistoryFilter, Intent, Journal, LocalInput, total

INVERT = "1987728214757978114"  # 107 LoadImage -> 108 ImageInvert -> 109 SaveImage
TEXT_TO_IMAGE = "1904136902449209346"


def _png(path: Path) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def _upload_once(client: runninghub.Client, journal: Journal, key: str, local: LocalInput) -> str:
    cached = journal.uploads.lookup(key, local.sha256, local.size)
    if cached is not None:
        return cached.file_name
    uploaded = client.upload(Path(local.path))
    journal.uploads.store(key, local.sha256, local.size, uploaded.file_name, uploaded.download_url)
    return uploaded.file_name


def _run(  # noqa: PLR0913 - a test helper naming each part of a run
    client: runninghub.Client,
    journal: Journal,
    key: str,
    workflow: str,
    overrides: dict[str, str],
    *,
    inputs: tuple[LocalInput, ...] = (),
) -> runninghub.Task:
    intent = journal.record_intent(
        Intent("workflow", workflow, overrides, inputs=inputs, api_key=key)
    )
    handle = client.submit(workflow, overrides)
    journal.attach_task(intent, handle.task_id)
    task = handle.wait(timeout=30)
    files = client.download(task, Path(inputs[0].path).parent / "out") if inputs else []
    journal.record_task(task, saved=files)
    return task


def test_spend_equals_what_the_emulator_charged_and_a_file_used_twice_is_uploaded_once(
    emulator: EmulatorServer, api_key: str, journal: Journal, tmp_path: Path
) -> None:
    photo = _png(tmp_path / "photo.png")
    with runninghub.Client(api_key, base_url=emulator.base_url) as client:
        before = client.account().remain_coins
        tasks = []
        for _ in range(2):
            local = LocalInput.of("107.image", photo)
            name = _upload_once(client, journal, api_key, local)
            overrides = {"107.image": name}
            tasks.append(_run(client, journal, api_key, INVERT, overrides, inputs=(local,)))
        prompt = {"6.text": "a lighthouse at dawn"}
        tasks.append(_run(client, journal, api_key, TEXT_TO_IMAGE, prompt))
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
    saved = journal.show(tasks[0].task_id).outputs
    assert saved and all(output.sha256 and output.path for output in saved)
    assert Decimal(journal.show(tasks[0].task_id).usage["coins"] or 0) > 0
