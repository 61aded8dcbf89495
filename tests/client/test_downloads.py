"""Saving outputs: real files from the emulator, and refusals of hostile server answers.

The emulator always answers honestly, so the hostile answers (path-like node ids and types,
foreign hosts, redirects, endless bodies) come from the scripted local server of
``tests/reliability/hostile_server.py`` (more hostile cases are in that directory).
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runninghub import OutputError, TaskStatus
from runninghub.emulator import EmulatorServer
from tests.reliability.hostile_server import HostileServer, Reply, task_reply

from .conftest import INVERT_WORKFLOW

CAPTION_WORKFLOW = "1900000000000000301"  # LoadImage -> describe -> SaveText


def written(directory: Path) -> list[str]:
    """Every file in ``directory`` (hidden partial files included); [] if it does not exist."""
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def fetch(url: str) -> bytes:
    with httpx.Client(trust_env=False) as http:
        return http.get(url).content


def test_download_saves_checksummed_files_with_safe_names(client: Any, tmp_path: Path) -> None:
    task = client.run(INVERT_WORKFLOW)
    out = tmp_path / "out"
    (saved,) = client.download(task, out)
    assert saved.path == out / f"{task.task_id}-109-1.png"
    body = fetch(task.outputs[0].url)
    assert saved.path.read_bytes() == body
    assert saved.sha256 == hashlib.sha256(body).hexdigest()
    assert (saved.size, saved.node_id, saved.type, saved.url) == (
        len(body),
        "109",
        "png",
        task.outputs[0].url,
    )
    assert [p.name for p in out.iterdir()] == [saved.path.name]  # no temporary file left


def test_existing_files_are_kept_unless_overwrite(client: Any, tmp_path: Path) -> None:
    task = client.run(INVERT_WORKFLOW)
    (first,) = client.download(task, tmp_path / "out")
    first.path.write_bytes(b"edited by the user")
    (second,) = client.download(task, tmp_path / "out")
    assert second.path.name == f"{task.task_id}-109-1-1.png"
    assert first.path.read_bytes() == b"edited by the user"
    (third,) = client.download(task, tmp_path / "out", overwrite=True)
    assert third.path == first.path
    assert third.path.read_bytes() == second.path.read_bytes()


def test_a_part_file_found_on_disk_is_never_trusted(client: Any, tmp_path: Path) -> None:
    task = client.run(INVERT_WORKFLOW)
    body = fetch(task.outputs[0].url)
    out = tmp_path / "out"
    out.mkdir()
    name = f"{task.task_id}-109-1.png"
    # Not written by this download: its bytes are not the file's first bytes, so not kept.
    (out / f".{name}.part").write_bytes(b"\0" * 100)
    (saved,) = client.download(task, out)
    assert saved.path.read_bytes() == body
    assert saved.size == len(body)


def test_a_planted_part_link_never_writes_through_to_its_target(
    client: Any, tmp_path: Path
) -> None:
    task = client.run(INVERT_WORKFLOW)
    out, victim = tmp_path / "out", tmp_path / "victim.txt"
    out.mkdir()
    victim.write_bytes(b"precious")
    (out / f".{task.task_id}-109-1.png.part").symlink_to(victim)
    (saved,) = client.download(task, out)
    assert victim.read_bytes() == b"precious"
    assert not saved.path.is_symlink()
    assert saved.path.read_bytes() == fetch(task.outputs[0].url)
    assert written(out) == [saved.path.name]


def test_text_outputs(client: Any, tmp_path: Path, sample_png: Path) -> None:
    task = client.run(CAPTION_WORKFLOW, {"1.image": sample_png})
    (output,) = task.outputs
    assert output.type == "txt"
    assert output.text is not None and output.text.startswith("Caption: ")
    (saved,) = client.download(task, tmp_path / "out")
    assert saved.path.suffix == ".txt"
    assert saved.path.read_text(encoding="utf-8") == output.text


def test_handle_download_needs_a_finished_task(
    make_client: Callable[..., Any], make_emulator: Callable[..., EmulatorServer], tmp_path: Path
) -> None:
    server = make_emulator(task_seconds=30)
    handle = make_client(server).submit(INVERT_WORKFLOW)
    with pytest.raises(OutputError, match="RUNNING"):
        handle.download(tmp_path)
    handle.cancel()


def test_downloading_the_same_outputs_twice_keeps_one_copy(client: Any, tmp_path: Path) -> None:
    task = client.run(INVERT_WORKFLOW)
    (first,) = client.download(task, tmp_path / "out")
    (again,) = client.download(task, tmp_path / "out")
    assert (first.reused, again.reused) == (False, True)
    assert again.path == first.path
    assert again.sha256 == first.sha256
    assert written(tmp_path / "out") == [first.path.name]


def test_overwrite_replaces_an_edited_file_that_other_tasks_leave_alone(
    client: Any, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    task = client.run(INVERT_WORKFLOW, out_dir=out)
    saved = out / f"{task.task_id}-109-1.png"
    body = saved.read_bytes()
    saved.write_bytes(b"edited")
    client.run(INVERT_WORKFLOW, out_dir=out)  # another task: its own name, nothing touched
    assert saved.read_bytes() == b"edited"
    (replaced,) = client.download(client.query(task.task_id), out, overwrite=True)
    assert (replaced.path, replaced.path.read_bytes()) == (saved, body)


def test_run_downloads_into_out_dir(client: Any, tmp_path: Path) -> None:
    task = client.run(INVERT_WORKFLOW, out_dir=tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b" / f"{task.task_id}-109-1.png").is_file()


# ------------------------------------------------------------------ hostile answers


@pytest.fixture
def hostile() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """The server's base URL, and the results list its query answers with (fill it in)."""
    results: list[dict[str, Any]] = []
    redirect = Reply(302, content_type=None, headers=(("Location", "https://evil.example.com/x"),))
    with HostileServer() as server:
        server.route("/openapi/v2/query", lambda: task_reply(results=results))
        server.route("/files/redirect", redirect)
        server.route("/files/endless", Reply(content_type=None, endless=True))
        server.default(Reply(body=b"picture bytes", content_type="image/png"))
        yield server.base_url, results


HOSTILE_NAMES = [
    {"nodeId": "../../../../tmp/evil", "outputType": "png"},
    {"nodeId": "/etc/passwd", "outputType": "png/../../../x"},
    {"nodeId": "9\u0000.png", "outputType": "sh\u0000"},
    {"nodeId": "..", "outputType": ".."},
    {"nodeId": "C:\\Windows\\System32", "outputType": "exe"},
    {"nodeId": "x" * 4000, "outputType": "y" * 4000},
]


def test_hostile_names_stay_inside_the_directory(
    make_client: Callable[..., Any], hostile: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    base, results = hostile
    results.extend(
        {**item, "url": f"{base}/files/{i}/../../x.png"} for i, item in enumerate(HOSTILE_NAMES)
    )
    client = make_client(base_url=base)
    task = client.query("7")
    assert task.status is TaskStatus.SUCCESS
    out = tmp_path / "out"
    saved = client.download(task, out)
    assert len(saved) == len(HOSTILE_NAMES)
    assert sorted(p.name for p in out.iterdir()) == sorted(f.path.name for f in saved)
    for item in saved:
        assert item.path.parent == out
        assert item.path.read_bytes() == b"picture bytes"
        assert ".." not in item.path.name and "\0" not in item.path.name
        assert len(item.path.name) < 120
    assert not (tmp_path / "tmp").exists()


@pytest.mark.parametrize(
    "url",
    ["https://evil.example.com/x.png", "file:///etc/passwd", "http://127.0.0.2:1/x.png"],
)
def test_outputs_on_foreign_hosts_are_refused(
    make_client: Callable[..., Any],
    hostile: tuple[str, list[dict[str, Any]]],
    tmp_path: Path,
    url: str,
) -> None:
    base, results = hostile
    results.extend(
        [{"url": f"{base}/files/ok", "outputType": "png"}, {"url": url, "outputType": "png"}]
    )
    client = make_client(base_url=base)
    with pytest.raises(OutputError, match="refusing"):
        client.download(client.query("7"), tmp_path / "out")
    assert not (tmp_path / "out").exists()  # checked before anything was written


def test_redirects_are_not_followed(
    make_client: Callable[..., Any], hostile: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    base, results = hostile
    results.append({"url": f"{base}/files/redirect", "outputType": "png"})
    client = make_client(base_url=base)
    with pytest.raises(OutputError, match="HTTP 302"):
        client.download(client.query("7"), tmp_path / "out")
    assert written(tmp_path / "out") == []


def test_oversized_bodies_are_refused(
    make_client: Callable[..., Any], hostile: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    base, results = hostile
    results.append({"url": f"{base}/files/endless", "outputType": "mp4"})
    client = make_client(base_url=base)
    with pytest.raises(OutputError, match="larger"):
        client.download(client.query("7"), tmp_path / "out", max_bytes=1_000_000)
    assert written(tmp_path / "out") == []


def test_a_dropped_download_resumes_only_the_bytes_it_wrote(
    make_client: Callable[..., Any], tmp_path: Path
) -> None:
    body = bytes(range(256)) * 64
    replies = iter(
        [
            Reply(body=body[:1000], content_type=None, length=len(body)),  # cut short
            Reply(
                206,
                body=body[1000:],
                content_type=None,
                headers=(("Content-Range", f"bytes 1000-{len(body) - 1}/{len(body)}"),),
            ),
        ]
    )
    with HostileServer() as server:
        server.route(
            "/openapi/v2/query",
            task_reply(results=[{"url": f"{server.base_url}/f", "outputType": "png"}]),
        )
        server.route("/f", lambda: next(replies))
        client = make_client(base_url=server.base_url)
        (saved,) = client.download(client.query("7"), tmp_path / "out")
    assert saved.path.read_bytes() == body
    ranges = [
        h.get("range")
        for r, h in zip(server.requests, server.request_headers, strict=True)
        if r == "GET /f"
    ]
    assert ranges == [None, "bytes=1000-"]


def test_downloads_ask_for_no_encoding_and_cap_the_decoded_size(
    make_client: Callable[..., Any], tmp_path: Path
) -> None:
    bomb = gzip.compress(b"\0" * 5_000_000)  # ~5 KB on the wire, 5 MB decoded
    with HostileServer() as server:
        url = f"{server.base_url}/bomb"
        server.route("/openapi/v2/query", task_reply(results=[{"url": url, "outputType": "png"}]))
        server.route(
            "/bomb", Reply(body=bomb, content_type=None, headers=(("Content-Encoding", "gzip"),))
        )
        client = make_client(base_url=server.base_url)
        with pytest.raises(OutputError, match="larger"):
            client.download(client.query("7"), tmp_path / "out", max_bytes=1_000_000)
    gets = [
        h for r, h in zip(server.requests, server.request_headers, strict=True) if r == "GET /bomb"
    ]
    assert gets and all(h.get("accept-encoding") == "identity" for h in gets)
    assert written(tmp_path / "out") == []
