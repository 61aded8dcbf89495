"""Each preset is an MCP tool of its own: listed with its schema, callable, and announced when
added while the server runs. Driven with the MCP SDK's client against the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
from mcp.types import ToolListChangedNotification
from PIL import Image

from runninghub import Client
from runninghub._support import build_model_preset, build_preset, save_presets
from tests.mcp_server.mcp_harness import error_of, start_server, structured

TEXT_TO_IMAGE = "1904136902449209346"


def _save_fox(emulator: Any, api_key: str, presets: Path, name: str = "fox") -> None:
    with Client(api_key=api_key, base_url=emulator.base_url) as client:
        graph = client.workflow_graph(TEXT_TO_IMAGE)
    made = build_preset(
        name, "workflow", TEXT_TO_IMAGE, graph,
        settings={"KSampler.steps": "3"},
        exposed={"6.text": "prompt", "KSampler.seed": "seed", "KSampler.sampler_name": "sampler"},
        description="A picture of a fox.",
    )  # fmt: skip
    save_presets({name: made}, presets)


async def test_list_tools_shows_each_preset_with_its_schema_and_calling_it_runs(
    emulator: Any, server_env: dict[str, str], tmp_path: Path, api_key: str
) -> None:
    presets = Path(server_env["RUNNINGHUB_CONFIG_DIR"]) / "presets.toml"
    _save_fox(emulator, api_key, presets)
    out = tmp_path / "out"

    async with start_server(emulator.base_url, server_env, tmp_path) as server:
        tools = {tool.name: tool for tool in (await server.session.list_tools()).tools}
        ran = await server.call("fox", {"prompt": "a red fox", "seed": 5, "download_dir": str(out)})
        typo = await server.call("fox", {"promt": "x"})

    schema = tools["fox"].input_schema
    assert "run_workflow" in tools
    assert tools["fox"].description and "A picture of a fox." in tools["fox"].description
    assert schema["properties"]["seed"]["type"] == "integer"
    assert schema["properties"]["prompt"]["type"] == "string"
    # Sampler names are checked locally (a known list), so the tool offers them as an enum.
    assert "euler" in schema["properties"]["sampler"]["enum"]
    assert schema["properties"]["seed"]["default"] is not None
    result = structured(ran)
    assert result["status"] == "SUCCESS" and result["task_id"]
    [saved] = result["saved_files"]
    prompt = json.loads(Image.open(saved["path"]).text["prompt"])
    assert prompt["6"]["inputs"]["text"] == "a red fox"
    assert prompt["3"]["inputs"]["seed"] == 5 and prompt["3"]["inputs"]["steps"] == 3
    assert "prompt" in json.dumps(error_of(typo))
    assert emulator.stats()["tasks_created"] == 1


async def test_adding_a_preset_while_serving_sends_tools_list_changed(
    emulator: Any, server_env: dict[str, str], tmp_path: Path, api_key: str
) -> None:
    presets = Path(server_env["RUNNINGHUB_CONFIG_DIR"]) / "presets.toml"
    changed = anyio.Event()

    async def on_message(message: Any) -> None:
        inner = getattr(message, "root", message)  # a ServerNotification wraps it in some versions
        if isinstance(inner, ToolListChangedNotification):
            changed.set()

    async with start_server(
        emulator.base_url, server_env, tmp_path, message_handler=on_message
    ) as server:
        before = {tool.name for tool in (await server.session.list_tools()).tools}
        await anyio.to_thread.run_sync(_save_fox, emulator, api_key, presets, "otter")
        with anyio.fail_after(30):  # a bound on a hang, not a measure: the watch looks each second
            await changed.wait()
        after = {tool.name for tool in (await server.session.list_tools()).tools}

    assert "otter" not in before
    assert after - before == {"otter"}


async def test_a_model_preset_is_a_tool_typed_from_the_catalogue_and_runs(
    make_emulator: Any, server_env: dict[str, str], tmp_path: Path, api_key: str
) -> None:
    shared = make_emulator(key_type="SHARED", queue_seconds=0, task_seconds=0.1)
    presets = Path(server_env["RUNNINGHUB_CONFIG_DIR"]) / "presets.toml"
    with Client(api_key=api_key, base_url=shared.base_url) as client:
        tts = client.model("kling-lip-sync/tts")
    made = build_model_preset(
        "voice", tts, settings={"voiceId": "genshin_vindi2"},
        exposed={"text": "line", "voiceLanguage": "language"}, description="Reads a line.",
    )  # fmt: skip
    save_presets({"voice": made}, presets)

    async with start_server(shared.base_url, server_env, tmp_path) as server:
        tools = {tool.name: tool for tool in (await server.session.list_tools()).tools}
        ran = await server.call("voice", {"line": "hello owl", "language": "zh"})
        wrong = await server.call("voice", {"line": "hi", "language": "fr"})

    schema = tools["voice"].input_schema
    assert schema["properties"]["language"]["enum"] == ["zh", "en"]
    assert set(schema["required"]) == {"line", "language"}
    result = structured(ran)
    assert result["status"] == "SUCCESS" and result["task_id"]
    assert "hello owl" in json.dumps(result)
    assert "voiceLanguage must be one of: zh, en; not 'fr'" in json.dumps(error_of(wrong))
    assert shared.stats()["tasks_created"] == 1
