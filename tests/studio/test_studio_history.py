"""The history's filters and a task's detail page, in a real browser on the emulator."""

from __future__ import annotations

import datetime
import re

from playwright.sync_api import Page, expect

from runninghub.studio.server import StudioServer

from .conftest import shoot

TEXT_TO_IMAGE = "1904136902449209346"
FAILING = "1900000000000000805"  # its SONIC_PreData node fails without audio
APP = "1877265245566922753"
AUDIO_MODEL = "rhart-audio/suno/lyrics"


def _run(page: Page, studio: StudioServer, query: str, status: str = "SUCCESS") -> str:
    page.goto(f"{studio.base_url}/run?{query}")
    page.click("#submit")
    expect(page.locator("#status")).to_have_text(status)
    return page.locator("#task-id").inner_text()


def _filter(page: Page, studio: StudioServer, query: str) -> None:
    page.goto(f"{studio.base_url}/history?{query}")


def test_the_date_filter_keeps_the_days_asked_for(page: Page, studio: StudioServer) -> None:
    _run(page, studio, f"workflow={TEXT_TO_IMAGE}")
    today = datetime.date.today()
    day_before = today - datetime.timedelta(days=1)
    cards = page.locator(".gallery .card")
    _filter(page, studio, f"from={today}&to={today}")
    expect(cards).to_have_count(1)
    expect(page.locator(".filters input[name=from]")).to_have_value(str(today))
    shoot(page, "history-dates")
    _filter(page, studio, f"to={day_before}")
    expect(cards).to_have_count(0)
    _filter(page, studio, f"from={today + datetime.timedelta(days=1)}")
    expect(cards).to_have_count(0)
    page.fill(".filters input[name=from]", str(day_before))  # the form itself, as a user does
    page.fill(".filters input[name=to]", "")
    page.click(".filters button")
    expect(cards).to_have_count(1)
    _filter(page, studio, "from=yesterday")
    expect(page.locator("[role=alert]")).to_have_text(
        "from: 'yesterday' is not a date (YYYY-MM-DD)"
    )


def test_the_kind_and_status_filters(page: Page, studio: StudioServer) -> None:
    _run(page, studio, f"workflow={TEXT_TO_IMAGE}")
    _run(page, studio, f"workflow={FAILING}", "FAILED")
    _run(page, studio, f"app={APP}")
    cards = page.locator(".gallery .card")
    _filter(page, studio, "kind=app")
    expect(cards).to_have_count(1)
    expect(cards.locator("strong")).to_have_text(APP)
    _filter(page, studio, "status=FAILED")
    expect(cards).to_have_count(1)
    expect(cards.locator("strong")).to_have_text(FAILING)
    _filter(page, studio, f"target={TEXT_TO_IMAGE}")
    expect(cards).to_have_count(1)


def test_a_failed_task_shows_its_cost_and_failure_and_runs_again(
    page: Page, studio: StudioServer
) -> None:
    task_id = _run(page, studio, f"workflow={FAILING}", "FAILED")
    page.goto(f"{studio.base_url}/history")
    page.locator(".gallery .card .details").first.click()
    expect(page.locator("main h2").first).to_contain_text(f"Task {task_id}")
    expect(page.locator(".facts .badge, h2 .badge").first).to_have_text("FAILED")
    expect(page.locator(".failure")).to_have_text(
        "node 276: TypeError: 'NoneType' object is not subscriptable"
    )
    # a wallet key pays money, not coins; the run time is the emulator's own measure
    expect(page.locator(".cost")).to_have_text(re.compile(r"^0 coins · 0\.10 money · ran \d+ s$"))
    expect(page.locator(".timeline li")).to_have_text(
        [re.compile(s) for s in ("^submitted", "^RUNNING", "^FAILED")]
    )
    shoot(page, "task-failed")
    page.click("#run-again")
    expect(page.locator("#run-form h2")).to_have_text(f"Workflow {FAILING}")


def test_the_detail_page_of_an_app_and_of_a_model_run_them_again_with_their_settings(
    page: Page, studio: StudioServer
) -> None:
    page.goto(f"{studio.base_url}/run?app={APP}")
    page.locator(".field[data-address='70.rotation'] select").select_option("180 degrees")
    page.click("#submit")
    expect(page.locator("#status")).to_have_text("SUCCESS")
    page.click("#task-detail")
    expect(page.locator("table.settings")).to_contain_text("70.rotation180 degrees")
    expect(page.locator("#outputs img")).to_be_visible()
    page.click("#run-again")
    expect(page.locator("#run-form h2")).to_have_text(f"App {APP}")
    expect(page.locator(".field[data-address='70.rotation'] select")).to_have_value("180 degrees")

    page.goto(f"{studio.base_url}/run?model={AUDIO_MODEL}")
    page.locator(".field[data-address='prompt'] [name]").fill("lyrics <b>of</b> the sea")
    page.click("#submit")
    expect(page.locator("#status")).to_have_text("SUCCESS")
    page.click("#task-detail")
    expect(page.locator("#outputs audio")).to_be_visible()
    expect(page.locator("table.settings td")).to_have_text(["lyrics <b>of</b> the sea"])
    shoot(page, "task-model")
    page.click("#run-again")
    expect(page.locator("#run-form h2")).to_have_text(f"Model {AUDIO_MODEL}")
    expect(page.locator(".field[data-address='prompt'] [name]")).to_have_value(
        "lyrics <b>of</b> the sea"
    )


def test_an_unknown_task_is_a_plain_not_found_page(page: Page, studio: StudioServer) -> None:
    answer = page.goto(f"{studio.base_url}/task/1234567890")
    assert answer is not None and answer.status == 404
    expect(page.locator("[role=alert]")).to_have_text("No such task in the journal.")


def test_a_pasted_page_address_filters_by_the_id_it_names(page: Page, studio: StudioServer) -> None:
    _run(page, studio, f"workflow={TEXT_TO_IMAGE}")
    _run(page, studio, f"app={APP}")
    cards = page.locator(".gallery .card")
    _filter(page, studio, f"target=https://www.runninghub.ai/ai-detail/{APP}")
    expect(cards).to_have_count(1)
    expect(cards.locator("strong")).to_have_text(APP)
    _filter(page, studio, f"kind=workflow&target=runninghub.cn/workflow/{TEXT_TO_IMAGE}")
    expect(cards.locator("strong")).to_have_text(TEXT_TO_IMAGE)
    _filter(page, studio, f"kind=app&target=https://www.runninghub.cn/workflow/{TEXT_TO_IMAGE}")
    expect(page.locator("[role=alert]")).to_have_text(
        f"'https://www.runninghub.cn/workflow/{TEXT_TO_IMAGE}' is the address of a workflow,"
        " not of an app"
    )
    expect(cards).to_have_count(0)
