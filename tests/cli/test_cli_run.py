"""``run``, ``app run``, ``wait``, ``status``, ``outputs``, ``cancel`` against the emulator:
what a user sees on stdout and stderr, the --json shapes, and the exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops, ImageOps

from runninghub.emulator.catalog import SAMPLE_IMAGE
from tests.cli.cli_harness import Invoker

TEXT_TO_IMAGE = "1904136902449209346"
INVERT = "1987728214757978114"
FAILING = "1900000000000000805"
APP = "1877265245566922753"


def _document(stdout: str) -> dict[str, Any]:
    document = json.loads(stdout)  # exactly one document: json.loads refuses trailing data
    assert isinstance(document, dict)
    return document


def _assert_task_shape(document: dict[str, Any]) -> None:
    assert {"task_id", "status", "outputs", "usage"} <= set(document)
    for output in document["outputs"]:
        assert {"url", "type", "node_id", "path"} <= set(output)


def test_run_with_a_prompt_saves_the_picture_and_prints_its_path(live: Invoker) -> None:
    result = live("run", TEXT_TO_IMAGE, "--set", "6.text=a red fox", "--set", "KSampler.seed=42")

    assert result.exit_code == 0, result.output
    [line] = result.stdout.splitlines()
    path = Path(line)
    assert path.parent.parent == Path("runninghub-outputs")
    prompt = json.loads(Image.open(path).text["prompt"])
    assert prompt["6"]["inputs"]["text"] == "a red fox"
    assert prompt["3"]["inputs"]["seed"] == 42
    assert "waiting" in result.stderr


def test_run_json_has_the_documented_shape(live: Invoker, tmp_path: Path) -> None:
    out = tmp_path / "fox"
    result = live("run", TEXT_TO_IMAGE, "--set", "6.text=a fox", "--out", str(out), "--json")

    assert result.exit_code == 0, result.output
    document = _document(result.stdout)
    _assert_task_shape(document)
    assert document["status"] == "SUCCESS"
    [output] = document["outputs"]
    assert output["type"] == "png"
    assert output["node_id"] == "9"
    assert Path(output["path"]).parent == out
    assert Path(output["path"]).stat().st_size > 0
    assert document["usage"]["consume_coins"] is not None


def test_run_with_a_file_uploads_it_and_the_output_is_the_inverted_input(
    live: Invoker, tmp_path: Path
) -> None:
    out = tmp_path / "inverted"
    result = live("run", INVERT, "--file", f"107.image={SAMPLE_IMAGE}", "--out", str(out))

    assert result.exit_code == 0, result.output
    [line] = result.stdout.splitlines()
    produced = Image.open(line).convert("RGB")
    expected = ImageOps.invert(Image.open(SAMPLE_IMAGE).convert("RGB"))
    assert ImageChops.difference(produced, expected).getbbox() is None


def test_no_wait_then_wait_resumes_and_downloads(live: Invoker, make_emulator: Any) -> None:
    submitted = live("run", TEXT_TO_IMAGE, "--no-wait", "--json")

    assert submitted.exit_code == 0, submitted.output
    first = _document(submitted.stdout)
    assert first["status"] in ("QUEUED", "RUNNING")
    assert first["outputs"] == []

    waited = live("wait", first["task_id"], "--json")
    assert waited.exit_code == 0, waited.output
    document = _document(waited.stdout)
    _assert_task_shape(document)
    assert document["status"] == "SUCCESS"
    saved = Path(document["outputs"][0]["path"])
    assert saved.parent == Path("runninghub-outputs") / first["task_id"]
    assert saved.is_file()


def test_status_and_outputs_of_a_finished_task(live: Invoker, tmp_path: Path) -> None:
    task_id = _document(live("run", TEXT_TO_IMAGE, "--json").stdout)["task_id"]

    status = live("status", task_id, "--json")
    listed = live("outputs", task_id)
    downloaded = live("outputs", task_id, "--out", str(tmp_path / "again"), "--json")

    assert status.exit_code == 0, status.output
    state = _document(status.stdout)
    _assert_task_shape(state)
    assert state["status"] == "SUCCESS"
    assert state["outputs"][0]["path"] is None
    assert listed.exit_code == 0
    assert listed.stdout.strip() == state["outputs"][0]["url"]
    assert downloaded.exit_code == 0, downloaded.output
    [output] = _document(downloaded.stdout)["outputs"]
    assert Path(output["path"]).parent == tmp_path / "again"


def test_a_failing_workflow_exits_1_with_the_failed_node(live: Invoker) -> None:
    human = live("run", FAILING)
    as_json = live("run", FAILING, "--json")

    assert human.exit_code == 1
    assert human.stdout == ""
    assert "failed at node" in human.stderr
    assert "Traceback" not in human.output
    assert as_json.exit_code == 1
    error = _document(as_json.stdout)["error"]
    assert error["type"] == "TaskFailedError"
    assert error["task"]["status"] == "FAILED"
    assert error["task"]["failure"]["node_id"]
    assert error["task_id"] == error["task"]["task_id"]


def test_outputs_of_a_failed_task_exit_1(live: Invoker) -> None:
    task_id = _document(live("run", FAILING, "--no-wait", "--json").stdout)["task_id"]
    live("wait", task_id)

    result = live("outputs", task_id, "--json")

    assert result.exit_code == 1
    assert _document(result.stdout)["error"]["type"] == "TaskFailedError"


def test_an_unknown_node_is_refused_locally(live: Invoker, emulator: Any) -> None:
    result = live("run", TEXT_TO_IMAGE, "--set", "6.txt=a cat")
    typed = live("run", TEXT_TO_IMAGE, "--set", "KSampler.steps=many", "--json")
    nowhere = live("run", TEXT_TO_IMAGE, "--set", "Nonexistent.text=a cat")

    assert result.exit_code == 2
    assert "did you mean 6.text?" in result.stderr
    assert typed.exit_code == 2
    assert _document(typed.stdout)["error"]["type"] == "InvalidRequestError"
    assert nowhere.exit_code == 2
    assert emulator.stats()["tasks_created"] == 0


def test_an_unknown_workflow_or_task_is_an_api_error(live: Invoker) -> None:
    workflow = live("run", "1234", "--json")
    status = live("status", "1234567890123456789")
    cancel = live("cancel", "1234567890123456789")

    assert workflow.exit_code == 4
    assert _document(workflow.stdout)["error"]["type"] == "NotFoundError"
    assert status.exit_code == 4
    assert status.stderr.startswith("error: ")
    assert "hint: " in status.stderr
    assert cancel.exit_code == 4


def test_an_unreachable_service_exits_4(live: Invoker) -> None:
    result = live("--base-url", "http://127.0.0.1:1", "--retries", "0", "account", "--json")

    assert result.exit_code == 4
    error = _document(result.stdout)["error"]
    assert error["type"] == "APIConnectionError"
    assert "base URL" in error["hint"]


def test_a_refused_key_exits_3(live: Invoker, make_emulator: Any, api_key: str) -> None:
    strict = make_emulator(keys=["fedcba9876543210fedcba9876543210"])

    result = live("--base-url", strict.base_url, "account", "--json")

    assert result.exit_code == 3
    assert _document(result.stdout)["error"]["type"] == "AuthenticationError"


def test_a_full_queue_after_retries_exits_4(live: Invoker, make_emulator: Any) -> None:
    busy = make_emulator(concurrency=1, task_seconds=30)
    first = live("--base-url", busy.base_url, "run", TEXT_TO_IMAGE, "--no-wait")
    second = live("--base-url", busy.base_url, "--retries", "0", "run", TEXT_TO_IMAGE, "--json")

    assert first.exit_code == 0, first.output
    assert second.exit_code == 4
    error = _document(second.stdout)["error"]
    assert error["type"] == "CapacityError"
    assert error["code"] == "421"
    live("--base-url", busy.base_url, "cancel", first.stdout.strip())


def test_a_wait_that_times_out_exits_5_with_the_resume_command(
    live: Invoker, make_emulator: Any
) -> None:
    slow = make_emulator(task_seconds=30)

    human = live("--base-url", slow.base_url, "run", TEXT_TO_IMAGE, "--timeout", "0.3")
    as_json = live("--base-url", slow.base_url, "run", TEXT_TO_IMAGE, "--timeout", "0.3", "--json")

    assert human.exit_code == 5
    [task_id] = [word for word in human.stderr.split() if word.isdigit() and len(word) > 15][:1]
    assert f"runninghub wait {task_id}" in human.stderr
    assert as_json.exit_code == 5
    error = _document(as_json.stdout)["error"]
    assert error["type"] == "WaitTimeoutError"
    assert error["hint"] == f"resume with: runninghub wait {error['task_id']}"


def test_cancel_stops_a_running_task(live: Invoker, make_emulator: Any) -> None:
    slow = make_emulator(task_seconds=30)
    task_id = live("--base-url", slow.base_url, "run", TEXT_TO_IMAGE, "--no-wait").stdout.strip()

    cancelled = live("--base-url", slow.base_url, "cancel", task_id, "--json")
    status = live("--base-url", slow.base_url, "status", task_id, "--json")
    waited = live("--base-url", slow.base_url, "wait", task_id)

    assert cancelled.exit_code == 0, cancelled.output
    assert _document(cancelled.stdout) == {"task_id": task_id, "cancelled": True}
    assert _document(status.stdout)["status"] == "CANCEL"
    assert waited.exit_code == 1
    assert "cancelled" in waited.stderr


def test_app_inputs_and_app_run(live: Invoker) -> None:
    inputs = live("app", "inputs", APP, "--json")

    assert inputs.exit_code == 0, inputs.output
    document = _document(inputs.stdout)
    assert document["app_id"] == APP
    types = {field["address"]: field["type"] for field in document["fields"]}
    image = next(address for address, kind in types.items() if kind == "media")
    text = next(address for address, kind in types.items() if kind == "string")

    run = live(
        "app", "run", APP, "--file", f"{image}={SAMPLE_IMAGE}", "--set", f"{text}=neon", "--json"
    )
    assert run.exit_code == 0, run.output
    result = _document(run.stdout)
    _assert_task_shape(result)
    assert result["status"] == "SUCCESS"
    assert all(Path(output["path"]).is_file() for output in result["outputs"])


def test_nodes_lists_overridable_fields(live: Invoker) -> None:
    as_json = live("nodes", TEXT_TO_IMAGE, "--json")
    table = live("nodes", TEXT_TO_IMAGE)

    assert as_json.exit_code == 0, as_json.output
    document = _document(as_json.stdout)
    assert document["workflow_id"] == TEXT_TO_IMAGE
    fields = {field["address"]: field for field in document["fields"]}
    assert fields["6.text"]["class_type"] == "CLIPTextEncode"
    assert fields["3.seed"]["type"] == "int"
    assert "3.model" not in fields  # a link, not overridable
    header, *rows = table.stdout.splitlines()
    assert header.split("\t") == ["node", "title", "class", "field", "type", "value"]
    assert any(
        row.split("\t")[:4] == ["6", "Positive Prompt", "CLIPTextEncode", "text"] for row in rows
    )


def test_account_and_upload(live: Invoker) -> None:
    account = live("account", "--json")
    upload = live("upload", str(SAMPLE_IMAGE), "--json")
    plain = live("upload", str(SAMPLE_IMAGE))

    assert account.exit_code == 0, account.output
    info = _document(account.stdout)
    assert info["concurrent_limit"] == 2
    assert info["current_task_counts"] == 0
    assert info["remain_coins"] is not None
    assert upload.exit_code == 0, upload.output
    uploaded = _document(upload.stdout)
    assert uploaded["file_name"].endswith(".png")
    assert plain.stdout.strip() == uploaded["file_name"]


def test_upload_of_a_missing_file_is_bad_input(live: Invoker) -> None:
    result = live("upload", "nowhere.png")

    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")


def test_outputs_of_an_unfinished_task_say_so(live: Invoker, make_emulator: Any) -> None:
    slow = make_emulator(task_seconds=30)
    task_id = live("--base-url", slow.base_url, "run", TEXT_TO_IMAGE, "--no-wait").stdout.strip()

    result = live("--base-url", slow.base_url, "--json", "outputs", task_id)

    assert result.exit_code == 0, result.output
    document = _document(result.stdout)
    assert document["status"] in ("QUEUED", "RUNNING")
    assert document["outputs"] == []
    assert f"wait with: runninghub wait {task_id}" in result.stderr
    live("--base-url", slow.base_url, "cancel", task_id)


def test_a_lost_submit_answer_exits_4_with_the_hint_and_is_not_resubmitted(
    live: Invoker, make_emulator: Any
) -> None:
    lossy = make_emulator(fault_rate=1.0, fault_kinds=["truncated"], task_seconds=30)

    result = live("--base-url", lossy.base_url, "--json", "run", TEXT_TO_IMAGE, "--no-validate")

    assert result.exit_code == 4
    error = _document(result.stdout)["error"]
    assert error["type"] == "SubmitOutcomeUnknownError"
    assert "runninghub account" in error["hint"]
    assert lossy.stats()["tasks_created"] == 1
