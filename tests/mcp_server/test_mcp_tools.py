"""``runninghub mcp`` over stdio, driven by the MCP SDK's client, against the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from tests.mcp_server.mcp_harness import error_of, start_server, structured

IMAGE_WORKFLOW = "1987728214757978114"  # 107 LoadImage -> 108 ImageInvert -> 109 SaveImage
TEXT_TO_IMAGE = "1904136902449209346"
IMAGE_APP = "1877265245566922753"
FAILING_WORKFLOW = "1900000000000000805"

TOOLS = {
    "list_workflow_fields",
    "run_workflow",
    "get_task",
    "wait_task",
    "download_outputs",
    "cancel_task",
    "webhook_detail",
    "retry_webhook",
    "list_app_inputs",
    "run_app",
    "find_models",
    "show_model",
    "run_model",
    "account",
}


def _picture(path: Path) -> Path:
    """A small RGB picture with distinct pixels, so an inversion is easy to recognise."""
    image = Image.new("RGB", (24, 16))
    image.putdata([(x * 10, y * 15, (x * y) % 256) for y in range(16) for x in range(24)])
    image.save(path)
    return path


class ProgressLog:
    """An MCP progress callback that keeps what it was told."""

    def __init__(self) -> None:
        self.events: list[tuple[float, str | None]] = []

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        self.events.append((progress, message))


async def test_every_tool_has_a_description_and_input_and_output_schemas(
    emulator: Any, server_env: dict[str, str], tmp_path: Path, api_key: str
) -> None:
    async with start_server(emulator.base_url, server_env, tmp_path) as server:
        listed = (await server.session.list_tools()).tools

    assert {tool.name for tool in listed} == TOOLS
    for tool in listed:
        assert tool.description and len(tool.description) > 60, tool.name
        assert tool.input_schema["type"] == "object", tool.name
        assert tool.output_schema is not None and tool.output_schema["type"] == "object", tool.name
    by_name = {tool.name: tool for tool in listed}
    run_inputs = by_name["run_workflow"].input_schema
    assert run_inputs["required"] == ["workflow_id"]
    assert {"overrides", "files", "wait_seconds"} <= set(run_inputs["properties"])
    assert "api_key" not in str(run_inputs).lower()
    assert "task_id" in by_name["run_workflow"].output_schema["properties"]
    server.assert_never_shows(api_key)


async def test_runs_the_image_workflow_on_a_local_file_and_downloads_the_inverted_output(
    emulator: Any, server_env: dict[str, str], tmp_path: Path, api_key: str
) -> None:
    source = _picture(tmp_path / "input.png")
    progress = ProgressLog()
    async with start_server(emulator.base_url, server_env, tmp_path) as server:
        listed = await server.call("list_workflow_fields", {"workflow_id": IMAGE_WORKFLOW})
        files = {"107.image": str(source)}
        run = await server.call(
            "run_workflow",
            {"workflow_id": IMAGE_WORKFLOW, "files": files, "wait_seconds": 60},
            progress=progress,
        )
        task = structured(run)
        saved = structured(
            await server.call(
                "download_outputs", {"task_id": task["task_id"], "dir": str(tmp_path / "out")}
            )
        )

    field = _field(structured(listed), "107.image")
    assert field["type"] == "media" and field["class_type"] == "LoadImage"
    assert not run.is_error
    assert task["status"] == "SUCCESS" and task["finished"] is True
    assert [o["node_id"] for o in task["outputs"]] == ["109"]
    assert len(saved["files"]) == 1
    output = Path(saved["files"][0]["path"])
    assert output.parent == tmp_path / "out"
    with Image.open(source) as original, Image.open(output) as inverted:
        expected = ImageOps.invert(original.convert("RGB"))
        assert inverted.size == original.size
        assert inverted.convert("RGB").tobytes() == expected.tobytes()
    assert progress.events, "no progress notification arrived"
    assert any(task["task_id"] in (message or "") for _, message in progress.events)
    values = [value for value, _ in progress.events]
    assert values == sorted(values) and len(set(values)) == len(values)
    server.assert_never_shows(api_key)


def _field(fields: dict[str, Any], address: str) -> dict[str, Any]:
    matches = [f for f in fields["fields"] if f["address"] == address]
    assert len(matches) == 1, fields
    return matches[0]


async def test_a_misspelt_field_is_a_tool_error_with_a_suggestion_and_nothing_is_submitted(
    emulator: Any, server_env: dict[str, str], tmp_path: Path, api_key: str
) -> None:
    async with start_server(emulator.base_url, server_env, tmp_path) as server:
        result = await server.call(
            "run_workflow",
            {"workflow_id": TEXT_TO_IMAGE, "overrides": {"6.txet": "a red fox"}},
        )
        still_serving = await server.call("account")

    error = error_of(result)
    assert error["type"] == "InvalidRequestError"
    advice = f"{error['message']} {error['hint']}".lower()
    assert "did you mean" in advice and "6.text" in advice
    assert result.content[0].type == "text" and "6.text" in result.content[0].text
    assert not still_serving.is_error
    assert emulator.stats()["tasks_created"] == 0
    server.assert_never_shows(api_key)


async def test_a_missing_local_file_is_refused_before_anything_is_sent(
    emulator: Any, server_env: dict[str, str], tmp_path: Path, api_key: str
) -> None:
    missing = tmp_path / "nowhere.png"
    async with start_server(emulator.base_url, server_env, tmp_path) as server:
        result = await server.call(
            "run_workflow", {"workflow_id": IMAGE_WORKFLOW, "files": {"107.image": str(missing)}}
        )

    error = error_of(result)
    assert error["type"] == "InvalidRequestError"
    assert str(missing) in error["message"]
    stats = emulator.stats()
    assert stats["tasks_created"] == 0 and stats["uploads"] == 0
    server.assert_never_shows(api_key)


async def test_a_short_wait_returns_the_task_id_and_wait_task_finishes_it(
    make_emulator: Any, server_env: dict[str, str], tmp_path: Path, api_key: str
) -> None:
    # Queued for 1 s, then running for 1 s: a 0.2 s wait ends while the task is queued.
    emulator = make_emulator(queue_seconds=1.0, task_seconds=1.0)
    files = {"107.image": str(_picture(tmp_path / "input.png"))}
    first_progress, second_progress = ProgressLog(), ProgressLog()
    async with start_server(emulator.base_url, server_env, tmp_path) as server:
        early = structured(
            await server.call(
                "run_workflow",
                {"workflow_id": IMAGE_WORKFLOW, "files": files, "wait_seconds": 0.2},
                progress=first_progress,
            )
        )
        done = structured(
            await server.call(
                "wait_task",
                {
                    "task_id": early["task_id"],
                    "wait_seconds": 60,
                    "download_dir": str(tmp_path / "out"),
                },
                progress=second_progress,
            )
        )

    assert early["finished"] is False and early["status"] == "QUEUED"
    assert "wait_task" in early["next_step"] and early["outputs"] == []
    assert any("queued" in (message or "") for _, message in first_progress.events)
    assert done["task_id"] == early["task_id"]
    assert done["status"] == "SUCCESS" and done["finished"] is True
    assert "success" in (second_progress.events[-1][1] or "")
    assert [Path(f["path"]).parent for f in done["saved_files"]] == [tmp_path / "out"]
    assert emulator.stats()["tasks_created"] == 1
    server.assert_never_shows(api_key)


async def test_cancel_stops_a_running_task(
    make_emulator: Any, server_env: dict[str, str], tmp_path: Path, api_key: str
) -> None:
    emulator = make_emulator(queue_seconds=0, task_seconds=30)
    async with start_server(emulator.base_url, server_env, tmp_path) as server:
        started = structured(
            await server.call("run_workflow", {"workflow_id": TEXT_TO_IMAGE, "wait_seconds": 0})
        )
        too_early = await server.call(
            "download_outputs", {"task_id": started["task_id"], "dir": str(tmp_path / "out")}
        )
        cancelled = structured(await server.call("cancel_task", {"task_id": started["task_id"]}))
        seen = structured(await server.call("get_task", {"task_id": started["task_id"]}))
        waited = await server.call("wait_task", {"task_id": started["task_id"], "wait_seconds": 5})

    assert started["finished"] is False
    assert error_of(too_early)["type"] == "InvalidRequestError"
    assert "wait_task" in error_of(too_early)["hint"]
    assert not (tmp_path / "out").exists()
    assert cancelled == {"task_id": started["task_id"], "status": "CANCEL"}
    assert seen["status"] == "CANCEL" and seen["finished"] is True
    assert error_of(waited)["type"] == "TaskFailedError"
    assert error_of(waited)["task_id"] == started["task_id"]
    server.assert_never_shows(api_key)


async def test_a_task_that_fails_is_a_tool_error_naming_the_node(
    emulator: Any, server_env: dict[str, str], tmp_path: Path, api_key: str
) -> None:
    async with start_server(emulator.base_url, server_env, tmp_path) as server:
        result = await server.call(
            "run_workflow", {"workflow_id": FAILING_WORKFLOW, "wait_seconds": 60}
        )

    error = error_of(result)
    assert error["type"] == "TaskFailedError"
    failure = error["task"]["failure"]
    assert failure["node_id"] and failure["node_id"] in error["message"]
    assert error["task"]["status"] == "FAILED"
    server.assert_never_shows(api_key)


async def test_an_ai_app_lists_its_inputs_and_runs(
    emulator: Any, server_env: dict[str, str], tmp_path: Path, api_key: str
) -> None:
    source = _picture(tmp_path / "input.png")
    async with start_server(emulator.base_url, server_env, tmp_path) as server:
        inputs = structured(await server.call("list_app_inputs", {"app_id": IMAGE_APP}))["inputs"]
        image = next(i["address"] for i in inputs if i["field_type"] == "IMAGE")
        text = next(i["address"] for i in inputs if i["field_type"] == "STRING")
        run = structured(
            await server.call(
                "run_app",
                {
                    "app_id": IMAGE_APP,
                    "files": {image: str(source)},
                    "overrides": {text: "a lighthouse"},
                    "wait_seconds": 60,
                },
            )
        )

    assert run["status"] == "SUCCESS" and run["outputs"]
    server.assert_never_shows(api_key)


async def test_api_failures_are_tool_errors_and_the_server_keeps_serving(
    emulator: Any, server_env: dict[str, str], tmp_path: Path, api_key: str
) -> None:
    async with start_server(emulator.base_url, server_env, tmp_path) as server:
        unknown_task = await server.call("get_task", {"task_id": "1999999999999999999"})
        unknown_workflow = await server.call("list_workflow_fields", {"workflow_id": "123"})
        bad_arguments = await server.call("wait_task", {"task_id": "1", "wait_seconds": -1})
        no_such_tool = await server.call("delete_everything", {})
        account = await server.call("account")

    assert error_of(unknown_task)["type"] == "NotFoundError"
    assert error_of(unknown_workflow)["type"] == "NotFoundError"
    assert error_of(unknown_workflow)["hint"]
    assert error_of(bad_arguments)["type"] == "UsageError"
    assert error_of(bad_arguments)["message"].startswith("wait_seconds: ")
    assert error_of(no_such_tool)["type"] == "UsageError"
    assert "delete_everything" in error_of(no_such_tool)["message"]
    assert not account.is_error
    assert {"remain_coins", "concurrent_limit"} <= set(structured(account))
    server.assert_never_shows(api_key)
