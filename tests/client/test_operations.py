"""Every client operation against the emulator over loopback HTTP, on both faces."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runninghub import (
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    TaskStatus,
    WorkflowGraph,
)
from runninghub.emulator import EmulatorServer

from .conftest import APP_ID, INVERT_WORKFLOW, TEXT_WORKFLOW, api_requests


def test_account_and_queue_status(client: Any) -> None:
    account = client.account()
    assert account.remain_coins is not None and account.remain_coins > 0
    assert account.current_task_counts == 0
    queue = client.queue_status()
    assert queue.concurrent_limit == 2
    assert queue.running_count == 0


def test_upload_from_path_bytes_and_file_object(
    client: Any, emulator: EmulatorServer, sample_png: Path
) -> None:
    data = sample_png.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    from_path = client.upload(sample_png)
    from_bytes = client.upload(data)
    with sample_png.open("rb") as handle:
        from_file = client.upload(handle)
    from_stream = client.upload(io.BytesIO(data), file_name="x.png")
    for upload in (from_path, from_bytes, from_file, from_stream):
        assert upload.file_name == f"openapi/{digest}.png"  # named by content on the service
        assert upload.size == len(data)
        assert upload.type == "image"
    assert emulator.stats()["uploads"] == 4


def test_upload_refused_locally_sends_nothing(
    client: Any, emulator: EmulatorServer, tmp_path: Path
) -> None:
    script = tmp_path / "run.sh"
    script.write_text("echo hi")
    with pytest.raises(InvalidRequestError, match="not accepted"):
        client.upload(script)
    assert api_requests(emulator, "upload") == 0


def test_workflow_graph_is_fetched_once_and_cached(client: Any, emulator: EmulatorServer) -> None:
    graph = client.workflow_graph(TEXT_WORKFLOW)
    assert isinstance(graph, WorkflowGraph)
    assert graph.resolve("Positive Prompt.text").address == "6.text"
    assert client.workflow_graph(TEXT_WORKFLOW).resolve("KSampler.seed").address == "3.seed"
    assert api_requests(emulator, "getJsonApiFormat") == 1
    client.workflow_graph(TEXT_WORKFLOW, refresh=True)
    assert api_requests(emulator, "getJsonApiFormat") == 2


def test_workflow_graph_cache_survives_a_new_client(
    make_client: Callable[..., Any], emulator: EmulatorServer
) -> None:
    make_client().workflow_graph(INVERT_WORKFLOW)
    make_client().workflow_graph(INVERT_WORKFLOW)
    assert api_requests(emulator, "getJsonApiFormat") == 1


def test_unknown_workflow(client: Any) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.workflow_graph("1111111111111111111")
    assert caught.value.code == "380"


def test_app_inputs(client: Any) -> None:
    inputs = {(i.node_id, i.field_name): i for i in client.app_inputs(APP_ID)}
    assert inputs[("39", "image")].field_type == "IMAGE"
    assert inputs[("70", "rotation")].options == (
        "none",
        "90 degrees",
        "180 degrees",
        "270 degrees",
    )
    assert inputs[("52", "text")].description == "Describe the style"
    with pytest.raises(NotFoundError):
        client.app_inputs("1234")


def test_submit_query_outputs_and_reattach(client: Any, emulator: EmulatorServer) -> None:
    handle = client.submit(TEXT_WORKFLOW, {"6.text": "a red fox"})
    assert handle.task_id.isdigit()
    assert handle.last.status in (TaskStatus.QUEUED, TaskStatus.RUNNING)
    again = client.task(handle.task_id)
    final = again.wait()
    assert final.status is TaskStatus.SUCCESS
    assert final.outputs and final.outputs[0].url is not None
    assert client.query(handle.task_id).status is TaskStatus.SUCCESS
    legacy = client.outputs(handle.task_id)
    assert legacy.status is TaskStatus.SUCCESS
    assert [o.url for o in legacy.outputs] == [o.url for o in final.outputs]
    assert again.refresh().status is TaskStatus.SUCCESS
    assert emulator.stats()["tasks_created"] == 1


def test_outputs_reports_running_with_the_socket_address(
    make_client: Callable[..., Any], make_emulator: Callable[..., EmulatorServer]
) -> None:
    server = make_emulator(task_seconds=5)
    client = make_client(server)
    handle = client.submit(INVERT_WORKFLOW)
    running = client.outputs(handle.task_id)
    assert running.status is TaskStatus.RUNNING
    assert running.net_wss_url is not None and running.net_wss_url.startswith("ws://")
    client.cancel(handle.task_id)


def test_cancel_a_running_task(
    make_client: Callable[..., Any], make_emulator: Callable[..., EmulatorServer]
) -> None:
    server = make_emulator(task_seconds=30)
    client = make_client(server)
    handle = client.submit(INVERT_WORKFLOW)
    handle.cancel()
    assert client.query(handle.task_id).status is TaskStatus.CANCEL
    assert client.account().current_task_counts == 0


def test_unknown_task(client: Any) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.query("1234567890123456789")
    assert caught.value.code == "1004"
    with pytest.raises(NotFoundError):
        client.cancel("1234567890123456789")
    with pytest.raises(NotFoundError):
        client.outputs("1234567890123456789")


def test_refused_key(
    make_client: Callable[..., Any], make_emulator: Callable[..., EmulatorServer]
) -> None:
    server = make_emulator(keys=["f" * 32])
    client = make_client(server)
    with pytest.raises(AuthenticationError) as caught:
        client.account()
    assert caught.value.hint is not None and "key" in caught.value.hint
    with pytest.raises(AuthenticationError):
        client.query("1")
    with pytest.raises(AuthenticationError):
        client.upload(b"\x89PNG\r\n\x1a\n....", file_name="a.png")


class _Receiver(http.server.BaseHTTPRequestHandler):
    bodies: list[dict[str, Any]]

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        self.bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def webhook_receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local endpoint that accepts TASK_END callbacks and keeps their bodies."""
    bodies: list[dict[str, Any]] = []
    handler = type("Receiver", (_Receiver,), {"bodies": bodies})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", bodies
    server.shutdown()
    server.server_close()
    thread.join()


def test_webhook_detail_and_retry(
    client: Any, emulator: EmulatorServer, webhook_receiver: tuple[str, list[dict[str, Any]]]
) -> None:
    url, bodies = webhook_receiver
    handle = client.submit(INVERT_WORKFLOW, webhook_url=url)
    handle.wait()
    detail = _delivered(client, handle.task_id)
    assert detail.task_id == handle.task_id
    assert detail.webhook_url == url
    assert detail.id is not None
    assert json.loads(detail.event_data)["code"] == 0
    client.retry_webhook(detail.id, url)
    _delivered(client, handle.task_id, count=2, bodies=bodies)
    assert {body["taskId"] for body in bodies} == {handle.task_id}
    assert {body["event"] for body in bodies} == {"TASK_END"}


def _delivered(client: Any, task_id: str, count: int = 1, bodies: list[Any] | None = None) -> Any:
    """The webhook detail once the delivery (and ``count`` callbacks) happened."""
    import time

    deadline = time.monotonic() + 10
    while True:
        detail = client.webhook_detail(task_id)
        done = detail.callback_status == "SUCCESS" and (bodies is None or len(bodies) >= count)
        if done or time.monotonic() > deadline:
            assert done, detail
            return detail
        time.sleep(0.02)


def test_webhook_detail_without_webhook(client: Any) -> None:
    handle = client.submit(INVERT_WORKFLOW)
    handle.wait()
    with pytest.raises(NotFoundError):
        client.webhook_detail(handle.task_id)


def test_local_argument_checks(client: Any, emulator: EmulatorServer) -> None:
    with pytest.raises(InvalidRequestError, match="instance"):
        client.submit(INVERT_WORKFLOW, instance="huge")
    with pytest.raises(InvalidRequestError, match="webhook"):
        client.submit(INVERT_WORKFLOW, webhook_url="ftp://x")
    with pytest.raises(InvalidRequestError, match="not a valid id"):
        client.submit("../../uc/openapi/accountStatus")
    assert api_requests(emulator, "/run/") == 0
