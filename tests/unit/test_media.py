"""The local media check: a file must be non-empty and of the family its extension names."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from runninghub._media import media_families, media_problem


def _image(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (10, 200, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF"])
def test_every_image_format_pillow_writes_is_an_image(fmt: str) -> None:
    data = _image(fmt)
    assert "image" in media_families(data[:32])
    assert media_problem(f"photo.{fmt.lower()}", data[:32], len(data)) is None


@pytest.mark.parametrize(
    ("name", "head", "problem"),
    [
        ("a.png", b"", "is empty (0 bytes)"),
        ("a.png", b"hello, world\n", "is not an image by its content"),
        ("a.mp4", bytes(range(32)), "is not a video by its content"),
        ("a.wav", b"\x89PNG\r\n\x1a\n" + bytes(24), "is named .wav but holds image, not an audio"),
        ("a.zip", b"GIF89a" + bytes(26), "is named .zip but holds image, not an archive"),
    ],
)
def test_empty_or_mislabelled_files_are_named_with_the_reason(
    name: str, head: bytes, problem: str
) -> None:
    found = media_problem(name, head, len(head))
    assert found is not None and found.startswith(problem)


@pytest.mark.parametrize(
    ("name", "head"),
    [
        ("clip.mp4", b"\x00\x00\x00\x18ftypmp42" + bytes(20)),
        ("clip.mov", b"\x00\x00\x00\x14ftypqt  " + bytes(20)),
        ("clip.webm", b"\x1a\x45\xdf\xa3" + bytes(28)),
        ("clip.avi", b"RIFF\x00\x00\x00\x00AVI LIST" + bytes(16)),
        ("song.wav", b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(16)),
        ("song.mp3", b"ID3\x04\x00" + bytes(27)),
        ("song.mp3", b"\xff\xfb\x90\x64" + bytes(28)),
        ("song.flac", b"fLaC" + bytes(28)),
        ("song.ogg", b"OggS" + bytes(28)),
        ("song.m4a", b"\x00\x00\x00\x20ftypM4A " + bytes(20)),
        ("pack.zip", b"PK\x03\x04" + bytes(28)),
        ("notes.txt", b"any text at all"),  # not a media extension: not judged here
    ],
)
def test_real_media_passes(name: str, head: bytes) -> None:
    assert media_problem(name, head, 1000) is None
