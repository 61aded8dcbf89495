"""The seed's documented usage runs unchanged on ``RunningHubClient``."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageChops, ImageOps

from runninghub import RunningHubClient
from runninghub.compat import get_api_key, load_config
from runninghub.emulator import EmulatorServer

from .conftest import FAILING_WORKFLOW, INVERT_WORKFLOW, TEXT_WORKFLOW


@pytest.fixture(autouse=True)
def seed_environment(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The seed took only a key: the emulator is reached through RUNNINGHUB_BASE_URL."""
    monkeypatch.setenv("RUNNINGHUB_BASE_URL", emulator.base_url)
    monkeypatch.setenv("RUNNINGHUB_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("RUNNINGHUB_API_KEY", raising=False)


def test_seed_documented_usage(api_key: str, sample_png: Path, tmp_path: Path) -> None:
    # --- the seed's documented usage, unchanged ---
    client = RunningHubClient(api_key)
    url = client.upload_image(str(sample_png))
    result = client.submit_workflow_with_image("1987728214757978114", "107", "image", url)
    task_id = result["taskId"]
    final = client.wait_for_completion(task_id, poll_interval=0.05, max_attempts=200)
    # ---
    assert final["status"] == "SUCCESS"
    assert final["errorCode"] == ""
    with httpx.Client(trust_env=False) as http:  # "the image URL", as the seed's docs say
        assert url is not None and http.get(url).content == sample_png.read_bytes()
    output_url = final["results"][0]["url"]
    picture = tmp_path / "result.png"
    with httpx.Client(trust_env=False) as http:
        picture.write_bytes(http.get(output_url).content)
    with Image.open(picture) as produced, Image.open(sample_png) as original:
        expected = ImageOps.invert(original.convert("RGB"))
        assert ImageChops.difference(produced.convert("RGB"), expected).getbbox() is None
    client.close()


def test_returns_are_the_v2_wire_dicts(api_key: str) -> None:
    with RunningHubClient(api_key) as client:
        submitted = client.submit_workflow(TEXT_WORKFLOW)
        assert set(submitted) >= {"taskId", "status", "errorCode", "errorMessage", "results"}
        assert submitted["status"] in ("QUEUED", "RUNNING")
        queried = client.query_task(submitted["taskId"])
        assert queried["taskId"] == submitted["taskId"]
        final = client.wait_for_completion(
            submitted["taskId"], poll_interval=0.05, max_attempts=200
        )
        assert final["status"] == "SUCCESS"
        assert final["usage"]["consumeCoins"]


def test_seed_failure_shapes(api_key: str, tmp_path: Path) -> None:
    with RunningHubClient(api_key) as client:
        assert client.upload_image(tmp_path / "missing.png") is None
        refused = client.submit_workflow(
            TEXT_WORKFLOW, [{"nodeId": "6", "fieldName": "txt", "fieldValue": "x"}]
        )
        assert refused["errorCode"] == "803"
        assert refused["taskId"] == ""
        assert client.query_task("1234567890123456789")["errorCode"] == "1004"
        failed = client.submit_workflow(FAILING_WORKFLOW)
        final = client.wait_for_completion(failed["taskId"], poll_interval=0.05, max_attempts=200)
        assert final["status"] == "FAILED"
        assert final["failedReason"]["node_name"] == "SONIC_PreData"


def test_wait_for_completion_gives_up_after_max_attempts(
    api_key: str, emulator: EmulatorServer
) -> None:
    emulator.configure(task_seconds=30)
    with RunningHubClient(api_key) as client:
        task_id = client.submit_workflow(INVERT_WORKFLOW)["taskId"]
        last = client.wait_for_completion(task_id, poll_interval=0.05, max_attempts=4)
        assert last["status"] == "RUNNING"
        assert last["taskId"] == task_id


def test_key_from_the_environment_or_the_config_file(
    api_key: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from runninghub._config import save_key

    assert get_api_key() is None
    assert load_config() == {}
    save_key(api_key, "cn", tmp_path / "config")
    assert get_api_key() == api_key
    assert load_config()["api_key"] == api_key
    monkeypatch.setenv("RUNNINGHUB_API_KEY", "f" * 32)
    assert get_api_key() == "f" * 32
    with RunningHubClient() as client:  # the seed's key sources work without an argument
        assert client.query_task("1")["errorCode"] in ("1004", "1007")
