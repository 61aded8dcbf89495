"""Workflow inspection: building graphs, addressing fields, coercing values, preparing overrides."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runninghub import AppInput, InvalidRequestError, NodeOverride, Upload
from runninghub.workflow import (
    Field,
    FieldKind,
    WorkflowGraph,
    coerce_value,
    normalize_overrides,
    render_rows,
)


def text_to_image() -> dict[str, Any]:
    """ComfyUI's default text-to-image graph in API format, titled prompts included."""
    return {
        "3": {
            "class_type": "KSampler",
            "inputs": {
                "seed": 156680208700286,
                "steps": 20,
                "cfg": 8,
                "sampler_name": "euler",
                "scheduler": "normal",
                "denoise": 1,
                "model": ["4", 0],
                "positive": ["6", 0],
                "negative": ["7", 0],
                "latent_image": ["5", 0],
            },
            "_meta": {"title": "KSampler"},
        },
        "4": {
            "class_type": "CheckpointLoaderSimple",
            "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"},
            "_meta": {"title": "Load Checkpoint"},
        },
        "5": {
            "class_type": "EmptyLatentImage",
            "inputs": {"width": 512, "height": 512, "batch_size": 1},
            "_meta": {"title": "Empty Latent Image"},
        },
        "6": {
            "class_type": "CLIPTextEncode",
            "inputs": {"text": "beautiful scenery nature glass bottle", "clip": ["4", 1]},
            "_meta": {"title": "Positive Prompt"},
        },
        "7": {
            "class_type": "CLIPTextEncode",
            "inputs": {"text": "text, watermark", "clip": ["4", 1]},
            "_meta": {"title": "Negative Prompt"},
        },
        "8": {
            "class_type": "VAEDecode",
            "inputs": {"samples": ["3", 0], "vae": ["4", 2]},
            "_meta": {"title": "VAE Decode"},
        },
        "9": {
            "class_type": "SaveImage",
            "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]},
            "_meta": {"title": "Save Image"},
        },
    }


@pytest.fixture
def graph() -> WorkflowGraph:
    return WorkflowGraph.from_api_format(text_to_image())


def refusal(call: Any, *args: Any) -> InvalidRequestError:
    """The InvalidRequestError a call raises; every local refusal has no code and a hint."""
    with pytest.raises(InvalidRequestError) as caught:
        call(*args)
    assert caught.value.code is None
    assert caught.value.hint
    return caught.value


# -- building -----------------------------------------------------------------------------------


def test_lists_the_overridable_fields_of_the_default_graph(graph: WorkflowGraph) -> None:
    assert [f.address for f in graph.fields()] == [
        "3.seed", "3.steps", "3.cfg", "3.sampler_name", "3.scheduler", "3.denoise",
        "4.ckpt_name", "5.width", "5.height", "5.batch_size", "6.text", "7.text",
        "9.filename_prefix",
    ]  # fmt: skip


def test_links_are_listed_only_on_request(graph: WorkflowGraph) -> None:
    links = [f for f in graph.fields(include_links=True) if f.is_link]
    assert {f.address for f in links} == {
        "3.model", "3.positive", "3.negative", "3.latent_image",
        "6.clip", "7.clip", "8.samples", "8.vae", "9.images",
    }  # fmt: skip
    assert all(f.kind is FieldKind.LINK for f in links)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("3.seed", FieldKind.INT),
        ("3.steps", FieldKind.INT),
        ("3.cfg", FieldKind.FLOAT),  # saved as 8: JSON cannot tell 8 from 8.0
        ("3.denoise", FieldKind.FLOAT),
        ("3.sampler_name", FieldKind.LIST),
        ("4.ckpt_name", FieldKind.STRING),
        ("5.width", FieldKind.INT),
        ("6.text", FieldKind.STRING),
    ],
)
def test_infers_field_kinds(graph: WorkflowGraph, address: str, kind: FieldKind) -> None:
    assert graph.resolve(address).kind is kind


def test_fields_carry_their_node_and_current_value(graph: WorkflowGraph) -> None:
    field = graph.resolve("6.text")
    assert (field.node_id, field.node_title, field.class_type, field.name) == (
        "6",
        "Positive Prompt",
        "CLIPTextEncode",
        "text",
    )
    assert field.value == "beautiful scenery nature glass bottle"


def test_samplers_and_schedulers_are_checked_against_the_known_values(
    graph: WorkflowGraph,
) -> None:
    sampler = graph.resolve("3.sampler_name")
    assert "euler" in sampler.options
    assert "dpmpp_2m" in sampler.options
    assert "karras" in graph.resolve("3.scheduler").options
    assert coerce_value(sampler, "dpmpp_2m") == "dpmpp_2m"
    # A typo fails on the service after the coins are spent: refused here, with the fix.
    with pytest.raises(InvalidRequestError, match="eular") as refused:
        coerce_value(sampler, "eular")
    assert refused.value.hint is not None and "did you mean euler" in refused.value.hint


def test_the_json_text_and_the_dict_give_the_same_graph() -> None:
    text = json.dumps(text_to_image())
    from_text = WorkflowGraph.from_api_format(text)
    from_bytes = WorkflowGraph.from_api_format(text.encode())
    from_dict = WorkflowGraph.from_api_format(text_to_image())
    assert from_text.nodes == from_dict.nodes == from_bytes.nodes
    assert from_text.raw == text_to_image()
    envelope = WorkflowGraph.from_api_format({"prompt": text})
    assert envelope.nodes == from_dict.nodes


def test_numeric_ids_sort_numerically_and_others_keep_their_order() -> None:
    spec = {"class_type": "Note", "inputs": {}}
    ids = ["zeta", "10", "12:3", "9", "alpha", "100", "2"]
    graph = WorkflowGraph.from_api_format(dict.fromkeys(ids, spec))
    assert [n.id for n in graph.nodes] == ["2", "9", "10", "100", "zeta", "12:3", "alpha"]


def test_a_ui_format_workflow_is_refused_with_the_export_hint() -> None:
    ui = {"last_node_id": 9, "nodes": [{"id": 3, "type": "KSampler"}], "links": []}
    error = refusal(WorkflowGraph.from_api_format, ui)
    assert "UI workflow" in error.message
    assert "API" in str(error.hint)


@pytest.mark.parametrize(
    ("graph", "words"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ({"3": "KSampler"}, "node 3"),
        ({"3": {"class_type": "KSampler", "inputs": [1]}}, "node 3"),
    ],
)
def test_malformed_graphs_are_refused(graph: Any, words: str) -> None:
    with pytest.raises(InvalidRequestError, match=words):
        WorkflowGraph.from_api_format(graph)


@pytest.mark.parametrize(
    ("class_type", "name"),
    [
        ("LoadImage", "image"),
        ("LoadImageMask", "image"),
        ("LoadAudio", "audio"),
        ("LoadVideo", "file"),
        ("VHS_LoadVideo", "video"),
        ("LoadImagesFromZip", "upload"),
    ],
)
def test_loader_file_inputs_are_media(class_type: str, name: str) -> None:
    graph = WorkflowGraph.from_api_format(
        {"1": {"class_type": class_type, "inputs": {name: "example.png", "channel": "alpha"}}}
    )
    assert graph.resolve(f"1.{name}").kind is FieldKind.MEDIA
    assert graph.resolve("1.channel").kind is FieldKind.STRING


def test_closed_enums_are_lists_that_keep_the_saved_value() -> None:
    graph = WorkflowGraph.from_api_format(
        {
            "1": {"class_type": "ImageScale", "inputs": {"upscale_method": "bicubic"}},
            "2": {"class_type": "ImageScaleBy", "inputs": {"upscale_method": "hq-custom"}},
        }
    )
    scale = graph.resolve("1.upscale_method")
    assert scale.kind is FieldKind.LIST
    assert scale.options == ("nearest-exact", "bilinear", "area", "bicubic", "lanczos")
    # The saved value ran on the server even if the table does not know it.
    assert "hq-custom" in graph.resolve("2.upscale_method").options


def test_a_pair_is_a_link_only_when_it_points_at_a_node_of_the_graph() -> None:
    graph = WorkflowGraph.from_api_format(
        {
            "1": {"class_type": "A", "inputs": {"size": [512, 512]}},
            "2": {
                "class_type": "B",
                "inputs": {"a": ["1", 0], "b": [1, 0], "c": ["99", 0], "d": ["1", "0"]},
            },
        }
    )
    kinds = {f.address: f.kind for f in graph.fields(include_links=True)}
    assert kinds == {
        "1.size": FieldKind.OTHER,
        "2.a": FieldKind.LINK,
        "2.b": FieldKind.LINK,
        "2.c": FieldKind.OTHER,
        "2.d": FieldKind.OTHER,
    }


# -- addressing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("6.text", "6.text"),
        ("Positive Prompt.text", "6.text"),
        ("positive prompt.text", "6.text"),
        ("NEGATIVE PROMPT.text", "7.text"),
        ("KSampler.seed", "3.seed"),
        ("ksampler.steps", "3.steps"),
        ("EmptyLatentImage.width", "5.width"),
        ("Empty Latent Image.height", "5.height"),
        ("Load Checkpoint.ckpt_name", "4.ckpt_name"),
        ("SaveImage.filename_prefix", "9.filename_prefix"),
    ],
)
def test_every_addressing_form_resolves(graph: WorkflowGraph, address: str, expected: str) -> None:
    assert graph.resolve(address).address == expected


def test_a_class_shared_by_two_nodes_is_ambiguous(graph: WorkflowGraph) -> None:
    error = refusal(graph.resolve, "CLIPTextEncode.text")
    assert "6 (Positive Prompt)" in error.message
    assert "7 (Negative Prompt)" in error.message
    assert error.hint == "use one of: 6.text, 7.text"


def test_a_title_shared_by_two_nodes_is_ambiguous() -> None:
    spec = {"class_type": "CLIPTextEncode", "inputs": {"text": ""}, "_meta": {"title": "Prompt"}}
    graph = WorkflowGraph.from_api_format({"1": spec, "2": spec})
    error = refusal(graph.resolve, "Prompt.text")
    assert error.hint == "use one of: 1.text, 2.text"


@pytest.mark.parametrize(
    ("address", "suggestion"),
    [
        ("6.txt", "6.text"),
        ("6.Text", "6.text"),
        ("Positive Prompt.txet", "Positive Prompt.text"),
        ("KSampler.sed", "KSampler.seed"),
        ("Positve Prompt.text", "Positive Prompt.text"),
        ("KSampler.step", "KSampler.steps"),
    ],
)
def test_typos_get_the_closest_names(graph: WorkflowGraph, address: str, suggestion: str) -> None:
    error = refusal(graph.resolve, address)
    assert f"did you mean {suggestion}" in str(error.hint)
    assert suggestion in error.message


def test_an_unknown_node_with_nothing_close_lists_the_nodes(graph: WorkflowGraph) -> None:
    error = refusal(graph.resolve, "zzzzzz.qqqqq")
    assert "no node 'zzzzzz'" in error.message
    assert "6 (Positive Prompt)" in str(error.hint)
    assert "runninghub nodes" in str(error.hint)


def test_an_unknown_field_with_nothing_close_lists_the_fields(graph: WorkflowGraph) -> None:
    error = refusal(graph.resolve, "5.zzzzzzzz")
    assert error.hint == "its fields: width, height, batch_size"


def test_a_link_is_refused(graph: WorkflowGraph) -> None:
    error = refusal(graph.resolve, "6.clip")
    assert error.message == "6.clip is a link to node 4 and cannot be overridden"


@pytest.mark.parametrize("address", ["seed", "", 6, None])
def test_an_address_without_a_dot_is_refused(graph: WorkflowGraph, address: Any) -> None:
    error = refusal(graph.resolve, address)
    assert "not a NODE.FIELD address" in error.message


def test_a_field_name_alone_suggests_its_address_when_unique(graph: WorkflowGraph) -> None:
    assert refusal(graph.resolve, "seed").hint == "did you mean 3.seed?"
    assert "a dot and the field" in str(refusal(graph.resolve, "text").hint)


def test_an_id_wins_over_a_title_and_a_title_over_a_class() -> None:
    graph = WorkflowGraph.from_api_format(
        {
            "6": {"class_type": "Foo", "inputs": {"x": 1}},
            "7": {"class_type": "Bar", "inputs": {"x": 2}, "_meta": {"title": "6"}},
            "8": {"class_type": "Baz", "inputs": {"x": 3}, "_meta": {"title": "Bar"}},
        }
    )
    assert graph.resolve("6.x").node_id == "6"
    assert graph.resolve("Bar.x").node_id == "8"
    assert graph.resolve("Baz.x").node_id == "8"


def test_an_exact_title_wins_over_a_case_insensitive_one() -> None:
    graph = WorkflowGraph.from_api_format(
        {
            "1": {"class_type": "A", "inputs": {"x": 1}, "_meta": {"title": "Prompt"}},
            "2": {"class_type": "A", "inputs": {"x": 2}, "_meta": {"title": "prompt"}},
        }
    )
    assert graph.resolve("prompt.x").node_id == "2"
    assert graph.resolve("Prompt.x").node_id == "1"
    assert refusal(graph.resolve, "PROMPT.x").hint == "use one of: 1.x, 2.x"


def test_odd_ids_and_dotted_titles_resolve() -> None:
    graph = WorkflowGraph.from_api_format(
        {
            "10.5": {"class_type": "KSampler", "inputs": {"seed": 1}},
            "12:3": {"class_type": "CLIPTextEncode", "inputs": {"text": "a"}},
            "a b": {"class_type": "Note", "inputs": {"text": "b"}},
            "4": {
                "class_type": "CheckpointLoaderSimple",
                "inputs": {"ckpt_name": "x"},
                "_meta": {"title": "Model v1.5"},
            },
        }
    )
    assert graph.resolve("10.5.seed").node_id == "10.5"
    assert graph.resolve("12:3.text").node_id == "12:3"
    assert graph.resolve("a b.text").node_id == "a b"
    assert graph.resolve("Model v1.5.ckpt_name").node_id == "4"
    assert "did you mean Model v1.5.ckpt_name" in str(
        refusal(graph.resolve, "Model v1.5.ckpt_nam").hint
    )


def test_a_field_name_with_a_dot_resolves_when_the_last_dot_names_nothing() -> None:
    graph = WorkflowGraph.from_api_format(
        {
            "6": {"class_type": "CustomLora", "inputs": {"lora.strength": 0.5}},
            "a.b": {"class_type": "X", "inputs": {"c": 1}},
            "a": {"class_type": "Y", "inputs": {"b.c": 2}},
        }
    )
    assert graph.resolve("6.lora.strength").name == "lora.strength"
    # Both readings exist: the last dot wins, as documented.
    assert graph.resolve("a.b.c").node_id == "a.b"
    assert graph.prepare([("a", "b.c", 5)]) == [NodeOverride("a", "b.c", 5)]


# -- coercion -----------------------------------------------------------------------------------


def field_of(kind: FieldKind, options: tuple[str, ...] = (), value: Any = None) -> Field:
    return Field("3", "KSampler", "KSampler", "steps", value, kind, options)


@pytest.mark.parametrize(
    ("given", "expected"),
    [(20, 20), ("20", 20), (" 20 ", 20), ("+20", 20), ("-3", -3), ("2e1", 20), ("20.0", 20),
     (20.0, 20), ("18446744073709551615", 2**64 - 1)],
)  # fmt: skip
def test_int_coercion(given: Any, expected: int) -> None:
    result = coerce_value(field_of(FieldKind.INT), given)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize("given", [True, "abc", "", "nan", "inf", None, [20], "1e400", 2**64])
def test_int_refusals_name_the_field_and_the_type(given: Any) -> None:
    error = refusal(coerce_value, field_of(FieldKind.INT, value=20), given)
    assert error.message.startswith("3.steps expects an integer")


def test_a_fraction_for_an_int_points_at_validate_false() -> None:
    error = refusal(coerce_value, field_of(FieldKind.INT), "20.5")
    assert error.message == "3.steps expects a whole number, got '20.5'"
    assert "validate=False" in str(error.hint)


@pytest.mark.parametrize(
    ("given", "expected"), [(7, 7.0), ("7.5", 7.5), (" 0.25 ", 0.25), ("1e-3", 0.001), (2.5, 2.5)]
)
def test_float_coercion(given: Any, expected: float) -> None:
    result = coerce_value(field_of(FieldKind.FLOAT), given)
    assert result == expected
    assert type(result) is float


@pytest.mark.parametrize("given", [True, "abc", "nan", "inf", "-Infinity", float("nan"), 10**400])
def test_float_refusals(given: Any) -> None:
    error = refusal(coerce_value, field_of(FieldKind.FLOAT), given)
    assert "expects a finite number" in error.message


@pytest.mark.parametrize(
    ("given", "expected"),
    [(True, True), (False, False), (1, True), (0, False), ("true", True), ("FALSE", False),
     (" Yes ", True), ("no", False), ("on", True), ("Off", False), ("1", True), ("0", False)],
)  # fmt: skip
def test_bool_coercion(given: Any, expected: bool) -> None:
    assert coerce_value(field_of(FieldKind.BOOL), given) is expected


@pytest.mark.parametrize("given", ["maybe", "", 2, "tru", None, 0.5])
def test_bool_refusals(given: Any) -> None:
    error = refusal(coerce_value, field_of(FieldKind.BOOL), given)
    assert "expects a boolean" in error.message


@pytest.mark.parametrize(("given", "expected"), [("a fox", "a fox"), (5, "5"), (2.5, "2.5")])
def test_string_coercion(given: Any, expected: str) -> None:
    assert coerce_value(field_of(FieldKind.STRING), given) == expected


@pytest.mark.parametrize("given", [True, None, {"a": 1}])
def test_string_refusals(given: Any) -> None:
    assert "expects text" in refusal(coerce_value, field_of(FieldKind.STRING), given).message


def test_list_coercion_is_exact_and_suggests_the_closest() -> None:
    field = field_of(FieldKind.LIST, ("bicubic", "bilinear", "1024"))
    assert coerce_value(field, "bicubic") == "bicubic"
    assert coerce_value(field, 1024) == "1024"
    error = refusal(coerce_value, field, "Bicubic")
    assert error.hint == "did you mean bicubic?"
    assert "one of: bicubic, bilinear, 1024" in error.message


def test_media_keeps_paths_for_upload_and_names_as_they_are(tmp_path: Path) -> None:
    field = field_of(FieldKind.MEDIA)
    picture = tmp_path / "in.png"
    assert coerce_value(field, picture) == picture
    assert isinstance(coerce_value(field, picture), Path)
    assert coerce_value(field, "api/abc.png") == "api/abc.png"
    assert coerce_value(field, "https://example.com/x.png") == "https://example.com/x.png"
    assert coerce_value(field, Upload(file_name="openapi/abc.png")) == "openapi/abc.png"


@pytest.mark.parametrize("given", ["", "  ", 5, None, b"bytes"])
def test_media_refusals(given: Any) -> None:
    assert "expects a file" in refusal(coerce_value, field_of(FieldKind.MEDIA), given).message


def test_other_fields_take_any_value() -> None:
    value = {"any": ["json", 1]}
    assert coerce_value(field_of(FieldKind.OTHER), value) is value


def test_coercing_a_link_is_refused(graph: WorkflowGraph) -> None:
    field = graph.fields(include_links=True)[-1]
    assert "cannot be overridden" in refusal(coerce_value, field, "x").message


# -- prepare ------------------------------------------------------------------------------------


def test_prepare_resolves_and_coerces_a_mapping(graph: WorkflowGraph) -> None:
    prepared = graph.prepare(
        {"Positive Prompt.text": "a red fox", "KSampler.steps": "30", "3.cfg": "7.5"}
    )
    assert prepared == [
        NodeOverride("6", "text", "a red fox"),
        NodeOverride("3", "steps", 30),
        NodeOverride("3", "cfg", 7.5),
    ]
    assert prepared[1].to_wire() == {"nodeId": "3", "fieldName": "steps", "fieldValue": 30}


def test_prepare_takes_every_item_shape(graph: WorkflowGraph) -> None:
    prepared = graph.prepare(
        [
            NodeOverride("KSampler", "seed", "5"),
            ("Negative Prompt", "text", "blurry"),
            [5, "width", "768"],
            {"nodeId": "5", "fieldName": "height", "fieldValue": 640},
        ]
    )
    assert prepared == [
        NodeOverride("3", "seed", 5),
        NodeOverride("7", "text", "blurry"),
        NodeOverride("5", "width", 768),
        NodeOverride("5", "height", 640),
    ]


def test_prepare_of_nothing_is_nothing(graph: WorkflowGraph) -> None:
    assert graph.prepare(None) == []
    assert graph.prepare({}) == []


def test_prepare_keeps_a_path_for_a_loader(tmp_path: Path) -> None:
    graph = WorkflowGraph.from_api_format(
        {"10": {"class_type": "LoadImage", "inputs": {"image": "example.png"}}}
    )
    picture = tmp_path / "cat.png"
    assert graph.prepare({"LoadImage.image": picture}) == [NodeOverride("10", "image", picture)]


def test_the_same_field_twice_must_agree(graph: WorkflowGraph) -> None:
    error = refusal(graph.prepare, {"6.text": "a", "Positive Prompt.text": "b"})
    assert error.message == "6.text is set twice, to 'a' and 'b'"
    assert graph.prepare({"3.steps": 30, "KSampler.steps": "30"}) == [
        NodeOverride("3", "steps", 30)
    ]


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"6.clip": "x"}, "is a link to node 4"),
        ({"CLIPTextEncode.text": "x"}, "matches 2 nodes"),
        ({"6.txt": "x"}, "did you mean 6.text"),
        ({"3.steps": "many"}, "3.steps expects an integer"),
        ([("6", "clip", "x")], "is a link"),
        ([("66", "text", "x")], "did you mean 6.text"),
    ],
)
def test_prepare_refuses_what_the_server_would(
    graph: WorkflowGraph, overrides: Any, words: str
) -> None:
    assert words in refusal(graph.prepare, overrides).message


def test_a_wire_item_with_value_instead_of_field_value_is_explained(graph: WorkflowGraph) -> None:
    error = refusal(graph.prepare, [{"nodeId": "6", "fieldName": "text", "value": "x"}])
    assert error.hint == "rename 'value' to 'fieldValue'"


@pytest.mark.parametrize(
    "overrides",
    ["6.text=x", 42, [("6", "text")], [("6", 7, "x")], [(None, "text", "x")], {6: "x"}, [42]],
)
def test_unreadable_override_shapes_are_refused(graph: WorkflowGraph, overrides: Any) -> None:
    refusal(graph.prepare, overrides)
    refusal(normalize_overrides, overrides)


def test_normalize_splits_mapping_keys_on_the_last_dot() -> None:
    assert normalize_overrides(
        {"10.5.seed": "1", "Positive Prompt.text": "x"}
    ) == [("10.5", "seed", "1"), ("Positive Prompt", "text", "x")]  # fmt: skip


def test_normalize_keeps_items_as_given() -> None:
    wire = {"nodeId": 7, "fieldName": "t", "fieldValue": 1}
    given = [NodeOverride("6", "text", "a"), (6, "seed", 5), wire]
    assert normalize_overrides(given) == [("6", "text", "a"), ("6", "seed", 5), ("7", "t", 1)]
    assert normalize_overrides(None) == []


def test_normalize_refuses_conflicts_and_keys_without_a_dot() -> None:
    assert "set twice" in refusal(normalize_overrides, [("6", "t", 1), ("6", "t", 2)]).message
    for key in ("seed", "6.", ".text", "."):
        assert "not a NODE.FIELD address" in refusal(normalize_overrides, {key: 1}).message


# -- apps -----------------------------------------------------------------------------------------


def app_inputs() -> list[AppInput]:
    return [
        AppInput("52", "image", "IMAGE", "example.png", "LoadImage", "the photo"),
        AppInput("7", "text", "STRING", "a cat", "CLIPTextEncode", "prompt"),
        AppInput("3", "seed", "INT", "42", "KSampler"),
        AppInput("3", "cfg", "FLOAT", "7", "KSampler"),
        AppInput("60", "upscale_method", "LIST", "bicubic", "ImageScale",
                 options=("nearest-exact", "bicubic")),
        AppInput("61", "style", "LIST", "anime", "StylePicker"),
        AppInput("62", "flip", "BOOLEAN", "false", "Flip"),
        AppInput("63", "mask", "SOMETHING_NEW", None, "Mystery"),
    ]  # fmt: skip


def test_app_inputs_map_field_types_to_kinds() -> None:
    graph = WorkflowGraph.from_app_inputs(app_inputs())
    kinds = {f.address: f.kind for f in graph.fields()}
    assert kinds == {
        "52.image": FieldKind.MEDIA,
        "7.text": FieldKind.STRING,
        "3.seed": FieldKind.INT,
        "3.cfg": FieldKind.FLOAT,
        "60.upscale_method": FieldKind.LIST,
        "61.style": FieldKind.STRING,  # a list without known options takes any text
        "62.flip": FieldKind.BOOL,
        "63.mask": FieldKind.OTHER,
    }
    assert [n.id for n in graph.nodes] == ["52", "7", "3", "60", "61", "62", "63"]
    assert graph.raw["3"] == {"class_type": "KSampler", "inputs": {"seed": "42", "cfg": "7"}}


def test_app_inputs_are_addressed_and_validated_like_a_workflow(tmp_path: Path) -> None:
    graph = WorkflowGraph.from_app_inputs(app_inputs())
    photo = tmp_path / "me.jpg"
    prepared = graph.prepare(
        {
            "LoadImage.image": photo,
            "KSampler.seed": "7",
            "62.flip": "yes",
            "60.upscale_method": "bicubic",
        }
    )
    assert prepared == [
        NodeOverride("52", "image", photo),
        NodeOverride("3", "seed", 7),
        NodeOverride("62", "flip", True),
        NodeOverride("60", "upscale_method", "bicubic"),
    ]
    error = refusal(graph.prepare, {"ImageScale.upscale_method": "lanczos"})
    assert "one of: nearest-exact, bicubic" in error.message
    unknown = refusal(graph.resolve, "999.x")
    assert unknown.message == "no node '999' in this app"
    assert "runninghub app inputs" in str(unknown.hint)


# -- rendering ------------------------------------------------------------------------------------


def test_render_rows_are_json_ready(graph: WorkflowGraph) -> None:
    rows = render_rows(graph)
    assert rows[0] == {
        "address": "3.seed",
        "node_id": "3",
        "title": "KSampler",
        "class_type": "KSampler",
        "field": "seed",
        "type": "int",
        "value": 156680208700286,
        "options": [],
        "description": None,
    }
    assert [r["address"] for r in rows] == [f.address for f in graph.fields()]
    assert json.loads(json.dumps(rows)) == rows


def test_render_rows_can_show_links_and_descriptions(graph: WorkflowGraph) -> None:
    links = [r for r in render_rows(graph, include_links=True) if r["type"] == "link"]
    assert {"address": "6.clip", "value": ["4", 1]}.items() <= links[4].items()
    app_rows = render_rows(WorkflowGraph.from_app_inputs(app_inputs()))
    assert app_rows[0]["description"] == "the photo"
    assert app_rows[4]["options"] == ["nearest-exact", "bicubic"]


def test_repr_counts_nodes_and_fields(graph: WorkflowGraph) -> None:
    assert repr(graph) == "<WorkflowGraph 7 nodes, 13 overridable fields>"
