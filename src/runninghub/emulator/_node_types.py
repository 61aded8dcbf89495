"""Values that flow along a workflow's links, and how a node type declares its inputs.

ComfyUI passes tensors between nodes; the emulator passes small immutable Python values
instead (a batch of Pillow images, a latent "recipe", model tokens) and checks each input
against its declared kind, so a miswired graph fails at the node that received bad data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from .options import MAX_FRAMES, MAX_OUTPUTS, MAX_TASK_PIXELS

# Guards against an innocent-looking graph exhausting memory (a 16384x16384 batch of 64
# would need tens of gigabytes). Real ComfyUI would run out of VRAM instead.
MAX_SIDE = 8192
# ComfyUI's upper limit for width and height widgets.
MAX_RESOLUTION = 16384
MAX_BATCH_PIXELS = 1 << 26

# Kinds whose values are typed in the graph (widgets) rather than linked from another node.
WIDGET_KINDS = frozenset({"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"})
ANY = "*"


@dataclass(frozen=True)
class ProducedOutput:
    """One file a workflow produced: a PNG from SaveImage, a text from SaveText, ...

    ``filename`` is the name ComfyUI would have given the file (``ComfyUI_00001_.png``);
    the server may use it or pick its own.
    """

    node_id: str
    ext: str
    data: bytes
    text: str | None = None
    filename: str = ""


@dataclass(frozen=True)
class ImageBatch:
    """An IMAGE value: one or more RGB images of the same size."""

    images: tuple[Image.Image, ...]

    def __post_init__(self) -> None:
        if not self.images:
            raise ValueError("an image batch cannot be empty")
        sizes = {image.size for image in self.images}
        if len(sizes) != 1:
            raise ValueError(f"all images of a batch must share one size, got {sorted(sizes)}")
        if any(image.mode != "RGB" for image in self.images):
            raise ValueError("images of a batch must be RGB")

    @property
    def size(self) -> tuple[int, int]:
        return self.images[0].size


@dataclass(frozen=True)
class MaskBatch:
    """A MASK value: greyscale ("L") images, 255 where the mask is set."""

    masks: tuple[Image.Image, ...]


@dataclass(frozen=True)
class ModelRef:
    """What CheckpointLoaderSimple hands out as MODEL, CLIP or VAE: the checkpoint's name."""

    role: str
    checkpoint: str


@dataclass(frozen=True)
class Conditioning:
    """A CONDITIONING value: the encoded prompt is simply the prompt text."""

    text: str
    checkpoint: str


@dataclass(frozen=True)
class Latent:
    """A LATENT value: the size of the batch and, once sampled or encoded, its pictures.

    ``pictures`` is None for an empty latent (EmptyLatentImage); the synthetic sampler fills it.
    """

    width: int
    height: int
    batch_size: int
    pictures: tuple[Image.Image, ...] | None = None


@dataclass(frozen=True)
class InputSpec:
    """Declared kind of one input; ``default`` applies when the input is not required."""

    kind: str
    default: Any = None
    required: bool = True
    options: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None


def required(kind: str, **limits: Any) -> InputSpec:
    return InputSpec(kind=kind, **limits)


def optional(kind: str, default: Any, **limits: Any) -> InputSpec:
    return InputSpec(kind=kind, default=default, required=False, **limits)


def combo(options: tuple[str, ...], default: str | None = None) -> InputSpec:
    """A choice among fixed strings; like ComfyUI's combos it defaults to the first option."""
    chosen = options[0] if default is None else default
    return InputSpec(kind="COMBO", options=options, default=chosen, required=False)


@dataclass
class NodeResult:
    """What a node returns: its output slot values, plus files and UI data for output nodes."""

    values: tuple[Any, ...] = ()
    produced: tuple[ProducedOutput, ...] = ()
    ui: dict[str, Any] = field(default_factory=dict)


def _never() -> bool:
    return False


@dataclass(frozen=True)
class EngineLimits:
    """Bounds on one task's work: frames decoded from one file, files written, pixels made
    by all its nodes together; ``should_stop`` (polled between steps) ends the run early."""

    max_frames: int = MAX_FRAMES
    max_outputs: int = MAX_OUTPUTS
    max_task_pixels: int = MAX_TASK_PIXELS
    should_stop: Callable[[], bool] = _never


@dataclass
class NodeContext:
    """What the engine lends a node while it runs."""

    node_id: str
    class_type: str
    graph: Mapping[str, Any]
    add_metadata: bool
    load_media: Callable[[str], bytes]
    report_progress: Callable[[int, int], None]
    next_file_number: Callable[[str], int]
    limits: EngineLimits = field(default_factory=EngineLimits)


NodeFunction = Callable[[NodeContext, dict[str, Any]], NodeResult]


@dataclass(frozen=True)
class NodeSpec:
    """A node type the engine implements."""

    class_type: str
    inputs: Mapping[str, InputSpec]
    outputs: tuple[str, ...]
    run: NodeFunction
    is_output: bool = False


LINKED_TYPES: dict[str, type] = {
    "IMAGE": ImageBatch,
    "MASK": MaskBatch,
    "LATENT": Latent,
    "MODEL": ModelRef,
    "CLIP": ModelRef,
    "VAE": ModelRef,
    "CONDITIONING": Conditioning,
}


def coerce_input(name: str, spec: InputSpec, value: Any) -> Any:
    """Check (and for widgets convert, as ComfyUI does) one input value against its spec."""
    if spec.kind == ANY:
        return value
    expected = LINKED_TYPES.get(spec.kind)
    if expected is not None:
        if not isinstance(value, expected):
            raise TypeError(
                f"input '{name}' expects {spec.kind} from a link, got {_describe(value)}"
            )
        return value
    if spec.kind not in WIDGET_KINDS:
        if isinstance(value, (str, int, float, bool)) or value is None:
            raise TypeError(
                f"input '{name}' expects {spec.kind} from a link, got {_describe(value)}"
            )
        return value
    return _coerce_widget(name, spec, value)


def _coerce_widget(name: str, spec: InputSpec, value: Any) -> Any:
    if spec.kind == "INT":
        number: int | float = _to_int(name, value)
    elif spec.kind == "FLOAT":
        number = _to_float(name, value)
    elif spec.kind == "BOOLEAN":
        return _to_bool(name, value)
    elif spec.kind == "STRING":
        return _to_str(name, value)
    else:
        text = _to_str(name, value)
        if text not in spec.options:
            raise ValueError(f"Value not in list: {name}: '{text}' not in {list(spec.options)}")
        return text
    if spec.minimum is not None and number < spec.minimum:
        raise ValueError(f"Value {number} smaller than min of {_fmt(spec.minimum)}: {name}")
    if spec.maximum is not None and number > spec.maximum:
        raise ValueError(f"Value {number} bigger than max of {_fmt(spec.maximum)}: {name}")
    return number


def _to_int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError(f"input '{name}' expects INT, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ValueError(f"invalid literal for INT input '{name}': {value!r}")


def _to_float(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError(f"input '{name}' expects FLOAT, got a boolean")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"invalid literal for FLOAT input '{name}': {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"FLOAT input '{name}' must be finite, got {value!r}")
    return number


def _to_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"invalid literal for BOOLEAN input '{name}': {value!r}")


def _to_str(name: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"input '{name}' expects a string, got {_describe(value)}")


def _describe(value: Any) -> str:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return f"the literal {value!r}"
    return type(value).__name__


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def pixels_of(values: tuple[Any, ...]) -> int:
    """How many pixels the images, masks and sampled latents among ``values`` hold."""
    total = 0
    for value in values:
        pictures: tuple[Image.Image, ...] = ()
        if isinstance(value, ImageBatch):
            pictures = value.images
        elif isinstance(value, MaskBatch):
            pictures = value.masks
        elif isinstance(value, Latent) and value.pictures is not None:
            pictures = value.pictures
        total += sum(picture.width * picture.height for picture in pictures)
    return total


def check_batch_size(width: int, height: int, batch_size: int) -> None:
    """Refuse image batches too large for the emulator to hold in memory."""
    if max(width, height) > MAX_SIDE:
        raise ValueError(
            f"{width}x{height} exceeds the emulator's limit of {MAX_SIDE} pixels a side"
        )
    if width * height * batch_size > MAX_BATCH_PIXELS:
        raise ValueError(
            f"a batch of {batch_size} images of {width}x{height} exceeds the emulator's limit of "
            f"{MAX_BATCH_PIXELS} pixels"
        )
