"""Everyday-use polish of the command line, each point run as the real command against the
emulator: local checks that save coins, and what a user sees while waiting."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

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
        "run",
        TEXT_TO_IMAGE,
        "--set",
        "3.sampler_name=my_pack_sampler",
        "--no-validate",
        "--no-wait",
        "--json",
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


def test_overrides_are_written_into_a_full_workflow_json(
    live: Invoker, make_emulator: Any, tmp_path: Path
) -> None:
    service = make_emulator(task_seconds=0.1, workflow_as_sent=True)
    graph_file = tmp_path / "graph.json"
    graph_file.write_text(json.dumps(service.state.workflows[TEXT_TO_IMAGE]))
    base = ("--base-url", service.base_url, "run", TEXT_TO_IMAGE, "--workflow-json")
    sent = {}
    for extra in ((), ("--no-validate",)):
        prompt = f"a lighthouse {len(extra)}"
        result = live(
            *base, str(graph_file), "--set", f"6.text={prompt}", "--no-wait", "--json", *extra
        )
        assert result.exit_code == 0, result.output
        task_id = _document(result.stdout)["task_id"]
        sent[prompt] = service.state.tasks[task_id].graph["6"]["inputs"]["text"]
    missing = live(*base, str(graph_file), "--set", "99.text=x", "--no-validate", "--json")

    assert sent == {"a lighthouse 0": "a lighthouse 0", "a lighthouse 1": "a lighthouse 1"}
    assert missing.exit_code == 2
    assert "99" in _document(missing.stdout)["error"]["message"]
    assert service.stats()["tasks_created"] == 2


def test_a_zero_timeout_is_refused_before_submit(live: Invoker, emulator: Any) -> None:
    run = live("run", TEXT_TO_IMAGE, "--timeout", "0")
    wait = live("wait", "1904136902449209346", "--timeout", "0")

    assert run.exit_code == 2
    assert "--timeout" in run.stderr
    assert wait.exit_code == 2
    assert emulator.stats()["tasks_created"] == 0


def test_the_library_refuses_a_zero_timeout_before_submit(emulator: Any, api_key: str) -> None:
    from runninghub import Client, InvalidRequestError

    client = Client(api_key=api_key, base_url=emulator.base_url)
    try:
        with pytest.raises(InvalidRequestError, match="timeout"):
            client.run(TEXT_TO_IMAGE, {"6.text": "a cat"}, timeout=0)
    finally:
        client.close()
    assert emulator.stats()["tasks_created"] == 0
