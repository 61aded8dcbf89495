"""Field kinds, how they are inferred, and value coercion: the typing half of ``workflow``.

Pure code: no I/O. The public names are re-exported by ``runninghub.workflow``.
"""

from __future__ import annotations

import difflib
import enum
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ._errors import InvalidRequestError, Wording
from ._models import Upload

__all__ = ["Field", "FieldKind", "coerce_value"]


class FieldKind(enum.Enum):
    """The type of a field, as far as it can be told from the graph or the app's form."""

    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    STRING = "string"
    MEDIA = "media"  # a loader's file: an uploaded name, a URL, or a pathlib.Path to upload
    LIST = "list"  # one of ``options``, exactly
    LINK = "link"  # wired to another node's output: not overridable
    OTHER = "other"  # any JSON value, passed through


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Samplers and schedulers as ComfyUI lists them. A typo here fails on the service after the
# coins are spent, so they are enforced like the closed enums; the graph's saved value always
# passes (it ran there), and a custom node pack's sampler goes through ``validate=False``.
_SAMPLERS = _words(
    "euler euler_cfg_pp euler_ancestral euler_ancestral_cfg_pp heun heunpp2 dpm_2 "
    "dpm_2_ancestral lms dpm_fast dpm_adaptive dpmpp_2s_ancestral dpmpp_2s_ancestral_cfg_pp "
    "dpmpp_sde dpmpp_sde_gpu dpmpp_2m dpmpp_2m_cfg_pp dpmpp_2m_sde dpmpp_2m_sde_gpu "
    "dpmpp_2m_sde_heun dpmpp_2m_sde_heun_gpu dpmpp_3m_sde dpmpp_3m_sde_gpu ddpm lcm ipndm "
    "ipndm_v deis res_multistep res_multistep_cfg_pp res_multistep_ancestral "
    "res_multistep_ancestral_cfg_pp gradient_estimation gradient_estimation_cfg_pp er_sde "
    "seeds_2 seeds_3 sa_solver sa_solver_pece ddim uni_pc uni_pc_bh2"
)
_SCHEDULERS = _words(
    "normal karras exponential sgm_uniform simple ddim_uniform beta linear_quadratic kl_optimal"
)
_OPEN_ENUMS: dict[str, tuple[str, ...]] = {
    "sampler_name": _SAMPLERS,
    "scheduler": _SCHEDULERS,
}

# Enums fixed by the core node's definition: enforced.
_UPSCALE = ("nearest-exact", "bilinear", "area", "bicubic", "lanczos")
_CROP = ("disabled", "center")
_SWITCH = ("enable", "disable")
_CLOSED_ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    **{
        (cls, "upscale_method"): _UPSCALE
        for cls in (
            "ImageScale",
            "ImageScaleBy",
            "LatentUpscale",
            "LatentUpscaleBy",
            "ImageScaleToTotalPixels",
        )
    },
    ("ImageScale", "crop"): _CROP,
    ("LatentUpscale", "crop"): _CROP,
    ("KSamplerAdvanced", "add_noise"): _SWITCH,
    ("KSamplerAdvanced", "return_with_leftover_noise"): _SWITCH,
}

# A loader's input with one of these names holds a file (LoadImage.image, LoadAudio.audio,
# LoadVideo.file, VHS_LoadVideo.video, LoadImages.upload ...).
_MEDIA_INPUTS = frozenset({"image", "audio", "video", "file", "upload"})

# JSON has one number type, so ComfyUI exports ``cfg: 8.0`` as ``8``. A name with one of these
# words takes decimals even when the saved value is whole.
_DECIMAL_WORDS = frozenset(
    _words(
        "cfg denoise strength scale weight guidance shift ratio percent multiplier sigma sigmas "
        "eta threshold factor megapixels opacity alpha augmentation rate"
    )
)

_APP_KINDS = {
    "STRING": FieldKind.STRING,
    "IMAGE": FieldKind.MEDIA,
    "AUDIO": FieldKind.MEDIA,
    "VIDEO": FieldKind.MEDIA,
    "LIST": FieldKind.LIST,
    "INT": FieldKind.INT,
    "FLOAT": FieldKind.FLOAT,
    "BOOLEAN": FieldKind.BOOL,
}

_TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
_FALSE_WORDS = frozenset({"false", "0", "no", "off"})
_INT_RANGE = (-(2**63), 2**64 - 1)  # what the service and ComfyUI seeds can carry


@dataclass(frozen=True)
class Field:
    """One input of one node. ``options`` on a LIST field is the closed set of allowed values."""

    node_id: str
    node_title: str | None
    class_type: str | None
    name: str
    value: Any
    kind: FieldKind
    options: tuple[str, ...] = ()
    description: str | None = None

    @property
    def address(self) -> str:
        return f"{self.node_id}.{self.name}"

    @property
    def is_link(self) -> bool:
        return self.kind is FieldKind.LINK


# -- inference -------------------------------------------------------------------------------


def infer_kind(
    class_type: str | None, name: str, value: Any, ids: frozenset[str]
) -> tuple[FieldKind, tuple[str, ...]]:
    if _is_link(value, ids):
        return FieldKind.LINK, ()
    if isinstance(value, bool):
        return FieldKind.BOOL, ()
    if isinstance(value, int):
        takes_decimals = not _DECIMAL_WORDS.isdisjoint(name.casefold().split("_"))
        return (FieldKind.FLOAT if takes_decimals else FieldKind.INT), ()
    if isinstance(value, float):
        return FieldKind.FLOAT, ()
    if isinstance(value, str):
        return _infer_text_kind(class_type or "", name, value)
    return FieldKind.OTHER, ()


def _is_link(value: Any, ids: frozenset[str]) -> bool:
    """``["4", 0]``: an output slot of a node of this graph."""
    if not isinstance(value, list) or len(value) != 2:
        return False
    source, slot = value
    if isinstance(source, bool) or isinstance(slot, bool) or not isinstance(slot, int):
        return False
    return isinstance(source, str | int) and str(source) in ids


def _infer_text_kind(class_type: str, name: str, value: str) -> tuple[FieldKind, tuple[str, ...]]:
    closed = _CLOSED_ENUMS.get((class_type, name)) or _OPEN_ENUMS.get(name)
    if closed is not None:
        # The saved value ran on the server, so it is valid even if this table lags behind.
        return FieldKind.LIST, closed if value in closed else (*closed, value)
    if "Load" in class_type and name in _MEDIA_INPUTS:
        return FieldKind.MEDIA, ()
    return FieldKind.STRING, ()


def app_kind(field_type: str | None, options: tuple[str, ...]) -> tuple[FieldKind, tuple[str, ...]]:
    """The kind of an app input from its ``fieldType``; a LIST without options takes any text."""
    kind = _APP_KINDS.get((field_type or "").strip().upper(), FieldKind.OTHER)
    if kind is FieldKind.LIST and options:
        return kind, options
    return (FieldKind.STRING if kind is FieldKind.LIST else kind), ()


# -- coercion ---------------------------------------------------------------------------------


def coerce_value(field: Field, value: Any) -> Any:
    """``value`` converted to ``field``'s type; text from a shell or a CSV is the usual input.

    INT: ints, whole floats, numeric text (``" 20 "``, ``"2e1"``, ``"20.0"``); not bools.
    FLOAT: numbers and numeric text, finite only. BOOL: bools, 0/1, true/false, yes/no, on/off
    (any case). STRING: text; numbers become text. LIST: exactly one of the options. MEDIA: a
    file name or URL, a ``pathlib.Path`` (kept, for the client to upload) or an ``Upload`` (its
    file name); STRING takes these two as well, for loaders not known as such. OTHER: anything.
    Raises InvalidRequestError naming the field and the expected type; LINK always raises.
    """
    return _COERCERS[field.kind](field, value)


def _to_int(field: Field, value: Any) -> int:
    expected = "an integer"
    if isinstance(value, bool):
        raise type_error(field, value, expected)
    number = Decimal(value) if isinstance(value, int) else _as_decimal(value)
    if number is None or not number.is_finite():
        raise type_error(field, value, expected)
    low, high = _INT_RANGE
    if number.adjusted() > 20 or not low <= number <= high:
        raise type_error(field, value, f"an integer between {low} and {high}")
    if number != number.to_integral_value():
        hint = Wording(
            "if this input takes decimals, submit with validate=False",
            "if this input takes decimals, run with --no-validate",
        )
        raise type_error(field, value, "a whole number", hint)
    return int(number)


def _as_decimal(value: Any) -> Decimal | None:
    if isinstance(value, float):
        return Decimal(value) if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None


def _to_float(field: Field, value: Any) -> float:
    number: float | None = None
    if isinstance(value, int | float | Decimal | str) and not isinstance(value, bool):
        try:
            number = float(value.strip() if isinstance(value, str) else value)
        except (ValueError, OverflowError):
            number = None
    if number is None or not math.isfinite(number):
        raise type_error(field, value, "a finite number")
    return number


def _to_bool(field: Field, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    word = value.strip().casefold() if isinstance(value, str) else None
    if word in _TRUE_WORDS or word in _FALSE_WORDS:
        return word in _TRUE_WORDS
    raise type_error(field, value, "a boolean (true/false, yes/no, on/off, 1/0)")


def _to_string(field: Field, value: Any) -> str | Path:
    if isinstance(value, str):
        return value
    if isinstance(value, Upload):
        return value.file_name
    if isinstance(value, os.PathLike):
        # A file for an input this module does not know as a loader's: the client uploads it.
        return Path(os.fsdecode(value))
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    raise type_error(field, value, "text")


def _to_choice(field: Field, value: Any) -> Any:
    if not field.options:
        return _to_string(field, value)
    text = value if isinstance(value, str) else None
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        text = str(value)
    if text in field.options:
        return text
    shown = ", ".join(field.options[:12]) + (", ..." if len(field.options) > 12 else "")
    hint = did_you_mean(closest(text, list(field.options))) if text is not None else None
    raise type_error(field, value, f"one of: {shown}", hint or f"the options: {shown}")


def _to_media(field: Field, value: Any) -> str | Path:
    if isinstance(value, Upload):
        return value.file_name
    if isinstance(value, os.PathLike):
        return Path(os.fsdecode(value))
    if isinstance(value, str) and value.strip():
        return value
    expected = Wording(
        "a file: an uploaded file name, a URL, or a pathlib.Path to upload",
        "a file: an uploaded file name, a URL, or the path of a local file to upload",
    )
    raise type_error(field, value, expected)


def _pass_through(field: Field, value: Any) -> Any:
    return value


def refuse_link(field: Field) -> Field:
    """The field itself, unless it is a link (wired to another node), which is refused."""
    if field.is_link:
        source = field.value[0]
        raise error(
            f"{field.address} is a link to node {source} and cannot be overridden",
            f"override a field of node {source} instead",
        )
    return field


def _no_value_for_a_link(field: Field, value: Any) -> Any:
    return refuse_link(field)


_COERCERS: dict[FieldKind, Callable[[Field, Any], Any]] = {
    FieldKind.INT: _to_int,
    FieldKind.FLOAT: _to_float,
    FieldKind.BOOL: _to_bool,
    FieldKind.STRING: _to_string,
    FieldKind.LIST: _to_choice,
    FieldKind.MEDIA: _to_media,
    FieldKind.OTHER: _pass_through,
    FieldKind.LINK: _no_value_for_a_link,
}


# -- messages -------------------------------------------------------------------------------


def closest(word: str | None, candidates: list[str]) -> list[str]:
    if word is None:
        return []
    same_case = [c for c in candidates if c.casefold() == word.casefold()]
    close = difflib.get_close_matches(word, candidates, n=3, cutoff=0.6)
    return list(dict.fromkeys([*same_case, *close]))[:3]


def did_you_mean(names: list[str]) -> str | None:
    return f"did you mean {' or '.join(names)}?" if names else None


def type_error(
    field: Field, value: Any, expected: str | Wording, hint: str | Wording | None = None
) -> InvalidRequestError:
    words = Wording.of(expected)
    got = f"got {show(value)}"
    return error(
        Wording(
            f"{field.address} expects {words.sdk}, {got}",
            f"{field.address} expects {words.cli}, {got}",
        ),
        hint or f"its current value is {show(field.value)}",
    )


def show(value: Any, limit: int = 60) -> str:
    text = repr(str(value)) if isinstance(value, Path) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def error(message: str | Wording, hint: str | Wording | None = None) -> InvalidRequestError:
    """A local refusal: no service code, and a hint that says what to do instead.

    Every check made before anything is sent (ids, fields, overrides, uploads) raises what
    this builds, so that a local refusal always looks the same.
    """
    return InvalidRequestError(message, code=None, hint=hint)
