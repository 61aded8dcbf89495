"""The studio in a real browser: open, run, watch, see the output, history, run again."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from runninghub.emulator.catalog import SAMPLE_IMAGE
from runninghub.journal import Journal
from runninghub.studio.server import StudioServer
from tests.conftest import API_KEY

from .conftest import shoot

IMAGE_WORKFLOW = "1987728214757978114"
TEXT_TO_IMAGE = "1904136902449209346"

# Drops a real file on the drop zone the way a user's drag does: a DataTransfer with a File.
DROP = """([selector, name, b64]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], name, { type: "image/png" }));
  document.querySelector(selector).dispatchEvent(new DragEvent("drop", { dataTransfer: data }));
}"""


def _open(page: Page, studio: StudioServer, workflow: str) -> None:
    page.goto(f"{studio.base_url}/run?workflow={workflow}")
    expect(page.locator("#run-form h2")).to_have_text(f"Workflow {workflow}")


def test_the_token_address_opens_the_page_and_drops_the_token(
    page: Page, studio: StudioServer
) -> None:
    expect(page.locator(".brand")).to_have_text("RunningHub studio")
    assert "token=" not in page.url
    page.goto(f"{studio.base_url}/run")  # the cookie carries on without the token
    expect(page.locator("label[for=pick-workflow]")).to_be_visible()
    assert API_KEY not in page.content()
    shoot(page, "open")


def test_a_dropped_image_runs_live_and_its_output_shows_and_downloads(
    page: Page, studio: StudioServer, tmp_path: Path
) -> None:
    _open(page, studio, IMAGE_WORKFLOW)
    encoded = base64.b64encode(SAMPLE_IMAGE.read_bytes()).decode()
    page.evaluate(DROP, [".drop", "photo.png", encoded])
    expect(page.locator("input[name='107.image']")).to_have_value(re.compile(r"^openapi/\w+\.png$"))
    page.click("#submit")
    expect(page.locator("#status")).to_have_text("SUCCESS")
    assert "RUNNING" in (page.locator("#task").get_attribute("data-seen") or "")
    image = page.locator("#outputs img")
    expect(image).to_be_visible()
    assert page.evaluate("(img) => img.naturalWidth", image.element_handle()) > 0
    shoot(page, "run")
    with page.expect_download() as waiting:
        page.click("#outputs a.download")
    saved = tmp_path / "downloaded.png"
    waiting.value.save_as(saved)
    assert saved.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_field_typo_is_shown_beside_it_with_a_suggestion_and_nothing_is_sent(
    page: Page, studio: StudioServer
) -> None:
    _open(page, studio, TEXT_TO_IMAGE)
    page.click("details.extra summary")
    page.fill("#extra-address", "KSampler.seeed")
    page.fill("#extra-value", "7")
    page.click("#submit")
    error = page.locator("[data-extra] .field-error")
    expect(error).to_contain_text("did you mean KSampler.seed")
    expect(page.locator("#task")).to_be_hidden()
    shoot(page, "typo")
    with Journal.open() as journal:
        assert journal.history() == []


def test_history_lists_the_run_and_run_again_fills_the_form(
    page: Page, studio: StudioServer
) -> None:
    _open(page, studio, TEXT_TO_IMAGE)
    prompt = page.locator("[data-address='6.text'] [name]")
    prompt.fill("a red fox in the snow <b>bold</b>")
    page.click("#submit")
    expect(page.locator("#status")).to_have_text("SUCCESS")
    page.click("nav >> text=History")
    card = page.locator(".gallery .card").first
    expect(card.locator(".badge")).to_have_text("SUCCESS")
    expect(card.locator("img")).to_be_visible()
    expect(card.locator(".summary")).to_contain_text("<b>bold</b>")  # escaped, shown as text
    shoot(page, "history")
    page.fill(".filters input[name=q]", "no such words")
    page.click(".filters button")
    expect(page.locator(".gallery .card")).to_have_count(0)
    page.goto(f"{studio.base_url}/history")
    page.locator(".gallery .card .again").first.click()
    expect(page.locator("[data-address='6.text'] [name]")).to_have_value(
        "a red fox in the snow <b>bold</b>"
    )
    assert json.loads(page.evaluate("JSON.stringify(location.search)")).startswith("?from=")


def test_a_batch_of_six_rows_fills_its_grid_with_thumbnails(
    page: Page, studio: StudioServer
) -> None:
    page.click("nav >> text=Batch")
    page.fill("#batch-workflow", TEXT_TO_IMAGE)
    rows = "\n".join(f"a lighthouse number {n},{n}" for n in range(1, 7))
    csv = f"6.text,KSampler.seed\n{rows}\n".encode()
    page.set_input_files("#batch-csv", {"name": "rows.csv", "mimeType": "text/csv", "buffer": csv})
    page.click("#batch-inspect")
    page.click("#batch-start")
    expect(page.locator(".counts")).to_contain_text("finished", timeout=60_000)
    expect(page.locator(".counts")).to_contain_text("6 succeeded")
    grid = page.locator(".batch-grid .card")
    expect(grid).to_have_count(6)
    expect(page.locator(".batch-grid .card img")).to_have_count(6)
    shoot(page, "batch")
    with Journal.open() as journal:
        recorded = journal.history()
    assert sorted(entry.batch_row or 0 for entry in recorded) == [1, 2, 3, 4, 5, 6]


def test_a_batch_with_a_bad_column_is_refused_before_anything_is_sent(
    page: Page, studio: StudioServer
) -> None:
    page.goto(f"{studio.base_url}/batch?workflow={TEXT_TO_IMAGE}")
    csv = b"KSampler.seeed\n1\n2\n"
    page.set_input_files("#batch-csv", {"name": "rows.csv", "mimeType": "text/csv", "buffer": csv})
    page.click("#batch-inspect")
    page.click("#batch-start")
    expect(page.locator("tr[data-column='KSampler.seeed'] .field-error")).to_contain_text(
        "did you mean KSampler.seed"
    )
    with Journal.open() as journal:
        assert journal.history() == []
