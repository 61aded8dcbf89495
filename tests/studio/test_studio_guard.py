"""The studio refuses whoever did not open its printed address, and every cross-site request."""

from __future__ import annotations

import httpx
import pytest

from runninghub.journal import Journal
from runninghub.studio.server import StudioServer
from tests.conftest import API_KEY

RUN_BODY = {"kind": "workflow", "target": "1904136902449209346", "values": {"6.text": "a cat"}}


def _csrf(studio: StudioServer) -> dict[str, str]:
    return {"X-Studio-CSRF": studio.config.guard.csrf}


def test_a_request_without_the_token_is_refused(studio: StudioServer) -> None:
    with httpx.Client(base_url=studio.base_url, trust_env=False) as stranger:
        answer = stranger.get("/run")
        assert answer.status_code == 401
        assert "open the address that runninghub studio printed" in answer.text
        assert stranger.get("/run?token=wrong").status_code == 401


def test_the_cookie_opens_the_page_and_the_key_is_not_on_it(
    http: httpx.Client, studio: StudioServer
) -> None:
    page = http.get("/run?workflow=1904136902449209346")
    assert page.status_code == 200 and "Workflow 1904136902449209346" in page.text
    assert API_KEY not in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Origin": "http://evil.example"}, "cross-origin request refused"),
        ({"Sec-Fetch-Site": "cross-site"}, "cross-site request refused"),
        ({"Host": "evil.example"}, "unknown Host"),
    ],
)
def test_foreign_origins_sites_and_hosts_are_refused(
    http: httpx.Client, studio: StudioServer, headers: dict[str, str], reason: str
) -> None:
    answer = http.post("/api/run", json=RUN_BODY, headers={**_csrf(studio), **headers})
    assert answer.status_code == 403
    assert reason in answer.text
    _assert_nothing_submitted()


def test_a_state_change_without_the_anti_forgery_token_is_refused(
    http: httpx.Client, studio: StudioServer
) -> None:
    answer = http.post("/api/run", json=RUN_BODY)  # what a cross-site form could send
    assert answer.status_code == 403 and "anti-forgery" in answer.text
    wrong = http.post("/api/run", json=RUN_BODY, headers={"X-Studio-CSRF": "guess"})
    assert wrong.status_code == 403
    _assert_nothing_submitted()
    same_origin = {**_csrf(studio), "Origin": studio.base_url}
    accepted = http.post("/api/run", json=RUN_BODY, headers=same_origin)
    assert accepted.status_code == 200 and accepted.json()["task_id"].isdigit()


def test_saved_files_are_served_only_from_the_outputs_folder(http: httpx.Client) -> None:
    for path in ("/files/..%2F..%2Fetc/passwd", "/files/1/..%2F..%2F..%2Fetc%2Fpasswd"):
        assert http.get(path).status_code == 404


def _assert_nothing_submitted() -> None:
    with Journal.open() as journal:
        assert journal.history() == []
