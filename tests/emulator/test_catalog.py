"""The bundled catalogue: workflows, the AI app, the sample image, and user workflow dirs."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat

from runninghub.emulator.catalog import (
    DEFAULT_MEDIA,
    SAMPLE_IMAGE,
    AppSpec,
    default_media,
    load_apps,
    load_workflows,
    parse_workflow,
)
from runninghub.emulator.nodes import NodeExecutionError, ProducedOutput, execute

INVERT = "1987728214757978114"
TEXT_TO_IMAGE = "1904136902449209346"
FAILING = "1900000000000000805"
MULTI_OUTPUT = "1900000000000000201"
TEXT_OUTPUT = "1900000000000000301"
APP = "1877265245566922753"


def image_of(output: ProducedOutput) -> Image.Image:
    image = Image.open(io.BytesIO(output.data))
    image.load()
    return image


def run(graph: dict[str, Any]) -> list[ProducedOutput]:
    return execute(graph, load_media=default_media)


def app() -> AppSpec:
    return load_apps()[APP]


# ---------------------------------------------------------------- bundled media


def test_the_sample_image_is_a_small_non_uniform_png() -> None:
    assert SAMPLE_IMAGE.stat().st_size < 50_000
    with Image.open(SAMPLE_IMAGE) as image:
        assert image.format == "PNG"
        assert image.size == (256, 256)
        assert max(ImageStat.Stat(image.convert("RGB")).stddev) > 30


def test_default_media_maps_example_png_to_the_sample() -> None:
    assert DEFAULT_MEDIA["example.png"] == SAMPLE_IMAGE
    assert default_media("example.png") == SAMPLE_IMAGE.read_bytes()
    with pytest.raises(FileNotFoundError):
        default_media("other.png")


# ---------------------------------------------------------------- bundled workflows


def test_the_bundled_workflow_ids() -> None:
    assert set(load_workflows()) >= {INVERT, TEXT_TO_IMAGE, FAILING, MULTI_OUTPUT, TEXT_OUTPUT}


def test_every_bundled_node_has_a_title() -> None:
    for graph in [*load_workflows().values(), app().graph]:
        assert all(node["_meta"]["title"] for node in graph.values())


def test_the_invert_workflow_inverts_the_sample() -> None:
    graph = load_workflows()[INVERT]
    assert [graph[n]["class_type"] for n in ("107", "108", "109")] == [
        "LoadImage",
        "ImageInvert",
        "SaveImage",
    ]
    assert graph["107"]["inputs"]["image"] in DEFAULT_MEDIA
    (output,) = run(graph)
    assert output.node_id == "109"
    with Image.open(SAMPLE_IMAGE) as sample:
        expected = ImageChops.invert(sample.convert("RGB"))
    assert image_of(output).tobytes() == expected.tobytes()


def test_the_text_to_image_workflow_is_comfyuis_default_graph() -> None:
    graph = load_workflows()[TEXT_TO_IMAGE]
    assert {node_id: node["class_type"] for node_id, node in graph.items()} == {
        "3": "KSampler",
        "4": "CheckpointLoaderSimple",
        "5": "EmptyLatentImage",
        "6": "CLIPTextEncode",
        "7": "CLIPTextEncode",
        "8": "VAEDecode",
        "9": "SaveImage",
    }
    sampler = graph["3"]["inputs"]
    assert (sampler["seed"], sampler["steps"], sampler["cfg"]) == (156680208700286, 20, 8)
    assert (sampler["sampler_name"], sampler["scheduler"], sampler["denoise"]) == (
        "euler",
        "normal",
        1,
    )
    assert graph["5"]["inputs"] == {"width": 512, "height": 512, "batch_size": 1}
    assert graph["4"]["inputs"]["ckpt_name"] == "v1-5-pruned-emaonly.safetensors"
    assert graph["6"]["_meta"]["title"] == "Positive Prompt"
    assert graph["7"]["_meta"]["title"] == "Negative Prompt"
    assert graph["7"]["inputs"]["text"] == "text, watermark"


def test_the_text_to_image_workflow_renders_its_batch() -> None:
    graph = load_workflows()[TEXT_TO_IMAGE]
    graph["5"]["inputs"].update(width=128, height=96, batch_size=2)
    outputs = run(graph)
    assert [(o.node_id, image_of(o).size) for o in outputs] == [("9", (128, 96))] * 2
    assert outputs[0].data != outputs[1].data


def test_the_failing_workflow_fails_every_time_at_the_same_node() -> None:
    graph = load_workflows()[FAILING]
    reasons = []
    for _ in range(2):
        with pytest.raises(NodeExecutionError) as caught:
            run(graph)
        reasons.append(caught.value.failed_reason())
    assert reasons[0] == reasons[1]
    reason = reasons[0]
    assert (reason["node_id"], reason["node_name"]) == ("276", "SONIC_PreData")
    assert reason["exception_type"] == "TypeError"
    assert reason["exception_message"] == "'NoneType' object is not subscriptable"
    assert json.loads(reason["traceback"])


def test_the_multi_output_workflow_saves_from_three_nodes() -> None:
    outputs = run(load_workflows()[MULTI_OUTPUT])
    assert [(o.node_id, o.filename) for o in outputs] == [
        ("3", "inverted_00001_.png"),
        ("6", "mirrored_00001_.png"),
        ("8", "ComfyUI_temp_00001_.png"),
    ]
    assert image_of(outputs[1]).size == (128, 128)


def test_the_text_output_workflow_captions_the_image() -> None:
    (output,) = run(load_workflows()[TEXT_OUTPUT])
    assert (output.node_id, output.ext) == ("5", "txt")
    assert output.text is not None and output.text.startswith("Caption: a 256x256 picture")
    assert output.data == output.text.encode("utf-8")


# ---------------------------------------------------------------- the AI app


def test_the_app_id_above_2_53_is_exact() -> None:
    spec = app()
    assert spec.webapp_id == "1877265245566922753"
    assert int(spec.webapp_id) > 2**53
    assert spec.graph["3"]["inputs"]["seed"] == 1125899906842624123


def test_the_app_lists_image_and_string_inputs_that_exist_in_its_graph() -> None:
    spec = app()
    assert spec.name
    kinds = {entry["fieldType"] for entry in spec.node_info_list}
    assert {"IMAGE", "STRING", "LIST"} <= kinds
    for entry in spec.node_info_list:
        assert set(entry) == {
            "nodeId",
            "nodeName",
            "fieldName",
            "fieldValue",
            "fieldData",
            "fieldType",
            "description",
            "descriptionEn",
        }
        node = spec.graph[entry["nodeId"]]
        assert entry["nodeName"] == node["class_type"]
        assert entry["fieldValue"] == str(node["inputs"][entry["fieldName"]])
        json.loads(entry["fieldData"])


def test_the_app_list_input_offers_its_options() -> None:
    (listed,) = [e for e in app().node_info_list if e["fieldType"] == "LIST"]
    options, spec = json.loads(listed["fieldData"])
    assert listed["fieldValue"] in options
    assert spec["default"] == listed["fieldValue"]


def test_the_app_runs_and_its_inputs_change_the_result() -> None:
    spec = app()
    (plain,) = run(spec.graph)
    assert image_of(plain).size == (256, 256)
    prompted = json.loads(json.dumps(spec.graph))
    prompted["52"]["inputs"]["text"] = "a red and gold poster"
    assert run(prompted)[0].data != plain.data
    rotated = json.loads(json.dumps(spec.graph))
    rotated["70"]["inputs"]["rotation"] = "90 degrees"
    turned = image_of(run(rotated)[0])
    expected = image_of(plain).transpose(Image.Transpose.ROTATE_270)
    assert turned.tobytes() == expected.tobytes()


# ---------------------------------------------------------------- user workflow dirs


def write(directory: Path, name: str, content: Any) -> None:
    text = content if isinstance(content, str) else json.dumps(content)
    (directory / name).write_text(text, encoding="utf-8")


def test_a_user_directory_adds_and_overrides_workflows(tmp_path: Path) -> None:
    mine = {"1": {"class_type": "EmptyImage", "inputs": {"seed": 18446744073709551615}}}
    write(tmp_path, "9007199254740993123.json", mine)
    write(tmp_path, f"{INVERT}.json", mine)
    workflows = load_workflows(tmp_path)
    assert workflows["9007199254740993123"] == mine
    assert workflows["9007199254740993123"]["1"]["inputs"]["seed"] == 2**64 - 1
    assert workflows[INVERT] == mine
    assert TEXT_TO_IMAGE in workflows


def test_wrapped_prompts_are_unwrapped() -> None:
    graph = {"1": {"class_type": "EmptyImage", "inputs": {}}}
    assert parse_workflow(json.dumps({"prompt": graph})) == graph
    assert parse_workflow(json.dumps({"prompt": json.dumps(graph)})) == graph


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"nodes": [], "links": [], "version": 0.4}, "UI-format"),
        ("{not json", "Expecting property name"),
        ({}, "non-empty JSON object"),
        ({"1": {"inputs": {}}}, "node 1 is not an object with a class_type"),
        ({"1": {"class_type": "X", "inputs": [1]}}, "node 1: inputs must be an object"),
        ('{"1": {"class_type": "X", "inputs": {"v": NaN}}}', "NaN is not valid JSON"),
    ],
)
def test_a_bad_user_workflow_is_reported_with_its_file(
    tmp_path: Path, content: Any, message: str
) -> None:
    write(tmp_path, "123.json", content)
    with pytest.raises(ValueError, match=message) as caught:
        load_workflows(tmp_path)
    assert "123.json" in str(caught.value)


def test_a_missing_user_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="workflows directory not found"):
        load_workflows(tmp_path / "nope")
