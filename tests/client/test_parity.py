"""The sync and async faces expose the same methods with the same signatures."""

from __future__ import annotations

import inspect

import pytest

import runninghub
from runninghub import AsyncClient, AsyncTaskHandle, Client, TaskHandle


def public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


def normalised(signature: inspect.Signature) -> list[tuple[str, object, object, str]]:
    """Parameters with the face's own type names unified (``AsyncTaskHandle`` ~ ``TaskHandle``)."""
    return [
        (p.name, p.kind, p.default, str(p.annotation).replace("Async", ""))
        for p in signature.parameters.values()
    ]


@pytest.mark.parametrize(("sync", "async_"), [(Client, AsyncClient), (TaskHandle, AsyncTaskHandle)])
def test_same_methods_and_signatures(sync: type, async_: type) -> None:
    sync_methods = public_methods(sync)
    async_methods = public_methods(async_)
    assert sorted(sync_methods) == sorted(async_methods)
    for name, signature in sync_methods.items():
        other = async_methods[name]
        assert normalised(signature) == normalised(other), name
        assert str(signature.return_annotation).replace("Async", "") == str(
            other.return_annotation
        ).replace("Async", ""), name


@pytest.mark.parametrize(("sync", "async_"), [(Client, AsyncClient), (TaskHandle, AsyncTaskHandle)])
def test_async_face_awaits_what_does_io(sync: type, async_: type) -> None:
    for name, member in inspect.getmembers(async_, inspect.isfunction):
        if name.startswith("_") or name == "task":
            continue
        assert inspect.iscoroutinefunction(member), name
        assert not inspect.iscoroutinefunction(getattr(sync, name)), name


def test_context_managers() -> None:
    assert hasattr(Client, "__enter__") and hasattr(Client, "__exit__")
    assert hasattr(AsyncClient, "__aenter__") and hasattr(AsyncClient, "__aexit__")


def test_documented_operations_exist() -> None:
    operations = {
        "upload",
        "submit",
        "submit_app",
        "run",
        "run_app",
        "task",
        "query",
        "outputs",
        "cancel",
        "account",
        "queue_status",
        "workflow_graph",
        "app_inputs",
        "webhook_detail",
        "retry_webhook",
        "download",
        "close",
    }
    assert operations <= set(public_methods(Client))
    assert {"refresh", "wait", "cancel", "download"} <= set(public_methods(TaskHandle))


def test_public_names_resolve() -> None:
    for name in ("Client", "AsyncClient", "TaskHandle", "AsyncTaskHandle", "Progress"):
        assert getattr(runninghub, name).__name__ == name
    assert runninghub.SavedFile.__name__ == "SavedFile"
    assert runninghub.PollPolicy().initial == 1.0
    assert runninghub.RetryPolicy().max_attempts >= 1
    assert runninghub.RunningHubClient.__name__ == "RunningHubClient"
