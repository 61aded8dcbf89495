"""Saving outputs from the command line: no identical copies piled up, ``--overwrite``,
``--no-download``, and ``--cancel-on-timeout`` on ``run``, ``app run``, ``model run`` and
``wait``, all against the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.cli_harness import Invoker

TEXT_TO_IMAGE = "1904136902449209346"
APP = "1877265245566922753"
MODEL_SETS = ("--set", "prompt=a fox", "--set", "resolution=1k", "--set", "aspectRatio=1:1")


def _document(stdout: str) -> dict[str, Any]:
    document = json.loads(stdout)
    assert isinstance(document, dict)
    return document


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_fetching_the_same_outputs_twice_leaves_one_copy(live: Invoker, tmp_path: Path) -> None:
    out = tmp_path / "out"
    task_id = live("run", TEXT_TO_IMAGE, "--out", str(out), "--json").stdout
    task_id = _document(task_id)["task_id"]
    first = _names(out)

    again = live("outputs", task_id, "--out", str(out))
    waited = live("wait", task_id, "--out", str(out), "--json")

    assert again.exit_code == 0, again.output
    assert "0 file(s)" in again.stderr and "1 already there, unchanged" in again.stderr
    assert again.stdout.strip() == str(out / first[0])
    assert waited.exit_code == 0, waited.output
    assert Path(_document(waited.stdout)["outputs"][0]["path"]) == out / first[0]
    assert _names(out) == first


def test_overwrite_replaces_an_edited_file_and_without_it_a_copy_is_numbered(
    live: Invoker, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    document = _document(live("run", TEXT_TO_IMAGE, "--out", str(out), "--json").stdout)
    saved = Path(document["outputs"][0]["path"])
    picture = saved.read_bytes()
    saved.write_bytes(b"edited by hand")

    kept = live("outputs", document["task_id"], "--out", str(out))
    replaced = live("wait", document["task_id"], "--out", str(out), "--overwrite")

    assert kept.exit_code == 0, kept.output
    numbered = Path(kept.stdout.strip())
    assert numbered.name == saved.name.replace(".png", "-1.png")
    assert numbered.read_bytes() == picture
    assert replaced.exit_code == 0, replaced.output
    assert replaced.stdout.strip() == str(saved)
    assert saved.read_bytes() == picture


@pytest.mark.parametrize(
    "command",
    [
        ["run", TEXT_TO_IMAGE, "--set", "6.text=a fox"],
        ["app", "run", APP, "--set", "52.text=oil painting"],
        ["model", "run", "rhart-image-n-pro/text-to-image", *MODEL_SETS],
    ],
    ids=["run", "app-run", "model-run"],
)
def test_no_download_prints_the_urls_and_saves_nothing(
    live: Invoker, workdir: Path, make_emulator: Any, command: list[str]
) -> None:
    # A SHARED (enterprise) key may run standard models; it runs workflows and apps alike.
    shared = make_emulator(key_type="SHARED", queue_seconds=0, task_seconds=0.1)
    result = live("--base-url", shared.base_url, *command, "--no-download")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines and all(line.startswith("http://127.0.0.1:") for line in lines)
    assert "saved" not in result.stderr
    assert list(workdir.iterdir()) == []


def test_no_download_json_has_no_paths_and_wait_takes_it_too(live: Invoker, workdir: Path) -> None:
    task_id = live("run", TEXT_TO_IMAGE, "--no-wait").stdout.strip()

    result = live("wait", task_id, "--no-download", "--json")

    assert result.exit_code == 0, result.output
    [output] = _document(result.stdout)["outputs"]
    assert output["path"] is None and output["url"].startswith("http://127.0.0.1:")
    assert list(workdir.iterdir()) == []


def test_no_download_with_out_or_overwrite_is_a_usage_error(
    live: Invoker, tmp_path: Path, emulator: Any
) -> None:
    with_out = live("run", TEXT_TO_IMAGE, "--no-download", "--out", str(tmp_path / "x"))
    with_overwrite = live("wait", "1910246754753896450", "--no-download", "--overwrite")

    assert with_out.exit_code == 2
    assert "--no-download saves nothing: drop --out" in with_out.stderr
    assert with_overwrite.exit_code == 2
    assert "drop --overwrite" in with_overwrite.stderr
    assert emulator.stats()["tasks_created"] == 0
    assert "Traceback" not in with_out.output + with_overwrite.output


def test_run_cancel_on_timeout_cancels_the_task_and_names_it(
    live: Invoker, make_emulator: Any
) -> None:
    slow = make_emulator(task_seconds=30)
    result = live(
        "--base-url", slow.base_url, "run", TEXT_TO_IMAGE, "--timeout", "0.3",
        "--cancel-on-timeout", "--json",
    )  # fmt: skip

    assert result.exit_code == 5, result.output
    error = _document(result.stdout)["error"]
    assert error["type"] == "WaitTimeoutError"
    assert (
        error["message"] == f"task {error['task_id']} did not finish within 0.3 s and was cancelled"
    )
    status = live("--base-url", slow.base_url, "status", error["task_id"], "--json")
    assert _document(status.stdout)["status"] == "CANCEL"


def test_wait_cancel_on_timeout_and_without_it_the_task_keeps_running(
    live: Invoker, make_emulator: Any
) -> None:
    slow = make_emulator(task_seconds=30)
    task_id = live("--base-url", slow.base_url, "run", TEXT_TO_IMAGE, "--no-wait").stdout.strip()

    waited = live("--base-url", slow.base_url, "wait", task_id, "--timeout", "0.3")
    running = live("--base-url", slow.base_url, "status", task_id, "--json")
    cancelled = live(
        "--base-url", slow.base_url, "wait", task_id, "--timeout", "0.3", "--cancel-on-timeout"
    )
    stopped = live("--base-url", slow.base_url, "status", task_id, "--json")

    assert waited.exit_code == 5
    assert f"runninghub wait {task_id}" in waited.stderr
    assert _document(running.stdout)["status"] in ("QUEUED", "RUNNING")
    assert cancelled.exit_code == 5
    assert f"task {task_id} did not finish within 0.3 s and was cancelled" in cancelled.stderr
    assert "runninghub wait" not in cancelled.stderr
    assert _document(stopped.stdout)["status"] == "CANCEL"
