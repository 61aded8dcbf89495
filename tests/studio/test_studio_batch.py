"""Studio batches in a real browser: a folder with a mapping, a CLI batch opened by its ledger,
and failed rows retried through the batch runner (each paid for once more only)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from runninghub import Client
from runninghub.batch import Ledger, RowState
from runninghub.emulator import EmulatorServer
from runninghub.studio.server import StudioServer
from tests.conftest import API_KEY

from .conftest import run_cli, shoot

# The batch ledger counts a batch's spend in coins: these run on a coin key.
pytestmark = pytest.mark.coin_key

IMAGE_WORKFLOW = "1987728214757978114"  # 107 Load Image -> 108 Invert Image -> 109 Save Image


def _png(shade: int) -> bytes:
    """A small PNG of its own colour: every row's input differs, so each is a task of its own."""
    buffer = io.BytesIO()
    Image.new("RGB", (24, 24), (shade, 255 - shade, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


def _stats(emulator: EmulatorServer) -> dict[str, object]:
    answer = httpx.get(f"{emulator.base_url}/__emulator__/stats", trust_env=False, timeout=10)
    return dict(answer.json())


def _finished(page: Page) -> None:
    expect(page.locator(".counts .state")).to_have_text("finished", timeout=60_000)


def test_a_folder_batch_maps_its_files_to_a_media_field_checked_before_anything_is_sent(
    page: Page, studio: StudioServer, studio_emulator: EmulatorServer, tmp_path: Path
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for n in range(3):
        (photos / f"photo-{n}.png").write_bytes(_png(40 * n))
    page.goto(f"{studio.base_url}/batch?workflow={IMAGE_WORKFLOW}")
    page.fill("#batch-folder", str(photos))
    page.click("#batch-inspect")
    field = page.locator("tr[data-column='file'] input")
    expect(field).to_have_value("107.image")  # the workflow's only media field
    expect(page.locator(".mapping-note")).to_contain_text("3 files")
    field.fill("107.imag")
    page.click("#batch-start")
    expect(page.locator("tr[data-column='file'] .field-error")).to_contain_text(
        "did you mean 107.image?"
    )
    shoot(page, "batch-folder-mapping")
    assert _stats(studio_emulator)["tasks_created"] == 0
    field.fill("109.filename_prefix")
    page.click("#batch-start")
    expect(page.locator("tr[data-column='file'] .field-error")).to_contain_text("not a media field")
    field.fill("107.image")
    page.click("#batch-start")
    _finished(page)
    expect(page.locator(".counts")).to_contain_text("3 succeeded")
    expect(page.locator(".batch-grid .card img")).to_have_count(3)
    expect(page.locator(".batch-grid .card .summary").first).to_have_text("107.image=photo-0.png")
    shoot(page, "batch-folder")
    ledgers = list((tmp_path / "outputs" / "batches").glob("*/batch.sqlite"))
    assert len(ledgers) == 1
    with Ledger.open(ledgers[0], read_only=True) as ledger:
        assert [row.state for row in ledger.rows()] == [RowState.SUCCEEDED] * 3


def test_a_batch_run_by_the_cli_opens_by_its_ledger_with_the_same_rows(
    page: Page, studio: StudioServer, studio_emulator: EmulatorServer, tmp_path: Path
) -> None:
    for n in range(4):
        (tmp_path / f"in-{n}.png").write_bytes(_png(60 * n))
    rows = tmp_path / "rows.csv"
    rows.write_text("107.image,109.filename_prefix\n" + "".join(
        f"in-{n}.png,cli-{n}\n" for n in range(4)
    ))  # fmt: skip
    ledger = tmp_path / "cli-out" / "batch.sqlite"
    done = run_cli(
        studio_emulator, "batch", "run", IMAGE_WORKFLOW, "--inputs", str(rows),
        "--out", str(tmp_path / "cli-out"), "--ledger", str(ledger),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    page.goto(f"{studio.base_url}/batch")
    page.fill("#ledger-path", str(tmp_path / "nowhere.sqlite"))
    page.click("#ledger-form button")
    expect(page.locator("#ledger-form .form-error")).to_contain_text("no batch ledger at")
    page.fill("#ledger-path", str(ledger))
    page.click("#ledger-form button")
    _finished(page)
    expect(page.locator(".counts")).to_contain_text("4 succeeded")
    cards = page.locator(".batch-grid .card")
    expect(cards).to_have_count(4)
    expect(page.locator(".batch-grid .card img")).to_have_count(4)
    with Ledger.open(ledger, read_only=True) as opened:
        recorded = opened.rows()
    for card, row in zip(cards.all(), recorded, strict=True):
        expect(card.locator(".task-id")).to_have_text(f"task {row.task_id}")
        expect(card.locator(".summary")).to_contain_text(f"109.filename_prefix=cli-{row.row - 1}")
    expect(page.locator(".ledger-path")).to_have_text(str(ledger))
    assert API_KEY not in page.content()
    shoot(page, "batch-cli-ledger")


def test_retry_failed_rows_submits_only_the_failed_ones_once_more(
    page: Page, studio: StudioServer, studio_emulator: EmulatorServer, tmp_path: Path
) -> None:
    images = [_png(30 * n) for n in range(6)]
    names = [f"openapi/{hashlib.sha256(data).hexdigest()}.png" for data in images]
    missing = {2, 5}  # rows whose image is not on the service yet: they fail on the emulator
    with Client(api_key=API_KEY, base_url=studio_emulator.base_url) as client:
        for n, data in enumerate(images, start=1):
            if n not in missing:
                (tmp_path / f"{n}.png").write_bytes(data)
                assert client.upload(tmp_path / f"{n}.png").file_name == names[n - 1]
    csv = ("107.image\n" + "".join(f"{name}\n" for name in names)).encode()
    page.goto(f"{studio.base_url}/batch?workflow={IMAGE_WORKFLOW}")
    page.set_input_files("#batch-csv", {"name": "rows.csv", "mimeType": "text/csv", "buffer": csv})
    page.click("#batch-inspect")
    page.click("#batch-start")
    _finished(page)
    expect(page.locator(".counts")).to_contain_text("4 succeeded")
    expect(page.locator(".counts")).to_contain_text("2 failed")
    expect(page.locator(".status-failed .error").first).to_contain_text("no uploaded file")
    expect(page.locator(".counts .spend")).not_to_have_text("0 coins spent so far")
    shoot(page, "batch-failed-rows")
    first = _stats(studio_emulator)
    assert first["tasks_created"] == 6
    with Client(api_key=API_KEY, base_url=studio_emulator.base_url) as client:
        for n in missing:
            (tmp_path / f"{n}.png").write_bytes(images[n - 1])
            client.upload(tmp_path / f"{n}.png")
    page.click("#retry-failed")
    expect(page.locator(".counts")).to_contain_text("6 succeeded", timeout=60_000)
    _finished(page)
    expect(page.locator(".batch-grid .card img")).to_have_count(6)
    expect(page.locator(".batch-grid .attempt")).to_have_count(2)
    shoot(page, "batch-retried")
    after = _stats(studio_emulator)
    assert after["tasks_created"] == 8
    runs = after["tasks_by_fingerprint"]
    assert isinstance(runs, dict)
    assert sorted(runs.values()) == [1, 1, 1, 1, 2, 2]
    expect(page.locator("#retry-failed")).to_be_disabled()
