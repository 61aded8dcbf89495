"""The standard-model tools of ``runninghub mcp`` over stdio, against an enterprise emulator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from runninghub.emulator import EmulatorServer
from tests.mcp_server.mcp_harness import error_of, start_server, structured

EDIT = "rhart-image-n-pro/edit"


async def test_find_show_and_run_a_model_on_a_local_picture(
    make_emulator: Callable[..., EmulatorServer],
    server_env: dict[str, str],
    tmp_path: Path,
    api_key: str,
) -> None:
    emulator = make_emulator(key_type="SHARED", queue_seconds=0, task_seconds=0.1)
    Image.new("RGB", (40, 30), (200, 0, 0)).save(tmp_path / "red.png")
    async with start_server(emulator.base_url, server_env, tmp_path) as server:
        found = structured(await server.call("find_models", {"search": "rhart-image-n-pro"}))
        shown = structured(await server.call("show_model", {"endpoint": EDIT}))
        run = structured(await server.call("run_model", {
            "endpoint": EDIT, "params": {"prompt": "a cat", "resolution": "1k"},
            "files": {"imageUrls": [str(tmp_path / "red.png")]},
            "wait_seconds": 60, "download_dir": str(tmp_path / "out"),
        }))  # fmt: skip
        server.assert_never_shows(api_key)
    assert found["catalogue"] == "public-2026-04-29" and EDIT in [
        m["endpoint"] for m in found["models"]
    ]
    by_key = {p["key"]: p for p in shown["params"]}
    assert by_key["imageUrls"]["is_list"] and by_key["resolution"]["options"]
    assert run["status"] == "SUCCESS" and run["task_id"]
    with Image.open(run["saved_files"][0]["path"]) as picture:
        assert picture.width > 0
    assert emulator.stats()["uploads"] == 1


async def test_a_bad_parameter_is_a_tool_error_and_nothing_is_created(
    make_emulator: Callable[..., EmulatorServer], server_env: dict[str, str], tmp_path: Path
) -> None:
    emulator = make_emulator(key_type="SHARED")
    async with start_server(emulator.base_url, server_env, tmp_path) as server:
        result = await server.call(
            "run_model", {"endpoint": EDIT, "params": {"prompt": "x", "resolutoin": "1k"}}
        )
    error = error_of(result)
    assert (
        error["type"] == "InvalidRequestError" and "did you mean 'resolution'" in error["message"]
    )
    assert emulator.stats()["tasks_created"] == 0


async def test_a_normal_key_is_told_it_needs_an_enterprise_key(
    emulator: Any, server_env: dict[str, str], tmp_path: Path
) -> None:
    async with start_server(emulator.base_url, server_env, tmp_path) as server:
        result = await server.call(
            "run_model", {"endpoint": EDIT, "params": {"prompt": "x", "resolution": "1k",
                                                        "imageUrls": ["https://example.com/a.png"]}}
        )  # fmt: skip
    error = error_of(result)
    assert error["code"] == "1014" and "enterprise" in (error["message"] + (error["hint"] or ""))
