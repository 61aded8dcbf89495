"""Everyday-use polish of the command line, each point run as the real command against the
emulator: local checks that save coins, and what a user sees while waiting."""

from __future__ import annotations

import json
from typing import Any

from tests.cli.cli_harness import Invoker

TEXT_TO_IMAGE = "1904136902449209346"


def _document(stdout: str) -> dict[str, Any]:
    document = json.loads(stdout)
    assert isinstance(document, dict)
    return document


def test_a_misspelt_sampler_is_refused_before_submit(live: Invoker, emulator: Any) -> None:
    result = live("run", TEXT_TO_IMAGE, "--set", "KSampler.sampler_name=eular")

    assert result.exit_code == 2
    assert "did you mean euler" in result.stderr
    assert "Traceback" not in result.output
    assert emulator.stats()["tasks_created"] == 0


def test_no_validate_sends_an_unlisted_sampler(live: Invoker, emulator: Any) -> None:
    result = live(
        "run", TEXT_TO_IMAGE, "--set", "3.sampler_name=my_pack_sampler",
        "--no-validate", "--no-wait", "--json",
    )

    assert result.exit_code == 0, result.output
    assert _document(result.stdout)["task_id"]
    assert emulator.stats()["tasks_created"] == 1


def test_node_errors_on_an_accepted_submit_fail_fast_with_the_task_id(
    live: Invoker, make_emulator: Any
) -> None:
    checking = make_emulator(task_seconds=30, prompt_errors=True)
    bad = ("--base-url", checking.base_url, "run", TEXT_TO_IMAGE, "--no-validate")

    human = live(*bad, "--set", "3.sampler_name=eular", "--timeout", "60")
    as_json = live(*bad, "--set", "3.steps=0", "--json")

    assert human.exit_code == 2
    assert "node 3 (KSampler): Value not in list" in human.stderr
    assert "'eular'" in human.stderr
    assert "Traceback" not in human.output
    error = _document(as_json.stdout)["error"]
    assert error["type"] == "InvalidRequestError"
    assert error["task_id"] and error["task_id"] in error["message"]
    assert "steps" in error["message"]
    assert checking.stats()["tasks_created"] == 2
