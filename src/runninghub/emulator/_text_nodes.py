"""Primitive values, text nodes and the emulator's stand-ins for common custom nodes.

Core ComfyUI nodes: PrimitiveString, PrimitiveInt, PrimitiveFloat, StringConcatenate,
PreviewAny. Popular custom nodes: ``ShowText|pysssss`` (shows a text, which RunningHub
returns as a text output), ``SONIC_PreData`` (see below). Emulator nodes:
- ``SaveText``: saves its ``text`` input as a ``.txt`` output (like SaveImage for text);
- ``ImageDescribe``: a deterministic "caption" computed from pixel statistics (size,
  dominant colour, brightness), standing in for captioning models so that a text output can
  depend on an uploaded image.
"""

from __future__ import annotations

import colorsys
import json
import sys
from typing import Any

from PIL import ImageStat

from ._image_nodes import safe_prefix
from ._node_types import (
    ANY,
    ImageBatch,
    NodeContext,
    NodeResult,
    NodeSpec,
    ProducedOutput,
    optional,
    required,
)

_HUE_NAMES = (
    (0.04, "red"),
    (0.11, "orange"),
    (0.19, "yellow"),
    (0.45, "green"),
    (0.54, "cyan"),
    (0.71, "blue"),
    (0.85, "purple"),
    (0.96, "pink"),
    (1.01, "red"),
)


def _text_output(ctx: NodeContext, text: str, prefix: str) -> NodeResult:
    filename = f"{prefix}_{ctx.next_file_number(prefix):05}_.txt"
    produced = ProducedOutput(ctx.node_id, "txt", text.encode("utf-8"), text, filename)
    return NodeResult(values=(text,), produced=(produced,), ui={"text": [text]})


def primitive(ctx: NodeContext, inputs: dict[str, Any]) -> NodeResult:
    return NodeResult(values=(inputs["value"],))


def string_concatenate(ctx: NodeContext, inputs: dict[str, Any]) -> NodeResult:
    joined = inputs["delimiter"].join((inputs["string_a"], inputs["string_b"]))
    return NodeResult(values=(joined,))


def save_text(ctx: NodeContext, inputs: dict[str, Any]) -> NodeResult:
    return _text_output(ctx, inputs["text"], safe_prefix(inputs["filename_prefix"]))


def show_text(ctx: NodeContext, inputs: dict[str, Any]) -> NodeResult:
    return _text_output(ctx, inputs["text"], "ComfyUI_text")


def preview_any(ctx: NodeContext, inputs: dict[str, Any]) -> NodeResult:
    return _text_output(ctx, as_text(inputs["source"]), "ComfyUI_text")


def as_text(value: Any) -> str:
    """How PreviewAny shows a value: strings as they are, JSON where possible."""
    if isinstance(value, str):
        return value
    if isinstance(value, ImageBatch):
        width, height = value.size
        return f"IMAGE: {len(value.images)} x {width}x{height}"
    try:
        return json.dumps(value, indent=4)
    except (TypeError, ValueError):
        return type(value).__name__


def describe(batch: ImageBatch) -> str:
    """One line per image: size, dominant colour, brightness and contrast."""
    lines = []
    for image in batch.images:
        stats = ImageStat.Stat(image)
        red, green, blue = (channel / 255 for channel in stats.mean)
        hue, saturation, value = colorsys.rgb_to_hsv(red, green, blue)
        colour = _colour_name(hue, saturation, value)
        brightness = "bright" if value > 0.5 else "dark"
        contrast = "high" if sum(stats.stddev) / 3 > 64 else "low"
        lines.append(
            f"a {image.width}x{image.height} picture, mostly {colour}, "
            f"{brightness}, {contrast} contrast"
        )
    return "\n".join(lines)


def _colour_name(hue: float, saturation: float, value: float) -> str:
    if value < 0.15:
        return "black"
    if saturation < 0.15:
        return "white" if value > 0.85 else "grey"
    return next(name for limit, name in _HUE_NAMES if hue < limit)


def image_describe(ctx: NodeContext, inputs: dict[str, Any]) -> NodeResult:
    return NodeResult(values=(describe(inputs["image"]),))


def sonic_predata(ctx: NodeContext, inputs: dict[str, Any]) -> NodeResult:
    """Stand-in for the Sonic talking-head custom node's data preparation.

    The real node reads the waveform of its AUDIO input. The emulator has no audio loader,
    so the input is always missing and the node fails every time with the same TypeError
    the real node raises without audio: a realistic node failure for clients to handle.
    """
    audio = inputs["audio"]
    samples = len(audio["waveform"])
    frames = round(inputs["duration"] * 25)
    return NodeResult(values=({"image": inputs["image"], "samples": samples, "frames": frames},))


TEXT_NODES = (
    NodeSpec("PrimitiveString", {"value": optional("STRING", "")}, ("STRING",), primitive),
    NodeSpec(
        "PrimitiveInt",
        {"value": optional("INT", 0, minimum=-sys.maxsize, maximum=sys.maxsize)},
        ("INT",),
        primitive,
    ),
    NodeSpec("PrimitiveFloat", {"value": optional("FLOAT", 0.0)}, ("FLOAT",), primitive),
    NodeSpec(
        "StringConcatenate",
        {
            "string_a": optional("STRING", ""),
            "string_b": optional("STRING", ""),
            "delimiter": optional("STRING", ""),
        },
        ("STRING",),
        string_concatenate,
    ),
    NodeSpec(
        "SaveText",
        {"text": required("STRING"), "filename_prefix": optional("STRING", "ComfyUI")},
        (),
        save_text,
        is_output=True,
    ),
    NodeSpec(
        "ShowText|pysssss", {"text": required("STRING")}, ("STRING",), show_text, is_output=True
    ),
    NodeSpec("PreviewAny", {"source": required(ANY)}, (), preview_any, is_output=True),
    NodeSpec("ImageDescribe", {"image": required("IMAGE")}, ("STRING",), image_describe),
    NodeSpec(
        "SONIC_PreData",
        {
            "image": required("IMAGE"),
            "audio": optional("AUDIO", None),
            "min_resolution": optional("INT", 256, minimum=64, maximum=2048),
            "duration": optional("FLOAT", 10.0, minimum=1.0, maximum=1000.0),
            "expand_ratio": optional("FLOAT", 0.5, minimum=0.1, maximum=1.0),
        },
        ("SONIC_PREDATA",),
        sonic_predata,
    ),
)
