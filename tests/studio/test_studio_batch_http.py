"""Studio batches over plain HTTP: forgery refused, limits kept, and the CLI resumes the ledger."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from runninghub.batch import Ledger, RowState
from runninghub.emulator import EmulatorServer
from runninghub.studio.server import StudioServer

from .conftest import run_cli

# The batch ledger counts a batch's spend in coins: these run on a coin key.
pytestmark = pytest.mark.coin_key

TEXT_TO_IMAGE = "1904136902449209346"
CSV = b"6.text\n" + b"".join(b"a lighthouse number %d\n" % n for n in range(1, 5))


def _csrf(studio: StudioServer) -> dict[str, str]:
    return {"X-Studio-CSRF": studio.config.guard.csrf}


def _start(http: httpx.Client, studio: StudioServer, **fields: str) -> httpx.Response:
    form = {"workflow_id": TEXT_TO_IMAGE, "mapping": json.dumps({"6.text": "6.text"}), **fields}
    files = {"csv": ("rows.csv", CSV, "text/csv")}
    return http.post("/api/batch", data=form, files=files, headers=_csrf(studio))


def _when_done(http: httpx.Client, studio: StudioServer, batch_id: str) -> str:
    """The live part of the grid once the studio's run of the batch has ended."""
    assert studio.app.state.batches.wait(batch_id, timeout=120)
    part = http.get(f"/batch/{batch_id}?part=live")
    assert part.status_code == 200 and 'data-live="0"' in part.text
    return part.text


@pytest.mark.parametrize(
    "path", ["/api/batch", "/api/batch/inspect", "/api/batch/open", "/api/batch/x/retry"]
)
def test_every_batch_change_needs_the_anti_forgery_token(
    http: httpx.Client, studio: StudioServer, studio_emulator: EmulatorServer, path: str
) -> None:
    answer = http.post(path, data={"workflow_id": TEXT_TO_IMAGE})
    assert answer.status_code == 403
    assert "anti-forgery token" in answer.text
    assert not (studio.config.out_dir / "batches").exists()


def test_a_batch_stops_at_its_task_limit_and_the_cli_resumes_its_ledger(
    http: httpx.Client, studio: StudioServer, studio_emulator: EmulatorServer
) -> None:
    started = _start(http, studio, max_tasks="2")
    assert started.status_code == 200, started.text
    batch_id = started.json()["batch_id"]
    live = _when_done(http, studio, batch_id)
    assert "2 succeeded" in live and "2 pending" in live
    assert "--max-tasks 2 reached" in live
    ledger = studio.config.out_dir / "batches" / batch_id / "batch.sqlite"
    resumed = run_cli(
        studio_emulator, "batch", "resume", "--ledger", str(ledger), "--max-tasks", "4"
    )
    assert resumed.returncode == 0, resumed.stderr
    with Ledger.open(ledger, read_only=True) as opened:
        assert [row.state for row in opened.rows()] == [RowState.SUCCEEDED] * 4
    stats = httpx.get(f"{studio_emulator.base_url}/__emulator__/stats", trust_env=False).json()
    assert stats["tasks_created"] == 4
    grid = http.get(f"/batch/{batch_id}").text
    assert "4 succeeded" in grid and "4 coins spent so far" in grid


def test_a_bad_limit_or_mapping_is_refused_and_nothing_is_made(
    http: httpx.Client, studio: StudioServer, studio_emulator: EmulatorServer
) -> None:
    bad_limit = _start(http, studio, max_coins="lots")
    assert bad_limit.status_code == 422
    assert bad_limit.json()["error"] == "max coins is a number of coins, not 'lots'"
    unknown = _start(http, studio, mapping=json.dumps({"6.txt": "6.text"}))
    assert unknown.json()["columns"] == {
        "6.txt": "no column '6.txt' in the inputs; did you mean 6.text?"
    }
    ignored = _start(http, studio, mapping=json.dumps({"6.text": ""}))
    assert ignored.json()["error"] == "every column is ignored: map at least one to a field"
    assert not (studio.config.out_dir / "batches").exists()
    stats = httpx.get(f"{studio_emulator.base_url}/__emulator__/stats", trust_env=False).json()
    assert stats["tasks_created"] == 0


def test_a_batch_page_shows_server_text_as_text(
    http: httpx.Client, studio: StudioServer, tmp_path: Path
) -> None:
    rows = b"6.text\n<script>alert(1)</script>\n"
    form = {"workflow_id": TEXT_TO_IMAGE, "mapping": json.dumps({"6.text": "6.text"})}
    files = {"csv": ("rows.csv", rows, "text/csv")}
    batch_id = http.post("/api/batch", data=form, files=files, headers=_csrf(studio)).json()
    grid = _when_done(http, studio, batch_id["batch_id"])
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in grid
    assert not re.search(r"<script>alert", grid)
