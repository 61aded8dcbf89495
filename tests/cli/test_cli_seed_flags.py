"""The seed script's documented commands, with ``runninghub`` in place of
``python3 scripts/runninghub_client.py``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from PIL import Image, ImageChops, ImageOps

from runninghub.emulator.catalog import SAMPLE_IMAGE
from tests.cli.cli_harness import Invoker

INVERT = "1987728214757978114"
TEXT_TO_IMAGE = "1904136902449209346"


def test_run_with_image_uploads_submits_waits_and_prints_output_urls(
    live: Invoker, emulator: Any, tmp_path: Path
) -> None:
    result = live(
        "--workflow-id",
        INVERT,
        "--action",
        "run-with-image",
        "--image",
        str(SAMPLE_IMAGE),
        "--node-id",
        "107",
        "--field-name",
        "image",
    )

    assert result.exit_code == 0, result.output
    [url] = result.stdout.splitlines()
    assert url.startswith(emulator.base_url)
    picture = tmp_path / "out.png"
    picture.write_bytes(httpx.get(url, trust_env=False).content)
    expected = ImageOps.invert(Image.open(SAMPLE_IMAGE).convert("RGB"))
    assert ImageChops.difference(Image.open(picture).convert("RGB"), expected).getbbox() is None
    assert emulator.stats()["uploads"] == 1


def test_api_key_flag_works_with_a_warning(rh: Invoker, emulator: Any, api_key: str) -> None:
    result = rh(
        "--api-key",
        api_key,
        "--base-url",
        emulator.base_url,
        "--workflow-id",
        TEXT_TO_IMAGE,
        "--action",
        "submit",
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["taskId"].isdigit()
    assert "warning: an API key on the command line" in result.stderr


def test_save_key_then_the_saved_key_is_used(rh: Invoker, emulator: Any, api_key: str) -> None:
    saved = rh("--save-key", api_key)
    submitted = rh("--base-url", emulator.base_url, "--workflow-id", INVERT, "--action", "submit")

    assert saved.exit_code == 0, saved.output
    assert submitted.exit_code == 0, submitted.output
    assert emulator.stats()["tasks_created"] == 1


def test_a_seed_wait_that_runs_out_of_attempts_exits_5(live: Invoker, make_emulator: Any) -> None:
    slow = make_emulator(task_seconds=30)
    submitted = live("--base-url", slow.base_url, "--workflow-id", INVERT, "--action", "submit")
    task_id_text = json.loads(submitted.stdout)["taskId"]

    result = live(
        "--base-url",
        slow.base_url,
        "--action",
        "wait",
        "--task-id",
        task_id_text,
        "--poll-interval",
        "0.1",
        "--max-attempts",
        "3",
    )

    assert result.exit_code == 5
    assert result.stdout == ""
    assert f"runninghub wait {task_id_text}" in result.stderr
    live("--base-url", slow.base_url, "cancel", task_id_text)


def test_run_with_image_of_a_missing_file_is_bad_input(live: Invoker) -> None:
    result = live(
        "--workflow-id",
        INVERT,
        "--action",
        "run-with-image",
        "--image",
        "nope.png",
        "--node-id",
        "107",
    )

    assert result.exit_code == 2
    assert "no such file: nope.png" in result.stderr


def test_save_key_keeps_the_stored_site(rh: Invoker, config_dir: Path, api_key: str) -> None:
    from runninghub import _config

    _config.save_key("f" * 32, "ai", config_dir)
    saved = rh("--save-key", api_key)

    assert saved.exit_code == 0, saved.output
    stored = _config.load_config(config_dir)
    assert stored["site"] == "ai"
    assert stored["api_key"] == api_key
