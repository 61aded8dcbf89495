"""What a standard-model task produces: a real file of the model's output type.

- ``image``: a PNG painted from the prompt (the synthetic painter of the workflow engine),
  blended with the first input image when one is given as a URL of this emulator;
- ``video``: a two-second H.264 MP4 (PyAV, whose wheel ships FFmpeg) panning over that
  picture, so every frame is derived from the same inputs;
- ``audio``: a WAV (the standard library's ``wave``) of tones chosen by the prompt;
- ``3d``: a small binary glTF (GLB) octahedron written by hand (no mesh library needed);
- ``string``: a text answer, also returned as the result's ``text``.
Everything is deterministic: the same parameters give the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import struct
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from . import _synthetic
from .execution import ExecutionResult, _store, unexpected_failure
from .nodes import ProducedOutput

_EXTENSIONS = {"image": "png", "video": "mp4", "audio": "wav", "3d": "glb", "string": "txt"}
_LONG_SIDE = {"image": 512, "video": 256}
_VIDEO_FPS, _VIDEO_FRAMES = 8, 16
_AUDIO_RATE, _AUDIO_SECONDS = 22050, 1.5
_MEDIA_KEYS = ("image", "frame", "ref")


def run_model(
    endpoint: str,
    output_type: str,
    params: dict[str, Any],
    *,
    load_media: Callable[[str], bytes],
    out_dir: Path,
) -> ExecutionResult:
    """Produce and store the output of one model call; a failure becomes a failedReason."""
    try:
        data, text = produce(endpoint, output_type, params, load_media)
        ext = _EXTENSIONS[output_type]
        output = ProducedOutput("", ext, data, text, f"{_stem(endpoint)}_00001_.{ext}")
        return ExecutionResult(outputs=_store([output], out_dir))
    except Exception as error:  # a defect must fail the task, never the server
        return ExecutionResult(failure=unexpected_failure(error))


def produce(
    endpoint: str, output_type: str, params: dict[str, Any], load_media: Callable[[str], bytes]
) -> tuple[bytes, str | None]:
    """The bytes of the output (and its text for ``string`` models)."""
    if output_type == "string":
        text = answer_text(endpoint, params)
        return text.encode("utf-8"), text
    if output_type == "audio":
        return wav_bytes(_prompt(params)), None
    if output_type == "3d":
        return glb_bytes(_prompt(params)), None
    picture = picture_for(params, load_media, _LONG_SIDE.get(output_type, 256))
    if output_type == "video":
        return mp4_bytes(picture), None
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue(), None


def _stem(endpoint: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in endpoint)[:60] or "model"


def _prompt(params: dict[str, Any]) -> str:
    for key in ("prompt", "text", "lyrics", "description"):
        value = params.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _seed(params: dict[str, Any]) -> int:
    seed = params.get("seed")
    if isinstance(seed, int) and not isinstance(seed, bool):
        return seed
    return int.from_bytes(hashlib.sha256(_prompt(params).encode()).digest()[:6], "big")


def _size(params: dict[str, Any], long_side: int) -> tuple[int, int]:
    """The picture size from an ``aspectRatio`` such as ``16:9`` (even sides, for video)."""
    ratio = str(params.get("aspectRatio") or params.get("aspect_ratio") or "1:1")
    width, _, height = ratio.partition(":")
    try:
        w, h = float(width), float(height)
    except ValueError:
        w = h = 1.0
    if not (w > 0 and h > 0):
        w = h = 1.0
    scale = long_side / max(w, h)
    return max(16, round(w * scale / 2) * 2), max(16, round(h * scale / 2) * 2)


def picture_for(
    params: dict[str, Any], load_media: Callable[[str], bytes], long_side: int
) -> Image.Image:
    """The prompt's picture, blended half and half with the first readable input image."""
    prompt = _prompt(params)
    recipe = _synthetic.Recipe(
        _seed(params),
        prompt,
        str(params.get("negativePrompt") or ""),
        24,
        7.0,
        "euler",
        "normal",
        "model",
    )
    size = _size(params, long_side)
    picture = _synthetic.render(recipe, size, 0)
    source = _input_image(params, load_media)
    if source is not None:
        picture = Image.blend(picture, source.convert("RGB").resize(size), 0.5)
    return picture


def _input_image(params: dict[str, Any], load_media: Callable[[str], bytes]) -> Image.Image | None:
    for url in media_candidates(params):
        image = _open_image(url, load_media)
        if image is not None:
            return image
    return None


def media_candidates(params: dict[str, Any]) -> list[str]:
    """The string values of the media parameters, in the order they are tried."""
    found: list[str] = []
    for key, value in params.items():
        if any(word in key.lower() for word in _MEDIA_KEYS):
            items = value if isinstance(value, list) else [value]
            found.extend(item for item in items if isinstance(item, str))
    return found


def _open_image(url: Any, load_media: Callable[[str], bytes]) -> Image.Image | None:
    """An input image: a data URI or this emulator's URL (no network: others are skipped)."""
    if not isinstance(url, str):
        return None
    try:
        if url.startswith("data:"):
            data = base64.b64decode(url.partition(",")[2], validate=False)
        else:
            data = load_media(url)
        image = Image.open(io.BytesIO(data))
        image.load()
        return image
    except (OSError, ValueError, FileNotFoundError):
        return None


def mp4_bytes(picture: Image.Image) -> bytes:
    """A short H.264 MP4 that pans across ``picture`` (even sizes, yuv420p: plays anywhere)."""
    import av  # the FFmpeg bindings load only when a video is made

    width, height = picture.size
    wide = picture.resize((width * 2, height))
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=_VIDEO_FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(_VIDEO_FRAMES):
            left = round(index * width / (_VIDEO_FRAMES - 1))
            crop = wide.crop((left, 0, left + width, height))
            frame = av.VideoFrame.from_image(crop)  # type: ignore[no-untyped-call]
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()


def wav_bytes(prompt: str) -> bytes:
    """1.5 s of 16-bit mono: three notes whose pitches come from the prompt's hash."""
    digest = hashlib.sha256(prompt.encode("utf-8")).digest()
    notes = [220.0 * 2 ** (digest[i] % 24 / 12) for i in range(3)]
    frames = int(_AUDIO_RATE * _AUDIO_SECONDS)
    per_note = frames // len(notes)
    samples = bytearray()
    for index in range(frames):
        pitch = notes[min(index // per_note, len(notes) - 1)]
        fade = min(1.0, (index % per_note) / 400, (per_note - index % per_note) / 400)
        value = 0.4 * fade * math.sin(2 * math.pi * pitch * index / _AUDIO_RATE)
        samples += struct.pack("<h", round(value * 32767))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(_AUDIO_RATE)
        out.writeframes(bytes(samples))
    return buffer.getvalue()


def glb_bytes(prompt: str) -> bytes:
    """A binary glTF 2.0 octahedron, stretched by the prompt's hash (one mesh, 8 faces)."""
    digest = hashlib.sha256(prompt.encode("utf-8")).digest()
    height = 0.6 + digest[0] / 255
    points = [(1, 0, 0), (-1, 0, 0), (0, height, 0), (0, -height, 0), (0, 0, 1), (0, 0, -1)]
    faces = [(0, 2, 4), (4, 2, 1), (1, 2, 5), (5, 2, 0), (4, 3, 0), (1, 3, 4), (5, 3, 1), (0, 3, 5)]
    positions = b"".join(struct.pack("<3f", *point) for point in points)
    indices = b"".join(struct.pack("<3H", *face) for face in faces)
    indices += b"\0" * (-len(indices) % 4)
    binary = positions + indices
    document = _gltf_document(len(points), len(faces) * 3, len(positions), len(binary), height)
    text = json.dumps(document, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 4)
    total = 12 + 8 + len(text) + 8 + len(binary)
    return b"".join(
        [
            struct.pack("<4sII", b"glTF", 2, total),
            struct.pack("<I4s", len(text), b"JSON"),
            text,
            struct.pack("<I4s", len(binary), b"BIN\0"),
            binary,
        ]
    )


def _gltf_document(
    vertices: int, index_count: int, positions_size: int, buffer_size: int, height: float
) -> dict[str, Any]:
    return {
        "asset": {"version": "2.0", "generator": "runninghub emulator"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}],
        "buffers": [{"byteLength": buffer_size}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": positions_size, "target": 34962},
            {
                "buffer": 0,
                "byteOffset": positions_size,
                "byteLength": index_count * 2,
                "target": 34963,
            },
        ],
        "accessors": [
            {
                "bufferView": 0,
                "componentType": 5126,
                "count": vertices,
                "type": "VEC3",
                "min": [-1, -height, -1],
                "max": [1, height, 1],
            },
            {"bufferView": 1, "componentType": 5123, "count": index_count, "type": "SCALAR"},
        ],
    }


def answer_text(endpoint: str, params: dict[str, Any]) -> str:
    """A text model's answer: it names the model and echoes what it was asked."""
    asked = _prompt(params) or ", ".join(f"{k}={v}" for k, v in sorted(params.items()))[:500]
    return f"[{endpoint}, emulated] {asked}".strip()
