"""The API key never shows: not in any log line at DEBUG, exception text, repr or file."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runninghub import RunningHubError, TaskStatus
from runninghub.emulator import EmulatorServer

from .conftest import APP_ID, FAILING_WORKFLOW, INVERT_WORKFLOW, TEXT_WORKFLOW


def exercise(client: Any, sample_png: Path, out: Path) -> list[BaseException]:
    """Every operation once, and a few failures; returns the errors raised."""
    errors: list[BaseException] = []
    client.account()
    client.queue_status()
    client.app_inputs(APP_ID)  # the key travels in the query string here
    client.workflow_graph(TEXT_WORKFLOW)
    task = client.run(INVERT_WORKFLOW, {"107.image": sample_png}, out_dir=out)
    client.outputs(task.task_id)
    handle = client.submit(TEXT_WORKFLOW, {"6.text": "x"})
    handle.cancel()
    for call in (
        lambda: client.run(FAILING_WORKFLOW),
        lambda: client.query("1234567890123456789"),
        lambda: client.webhook_detail(task.task_id),
        lambda: client.submit(TEXT_WORKFLOW, {"6.txet": "x"}),
        lambda: client.submit(TEXT_WORKFLOW, [("6", "txet", "x")], validate=False),
        handle.wait,
    ):
        try:
            call()
        except RunningHubError as exc:
            errors.append(exc)
    return errors


def test_key_absent_from_logs_errors_reprs_and_files(
    client: Any,
    api_key: str,
    sample_png: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    errors = exercise(client, sample_png, tmp_path / "out")
    assert len(errors) == 6
    messages = [record.getMessage() for record in caplog.records]
    assert any("apiCallDemo" in line for line in messages)  # requests were logged
    assert any("accountStatus" in line for line in messages)
    for line in messages:
        assert api_key not in line
        assert api_key.upper() not in line
    for error in errors:
        assert api_key not in str(error)
        assert api_key not in repr(error)
        assert api_key not in str(getattr(error, "hint", ""))
        assert api_key not in repr(getattr(error, "raw", ""))
    assert api_key not in repr(client)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert api_key.encode() not in path.read_bytes(), path


def test_key_absent_when_it_is_refused(
    make_client: Callable[..., Any],
    make_emulator: Callable[..., EmulatorServer],
    caplog: pytest.LogCaptureFixture,
    api_key: str,
) -> None:
    server = make_emulator(keys=["f" * 32])
    client = make_client(server)
    caplog.set_level(logging.DEBUG)
    for call in (client.account, lambda: client.app_inputs(APP_ID), lambda: client.query("1")):
        with pytest.raises(RunningHubError) as caught:
            call()
        assert api_key not in str(caught.value) and api_key not in repr(caught.value.raw)
    assert all(api_key not in record.getMessage() for record in caplog.records)


def test_handle_and_task_reprs(client: Any, api_key: str) -> None:
    handle = client.submit(INVERT_WORKFLOW)
    task = handle.wait()
    assert task.status is TaskStatus.SUCCESS
    for text in (repr(handle), repr(task), str(task.to_dict()), repr(task.raw)):
        assert api_key not in text
