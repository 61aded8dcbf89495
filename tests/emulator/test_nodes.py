"""The workflow engine: real node implementations, ordering, events and failures."""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageStat

from runninghub.emulator.nodes import (
    SUPPORTED_NODES,
    NodeExecutionError,
    ProducedOutput,
    check_graph,
    execute,
    output_nodes,
)

FAILED_REASON_KEYS = [
    "current_outputs",
    "exception_type",
    "node_name",
    "current_inputs",
    "traceback",
    "node_id",
    "exception_message",
]


# ---------------------------------------------------------------- helpers


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def quadrants(size: int = 32) -> Image.Image:
    """Red top-left, green top-right, blue bottom-left, white bottom-right."""
    image = Image.new("RGB", (size, size))
    half = size // 2
    image.paste((255, 0, 0), (0, 0, half, half))
    image.paste((0, 255, 0), (half, 0, size, half))
    image.paste((0, 0, 255), (0, half, half, size))
    image.paste((255, 255, 255), (half, half, size, size))
    return image


def pixels(image: Image.Image) -> list[Any]:
    """Every pixel value, row by row (``getdata`` is deprecated since Pillow 12.1)."""
    flatten = getattr(image, "get_flattened_data", None) or image.getdata
    return list(flatten())


def media(**files: bytes) -> Callable[[str], bytes]:
    def load(name: str) -> bytes:
        if name not in files:
            raise FileNotFoundError(f"no such upload: {name}")
        return files[name]

    return load


def node(class_type: str, **inputs: Any) -> dict[str, Any]:
    return {"class_type": class_type, "inputs": inputs, "_meta": {"title": class_type}}


def pipeline(*steps: tuple[str, dict[str, Any]], image: str = "in.png") -> dict[str, Any]:
    """LoadImage (node 1) -> each step in turn (nodes 2, 3, ...) -> SaveImage."""
    graph: dict[str, Any] = {"1": node("LoadImage", image=image)}
    previous = "1"
    for number, (class_type, inputs) in enumerate(steps, start=2):
        graph[str(number)] = node(class_type, image=[previous, 0], **inputs)
        previous = str(number)
    graph["99"] = node("SaveImage", images=[previous, 0], filename_prefix="out")
    return graph


def run_on(image: Image.Image, *steps: tuple[str, dict[str, Any]]) -> list[Image.Image]:
    outputs = execute(pipeline(*steps), load_media=media(**{"in.png": png(image)}))
    return [decoded(output) for output in outputs]


def decoded(output: ProducedOutput) -> Image.Image:
    assert output.ext == "png"
    image = Image.open(io.BytesIO(output.data))
    image.load()
    return image


def text_to_image(**changes: Any) -> dict[str, Any]:
    """ComfyUI's default graph, with some widget values changed."""
    sampler = {
        "seed": 156680208700286,
        "steps": 20,
        "cfg": 8,
        "sampler_name": "euler",
        "scheduler": "normal",
        "denoise": 1,
    }
    latent = {"width": 64, "height": 48, "batch_size": 1}
    prompts = {"positive": "purple galaxy bottle", "negative": "text, watermark"}
    for key, value in changes.items():
        target = sampler if key in sampler else latent if key in latent else prompts
        target[key] = value
    return {
        "3": node(
            "KSampler",
            **sampler,
            model=["4", 0],
            positive=["6", 0],
            negative=["7", 0],
            latent_image=["5", 0],
        ),
        "4": node("CheckpointLoaderSimple", ckpt_name="v1-5-pruned-emaonly.safetensors"),
        "5": node("EmptyLatentImage", **latent),
        "6": node("CLIPTextEncode", text=prompts["positive"], clip=["4", 1]),
        "7": node("CLIPTextEncode", text=prompts["negative"], clip=["4", 1]),
        "8": node("VAEDecode", samples=["3", 0], vae=["4", 2]),
        "9": node("SaveImage", images=["8", 0], filename_prefix="ComfyUI"),
    }


def no_media(name: str) -> bytes:
    raise FileNotFoundError(name)


def failure(graph: dict[str, Any], load: Callable[[str], bytes] = no_media) -> NodeExecutionError:
    with pytest.raises(NodeExecutionError) as caught:
        execute(graph, load_media=load)
    return caught.value


def png_chunks(data: bytes) -> list[bytes]:
    chunks, position = [], 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        chunks.append(data[position + 4 : position + 8])
        position += 12 + length
    return chunks


# ---------------------------------------------------------------- image nodes


def test_load_then_save_keeps_every_pixel() -> None:
    source = quadrants()
    (saved,) = run_on(source)
    assert saved.mode == "RGB"
    assert pixels(saved) == pixels(source)


def test_load_image_turns_alpha_into_an_inverted_mask() -> None:
    source = Image.new("RGBA", (8, 8), (10, 20, 30, 255))
    source.putpixel((0, 0), (10, 20, 30, 0))
    graph = {
        "1": node("LoadImage", image="a.png"),
        "2": node("MaskToImage", mask=["1", 1]),
        "3": node("SaveImage", images=["2", 0]),
    }
    (output,) = execute(graph, load_media=media(**{"a.png": png(source)}))
    mask = decoded(output)
    assert mask.getpixel((0, 0)) == (255, 255, 255)  # fully transparent -> masked
    assert mask.getpixel((1, 1)) == (0, 0, 0)


def test_an_animated_image_loads_as_a_batch_of_frames() -> None:
    frames = [Image.new("RGB", (10, 10), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    outputs = execute(pipeline(), load_media=media(**{"in.png": buffer.getvalue()}))
    assert [o.filename for o in outputs] == ["out_00001_.png", "out_00002_.png"]
    assert [decoded(o).getpixel((5, 5)) for o in outputs] == [(255, 0, 0), (0, 0, 255)]


def test_invert_gives_255_minus_each_channel() -> None:
    source = quadrants()
    source.putpixel((3, 3), (12, 200, 77))
    (inverted,) = run_on(source, ("ImageInvert", {}))
    assert inverted.getpixel((3, 3)) == (243, 55, 178)
    assert inverted.getpixel((20, 20)) == (0, 0, 0)


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [(64, 16, (64, 16)), (0, 64, (64, 64)), (16, 0, (16, 16)), (0, 0, (32, 32))],
)
def test_scale_resizes_and_a_zero_side_keeps_the_aspect_ratio(
    width: int, height: int, expected: tuple[int, int]
) -> None:
    inputs = {"upscale_method": "bilinear", "width": width, "height": height, "crop": "disabled"}
    (scaled,) = run_on(quadrants(), ("ImageScale", inputs))
    assert scaled.size == expected


def test_scale_with_center_crop_keeps_the_middle() -> None:
    source = Image.new("RGB", (30, 10), (255, 0, 0))
    source.paste((0, 0, 255), (10, 0, 20, 10))  # a blue middle third
    inputs = {"upscale_method": "nearest-exact", "width": 5, "height": 5, "crop": "center"}
    (scaled,) = run_on(source, ("ImageScale", inputs))
    assert scaled.size == (5, 5)
    assert set(pixels(scaled)) == {(0, 0, 255)}


def test_scale_by_multiplies_both_sides() -> None:
    (half,) = run_on(quadrants(32), ("ImageScaleBy", {"upscale_method": "area", "scale_by": 0.5}))
    (double,) = run_on(
        quadrants(32), ("ImageScaleBy", {"upscale_method": "lanczos", "scale_by": 2})
    )
    assert half.size == (16, 16)
    assert half.getpixel((0, 0)) == (255, 0, 0)
    assert double.size == (64, 64)


def test_blur_lowers_the_contrast_of_an_edge() -> None:
    source = quadrants()
    (blurred,) = run_on(source, ("ImageBlur", {"blur_radius": 3, "sigma": 1.0}))
    assert blurred.size == source.size
    assert sum(ImageStat.Stat(blurred).stddev) < sum(ImageStat.Stat(source).stddev)
    assert blurred.getpixel((15, 8)) != source.getpixel((15, 8))  # next to the red/green edge


def test_sharpen_raises_the_contrast_of_a_soft_edge() -> None:
    soft = Image.linear_gradient("L").resize((32, 32)).convert("RGB")
    inputs = {"sharpen_radius": 2, "sigma": 1.0, "alpha": 1.0}
    (sharpened,) = run_on(soft, ("ImageSharpen", inputs))
    assert sum(ImageStat.Stat(sharpened).stddev) > sum(ImageStat.Stat(soft).stddev)


def test_flip_x_axis_is_vertical_and_y_axis_horizontal() -> None:
    (vertical,) = run_on(quadrants(), ("ImageFlip", {"flip_method": "x-axis: vertically"}))
    (horizontal,) = run_on(quadrants(), ("ImageFlip", {"flip_method": "y-axis: horizontally"}))
    assert vertical.getpixel((0, 0)) == (0, 0, 255)
    assert horizontal.getpixel((0, 0)) == (0, 255, 0)


def test_rotate_turns_clockwise_like_comfyui() -> None:
    source = Image.new("RGB", (20, 10), (0, 0, 0))
    source.putpixel((0, 0), (255, 0, 0))
    (turned,) = run_on(source, ("ImageRotate", {"rotation": "90 degrees"}))
    (upside_down,) = run_on(source, ("ImageRotate", {"rotation": "180 degrees"}))
    (unchanged,) = run_on(source, ("ImageRotate", {"rotation": "none"}))
    assert turned.size == (10, 20)
    assert turned.getpixel((9, 0)) == (255, 0, 0)  # top-left went to top-right
    assert upside_down.getpixel((19, 9)) == (255, 0, 0)
    assert unchanged.getpixel((0, 0)) == (255, 0, 0)


def test_crop_cuts_the_requested_box() -> None:
    inputs = {"width": 10, "height": 8, "x": 16, "y": 16}
    (cropped,) = run_on(quadrants(), ("ImageCrop", inputs))
    assert cropped.size == (10, 8)
    assert set(pixels(cropped)) == {(255, 255, 255)}


def test_empty_image_has_the_colour_and_batch_size_asked_for() -> None:
    graph = {
        "1": node("EmptyImage", width=24, height=12, batch_size=3, color=0x336699),
        "2": node("SaveImage", images=["1", 0]),
    }
    outputs = execute(graph, load_media=no_media)
    assert len(outputs) == 3
    for output in outputs:
        image = decoded(output)
        assert image.size == (24, 12)
        assert set(pixels(image)) == {(0x33, 0x66, 0x99)}


def test_preview_image_is_an_output_too() -> None:
    graph = {
        "1": node("EmptyImage", width=8, height=8, color=0xFF0000),
        "2": node("PreviewImage", images=["1", 0]),
    }
    (output,) = execute(graph, load_media=no_media)
    assert output.node_id == "2"
    assert decoded(output).getpixel((0, 0)) == (255, 0, 0)


# ---------------------------------------------------------------- PNG files


def test_saved_png_embeds_the_executed_graph_as_prompt() -> None:
    graph = pipeline(("ImageInvert", {}))
    (output,) = execute(graph, load_media=media(**{"in.png": png(quadrants())}))
    image = decoded(output)
    assert isinstance(image, Image.Image)
    assert json.loads(image.text["prompt"]) == graph  # type: ignore[attr-defined]


def test_no_metadata_when_add_metadata_is_false() -> None:
    load = media(**{"in.png": png(quadrants())})
    (output,) = execute(pipeline(), load_media=load, add_metadata=False)
    assert "prompt" not in decoded(output).info
    assert b"tEXt" not in png_chunks(output.data)


def test_saved_png_has_no_timestamp_chunk() -> None:
    (output,) = execute(text_to_image(), load_media=no_media)
    chunks = png_chunks(output.data)
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND"
    assert b"tIME" not in chunks


def test_filename_prefix_is_reduced_to_a_safe_file_name() -> None:
    graph = pipeline()
    graph["99"]["inputs"]["filename_prefix"] = "../../etc/pass wd?"
    (output,) = execute(graph, load_media=media(**{"in.png": png(quadrants())}))
    assert output.filename == "pass wd__00001_.png"


# ---------------------------------------------------------------- text to image


def test_default_text_to_image_gives_one_picture_of_the_latent_size() -> None:
    (output,) = execute(text_to_image(), load_media=no_media)
    image = decoded(output)
    assert (output.node_id, output.filename) == ("9", "ComfyUI_00001_.png")
    assert image.size == (64, 48)
    assert len(set(pixels(image))) > 100  # a picture, not a flat fill


def test_same_inputs_give_byte_identical_pictures() -> None:
    first = execute(text_to_image(), load_media=no_media)
    second = execute(text_to_image(), load_media=no_media)
    assert first[0].data == second[0].data


@pytest.mark.parametrize(
    "change",
    [
        {"seed": 1},
        {"positive": "a red apple"},
        {"negative": "blurry"},
        {"steps": 21},
        {"cfg": 4.5},
        {"sampler_name": "dpmpp_2m"},
        {"scheduler": "karras"},
    ],
)
def test_every_sampling_parameter_changes_the_picture(change: dict[str, Any]) -> None:
    baseline = execute(text_to_image(), load_media=no_media, add_metadata=False)
    changed = execute(text_to_image(**change), load_media=no_media, add_metadata=False)
    assert decoded(baseline[0]).tobytes() != decoded(changed[0]).tobytes()


def test_batch_size_gives_that_many_different_pictures() -> None:
    outputs = execute(text_to_image(batch_size=3, width=40, height=24), load_media=no_media)
    images = [decoded(output) for output in outputs]
    assert [image.size for image in images] == [(40, 24)] * 3
    assert len({image.tobytes() for image in images}) == 3
    assert [output.filename for output in outputs] == [
        "ComfyUI_00001_.png",
        "ComfyUI_00002_.png",
        "ComfyUI_00003_.png",
    ]


def test_latent_sizes_are_rounded_down_to_multiples_of_8_like_comfyui() -> None:
    (output,) = execute(text_to_image(width=70, height=33), load_media=no_media)
    assert decoded(output).size == (64, 32)


def test_numeric_strings_are_accepted_for_numbers() -> None:
    as_numbers = execute(text_to_image(), load_media=no_media)
    as_strings = execute(
        text_to_image(seed="156680208700286", steps="20", cfg="8"), load_media=no_media
    )
    assert as_numbers[0].data != b""
    assert decoded(as_numbers[0]).tobytes() == decoded(as_strings[0]).tobytes()


def test_decoding_an_unsampled_latent_gives_a_flat_picture() -> None:
    graph = {
        "4": node("CheckpointLoaderSimple", ckpt_name="any.safetensors"),
        "5": node("EmptyLatentImage", width=16, height=16, batch_size=2),
        "8": node("VAEDecode", samples=["5", 0], vae=["4", 2]),
        "9": node("SaveImage", images=["8", 0]),
    }
    outputs = execute(graph, load_media=no_media)
    assert len(outputs) == 2
    assert len(set(pixels(decoded(outputs[0])))) == 1


def image_to_image(denoise: float) -> dict[str, Any]:
    graph = text_to_image(denoise=denoise)
    graph["1"] = node("LoadImage", image="in.png")
    graph["2"] = node("VAEEncode", pixels=["1", 0], vae=["4", 2])
    graph["3"]["inputs"]["latent_image"] = ["2", 0]
    del graph["5"]
    return graph


def test_image_to_image_keeps_the_source_in_proportion_to_denoise() -> None:
    source = quadrants(36)  # encoded as 32x32: 2 pixels cropped off each side
    load = media(**{"in.png": png(source)})
    (kept,) = execute(image_to_image(0.0), load_media=load)
    (repainted,) = execute(image_to_image(1.0), load_media=load)
    (fresh,) = execute(text_to_image(width=32, height=32), load_media=no_media)
    assert decoded(kept).tobytes() == source.crop((2, 2, 34, 34)).tobytes()
    assert decoded(repainted).tobytes() == decoded(fresh).tobytes()


def test_ksampler_reports_each_step_as_progress() -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    execute(text_to_image(steps=5), load_media=no_media, on_event=lambda *e: events.append(e))
    progress = [data for kind, data in events if kind == "progress"]
    assert progress == [{"value": step, "max": 5, "node": "3"} for step in range(1, 6)]


@settings(max_examples=25, deadline=None)
@given(
    width=st.integers(min_value=16, max_value=120),
    height=st.integers(min_value=16, max_value=120),
    seed=st.integers(min_value=0, max_value=2**64 - 1),
    batch=st.integers(min_value=1, max_value=2),
)
def test_the_synthetic_sampler_always_gives_the_latent_size(
    width: int, height: int, seed: int, batch: int
) -> None:
    graph = text_to_image(width=width, height=height, seed=seed, batch_size=batch, steps=2)
    outputs = execute(graph, load_media=no_media, add_metadata=False)
    assert len(outputs) == batch
    for output in outputs:
        assert decoded(output).size == (width // 8 * 8, height // 8 * 8)


@settings(max_examples=25, deadline=None)
@given(values=st.lists(st.tuples(*[st.integers(0, 255)] * 3), min_size=12, max_size=12))
def test_inverting_twice_gives_back_the_original(values: list[tuple[int, int, int]]) -> None:
    source = Image.new("RGB", (4, 3))
    source.putdata(values)
    (twice,) = run_on(source, ("ImageInvert", {}), ("ImageInvert", {}))
    assert pixels(twice) == values


# ---------------------------------------------------------------- text nodes


def test_text_path_saves_a_txt_output() -> None:
    graph = {
        "1": node("PrimitiveString", value="héllo"),
        "2": node("StringConcatenate", string_a=["1", 0], string_b="world", delimiter=", "),
        "3": node("SaveText", text=["2", 0], filename_prefix="greeting"),
    }
    (output,) = execute(graph, load_media=no_media)
    assert (output.node_id, output.ext, output.filename) == ("3", "txt", "greeting_00001_.txt")
    assert output.text == "héllo, world"
    assert output.data == "héllo, world".encode()


def test_primitive_numbers_feed_widget_inputs() -> None:
    graph = {
        "1": node("PrimitiveInt", value=20),
        "2": node("PrimitiveFloat", value=0.5),
        "3": node("EmptyImage", width=["1", 0], height=10),
        "4": node("ImageScaleBy", image=["3", 0], upscale_method="bilinear", scale_by=["2", 0]),
        "5": node("SaveImage", images=["4", 0]),
    }
    (output,) = execute(graph, load_media=no_media)
    assert decoded(output).size == (10, 5)


def test_show_text_and_preview_any_return_text_outputs() -> None:
    graph = {
        "1": node("PrimitiveInt", value=42),
        "2": node("PreviewAny", source=["1", 0]),
        "3": node("PrimitiveString", value="shown"),
        "4": node("ShowText|pysssss", text=["3", 0]),
    }
    outputs = execute(graph, load_media=no_media)
    assert [(o.node_id, o.text) for o in outputs] == [("2", "42"), ("4", "shown")]


def test_image_describe_names_the_dominant_colour_and_size() -> None:
    graph = {
        "1": node("EmptyImage", width=30, height=20, color=0xD01010),
        "2": node("ImageDescribe", image=["1", 0]),
        "3": node("PreviewAny", source=["2", 0]),
    }
    (output,) = execute(graph, load_media=no_media)
    assert output.text == "a 30x20 picture, mostly red, bright, low contrast"


# ---------------------------------------------------------------- order and events


def test_events_follow_comfyui_order() -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    graph = pipeline(("ImageInvert", {}))
    load = media(**{"in.png": png(quadrants())})
    execute(graph, load_media=load, on_event=lambda *e: events.append(e), prompt_id="p1")
    kinds = [(kind, data.get("node")) for kind, data in events]
    assert kinds == [
        ("execution_start", None),
        ("executing", "1"),
        ("executing", "2"),
        ("executing", "99"),
        ("executed", "99"),
        ("execution_success", None),
        ("executing", None),
    ]
    assert all(data["prompt_id"] == "p1" for _, data in events)
    executed = events[4][1]["output"]
    assert executed == {
        "images": [{"filename": "out_00001_.png", "subfolder": "", "type": "output"}]
    }


def test_order_is_by_dependency_then_numeric_id() -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    graph = {
        "10": node("SaveImage", images=["2", 0]),
        "9": node("SaveImage", images=["3", 0]),
        "3": node("ImageInvert", image=["2", 0]),
        "2": node("EmptyImage", width=4, height=4),
    }
    outputs = execute(graph, load_media=no_media, on_event=lambda *e: events.append(e))
    ran = [data["node"] for kind, data in events if kind == "executing" and data["node"]]
    assert ran == ["2", "3", "9", "10"]
    assert [o.node_id for o in outputs] == ["9", "10"]


def test_nodes_no_output_depends_on_are_not_run() -> None:
    graph = {
        "1": node("EmptyImage", width=4, height=4),
        "2": node("SaveImage", images=["1", 0]),
        "3": node("LoadImage", image="missing.png"),  # would fail if it ran
    }
    (output,) = execute(graph, load_media=no_media)
    assert output.node_id == "2"


def test_a_failure_emits_execution_error_with_the_node() -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    graph = pipeline(("ImageInvert", {}), image="missing.png")
    with pytest.raises(NodeExecutionError):
        execute(graph, load_media=no_media, on_event=lambda *e: events.append(e))
    kinds = [kind for kind, _ in events]
    assert kinds == ["execution_start", "executing", "execution_error", "executing"]
    error = events[2][1]
    assert (error["node_id"], error["node_type"]) == ("1", "LoadImage")
    assert error["exception_type"] == "FileNotFoundError"
    assert error["executed"] == []


# ---------------------------------------------------------------- failures


def test_failed_reason_has_the_contract_shape() -> None:
    error = failure(pipeline(image="missing.png"))
    reason = error.failed_reason()
    assert list(reason) == FAILED_REASON_KEYS
    assert all(isinstance(value, str) for value in reason.values())
    assert reason["node_id"] == "1"
    assert reason["node_name"] == "LoadImage"
    assert reason["exception_type"] == "FileNotFoundError"
    assert reason["exception_message"] == "missing.png"
    assert (reason["current_inputs"], reason["current_outputs"]) == ("{}", "{}")
    frames = json.loads(reason["traceback"])
    assert frames and all(isinstance(frame, str) for frame in frames)
    assert "load_image" in "".join(frames)


def test_undecodable_media_fails_at_the_loader() -> None:
    error = failure(pipeline(), media(**{"in.png": b"not an image"}))
    assert (error.node_id, error.exception_type) == ("1", "UnidentifiedImageError")


def test_an_unknown_node_type_fails_naming_it() -> None:
    graph = pipeline()
    graph["5"] = node("FancyUpscaler", image=["1", 0])
    error = failure(graph)
    assert (error.node_id, error.node_type) == ("5", "FancyUpscaler")
    assert error.exception_type == "NotImplementedError"
    assert "FancyUpscaler" in error.exception_message


def test_a_link_to_a_missing_node_fails_at_the_linking_node() -> None:
    graph = pipeline(("ImageInvert", {}))
    graph["2"]["inputs"]["image"] = ["42", 0]
    error = failure(graph)
    assert (error.node_id, error.exception_type) == ("2", "KeyError")
    assert "42" in error.exception_message


def test_a_link_to_a_missing_slot_fails() -> None:
    graph = pipeline(("ImageInvert", {}))
    graph["2"]["inputs"]["image"] = ["1", 5]
    error = failure(graph)
    assert (error.node_id, error.exception_type) == ("2", "IndexError")


def test_a_cycle_is_detected_and_named() -> None:
    graph = {
        "1": node("ImageInvert", image=["2", 0]),
        "2": node("ImageInvert", image=["1", 0]),
        "3": node("SaveImage", images=["2", 0]),
    }
    error = failure(graph)
    assert error.exception_type == "ValueError"
    assert "cycle: 1 -> 2 -> 1" in error.exception_message


def test_an_image_input_given_text_fails_naming_the_node() -> None:
    graph = pipeline(("ImageInvert", {}))
    graph["2"]["inputs"]["image"] = "in.png"
    error = failure(graph, media(**{"in.png": png(quadrants())}))
    assert (error.node_id, error.node_type, error.exception_type) == (
        "2",
        "ImageInvert",
        "TypeError",
    )
    assert "IMAGE" in error.exception_message


def test_an_image_input_linked_to_a_model_fails_before_running() -> None:
    graph = {
        "1": node("CheckpointLoaderSimple", ckpt_name="m.safetensors"),
        "2": node("ImageInvert", image=["1", 0]),
        "3": node("SaveImage", images=["2", 0]),
    }
    error = failure(graph)
    assert (error.node_id, error.exception_type) == ("2", "TypeError")
    assert "expects IMAGE" in error.exception_message and "MODEL" in error.exception_message


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"steps": 0}, "Value 0 smaller than min of 1: steps"),
        ({"denoise": 1.5}, "Value 1.5 bigger than max of 1: denoise"),
        ({"sampler_name": "warp"}, "Value not in list: sampler_name: 'warp'"),
        ({"seed": "abc"}, "invalid literal for INT input 'seed'"),
    ],
)
def test_bad_widget_values_fail_at_their_node(change: dict[str, Any], message: str) -> None:
    error = failure(text_to_image(**change))
    assert (error.node_id, error.node_type) == ("3", "KSampler")
    assert message in error.exception_message


@pytest.mark.parametrize(
    "graph",
    [
        {"1": node("EmptyImage", width=16384, height=64), "2": node("SaveImage", images=["1", 0])},
        text_to_image(width=8192, height=8192, batch_size=4),
    ],
)
def test_batches_too_large_to_hold_fail_cleanly(graph: dict[str, Any]) -> None:
    error = failure(graph)
    assert error.exception_type == "ValueError"
    assert "exceeds the emulator's limit" in error.exception_message


def test_a_missing_required_input_fails() -> None:
    graph = pipeline()
    del graph["1"]["inputs"]["image"]
    error = failure(graph)
    assert (error.node_id, error.exception_message) == ("1", "Required input is missing: image")


def test_a_workflow_without_outputs_fails() -> None:
    error = failure({"1": node("EmptyImage")})
    assert error.exception_message == "Prompt has no outputs"


def test_a_node_without_class_type_fails() -> None:
    error = failure({"1": {"inputs": {}}})
    assert (error.node_id, error.exception_type) == ("1", "ValueError")


def test_the_supported_set_covers_the_core_nodes() -> None:
    core = {
        "LoadImage",
        "SaveImage",
        "PreviewImage",
        "ImageInvert",
        "ImageScale",
        "ImageScaleBy",
        "ImageBlur",
        "ImageSharpen",
        "ImageFlip",
        "ImageRotate",
        "EmptyImage",
        "CheckpointLoaderSimple",
        "CLIPTextEncode",
        "EmptyLatentImage",
        "KSampler",
        "VAEDecode",
        "SaveText",
    }
    assert core <= SUPPORTED_NODES


def test_output_nodes_lists_savers_and_previews_in_numeric_order() -> None:
    graph = pipeline(("ImageInvert", {}))
    graph["12"] = node("PreviewImage", images=["2", 0])
    graph["7"] = node("SaveText", text="x")
    graph["8"] = node("SomeCustomSaver", images=["2", 0])
    assert output_nodes(graph) == ["7", "12", "99"]


def test_check_graph_finds_structural_errors_without_running() -> None:
    check_graph(pipeline(image="not-uploaded.png"))  # media is only read when running
    broken = pipeline(("ImageInvert", {}))
    broken["2"]["inputs"]["image"] = ["77", 0]
    with pytest.raises(NodeExecutionError) as caught:
        check_graph(broken)
    assert (caught.value.node_id, caught.value.exception_type) == ("2", "KeyError")
