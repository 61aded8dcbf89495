"""The shipped model catalogue and its replacement by a newer registry file."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from runninghub.emulator import serve_in_thread

ECHO = {
    "endpoint": "acme/echo",
    "name": "Echo",
    "output_type": "string",
    "category": "Acme",
    "params": [{"key": "prompt", "type": "STRING", "required": True}],
    "price": {"currency": "CNY", "unit": "per call", "kind": "fixed", "price": 0.5},
}


def test_the_package_ships_the_registry_with_its_notice() -> None:
    data = resources.files("runninghub").joinpath("data")
    registry = json.loads(data.joinpath("rh-models.json").read_text("utf-8"))
    assert registry["version"] == "public-2026-04-29" and len(registry["models"]) == 299
    notice = data.joinpath("NOTICE.md").read_text("utf-8")
    assert "Apache" in notice and "public-2026-04-29" in notice


@pytest.fixture
def replacement(tmp_path: Path) -> Path:
    path = tmp_path / "registry.json"
    path.write_text(json.dumps({"version": "next", "models": [ECHO]}), encoding="utf-8")
    return path


def _run_echo(server, make_raw_api) -> dict:
    api = make_raw_api(server)
    task = api.v2("/openapi/v2/acme/echo", {"prompt": "ping"})
    assert task["errorCode"] == ""
    return api.wait(task["taskId"])


def test_a_replacement_file_replaces_the_catalogue(
    make_emulator, make_raw_api, replacement
) -> None:
    server = make_emulator(key_type="SHARED", task_seconds=0.05, catalogue=replacement)
    done = _run_echo(server, make_raw_api)
    assert "ping" in done["results"][0]["text"] and done["usage"]["consumeMoney"] == "0.5"
    api = make_raw_api(server)
    gone = api.http.post("/openapi/v2/rhart-image-n-pro/text-to-image", json={},
                         headers={"Authorization": f"Bearer {api.key}"})  # fmt: skip
    assert gone.json()["errorCode"] == "1001"


def test_the_environment_variable_names_the_replacement(
    monkeypatch, make_emulator, make_raw_api, replacement
) -> None:
    monkeypatch.setenv("RUNNINGHUB_CATALOGUE", str(replacement))
    server = make_emulator(key_type="SHARED", task_seconds=0.05)
    assert _run_echo(server, make_raw_api)["status"] == "SUCCESS"


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        json.dumps({"models": {}}),
        json.dumps({"models": [{**ECHO, "output_type": "hologram"}]}),
        json.dumps({"models": [{**ECHO, "params": [{"key": "x", "type": "COLOUR"}]}]}),
        json.dumps({"models": [{**ECHO, "endpoint": "../../etc"}]}),
    ],
)
def test_a_bad_registry_file_is_refused_at_start(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match="model catalogue"):
        serve_in_thread(catalogue=path)


def test_the_command_line_reports_a_bad_registry_in_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    done = subprocess.run(
        [sys.executable, "-m", "runninghub.emulator", "--catalogue", str(missing)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: model catalogue") and done.stderr.count("\n") == 1


def test_model_tasks_and_loras_survive_a_restart(
    tmp_path: Path, make_emulator, make_raw_api
) -> None:
    state_file = tmp_path / "emulator.sqlite"
    options = {"state_file": state_file, "key_type": "SHARED"}
    first = make_emulator(queue_seconds=0.3, task_seconds=0.05, **options)
    api = make_raw_api(first)
    body = {"text": "after the restart", "voiceId": "genshin_klee2", "voiceLanguage": "en"}
    task_id = api.v2("/openapi/v2/kling-lip-sync/tts", body)["taskId"]
    lora = b"weights"
    md5 = hashlib.md5(lora).hexdigest()
    url = api.v1("/api/openapi/getLoraUploadUrl", {"loraName": "l", "md5Hex": md5})["data"]["url"]
    assert api.http.put(url, content=lora).status_code == 200
    first.stop()  # the model task never left the queue
    second = make_emulator(task_seconds=0.05, **options)
    again = make_raw_api(second)
    done = again.wait(task_id)
    assert done["status"] == "SUCCESS" and "after the restart" in done["results"][0]["text"]
    known = again.v1("/api/openapi/getLoraUploadUrl", {"loraName": "l", "md5Hex": md5})
    assert "url" not in known["data"]
