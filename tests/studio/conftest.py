"""The studio on a real emulator, and a real headless Chromium driven by Playwright.

The browser is the system's (Debian's ``chromium``; ``make test`` installs it when missing),
never one Playwright downloads. Screenshots go to ``test-artifacts/studio/`` (gitignored).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from runninghub import Client
from runninghub.emulator import EmulatorServer
from runninghub.journal import Journal
from runninghub.studio import StudioConfig, StudioGuard
from runninghub.studio.server import StudioServer, bind
from tests.cli.cli_harness import runninghub_command, subprocess_env
from tests.conftest import API_KEY

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "studio"


@pytest.fixture
def studio_emulator(
    make_emulator: Callable[..., EmulatorServer], request: pytest.FixtureRequest
) -> EmulatorServer:
    """The studio's emulator; tasks stay RUNNING 1 s (emulated) so each status shows. The key
    is a wallet key (``SHARED``), which may also run the standard models; tests marked
    ``coin_key`` (the batches, whose ledger counts coins) get a coin key, at one coin a task:
    priced by run time, a task whose worker process was slow to start would cost two."""
    if request.node.get_closest_marker("coin_key") is not None:
        return make_emulator(queue_seconds=0, task_seconds=1.0, key_type="NORMAL", coin_price=1)
    return make_emulator(queue_seconds=0, task_seconds=1.0, key_type="SHARED")


@pytest.fixture
def studio(studio_emulator: EmulatorServer, tmp_path: Path) -> Iterator[StudioServer]:
    """A studio on its own emulator (``studio_emulator``)."""
    emulator = studio_emulator
    with (
        Journal.open() as journal,
        Client(
            api_key=API_KEY,
            base_url=emulator.base_url,
            config_dir=tmp_path / "cfg",
            journal=journal,
        ) as client,
    ):
        config = StudioConfig(client, tmp_path / "outputs", StudioGuard(), journal)
        with StudioServer(config, bind(0)) as server:
            yield server


@pytest.fixture
def http(studio: StudioServer) -> Iterator[httpx.Client]:
    """A client that opened the printed address: it holds the cookie and the page's CSRF."""
    with httpx.Client(base_url=studio.base_url, trust_env=False, timeout=10) as client:
        first = client.get(studio.address)
        assert first.status_code == 303 and "token" not in first.headers["location"]
        yield client


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for the studio's tests. Package-scoped: Playwright's sync API keeps an
    event loop running in this thread while it lives, and the tests after these ones
    (``asyncio.run`` among them) must find none."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, studio: StudioServer) -> Iterator[Page]:
    """A fresh browser context that has opened the studio's printed address."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1200, "height": 800})
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    tab.goto(studio.address)
    yield tab
    context.close()


def shoot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def run_cli(emulator: EmulatorServer, *args: str) -> subprocess.CompletedProcess[str]:
    """The real ``runninghub`` in its own process, on ``emulator`` with the test key."""
    command = runninghub_command("--base-url", emulator.base_url, *args)
    env = subprocess_env({"RUNNINGHUB_API_KEY": API_KEY})
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )
