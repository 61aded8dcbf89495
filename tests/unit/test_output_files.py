"""Safe names, trusted hosts, atomic and resumable writes, upload sources (files only)."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runninghub import InvalidRequestError, Output, OutputError, Task, TaskStatus
from runninghub._outputs import (
    PartialDownload,
    check_output_url,
    output_file_names,
    plan_downloads,
    save_text,
)
from runninghub._uploads import UPLOAD_LIMIT, open_upload

BASE = "http://127.0.0.1:8765"


def out(
    url: str | None, node: str | None = "9", kind: str | None = "png", text: str | None = None
) -> Output:
    return Output(url=url, type=kind, node_id=node, text=text)


def test_names_come_from_task_node_and_position() -> None:
    names = output_file_names(
        "1910246754753896450",
        [
            out("u1"),
            out("u2"),
            out("u3", node="10", kind="mp4"),
            out(None, node="12", kind=None, text="hi"),
        ],
    )
    assert names == [
        "1910246754753896450-9-1.png",
        "1910246754753896450-9-2.png",
        "1910246754753896450-10-1.mp4",
        "1910246754753896450-12-1.txt",
    ]


@pytest.mark.parametrize(
    ("node", "kind", "url"),
    [
        ("../../etc", "png", "https://h/x.png"),
        ("/abs/path", "png/../../x", "https://h/x.png"),
        ("a\0b", "p\0ng", "https://h/..%2F..%2Fevil.sh"),
        ("x" * 5000, "." * 20, "https://h/" + "y" * 5000),
        ("..", "..", "https://h/../../.."),
        ("C:\\Windows", "exe ", "https://h/a.tar.gz"),
        (None, None, "https://h/noext"),
    ],
)
def test_hostile_server_values_never_become_paths(
    node: str | None, kind: str | None, url: str
) -> None:
    (name,) = output_file_names("../task", [out(url, node=node, kind=kind)])
    assert "/" not in name and "\\" not in name and "\0" not in name
    assert ".." not in name
    assert not name.startswith(".")
    assert len(name) <= 120
    assert Path(name).name == name


@given(st.text(), st.text(), st.text())
def test_any_server_values_give_a_plain_name(task_id: str, node: str, kind: str) -> None:
    (name,) = output_file_names(task_id, [out("https://h/f", node=node, kind=kind)])
    stem, _, ext = name.rpartition(".")
    assert stem and ext.isalnum() and ext.isascii()
    assert all(c.isascii() and (c.isalnum() or c in "-_") for c in stem)


@pytest.mark.parametrize(
    "url",
    [
        f"{BASE}/outputs/1/a.png",
        "https://rh-images.xiaoyaoyou.com/f/output/ComfyUI_00033.png",
        "https://rh-images-1252422369.cos.ap-beijing.myqcloud.com/a.png",
        "https://rh-images-switch-1252422369.cos.ap-guangzhou.myqcloud.com/input/openapi/x.png",
        "https://www.runninghub.ai/x.png",
        "https://cdn.runninghub.cn/x.png",
    ],
)
def test_trusted_output_hosts(url: str) -> None:
    assert check_output_url(url, BASE) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9999/outputs/1/a.png",  # another port
        "https://127.0.0.1:8765/outputs/1/a.png",  # another scheme
        "https://evil.example.com/a.png",
        "https://runninghub.cn.evil.com/a.png",
        "https://evil-bucket.cos.ap-beijing.myqcloud.com/a.png",
        "file:///etc/passwd",
        "ftp://rh-images.xiaoyaoyou.com/a.png",
        "/relative/a.png",
    ],
)
def test_untrusted_output_hosts_are_refused(url: str) -> None:
    with pytest.raises(OutputError, match="refusing"):
        check_output_url(url, BASE)


def test_a_caller_can_allow_a_host() -> None:
    url = "https://files.example.com/a.png"
    assert check_output_url(url, BASE, ["FILES.example.com"]) == url


def test_plan_checks_every_url_before_anything_is_written() -> None:
    task = Task("1", TaskStatus.SUCCESS, (out(f"{BASE}/a.png"), out("https://evil.example/b.png")))
    with pytest.raises(OutputError):
        plan_downloads(task, BASE)
    empty = Task("1", TaskStatus.SUCCESS, (out(None, text=None),))
    assert plan_downloads(empty, BASE) == []


def test_atomic_write_with_checksum(tmp_path: Path) -> None:
    partial = PartialDownload(tmp_path, "a.png")
    assert partial.begin(200, {"content-length": "6"})
    partial.write(b"abc")
    assert not (tmp_path / "a.png").exists()  # never visible half-written
    partial.write(b"def")
    placed = partial.commit(overwrite=False)
    path, size, digest = placed.path, placed.size, placed.sha256
    assert path == tmp_path / "a.png"
    assert (path.read_bytes(), size, digest) == (
        b"abcdef",
        6,
        hashlib.sha256(b"abcdef").hexdigest(),
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


def test_existing_files_get_a_numeric_suffix_unless_overwrite(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"old")
    first = save_text(tmp_path, "a.png", "new1", overwrite=False).path
    second = save_text(tmp_path, "a.png", "new2", overwrite=False).path
    assert (first.name, second.name) == ("a-1.png", "a-2.png")
    assert (tmp_path / "a.png").read_bytes() == b"old"
    replaced = save_text(tmp_path, "a.png", "new3", overwrite=True).path
    assert replaced == tmp_path / "a.png"
    assert replaced.read_text() == "new3"


def test_the_same_bytes_already_saved_are_reused_not_copied(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"old")
    (tmp_path / "a-1.png").write_bytes(b"ne1")  # same size as the new file, other bytes
    (tmp_path / "a-2.png").write_bytes(b"new")
    placed = save_text(tmp_path, "a.png", "new", overwrite=False)
    assert (placed.path.name, placed.reused) == ("a-2.png", True)
    assert placed.sha256 == hashlib.sha256(b"new").hexdigest()
    again = save_text(tmp_path, "a.png", "new", overwrite=False)
    assert again.path == placed.path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-1.png", "a-2.png", "a.png"]
    fresh = save_text(tmp_path, "a.png", "newer", overwrite=False)
    assert (fresh.path.name, fresh.reused) == ("a-3.png", False)


def test_resume_with_a_matching_range(tmp_path: Path) -> None:
    again = PartialDownload(tmp_path, "v.mp4")
    again.begin(200, {})
    again.write(b"0123")
    again.pause()  # the connection broke: the same download resumes what it wrote
    assert again.request_headers() == {"Accept-Encoding": "identity", "Range": "bytes=4-"}
    assert again.begin(206, {"content-range": "bytes 4-9/10"})
    again.write(b"456789")
    placed = again.commit(overwrite=False)
    path, size, digest = placed.path, placed.size, placed.sha256
    assert path.read_bytes() == b"0123456789"
    assert (size, digest) == (10, hashlib.sha256(b"0123456789").hexdigest())


def test_server_ignoring_the_range_restarts_the_file(tmp_path: Path) -> None:
    first = PartialDownload(tmp_path, "v.mp4")
    first.begin(200, {})
    first.write(b"stale")
    first.pause()
    again = PartialDownload(tmp_path, "v.mp4")
    assert again.begin(200, {})
    again.write(b"fresh!")
    placed = again.commit(overwrite=False)
    assert (placed.path.read_bytes(), placed.size) == (b"fresh!", 6)


def test_range_not_satisfiable_drops_the_part(tmp_path: Path) -> None:
    again = PartialDownload(tmp_path, "v.mp4")
    again.begin(200, {})
    again.write(b"too long")
    again.pause()
    assert again.begin(416, {}) is False
    assert again.request_headers() == {"Accept-Encoding": "identity"}
    assert not again.part.exists()


@pytest.mark.parametrize("status", [403, 404, 500])
def test_error_status_is_an_output_error(status: int, tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=f"HTTP {status}"):
        PartialDownload(tmp_path, "a.png").begin(status, {})


def test_size_cap_from_header_and_from_the_body(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="larger"):
        PartialDownload(tmp_path, "a.png", max_bytes=10).begin(200, {"content-length": "11"})
    partial = PartialDownload(tmp_path, "b.png", max_bytes=10)
    partial.begin(200, {})  # no length announced
    partial.write(b"x" * 10)
    with pytest.raises(OutputError, match="larger"):
        partial.write(b"y")
    assert list(tmp_path.iterdir()) == []  # the part file is gone


@pytest.mark.parametrize("name", ["../a.png", ".hidden", "a/b.png", "a\0.png"])
def test_partial_refuses_unsafe_names(name: str, tmp_path: Path) -> None:
    with pytest.raises(OutputError):
        PartialDownload(tmp_path, name)


# ------------------------------------------------------------------ upload sources

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16


def test_upload_from_a_path_is_streamed_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "cat.PNG"
    path.write_bytes(PNG)
    body, close = open_upload(path)
    assert (body.file_name, body.content_type, body.start) == ("cat.PNG", "image/png", 0)
    assert body.stream.read(4) == PNG[:4]
    assert body.rewind() and body.stream.read() == PNG
    close()
    assert body.stream.closed


def test_upload_from_bytes_sniffs_the_type() -> None:
    body, _ = open_upload(PNG)
    assert body.file_name == "upload.png"
    jpeg, _ = open_upload(b"\xff\xd8\xff\xe0rest")
    assert jpeg.file_name == "upload.jpg"
    mp4, _ = open_upload(b"\0\0\0\x18ftypmp42")
    assert mp4.file_name == "upload.mp4"
    with pytest.raises(InvalidRequestError, match="cannot tell"):
        open_upload(b"plain text")
    named, _ = open_upload(b"\0\0\0\x14ftypqt  ", file_name="clip.mov")
    assert named.file_name == "clip.mov"
    with pytest.raises(InvalidRequestError, match=r"clip\.mov is not a video by its content"):
        open_upload(b"whatever", file_name="clip.mov")  # a name does not make it a video


def test_upload_from_a_file_object_keeps_its_position() -> None:
    stream = io.BytesIO(b"junk" + PNG)
    stream.seek(4)
    body, close = open_upload(stream, file_name="x.png")
    assert body.start == 4
    close()
    assert not stream.closed  # the caller's stream is the caller's to close


@pytest.mark.parametrize("name", ["x.exe", "noext", "x.png.sh", ""])
def test_upload_type_is_checked_locally(name: str) -> None:
    with pytest.raises(InvalidRequestError, match="not accepted"):
        open_upload(io.BytesIO(PNG), file_name=name)


def test_upload_size_is_checked_locally(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    with path.open("wb") as handle:
        handle.truncate(UPLOAD_LIMIT + 1)  # sparse: no real 30 MB written
    with pytest.raises(InvalidRequestError, match="30 MB"):
        open_upload(path)
    with path.open("r+b") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n")  # a PNG by its first bytes, exactly at the limit
        handle.truncate(UPLOAD_LIMIT)
    body, close = open_upload(os.fspath(path))
    close()
    assert body.file_name == "big.png"


def test_missing_upload_file() -> None:
    with pytest.raises(InvalidRequestError, match="no such file"):
        open_upload("/nonexistent/cat.png")
