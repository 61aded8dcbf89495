"""Ids pasted as web addresses, ids of the wrong kind, URLs given to --file, and what ``nodes``,
``app inputs`` and a finished text task show: each through the real command and the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.cli_harness import Invoker

TEXT_TO_IMAGE = "1904136902449209346"
INVERT = "1987728214757978114"
CAPTION = "1900000000000000301"  # LoadImage -> ImageDescribe -> a text output
APP = "1877265245566922753"
SITES = ("https://www.runninghub.cn", "https://www.runninghub.ai")


def _error_and_hint(stderr: str) -> tuple[str, str]:
    lines = stderr.splitlines()
    error = next(line for line in lines if line.startswith("error: "))
    hint = next((line for line in lines if line.startswith("hint: ")), "")
    return error, hint


@pytest.mark.parametrize("site", SITES)
def test_a_pasted_workflow_address_runs_that_workflow(
    live: Invoker, emulator: Any, site: str
) -> None:
    result = live("run", f"{site}/workflow/{TEXT_TO_IMAGE}?source=share", "--json")
    assert result.exit_code == 0, result.output
    task = json.loads(result.stdout)
    assert task["status"] == "SUCCESS"
    assert emulator.stats()["tasks_created"] == 1


@pytest.mark.parametrize("site", SITES)
def test_a_pasted_app_address_lists_and_runs_that_app(live: Invoker, site: str) -> None:
    address = f"{site}/ai-detail/{APP}/"
    inputs = live("app", "inputs", address, "--json")
    assert inputs.exit_code == 0, inputs.output
    assert json.loads(inputs.stdout)["fields"]
    run = live("app", "run", address, "--set", "52.text=neon", "--json")
    assert run.exit_code == 0, run.output


def test_a_pasted_task_address_is_waited_for(live: Invoker) -> None:
    submitted = json.loads(live("run", TEXT_TO_IMAGE, "--no-wait", "--json").stdout)
    task_id = submitted["task_id"]
    for address in (f"{SITES[0]}/task/{task_id}", f"{SITES[1]}/history?taskId={task_id}"):
        waited = live("wait", address, "--json", "--out", "out")
        assert waited.exit_code == 0, waited.output
        assert json.loads(waited.stdout)["task_id"] == task_id


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("run", "https://example.com/workflow/1904136902449209346"), "not a RunningHub address"),
        (("run", "https://www.runninghub.cn/post/1904136902449209346"), "names no workflow"),
        (("run", "https://www.runninghub.cn/workflow/19041369abc"), "names no workflow"),
        (("app", "run", f"https://www.runninghub.cn/workflow/{APP}"), "not of an app"),
        (("wait", "https://www.runninghub.cn/ai-detail/1"), "not of a task"),
        (("nodes", "ftp://www.runninghub.cn/workflow/1"), "not a RunningHub address"),
    ],
)
def test_a_bad_address_is_refused_locally(
    live: Invoker, emulator: Any, args: tuple[str, ...], expected: str
) -> None:
    result = live(*args)
    assert result.exit_code == 2, result.output
    error, _ = _error_and_hint(result.stderr)
    assert expected in error
    assert "Traceback" not in result.output
    assert emulator.stats()["requests"] == {}  # refused before anything was sent


def test_an_app_address_given_to_run_names_app_run(live: Invoker) -> None:
    result = live("run", f"https://www.runninghub.cn/ai-detail/{APP}")
    assert result.exit_code == 2
    assert _error_and_hint(result.stderr)[1] == f"hint: run it with: runninghub app run {APP}"


def test_an_app_id_given_to_run_suggests_app_run(live: Invoker, emulator: Any) -> None:
    result = live("run", APP)
    assert result.exit_code == 2, result.output
    error, hint = _error_and_hint(result.stderr)
    assert error == f"error: {APP} is an AI app, not a workflow"
    assert hint == f"hint: run it with: runninghub app run {APP}"
    assert emulator.stats()["tasks_created"] == 0


def test_a_workflow_id_given_to_app_run_and_app_inputs_suggests_the_workflow_commands(
    live: Invoker,
) -> None:
    run = live("app", "run", INVERT)
    assert run.exit_code == 2, run.output
    assert _error_and_hint(run.stderr)[1] == f"hint: run it with: runninghub run {INVERT}"
    listed = live("app", "inputs", INVERT)
    assert listed.exit_code == 2, listed.output
    hint = _error_and_hint(listed.stderr)[1]
    assert hint == f"hint: list its fields with: runninghub nodes {INVERT}"


def test_an_unknown_id_stays_not_found(live: Invoker) -> None:
    result = live("run", "1999999999999999999")
    assert result.exit_code == 4
    assert "app run" not in result.stderr


def test_a_url_given_to_file_suggests_set(live: Invoker, emulator: Any) -> None:
    url = "https://example.com/cat.png"
    result = live("run", INVERT, "--file", f"107.image={url}")
    assert result.exit_code == 2, result.output
    assert f"pass a URL with --set 107.image={url}" in result.stderr
    assert emulator.stats()["requests"] == {}


def test_nodes_suggests_file_for_a_media_field(live: Invoker) -> None:
    result = live("nodes", INVERT)
    assert result.exit_code == 0, result.output
    assert "upload a local file into a media field with: --file 107.image=PATH" in result.stderr
    plain = live("nodes", TEXT_TO_IMAGE)  # no media field: no such hint
    assert "--file" not in plain.stderr


def test_app_inputs_show_descriptions(live: Invoker) -> None:
    result = live("app", "inputs", APP)
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert header.split("\t") == ["node", "class", "field", "type", "value", "description"]
    assert "39\tLoadImage\timage\tmedia\texample.png\tUpload an image" in rows
    assert "upload a local file into a media field with: --file 39.image=PATH" in result.stderr


def test_a_text_output_is_printed_after_its_path(live: Invoker, workdir: Path) -> None:
    from runninghub.emulator.catalog import SAMPLE_IMAGE

    result = live("run", CAPTION, "--file", f"1.image={SAMPLE_IMAGE}", "--out", "out")
    assert result.exit_code == 0, result.output
    path_line, *text_lines = result.stdout.splitlines()
    saved = workdir / path_line if not Path(path_line).is_absolute() else Path(path_line)
    assert text_lines == [f"  {line}" for line in saved.read_text(encoding="utf-8").splitlines()]
    assert text_lines[0].startswith("  Caption: ")


def test_a_text_output_reaches_the_terminal_escaped(live: Invoker) -> None:
    from runninghub.emulator.catalog import SAMPLE_IMAGE

    hostile = "\x1b[2Jgone"
    result = live(
        "run", CAPTION, "--file", f"1.image={SAMPLE_IMAGE}", "--set", f"3.value={hostile}",
        "--out", "out",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout
    assert "  \\u001b[2Jgone" in result.stdout
