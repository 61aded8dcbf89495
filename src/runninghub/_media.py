"""Is this file really the media its name says? A pure check of its first bytes and its size.

An upload is paid for once its task runs, and a task fed an empty file, a text file or random
bytes under an image name only fails after it was created. So local files are checked before
anything is sent: not empty, and their content is of the family (image, video, audio,
archive) their extension names. A JPEG named ``.png`` passes (it is an image); a text file
named ``.png`` does not. Extensions outside these families are not judged here.
"""

from __future__ import annotations

__all__ = ["HEAD_BYTES", "media_families", "media_problem"]

HEAD_BYTES = 32  # enough for every signature below

_FAMILY_OF_SUFFIX = {
    **dict.fromkeys(("png", "jpg", "jpeg", "webp", "gif", "bmp", "tif", "tiff"), "image"),
    **dict.fromkeys(("mp4", "mov", "webm", "avi", "mkv"), "video"),
    **dict.fromkeys(("mp3", "wav", "flac", "ogg", "m4a"), "audio"),
    "zip": "archive",
}
_PREFIXES: tuple[tuple[bytes, frozenset[str]], ...] = (
    (b"\x89PNG\r\n\x1a\n", frozenset({"image"})),
    (b"\xff\xd8\xff", frozenset({"image"})),
    (b"GIF87a", frozenset({"image"})),
    (b"GIF89a", frozenset({"image"})),
    (b"BM", frozenset({"image"})),
    (b"II*\x00", frozenset({"image"})),
    (b"MM\x00*", frozenset({"image"})),
    (b"\x1a\x45\xdf\xa3", frozenset({"video", "audio"})),  # Matroska / WebM
    (b"ID3", frozenset({"audio"})),
    (b"fLaC", frozenset({"audio"})),
    (b"OggS", frozenset({"audio", "video"})),
    (b"PK\x03\x04", frozenset({"archive"})),
    (b"PK\x05\x06", frozenset({"archive"})),  # an empty archive
)
_RIFF = {b"WEBP": "image", b"WAVE": "audio", b"AVI ": "video"}
# ISO media (MP4, MOV, M4A) starts with a box whose type is at bytes 4-8.
_ISO_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip")


def media_families(head: bytes) -> frozenset[str]:
    """The families (image, video, audio, archive) these first bytes can belong to; empty when
    they match no known format."""
    for prefix, families in _PREFIXES:
        if head.startswith(prefix):
            return families
    if head[:4] == b"RIFF" and head[8:12] in _RIFF:
        return frozenset({_RIFF[head[8:12]]})
    if head[4:8] in _ISO_BOXES:
        return frozenset({"video", "audio"})
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return frozenset({"audio"})  # an MPEG audio frame (MP3 without a tag)
    return frozenset()


def media_problem(name: str, head: bytes, size: int) -> str | None:
    """Why a file called ``name`` of ``size`` bytes starting with ``head`` is no usable media
    file, or None when it is (or when its extension names no media family)."""
    if size == 0:
        return "is empty (0 bytes)"
    suffix = name.rpartition(".")[2].lower() if "." in name else ""
    family = _FAMILY_OF_SUFFIX.get(suffix)
    if family is None:
        return None
    found = media_families(head)
    if family in found:
        return None
    if not found:
        return f"is not {_article(family)} {family} by its content (no known {family} format)"
    held = " or ".join(sorted(found))
    return f"is named .{suffix} but holds {held}, not {_article(family)} {family}"


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"
