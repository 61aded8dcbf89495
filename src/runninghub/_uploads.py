"""Upload sources: a path, bytes or a binary file, checked locally before anything is sent.

The checks the service would make are made first (type by extension, 30 MB), so a refused
upload costs no request. A file is streamed from disk, never read whole.
"""

from __future__ import annotations

import io
import mimetypes
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, TypeAlias

from ._errors import Wording
from ._fields import error
from ._media import HEAD_BYTES, media_problem
from ._protocol import UploadBody

__all__ = ["UPLOAD_LIMIT", "UPLOAD_TYPES", "UploadSource", "check_media_files", "open_upload"]

UploadSource: TypeAlias = str | os.PathLike[str] | bytes | IO[bytes]

UPLOAD_LIMIT = 30 * 1024 * 1024
UPLOAD_TYPES = frozenset(
    ("png", "jpg", "jpeg", "webp", "zip", "mp3", "wav", "flac", "mp4", "avi", "mov", "mkv")
)

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"PK\x03\x04", "zip"),
    (b"fLaC", "flac"),
    (b"ID3", "mp3"),
)


def _sniff_name(data: bytes) -> str:
    for magic, ext in _MAGIC:
        if data.startswith(magic):
            return f"upload.{ext}"
    if data[:4] == b"RIFF" and data[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        return "upload." + {b"WEBP": "webp", b"WAVE": "wav", b"AVI ": "avi"}[data[8:12]]
    if data[4:8] == b"ftyp":
        return "upload.mp4"
    raise error(
        "cannot tell the type of these bytes",
        Wording(
            "pass file_name='name.png' (or .mp4, ...)",
            "give the file a name that ends in its type (.png, .mp4, ...)",
        ),
    )


def open_upload(
    source: UploadSource, file_name: str | None = None
) -> tuple[UploadBody, Callable[[], None]]:
    """The multipart part for ``source``, checked locally (type, 30 MB), and its closer."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        stream: IO[bytes] = io.BytesIO(data)
        name, close = file_name or _sniff_name(data), stream.close
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise error(f"no such file: {str(path)!r}")
        stream = path.open("rb")
        name, close = file_name or path.name, stream.close
    else:
        stream = source
        name = file_name or Path(str(getattr(source, "name", "") or "")).name
        close = _nothing
    try:
        body = _checked_body(stream, name)
    except BaseException:
        close()
        raise
    return body, close


def _nothing() -> None:
    return None


def _checked_body(stream: IO[bytes], name: str) -> UploadBody:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in UPLOAD_TYPES:
        raise error(
            f"cannot upload {name or 'this file'!r}: type {ext or 'unknown'!r} is not accepted",
            "accepted: " + ", ".join(sorted(UPLOAD_TYPES)),
        )
    start = stream.tell() if stream.seekable() else None
    if start is not None:
        size = stream.seek(0, os.SEEK_END) - start
        stream.seek(start)
        head = stream.read(HEAD_BYTES)
        stream.seek(start)
        _refuse_unusable(name, head, size)
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return UploadBody(name, stream, content_type, start)


_NOT_MEDIA = "such a file makes a task that fails only after it was paid for: pass the real one"


def _refuse_unusable(name: str, head: bytes, size: int) -> None:
    """Refuse a file over the limit, an empty one, or one that is not the media its extension
    names (``_media``)."""
    if size > UPLOAD_LIMIT:
        raise error(
            f"{name} is {size} bytes; uploads are limited to 30 MB",
            "host larger files yourself and pass their URL",
        )
    problem = media_problem(name, head, size)
    if problem is not None:
        raise error(f"{name or 'this file'} {problem}", _NOT_MEDIA)


def check_media_files(paths: Iterable[Path]) -> None:
    """Check every local file first, so that a bad second file is refused before the first is
    uploaded (and long before anything is submitted)."""
    for path in paths:
        try:
            with path.open("rb") as handle:
                head, size = handle.read(HEAD_BYTES), os.fstat(handle.fileno()).st_size
        except OSError:
            continue  # the upload itself says why it cannot read the file
        _refuse_unusable(path.name, head, size)
