"""Running workflows end to end: real outputs, failures, progress, timeouts, validation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageOps

from runninghub import (
    InvalidRequestError,
    NodeOverride,
    Progress,
    TaskFailedError,
    TaskStatus,
    WaitTimeoutError,
)
from runninghub._protocol import submit_input_hash
from runninghub.emulator import EmulatorServer

from .conftest import (
    APP_ID,
    FAILING_WORKFLOW,
    INVERT_WORKFLOW,
    TEXT_WORKFLOW,
    api_requests,
)


def assert_inverted(output: Path, source: Path) -> None:
    with Image.open(output) as produced, Image.open(source) as original:
        expected = ImageOps.invert(original.convert("RGB"))
        assert produced.size == original.size
        assert ImageChops.difference(produced.convert("RGB"), expected).getbbox() is None


def test_run_with_an_uploaded_image_and_a_text_override(
    client: Any, emulator: EmulatorServer, sample_png: Path, tmp_path: Path
) -> None:
    upload = client.upload(sample_png)
    task = client.run(
        INVERT_WORKFLOW,
        {"107.image": upload.file_name, "Save Image.filename_prefix": "negative"},
        out_dir=tmp_path / "out",
    )
    assert task.status is TaskStatus.SUCCESS
    (saved,) = sorted((tmp_path / "out").iterdir())
    assert saved.name == f"{task.task_id}-109-1.png"
    assert_inverted(saved, sample_png)
    assert task.usage is not None and task.usage.consume_coins is not None
    assert emulator.stats()["tasks_created"] == 1


def test_a_path_value_is_uploaded_first(
    client: Any, emulator: EmulatorServer, sample_png: Path, tmp_path: Path
) -> None:
    handle = client.submit(INVERT_WORKFLOW, [NodeOverride("107", "image", sample_png)])
    files = handle.download(tmp_path) if handle.wait() else []
    assert emulator.stats()["uploads"] == 1
    assert_inverted(files[0].path, sample_png)
    assert files[0].node_id == "109"


def test_an_existing_path_string_for_a_media_field_is_uploaded(
    client: Any, emulator: EmulatorServer, sample_png: Path, tmp_path: Path
) -> None:
    task = client.run(INVERT_WORKFLOW, [("107", "image", str(sample_png))], out_dir=tmp_path)
    assert emulator.stats()["uploads"] == 1
    assert_inverted(tmp_path / f"{task.task_id}-109-1.png", sample_png)


def test_failed_task_raises_with_the_node(client: Any) -> None:
    with pytest.raises(TaskFailedError) as caught:
        client.run(FAILING_WORKFLOW)
    error = caught.value
    assert error.task.status is TaskStatus.FAILED
    assert error.failure is not None
    assert error.failure.node_id == "276"
    assert error.failure.node_name == "SONIC_PreData"
    assert "SONIC_PreData" in str(error)
    assert error.task_id == error.task.task_id


def test_progress_reports_statuses_and_nodes(
    make_client: Callable[..., Any], make_emulator: Callable[..., EmulatorServer]
) -> None:
    server = make_emulator(task_seconds=1.0, queue_seconds=0.2)
    client = make_client(server)
    seen: list[Progress] = []
    task = client.run(TEXT_WORKFLOW, {"6.text": "a lighthouse"}, on_progress=seen.append)
    statuses = [p.status for p in seen if p.node_id is None]
    assert statuses[0] is TaskStatus.QUEUED
    assert statuses[-1] is TaskStatus.SUCCESS
    assert TaskStatus.RUNNING in statuses
    node_events = [p for p in seen if p.node_id is not None]
    assert {"3", "6"} <= {p.node_id for p in node_events}  # the websocket was listened to
    steps = [p for p in node_events if p.max is not None]
    assert steps and all(p.value is not None and p.value <= p.max for p in steps)
    assert all(p.task_id == task.task_id for p in seen)
    elapsed = [p.elapsed for p in seen]
    assert elapsed == sorted(elapsed)


def test_polling_only_still_finishes(
    make_client: Callable[..., Any], emulator: EmulatorServer
) -> None:
    from runninghub import PollPolicy

    client = make_client(poll=PollPolicy(initial=0.05, max_interval=0.1, websocket=False))
    task = client.run(INVERT_WORKFLOW)
    assert task.status is TaskStatus.SUCCESS
    assert api_requests(emulator, "/task/openapi/outputs") == 0


def test_wait_times_out_and_cancels(
    make_client: Callable[..., Any], make_emulator: Callable[..., EmulatorServer]
) -> None:
    server = make_emulator(task_seconds=60)
    client = make_client(server)
    handle = client.submit(INVERT_WORKFLOW)
    with pytest.raises(WaitTimeoutError) as caught:
        handle.wait(0.3, cancel_on_timeout=True)
    assert caught.value.task_id == handle.task_id
    assert caught.value.cancelled is True
    assert client.query(handle.task_id).status is TaskStatus.CANCEL


def test_wait_times_out_without_cancelling(
    make_client: Callable[..., Any], make_emulator: Callable[..., EmulatorServer]
) -> None:
    server = make_emulator(task_seconds=60)
    client = make_client(server)
    handle = client.submit(INVERT_WORKFLOW)
    with pytest.raises(WaitTimeoutError) as caught:
        handle.wait(0.2)
    assert caught.value.cancelled is False
    assert caught.value.last_status == "RUNNING"
    assert handle.task_id in str(caught.value.hint)
    assert client.query(handle.task_id).status is TaskStatus.RUNNING
    handle.cancel()


def test_cancelled_task_raises_task_failed(
    make_client: Callable[..., Any], make_emulator: Callable[..., EmulatorServer]
) -> None:
    server = make_emulator(task_seconds=60)
    client = make_client(server)
    handle = client.submit(INVERT_WORKFLOW)
    client.cancel(handle.task_id)
    with pytest.raises(TaskFailedError, match="cancelled"):
        handle.wait()


def test_typo_is_refused_locally_with_a_suggestion(client: Any, emulator: EmulatorServer) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        client.submit(TEXT_WORKFLOW, {"6.txet": "a cat"})
    assert caught.value.code is None
    assert "6.text" in str(caught.value) + str(caught.value.hint)
    with pytest.raises(InvalidRequestError):
        client.submit(TEXT_WORKFLOW, {"3.positive": "x"})  # a link, not a value
    with pytest.raises(InvalidRequestError):
        client.submit(TEXT_WORKFLOW, {"KSampler.steps": "many"})
    assert api_requests(emulator, "/run/") == 0
    assert api_requests(emulator, "getJsonApiFormat") == 1  # fetched once, then cached


def test_server_side_803_names_the_field(client: Any, emulator: EmulatorServer) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        client.submit(TEXT_WORKFLOW, [("6", "txet", "a cat")], validate=False)
    assert caught.value.code == "803"
    assert "txet" in str(caught.value)
    assert caught.value.hint is not None and "fieldValue" in caught.value.hint
    assert emulator.stats()["tasks_created"] == 0


def test_validation_can_be_turned_off_per_client(
    make_client: Callable[..., Any], emulator: EmulatorServer
) -> None:
    client = make_client(validate=False)
    client.run(TEXT_WORKFLOW, {"6.text": "a cat"})
    assert api_requests(emulator, "getJsonApiFormat") == 0


def test_override_by_title_and_class_with_coercion(client: Any, tmp_path: Path) -> None:
    task = client.run(
        TEXT_WORKFLOW,
        {"Positive Prompt.text": "a green owl", "KSampler.seed": "42", "KSampler.steps": "3"},
        out_dir=tmp_path / "out",
    )
    (saved,) = (tmp_path / "out").iterdir()
    with Image.open(saved) as image:
        prompt = image.info.get("prompt", "")
    assert "a green owl" in prompt
    assert '"seed": 42' in prompt.replace('"seed":42', '"seed": 42')
    assert task.outputs[0].node_id is not None


def test_workflow_json_is_validated_without_fetching(
    client: Any, emulator: EmulatorServer, tmp_path: Path
) -> None:
    graph = dict(client.workflow_graph(INVERT_WORKFLOW, refresh=True).raw)
    before = api_requests(emulator, "getJsonApiFormat")
    with pytest.raises(InvalidRequestError):
        client.submit(INVERT_WORKFLOW, {"107.imag": "x"}, workflow_json=graph)
    task = client.run(INVERT_WORKFLOW, {"109.filename_prefix": "json"}, workflow_json=graph)
    assert task.status is TaskStatus.SUCCESS
    assert api_requests(emulator, "getJsonApiFormat") == before


def test_run_app(client: Any, sample_png: Path, tmp_path: Path) -> None:
    task = client.run_app(
        APP_ID,
        {"39.image": sample_png, "70.rotation": "90 degrees", "52.text": "a calm sea"},
        out_dir=tmp_path / "out",
    )
    assert task.status is TaskStatus.SUCCESS
    (saved,) = (tmp_path / "out").iterdir()
    with Image.open(saved) as image, Image.open(sample_png) as source:
        assert image.size == (source.height, source.width)  # rotated by 90 degrees


def test_app_overrides_are_validated(client: Any, emulator: EmulatorServer) -> None:
    with pytest.raises(InvalidRequestError):
        client.submit_app(APP_ID, {"70.rotation": "45 degrees"})
    with pytest.raises(InvalidRequestError):
        client.submit_app(APP_ID, {"3.steps": 5})  # not one of the app's inputs
    assert api_requests(emulator, "/run/") == 0


def test_overrides_from_a_generator_are_not_lost(client: Any, emulator: EmulatorServer) -> None:
    with pytest.raises(InvalidRequestError):
        client.submit(TEXT_WORKFLOW, (item for item in [("6", "txet", "a cat")]))
    task = client.run(TEXT_WORKFLOW, (item for item in [("KSampler", "steps", "2")]))
    assert task.status is TaskStatus.SUCCESS
    assert api_requests(emulator, "/run/") == 1
    sent = [{"nodeId": "3", "fieldName": "steps", "fieldValue": 2}]  # resolved and coerced
    assert emulator.stats()["tasks_by_fingerprint"] == {
        submit_input_hash("workflow", TEXT_WORKFLOW, sent): 1
    }
