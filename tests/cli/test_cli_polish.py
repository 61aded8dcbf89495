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
