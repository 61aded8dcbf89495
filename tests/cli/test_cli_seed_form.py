"""The seed's command form prints on stdout what the seed printed: the API's JSON answer.

Scripts and agents written for ``runninghub_client.py`` parse that document, so each test
compares it, action by action, with the answer the API itself gives over plain HTTP.
"""

from __future__ import annotations

import json
from typing import Any

from runninghub.emulator.catalog import SAMPLE_IMAGE
from tests.cli.cli_harness import Invoker

INVERT = "1987728214757978114"
TEXT_TO_IMAGE = "1904136902449209346"
FAILING = "1900000000000000805"
# What differs between two submits of the same workflow.
PER_TASK = ("taskId", "clientId", "status")


def printed(stdout: str) -> Any:
    """The one JSON document on stdout, printed as the seed did (indent 2)."""
    document = json.loads(stdout)
    assert stdout == json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    return document


def test_submit_prints_the_run_answer(live: Invoker, raw_api: Any) -> None:
    result = live("--workflow-id", TEXT_TO_IMAGE, "--action", "submit")

    assert result.exit_code == 0, result.output
    document = printed(result.stdout)
    direct = raw_api.run_workflow(TEXT_TO_IMAGE)  # the same request over plain HTTP
    assert list(document) == list(direct)  # the 11 keys, in the API's order
    assert document["taskId"].isdigit() and document["status"] in ("QUEUED", "RUNNING")
    same = [key for key in direct if key not in PER_TASK]
    assert {k: document[k] for k in same} == {k: direct[k] for k in same}
    assert raw_api.query(document["taskId"])["taskId"] == document["taskId"]
    assert f"submitted task {document['taskId']}" in result.stderr


def test_query_prints_the_query_answer(live: Invoker, raw_api: Any) -> None:
    task_id = raw_api.run_workflow(TEXT_TO_IMAGE)["taskId"]
    raw_api.wait(task_id)

    result = live("--action", "query", "--task-id", task_id)

    assert result.exit_code == 0, result.output
    assert printed(result.stdout) == raw_api.query(task_id)
    assert f"task {task_id}: SUCCESS" in result.stderr


def test_query_with_json_prints_the_same_document(live: Invoker, raw_api: Any) -> None:
    task_id = raw_api.run_workflow(INVERT)["taskId"]
    raw_api.wait(task_id)

    result = live("--json", "--action", "query", "--task-id", task_id)

    assert result.exit_code == 0, result.output
    assert printed(result.stdout) == raw_api.query(task_id)


def test_wait_prints_progress_on_stderr_and_the_final_answer(live: Invoker, raw_api: Any) -> None:
    task_id = raw_api.run_workflow(TEXT_TO_IMAGE)["taskId"]

    result = live(
        "--action", "wait", "--task-id", task_id, "--poll-interval", "0.1", "--max-attempts", "100"
    )

    assert result.exit_code == 0, result.output
    document = printed(result.stdout)
    assert document == raw_api.query(task_id)
    assert document["status"] == "SUCCESS" and document["results"]
    assert f"task {task_id}: waiting" in result.stderr


def test_wait_on_a_failing_task_prints_its_final_answer_and_exits_1(
    live: Invoker, raw_api: Any
) -> None:
    task_id = raw_api.run_workflow(FAILING)["taskId"]

    result = live("--action", "wait", "--task-id", task_id, "--poll-interval", "0.1")

    assert result.exit_code == 1, result.output
    document = printed(result.stdout)
    assert document == raw_api.query(task_id)
    assert document["status"] == "FAILED" and document["failedReason"]["node_id"] == "276"
    [error] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert task_id in error


def test_a_refused_query_prints_the_refusal_and_exits_4(live: Invoker, raw_api: Any) -> None:
    unknown = "1234567890123456789"

    result = live("--action", "query", "--task-id", unknown)

    assert result.exit_code == 4
    assert printed(result.stdout) == raw_api.query(unknown)
    assert printed(result.stdout)["errorCode"] == "1004"
    assert "error: " in result.stderr and "Traceback" not in result.stderr


def test_a_refused_submit_prints_the_refusal_and_creates_nothing(
    live: Invoker, raw_api: Any, emulator: Any
) -> None:
    result = live("--workflow-id", "1234", "--action", "submit")

    assert result.exit_code == 4
    assert printed(result.stdout) == raw_api.run_workflow("1234")
    assert printed(result.stdout)["errorCode"] == "380"
    assert emulator.stats()["tasks_created"] == 0


def test_run_with_image_defaults_to_node_107_field_image(live: Invoker, emulator: Any) -> None:
    result = live(
        "--workflow-id", INVERT, "--action", "run-with-image", "--image", str(SAMPLE_IMAGE)
    )

    assert result.exit_code == 0, result.output
    [url] = result.stdout.splitlines()
    assert url.startswith(f"{emulator.base_url}/outputs/") and url.endswith(".png")
    assert emulator.stats()["tasks_by_status"] == {"SUCCESS": 1}


def test_save_key_with_a_workflow_id_but_no_action_runs_nothing(
    rh: Invoker, emulator: Any, api_key: str
) -> None:
    saved = rh("--base-url", emulator.base_url, "--save-key", api_key, "--workflow-id", INVERT)

    assert saved.exit_code == 0, saved.output
    assert saved.stdout == ""
    assert "nothing was run: add --action submit" in saved.stderr
    assert emulator.stats()["tasks_created"] == 0
    submitted = rh("--base-url", emulator.base_url, "--workflow-id", INVERT, "--action", "submit")
    assert submitted.exit_code == 0, submitted.output
    assert emulator.stats()["tasks_created"] == 1


def test_save_key_with_an_action_saves_then_runs_it(
    rh: Invoker, emulator: Any, api_key: str
) -> None:
    result = rh(
        *("--base-url", emulator.base_url, "--save-key", api_key),
        *("--workflow-id", INVERT, "--action", "submit"),
    )

    assert result.exit_code == 0, result.output
    assert printed(result.stdout)["errorCode"] == ""
    assert "API key 0123…cdef saved" in result.stderr
    assert emulator.stats()["tasks_created"] == 1
