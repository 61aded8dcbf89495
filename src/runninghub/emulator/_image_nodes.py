"""ComfyUI's core image nodes, implemented with Pillow.

Each function mirrors the node of the same name in ComfyUI (same inputs, same defaults,
same geometry); where ComfyUI's tensor maths has no exact Pillow twin (the blur and sharpen
kernels), the closest Pillow filter is used and the difference is noted.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from typing import Any

from PIL import Image, ImageChops, ImageFilter, ImageOps, ImageSequence
from PIL.PngImagePlugin import PngInfo

from ._node_types import (
    MAX_RESOLUTION,
    EngineLimits,
    ImageBatch,
    InputSpec,
    MaskBatch,
    NodeContext,
    NodeFunction,
    NodeResult,
    NodeSpec,
    ProducedOutput,
    check_batch_size,
    combo,
    optional,
    required,
)

UPSCALE_METHODS = ("nearest-exact", "bilinear", "area", "bicubic", "lanczos")
_RESAMPLING = {
    "nearest-exact": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "area": Image.Resampling.BOX,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}
FLIP_METHODS = ("x-axis: vertically", "y-axis: horizontally")
# ComfyUI rotates clockwise (torch.rot90 over dims [W, H]); Pillow's ROTATE_n is counter-clockwise.
_ROTATIONS = {
    "none": None,
    "90 degrees": Image.Transpose.ROTATE_270,
    "180 degrees": Image.Transpose.ROTATE_180,
    "270 degrees": Image.Transpose.ROTATE_90,
}
_UNSAFE_NAME_CHARS = re.compile(r"[^\w.\- ]")
_BIG_IMAGE_PIXELS = 1 << 20


def decode_image(
    data: bytes, limits: EngineLimits | None = None
) -> tuple[tuple[Image.Image, ...], tuple[Image.Image, ...]]:
    """Decode image bytes into RGB frames and their masks, as ComfyUI's LoadImage does.

    Every frame of an animated file becomes one image of the batch (frames whose size
    differs from the first are skipped); the mask is the inverted alpha channel. A file of
    more than ``limits.max_frames`` frames is refused (a GIF of a million 1x1 frames is
    small on disk and huge in memory).
    """
    limits = limits or EngineLimits()
    frames: list[Image.Image] = []
    masks: list[Image.Image] = []
    with Image.open(io.BytesIO(data)) as opened:
        check_batch_size(*opened.size, 1)  # before decoding any pixel
        for index, raw in enumerate(ImageSequence.Iterator(opened)):
            if index >= limits.max_frames:
                raise ValueError(
                    f"the image has more than {limits.max_frames} frames (the emulator's limit)"
                )
            if limits.should_stop():
                raise InterruptedError("the emulator is stopping; the task did not finish")
            frame = ImageOps.exif_transpose(raw)
            if frames and frame.size != frames[0].size:
                continue
            check_batch_size(*frame.size, len(frames) + 1)
            frames.append(_to_rgb(frame))
            masks.append(_mask_of(frame))
            if opened.format == "MPO":
                break  # MPO's extra frames are depth maps or stereo pairs, not an animation
    return tuple(frames), tuple(masks)


def _to_rgb(frame: Image.Image) -> Image.Image:
    if frame.mode.startswith("I;16"):
        frame = frame.convert("I")
    if frame.mode == "I":
        frame = frame.point(lambda value: value * (1 / 257)).convert("L")
    return frame.convert("RGB")


def _mask_of(frame: Image.Image) -> Image.Image:
    if frame.mode == "P" and "transparency" in frame.info:
        frame = frame.convert("RGBA")
    if "A" in frame.getbands():
        return ImageChops.invert(frame.getchannel("A"))
    return Image.new("L", frame.size, 0)


def encode_png(image: Image.Image, graph: Mapping[str, Any] | None, compress_level: int) -> bytes:
    """PNG bytes, with the executed graph as the ``prompt`` text chunk when one is given.

    No timestamp chunk is written, so the same picture and graph give the same bytes.
    """
    info = None
    if graph is not None:
        info = PngInfo()
        info.add_text("prompt", json.dumps(graph if isinstance(graph, dict) else dict(graph)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info, compress_level=compress_level)
    return buffer.getvalue()


def safe_prefix(prefix: str, fallback: str = "ComfyUI") -> str:
    """The file-name part of a ``filename_prefix``, stripped of anything path-like."""
    name = re.split(r"[\\/]", prefix)[-1]
    name = _UNSAFE_NAME_CHARS.sub("_", name).strip().lstrip(".")
    return name[:100] or fallback


def _save(ctx: NodeContext, batch: ImageBatch, prefix: str, kind: str, level: int) -> NodeResult:
    produced: list[ProducedOutput] = []
    entries: list[dict[str, str]] = []
    graph = ctx.graph if ctx.add_metadata else None
    if len(batch.images) > ctx.limits.max_outputs:  # before encoding a single file
        raise ValueError(
            f"the task would write more than {ctx.limits.max_outputs} output files "
            "(the emulator's limit)"
        )
    for image in batch.images:
        if ctx.limits.should_stop():
            raise InterruptedError("the emulator is stopping; the task did not finish")
        filename = f"{prefix}_{ctx.next_file_number(prefix):05}_.png"
        data = encode_png(image, graph, level)
        produced.append(ProducedOutput(ctx.node_id, "png", data, None, filename))
        entries.append({"filename": filename, "subfolder": "", "type": kind})
    return NodeResult(produced=tuple(produced), ui={"images": entries})


def load_image(ctx: NodeContext, inputs: dict[str, Any]) -> NodeResult:
    images, masks = decode_image(ctx.load_media(inputs["image"]), ctx.limits)
    return NodeResult(values=(ImageBatch(images), MaskBatch(masks)))


def save_image(ctx: NodeContext, inputs: dict[str, Any]) -> NodeResult:
    # ComfyUI's SaveImage compresses at level 4, PreviewImage at level 1.
    return _save(ctx, inputs["images"], safe_prefix(inputs["filename_prefix"]), "output", 4)


def preview_image(ctx: NodeContext, inputs: dict[str, Any]) -> NodeResult:
    return _save(ctx, inputs["images"], "ComfyUI_temp", "temp", 1)


def _each(batch: ImageBatch, change: Any) -> NodeResult:
    return NodeResult(values=(ImageBatch(tuple(change(image) for image in batch.images)),))


def _releases_gil_worthwhile(image: Image.Image) -> bool:
    """Whether to take Pillow's GIL-releasing path for ``image``.

    A big image through a GIL-holding operation stalls every request (chop_invert holds it
    0.7 s on an 8192-square image); but a thread that releases and retakes the GIL for many
    tiny operations starves the others too (CPython hands it back to the running thread), so
    small images take the short, GIL-holding path.
    """
    return image.width * image.height >= _BIG_IMAGE_PIXELS


def _invert(image: Image.Image) -> Image.Image:
    # Both give 255 - v in every channel; ImageOps goes through a lookup table.
    return ImageOps.invert(image) if _releases_gil_worthwhile(image) else ImageChops.invert(image)


def image_invert(ctx: NodeContext, inputs: dict[str, Any]) -> NodeResult:
    return _each(inputs["image"], _invert)


def _target_size(size: tuple[int, int], width: int, height: int) -> tuple[int, int]:
    """ComfyUI's rule: a zero side keeps the aspect ratio from the other one."""
    old_width, old_height = size
    if width == 0 and height == 0:
        return size
    if width == 0:
        width = max(1, round(old_width * height / old_height))
    elif height == 0:
        height = max(1, round(old_height * width / old_width))
    return width, height


def _center_crop_box(size: tuple[int, int], target: tuple[int, int]) -> tuple[int, int, int, int]:
    """The box ComfyUI's ``common_upscale(crop="center")`` keeps before resizing."""
    old_width, old_height = size
    old_aspect, new_aspect = old_width / old_height, target[0] / target[1]
    x = y = 0
    if old_aspect > new_aspect:
        x = round((old_width - old_width * (new_aspect / old_aspect)) / 2)
    elif old_aspect < new_aspect:
        y = round((old_height - old_height * (old_aspect / new_aspect)) / 2)
    return x, y, old_width - x, old_height - y


def _resize(batch: ImageBatch, target: tuple[int, int], method: str, crop: str) -> NodeResult:
    check_batch_size(*target, len(batch.images))
    box = _center_crop_box(batch.size, target) if crop == "center" else None
    resample = _RESAMPLING[method]
    return _each(batch, lambda image: image.resize(target, resample, box=box))


def image_scale(ctx: NodeContext, inputs: dict[str, Any]) -> NodeResult:
    batch: ImageBatch = inputs["image"]
    target = _target_size(batch.size, inputs["width"], inputs["height"])
    return _resize(batch, target, inputs["upscale_method"], inputs["crop"])


def image_scale_by(ctx: NodeContext, inputs: dict[str, Any]) -> NodeResult:
    batch: ImageBatch = inputs["image"]
    factor = inputs["scale_by"]
    target = (max(1, round(batch.size[0] * factor)), max(1, round(batch.size[1] * factor)))
    return _resize(batch, target, inputs["upscale_method"], "disabled")


def _kernel_sigma(radius: int, sigma: float) -> float:
    # ComfyUI's kernel measures sigma in units of the kernel radius and truncates it at that
    # radius; Pillow's Gaussian is untruncated, so cap the spread at the radius.
    return min(sigma * radius, float(radius))


def image_blur(ctx: NodeContext, inputs: dict[str, Any]) -> NodeResult:
    radius = _kernel_sigma(inputs["blur_radius"], inputs["sigma"])
    return _each(inputs["image"], lambda image: image.filter(ImageFilter.GaussianBlur(radius)))


def image_sharpen(ctx: NodeContext, inputs: dict[str, Any]) -> NodeResult:
    # ComfyUI's kernel is (1 + 10*alpha) * identity - 10*alpha * gaussian: an unsharp mask
    # whose amount is 10*alpha, i.e. Pillow's percent = 1000*alpha.
    radius = _kernel_sigma(inputs["sharpen_radius"], inputs["sigma"])
    mask = ImageFilter.UnsharpMask(radius=radius, percent=round(inputs["alpha"] * 1000))
    return _each(inputs["image"], lambda image: image.filter(mask))


def image_flip(ctx: NodeContext, inputs: dict[str, Any]) -> NodeResult:
    vertical = inputs["flip_method"].startswith("x-axis")
    flip = Image.Transpose.FLIP_TOP_BOTTOM if vertical else Image.Transpose.FLIP_LEFT_RIGHT
    return _each(inputs["image"], lambda image: image.transpose(flip))


def image_rotate(ctx: NodeContext, inputs: dict[str, Any]) -> NodeResult:
    turn = _ROTATIONS[inputs["rotation"]]
    if turn is None:
        return NodeResult(values=(inputs["image"],))
    return _each(inputs["image"], lambda image: image.transpose(turn))


def image_crop(ctx: NodeContext, inputs: dict[str, Any]) -> NodeResult:
    batch: ImageBatch = inputs["image"]
    width, height = batch.size
    x, y = min(inputs["x"], width - 1), min(inputs["y"], height - 1)
    box = (x, y, min(x + inputs["width"], width), min(y + inputs["height"], height))
    return _each(batch, lambda image: image.crop(box))


def empty_image(ctx: NodeContext, inputs: dict[str, Any]) -> NodeResult:
    width, height, count = inputs["width"], inputs["height"], inputs["batch_size"]
    check_batch_size(width, height, count)
    color = inputs["color"]
    rgb = ((color >> 16) & 0xFF, (color >> 8) & 0xFF, color & 0xFF)
    image = Image.new("RGB", (width, height))  # zeroed without holding the GIL
    if rgb != (0, 0, 0):
        # A big one is recoloured through a lookup table: the same pixels as a filled
        # Image.new, which holds the GIL (0.1 s for 8192 x 8192).
        big = _releases_gil_worthwhile(image)
        lut = [value for channel in rgb for value in [channel] * 256]
        image = image.point(lut) if big else Image.new("RGB", (width, height), rgb)
    return NodeResult(values=(ImageBatch(tuple(image.copy() for _ in range(count))),))


def mask_to_image(ctx: NodeContext, inputs: dict[str, Any]) -> NodeResult:
    masks: MaskBatch = inputs["mask"]
    return NodeResult(values=(ImageBatch(tuple(mask.convert("RGB") for mask in masks.masks)),))


def _side(default: int, minimum: int = 1) -> Any:
    return optional("INT", default, minimum=minimum, maximum=MAX_RESOLUTION)


def _image_to_image(class_type: str, run: NodeFunction, **settings: InputSpec) -> NodeSpec:
    """A node that takes one image batch (input ``image``, first) and ``settings``, and
    returns one image batch: most of ComfyUI's image nodes."""
    return NodeSpec(class_type, {"image": required("IMAGE"), **settings}, ("IMAGE",), run)


IMAGE_NODES = (
    NodeSpec("LoadImage", {"image": required("STRING")}, ("IMAGE", "MASK"), load_image),
    NodeSpec(
        "SaveImage",
        {"images": required("IMAGE"), "filename_prefix": optional("STRING", "ComfyUI")},
        (),
        save_image,
        is_output=True,
    ),
    NodeSpec("PreviewImage", {"images": required("IMAGE")}, (), preview_image, is_output=True),
    _image_to_image("ImageInvert", image_invert),
    _image_to_image(
        "ImageScale",
        image_scale,
        upscale_method=combo(UPSCALE_METHODS),
        width=_side(512, minimum=0),
        height=_side(512, minimum=0),
        crop=combo(("disabled", "center"), "disabled"),
    ),
    _image_to_image(
        "ImageScaleBy",
        image_scale_by,
        upscale_method=combo(UPSCALE_METHODS),
        scale_by=optional("FLOAT", 1.0, minimum=0.01, maximum=8.0),
    ),
    _image_to_image(
        "ImageBlur",
        image_blur,
        blur_radius=optional("INT", 1, minimum=1, maximum=31),
        sigma=optional("FLOAT", 1.0, minimum=0.1, maximum=10.0),
    ),
    _image_to_image(
        "ImageSharpen",
        image_sharpen,
        sharpen_radius=optional("INT", 1, minimum=1, maximum=31),
        sigma=optional("FLOAT", 1.0, minimum=0.1, maximum=10.0),
        alpha=optional("FLOAT", 1.0, minimum=0.0, maximum=5.0),
    ),
    _image_to_image("ImageFlip", image_flip, flip_method=combo(FLIP_METHODS)),
    _image_to_image("ImageRotate", image_rotate, rotation=combo(tuple(_ROTATIONS))),
    _image_to_image(
        "ImageCrop",
        image_crop,
        width=_side(512),
        height=_side(512),
        x=_side(0, minimum=0),
        y=_side(0, minimum=0),
    ),
    NodeSpec("MaskToImage", {"mask": required("MASK")}, ("IMAGE",), mask_to_image),
    NodeSpec(
        "EmptyImage",
        {
            "width": _side(512),
            "height": _side(512),
            "batch_size": optional("INT", 1, minimum=1, maximum=4096),
            "color": optional("INT", 0, minimum=0, maximum=0xFFFFFF),
        },
        ("IMAGE",),
        empty_image,
    ),
)
