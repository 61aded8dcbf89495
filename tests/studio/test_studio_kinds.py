"""The run page for an AI app, a standard model and a preset, in a real browser on the emulator."""

from __future__ import annotations

import json
import os
import subprocess

from playwright.sync_api import Page, expect

from runninghub.journal import Journal
from runninghub.studio.server import StudioServer
from tests.cli.cli_harness import runninghub_command
from tests.conftest import API_KEY

from .conftest import shoot

APP = "1877265245566922753"  # Dreamy Poster: a rotation dropdown (LIST) among its inputs
TEXT_TO_IMAGE = "1904136902449209346"
VIDEO_MODEL = "alibaba/happyhorse-1.0/text-to-video"
AUDIO_MODEL = "rhart-audio/suno/lyrics"


def _field(page: Page, address: str) -> object:
    return page.locator(f".field[data-address='{address}'] [name]")


def _run_and_finish(page: Page) -> str:
    page.click("#submit")
    expect(page.locator("#status")).to_have_text("SUCCESS")
    return page.locator("#task-id").inner_text()


def _bytes_of(page: Page, selector: str) -> bytes:
    """What the element's src serves, fetched with the page's own cookie."""
    element = page.locator(selector)
    assert (element.get_attribute("src") or "").startswith("/files/")
    answer = page.request.get(element.evaluate("(media) => media.src"))
    assert answer.ok
    return answer.body()


def test_an_app_runs_with_its_dropdown_and_descriptions(page: Page, studio: StudioServer) -> None:
    page.goto(f"{studio.base_url}/run?app={APP}")
    expect(page.locator("#run-form h2")).to_have_text(f"App {APP}")
    rotation = page.locator(".field[data-address='70.rotation'] select")
    expect(rotation.locator("option")).to_have_text(
        ["none", "90 degrees", "180 degrees", "270 degrees"]
    )
    expect(page.locator(".field[data-address='70.rotation'] small")).to_have_text("Rotation")
    rotation.select_option("90 degrees")
    task_id = _run_and_finish(page)
    expect(page.locator("#outputs img")).to_be_visible()
    shoot(page, "run-app")
    with Journal.open() as journal:
        record = journal.show(task_id)
    assert (record.entry.kind, record.entry.target) == ("app", APP)
    assert record.params == {"70.rotation": "90 degrees"}


def test_a_model_form_is_typed_and_its_video_plays_in_place(
    page: Page, studio: StudioServer
) -> None:
    page.goto(f"{studio.base_url}/run?model={VIDEO_MODEL}")
    expect(page.locator("#run-form h2")).to_have_text(f"Model {VIDEO_MODEL}")
    resolution = page.locator(".field[data-address='resolution'] select")
    expect(resolution.locator("option")).to_have_text(["720p", "1080p"])
    seed = page.locator(".field[data-address='seed'] input")
    assert (seed.get_attribute("type"), seed.get_attribute("min")) == ("number", "0")
    assert seed.get_attribute("max") == "2147483647"
    expect(page.locator(".field[data-address='seed'] small")).to_contain_text("to 2147483647")
    page.locator(".field[data-address='prompt'] [name]").fill("a fox runs in the snow")
    resolution.select_option("720p")
    seed.fill("7")
    _run_and_finish(page)
    video = page.locator("#outputs video")
    expect(video).to_be_visible()
    assert _bytes_of(page, "#outputs video")[4:8] == b"ftyp"  # an MP4 file
    page.wait_for_function("() => document.querySelector('#outputs video').duration > 0")
    expect(page.locator("#outputs a.download")).to_contain_text(".mp4")
    shoot(page, "run-model-video")


def test_a_model_audio_output_plays_in_place(page: Page, studio: StudioServer) -> None:
    page.goto(f"{studio.base_url}/run?model={AUDIO_MODEL}")
    page.locator(".field[data-address='prompt'] [name]").fill("a calm morning")
    _run_and_finish(page)
    audio = page.locator("#outputs audio")
    expect(audio).to_be_visible()
    data = _bytes_of(page, "#outputs audio")
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    page.wait_for_function("() => document.querySelector('#outputs audio').duration > 0")
    shoot(page, "run-model-audio")


def test_a_model_value_out_of_range_is_refused_beside_it_and_nothing_is_sent(
    page: Page, studio: StudioServer
) -> None:
    page.goto(f"{studio.base_url}/run?model={VIDEO_MODEL}")
    page.locator(".field[data-address='seed'] input").fill("99999999999")
    page.locator(".field[data-address='prompt'] [name]").fill("")
    page.click("#submit")
    expect(page.locator(".field[data-address='seed'] .field-error")).to_contain_text(
        "seed must be at most 2147483647"
    )
    expect(page.locator(".field[data-address='prompt'] .field-error")).to_contain_text(
        "prompt is required"
    )
    expect(page.locator("#task")).to_be_hidden()
    with Journal.open() as journal:
        assert journal.history() == []


def _preset_list() -> list[dict[str, object]]:
    """``runninghub preset list --json`` in a real process, on this test's own home."""
    env = {**os.environ, "RUNNINGHUB_API_KEY": API_KEY}
    done = subprocess.run(
        runninghub_command("preset", "list", "--json"),
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    return list(json.loads(done.stdout))


def test_save_as_preset_writes_one_and_picking_it_fills_the_form(
    page: Page, studio: StudioServer
) -> None:
    page.goto(f"{studio.base_url}/run?workflow={TEXT_TO_IMAGE}")
    page.locator(".field[data-address='6.text'] [name]").fill("a fox <i>in</i> the snow")
    page.click("details.save-preset summary")
    page.fill("#preset-name", "Fox Picture")
    page.click("#save-preset")
    expect(page.locator("#preset-name-box .field-error")).to_contain_text("bad preset name")
    page.fill("#preset-name", "fox")
    page.fill("#preset-description", "A fox picture")
    page.click("#save-preset")
    expect(page.locator("#preset-saved")).to_contain_text("Saved preset fox")
    saved = _preset_list()
    assert [(p["name"], p["kind"], p["target"]) for p in saved] == [
        ("fox", "workflow", TEXT_TO_IMAGE)
    ]
    assert saved[0]["settings"] == {"6.text": "a fox <i>in</i> the snow"}
    page.click("#save-preset")  # the same name again
    expect(page.locator("#preset-name-box .field-error")).to_contain_text("exists already")
    page.goto(f"{studio.base_url}/run")
    page.select_option("#pick-preset", "fox")  # picking one opens its form
    expect(page.locator("#run-form h2")).to_have_text(f"Workflow {TEXT_TO_IMAGE}")
    expect(page.locator(".field[data-address='6.text'] [name]")).to_have_value(
        "a fox <i>in</i> the snow"
    )
    expect(page.locator("#run-form .note").first).to_contain_text("Filled from preset fox")
    shoot(page, "run-preset")
    _run_and_finish(page)
    with Journal.open() as journal:
        assert journal.history()[0].summary.startswith("a fox <i>in</i> the snow")
