"""Media URLs as loader inputs: own URLs by path and signature, outside hosts only when
allowed; the public base of every URL; ComfyUI-style failure tracebacks."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from PIL import Image, ImageChops, ImageOps

from runninghub.emulator import serve_in_thread
from runninghub.emulator.catalog import SAMPLE_IMAGE

INVERT = "1987728214757978114"
TEXT_TO_IMAGE = "1904136902449209346"


def with_host(url: str, netloc: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=netloc, scheme="https"))


def run_on(raw_api: Any, image: str) -> Any:
    item = {"nodeId": "107", "fieldName": "image", "fieldValue": image}
    task_id = raw_api.run_workflow(INVERT, [item])["taskId"]
    return raw_api.wait(task_id)


def inverted_sample(raw_api: Any, task: Any) -> bool:
    produced = raw_api.http.get(task["results"][0]["url"]).content
    expected = ImageOps.invert(Image.open(SAMPLE_IMAGE).convert("RGB"))
    return ImageChops.difference(Image.open(io.BytesIO(produced)), expected).getbbox() is None


class PictureServer:
    """A user's own test server on 127.0.0.1 serving the sample picture at /cat.png."""

    def __init__(self) -> None:
        picture = SAMPLE_IMAGE.read_bytes()
        served = self.served = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                served.append(self.path)
                found = self.path == "/cat.png"
                self.send_response(200 if found else 404)
                self.send_header("Content-Length", str(len(picture) if found else 0))
                self.end_headers()
                self.wfile.write(picture if found else b"")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()


@pytest.fixture
def picture_server() -> Iterator[PictureServer]:
    server = PictureServer()
    yield server
    server.server.shutdown()
    server.server.server_close()


def test_an_upload_url_issued_under_another_host_and_port_is_still_ours(raw_api: Any) -> None:
    download_url = raw_api.upload_v2(SAMPLE_IMAGE.read_bytes())["data"]["download_url"]

    task = run_on(raw_api, with_host(download_url, "rh-images.example.com:8443"))

    assert task["status"] == "SUCCESS", task["failedReason"]
    assert inverted_sample(raw_api, task)


def test_an_upload_url_with_a_forged_signature_fails_the_task(raw_api: Any) -> None:
    download_url = raw_api.upload_v2(SAMPLE_IMAGE.read_bytes())["data"]["download_url"]
    forged = download_url.replace("q-signature=", "q-signature=0")

    task = run_on(raw_api, forged)

    assert task["status"] == "FAILED"
    assert task["failedReason"]["node_id"] == "107"
    assert "SignatureDoesNotMatch" in task["failedReason"]["exception_message"]


def test_an_output_url_feeds_the_next_task(raw_api: Any) -> None:
    first = run_on(raw_api, raw_api.upload_v2(SAMPLE_IMAGE.read_bytes())["data"]["fileName"])

    again = run_on(raw_api, with_host(first["results"][0]["url"], "cdn.example.com"))

    assert again["status"] == "SUCCESS", again["failedReason"]
    back = raw_api.http.get(again["results"][0]["url"]).content
    assert Image.open(io.BytesIO(back)).convert("RGB").tobytes() == (
        Image.open(SAMPLE_IMAGE).convert("RGB").tobytes()
    )


def test_an_outside_url_is_not_fetched_by_default(
    raw_api: Any, picture_server: PictureServer
) -> None:
    task = run_on(raw_api, f"http://{picture_server.host}/cat.png")

    assert task["status"] == "FAILED"
    assert "the emulator is offline" in task["failedReason"]["exception_message"]
    assert picture_server.served == []


def test_an_allowed_host_is_fetched(
    make_emulator: Any, make_raw_api: Any, picture_server: PictureServer
) -> None:
    server = make_emulator(task_seconds=0.1, fetch_hosts=[picture_server.host])
    raw_api = make_raw_api(server)

    task = run_on(raw_api, f"http://{picture_server.host}/cat.png")
    missing = run_on(raw_api, f"http://{picture_server.host}/dog.png")

    assert task["status"] == "SUCCESS", task["failedReason"]
    assert inverted_sample(raw_api, task)
    assert missing["status"] == "FAILED"
    assert "HTTP 404" in missing["failedReason"]["exception_message"]
    assert picture_server.served == ["/cat.png", "/dog.png"]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("public_url", "ftp://example.com", "is not an http:// or https:// URL"),
        ("public_url", "http://example.com/?a=1", "must not carry credentials, a query"),
        ("public_url", "http://example.com:99999", "malformed port"),
        ("fetch_hosts", ["exa mple.com"], "not a host or host:port: exa mple.com"),
    ],
)
def test_bad_url_options_are_refused_with_their_name(option: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=f"{option}: .*{message}"):
        serve_in_thread(**{option: value})


def test_a_public_url_with_a_path_prefix_leads_every_url(make_emulator: Any, make_raw_api: Any):
    server = make_emulator(task_seconds=0.1, public_url="https://rh.example.com/emulator/")
    raw_api = make_raw_api(server)

    upload = raw_api.upload_v2(SAMPLE_IMAGE.read_bytes())["data"]
    task = run_on(raw_api, upload["download_url"])

    assert task["status"] == "SUCCESS", task["failedReason"]
    assert upload["download_url"].startswith("https://rh.example.com/emulator/files/openapi/")
    assert task["results"][0]["url"].startswith("https://rh.example.com/emulator/outputs/")
    assert server.public_url == "https://rh.example.com/emulator"


def test_a_failure_inside_a_node_reports_comfyui_frames(raw_api: Any) -> None:
    task = run_on(raw_api, "openapi/" + "0" * 64 + ".png")  # an upload that never happened

    assert task["status"] == "FAILED"
    frames = json.loads(task["failedReason"]["traceback"])
    assert frames[0].startswith('  File "/app/ComfyUI/execution.py", line ')
    assert frames[-1].startswith('  File "/app/ComfyUI/nodes.py", line ')
    assert ", in load_image\n" in frames[-1]
    assert not any("runninghub" in frame or "site-packages" in frame for frame in frames)
