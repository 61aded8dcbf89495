"""The run and preset requests of the page, over real loopback HTTP: what each one refuses."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from runninghub._support import load_presets
from runninghub.emulator.catalog import SAMPLE_IMAGE
from runninghub.journal import Journal
from runninghub.studio.server import StudioServer

CHAT_MODEL = "rhart-text-qwen-27b/chat"  # prompt, and an optional list of image URLs


def _post(http: httpx.Client, studio: StudioServer, path: str, body: object) -> httpx.Response:
    return http.post(path, json=body, headers={"X-Studio-CSRF": studio.config.guard.csrf})


def _model(values: dict[str, object]) -> dict[str, object]:
    return {"kind": "model", "target": CHAT_MODEL, "values": values}


def _nothing_submitted() -> None:
    with Journal.open() as journal:
        assert journal.history() == []


def test_a_model_media_field_naming_a_file_of_this_machine_is_refused(
    http: httpx.Client, studio: StudioServer, tmp_path: Path
) -> None:
    local = tmp_path / "secret.png"
    local.write_bytes(SAMPLE_IMAGE.read_bytes())
    answer = _post(http, studio, "/api/run", _model({"prompt": "hi", "imageUrls": str(local)}))
    assert answer.status_code == 422
    assert answer.json()["errors"] == {
        "imageUrls": "a local path: drop the file on the field instead"
    }
    _nothing_submitted()


def test_an_unknown_model_parameter_is_refused_with_a_suggestion(
    http: httpx.Client, studio: StudioServer
) -> None:
    answer = _post(http, studio, "/api/run", _model({"promt": "hi"}))
    assert answer.status_code == 422
    errors = answer.json()["errors"]
    assert "did you mean 'prompt'?" in errors["promt"]
    assert errors["prompt"] == "prompt is required"
    _nothing_submitted()


def test_a_dropped_file_gives_a_model_field_its_url(
    http: httpx.Client, studio: StudioServer
) -> None:
    files = {"file": ("photo.png", SAMPLE_IMAGE.read_bytes(), "image/png")}
    csrf = {"X-Studio-CSRF": studio.config.guard.csrf}
    url = http.post("/api/upload", files=files, headers=csrf).json()["download_url"]
    assert url.startswith("http://127.0.0.1:")  # the emulator's own signed URL
    answer = _post(http, studio, "/api/run", _model({"prompt": "what is this?", "imageUrls": url}))
    assert answer.status_code == 200 and answer.json()["task_id"].isdigit()
    with Journal.open() as journal:
        assert journal.show(answer.json()["task_id"]).params["imageUrls"] == [url]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"kind": "app", "target": "abc", "values": {}}, 422, "an app id is digits"),
        ({"kind": "macro", "target": "1", "values": {}}, 400, "not a studio run"),
        ({"kind": "model", "target": "../api/x", "values": {}}, 422, "is not a model endpoint"),
    ],
)
def test_a_bad_target_is_one_line_and_nothing_is_sent(
    http: httpx.Client, studio: StudioServer, body: object, status: int, message: str
) -> None:
    answer = _post(http, studio, "/api/run", body)
    assert answer.status_code == status and message in answer.json()["error"]
    _nothing_submitted()


def test_a_model_form_saved_as_a_preset_is_one_preset_add_would_write(
    http: httpx.Client, studio: StudioServer
) -> None:
    body = {**_model({"prompt": "a haiku about tea"}), "name": "tea-haiku"}
    answer = _post(http, studio, "/api/presets", body)
    assert answer.status_code == 200, answer.text
    saved = load_presets(None)["tea-haiku"]  # the file `runninghub preset list` reads
    assert (saved.kind, saved.target, dict(saved.settings)) == (
        "model",
        CHAT_MODEL,
        {"prompt": "a haiku about tea"},
    )
    again = _post(http, studio, "/api/presets", body)
    assert again.status_code == 422 and "exists already" in again.json()["error"]


def test_a_bad_id_in_the_address_is_shown_escaped(http: httpx.Client, studio: StudioServer) -> None:
    page = http.get("/run", params={"app": "<script>x</script>"})
    assert page.status_code == 200
    assert "an app id is digits" in page.text
    assert "<script>x</script>" not in page.text and "&lt;script&gt;x&lt;/script&gt;" in page.text
