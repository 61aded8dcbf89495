"""Uploads: names, the size limit, signed download URLs, and what a loader node accepts."""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Iterator

import pytest
from PIL import Image, ImageChops

from runninghub.emulator.catalog import SAMPLE_IMAGE

INVERT = "1987728214757978114"
LIMIT = 30 * 1024 * 1024


def _picture(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), color).save(buffer, format="PNG")
    return buffer.getvalue()


def _inverted_pixels_of(raw_api, loader_value: str) -> tuple[int, int, int]:
    node = [{"nodeId": "107", "fieldName": "image", "fieldValue": loader_value}]
    done = raw_api.wait(raw_api.run_workflow(INVERT, node)["taskId"])
    assert done["status"] == "SUCCESS", done["failedReason"]
    image = Image.open(io.BytesIO(raw_api.http.get(done["results"][0]["url"]).content))
    return image.convert("RGB").getpixel((0, 0))


def test_v2_upload_names_the_file_by_its_hash(raw_api) -> None:
    data = _picture((10, 20, 30))
    answer = raw_api.upload_v2(data, "photo.PNG")
    assert answer["code"] == 0 and answer["msg"] == "success" and answer["message"] == "success"
    upload = answer["data"]
    digest = hashlib.sha256(data).hexdigest()
    assert upload["fileName"] == f"openapi/{digest}.png"
    assert upload["type"] == "image" and upload["size"] == str(len(data))
    assert "q-sign-time=" in upload["download_url"]
    assert raw_api.server.stats()["uploads"] == 1


def test_v1_upload_reads_the_key_from_the_form(raw_api, api_key) -> None:
    data = _picture((1, 2, 3))
    form = {"apiKey": api_key, "fileType": "input"}
    answer = raw_api.http.post(
        "/task/openapi/upload", data=form, files={"file": ("a.png", data)}
    ).json()
    assert answer["code"] == 0 and answer["msg"] == "success"
    assert answer["data"] == {
        "fileName": f"api/{hashlib.sha256(data).hexdigest()}.png",
        "fileType": "input",
    }


def test_a_zip_upload_is_named_by_the_bare_hash(raw_api, api_key) -> None:
    data = b"PK\x03\x04" + b"\0" * 100
    answer = raw_api.http.post(
        "/task/openapi/upload", data={"apiKey": api_key}, files={"file": ("pack.zip", data)}
    ).json()
    assert answer["data"]["fileName"] == hashlib.sha256(data).hexdigest()


def test_bad_keys_on_upload(raw_api) -> None:
    legacy = raw_api.http.post(
        "/task/openapi/upload", data={"apiKey": "nope"}, files={"file": ("a.png", b"x")}
    ).json()
    assert legacy["code"] == 802
    v2 = raw_api.http.post(
        "/openapi/v2/media/upload/binary",
        files={"file": ("a.png", b"x")},
        headers={"Authorization": "Bearer nope"},
    )
    assert v2.status_code == 200
    body = v2.json()
    assert body["code"] == 401 and body["data"] is None
    assert body["message"].startswith("ApiKey verification failed")
    assert raw_api.server.stats()["uploads"] == 0


def _streamed_form(size: int, boundary: str = "emulatorboundary") -> Iterator[bytes]:
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    chunk = b"\0" * (1024 * 1024)
    for _ in range(size // len(chunk)):
        yield chunk
    yield b"\0" * (size % len(chunk))
    yield f"\r\n--{boundary}--\r\n".encode()


def test_files_over_30_mb_are_refused_without_being_kept(raw_api, api_key) -> None:
    headers = {
        "Authorization": f"Bearer {api_key}",
        "Content-Type": "multipart/form-data; boundary=emulatorboundary",
    }
    answer = raw_api.http.post(
        "/openapi/v2/media/upload/binary", content=_streamed_form(LIMIT + 1), headers=headers
    ).json()
    assert answer["code"] == 1008 and answer["data"] is None
    legacy = raw_api.http.post(  # the legacy route also takes the key as Bearer
        "/task/openapi/upload", content=_streamed_form(LIMIT + 1), headers=headers
    ).json()
    assert (legacy["code"], legacy["msg"]) == (809, "APIKEY_FILE_SIZE_EXCEEDED")
    assert raw_api.server.stats()["uploads"] == 0


def test_the_limit_is_inclusive(raw_api, api_key) -> None:
    raw_api.server.configure(upload_limit=1000)
    headers = {
        "Authorization": f"Bearer {api_key}",
        "Content-Type": "multipart/form-data; boundary=emulatorboundary",
    }
    path = "/openapi/v2/media/upload/binary"
    at_limit = raw_api.http.post(path, content=_streamed_form(1000), headers=headers).json()
    over = raw_api.http.post(path, content=_streamed_form(1001), headers=headers).json()
    assert at_limit["code"] == 0 and at_limit["data"]["size"] == "1000"
    assert over["code"] == 1008


def test_the_download_url_serves_the_bytes_then_expires(raw_api) -> None:
    data = _picture((200, 100, 50))
    url = raw_api.upload_v2(data)["data"]["download_url"]
    assert raw_api.http.get(url).content == data
    tampered = raw_api.http.get(url.replace("q-signature=", "q-signature=0"))
    assert tampered.status_code == 403
    raw_api.server.configure(advance_clock=86400 + 1)
    expired = raw_api.http.get(url)
    assert expired.status_code == 403 and b"expired" in expired.content


def test_expiry_follows_the_time_scale(make_emulator, make_raw_api) -> None:
    api = make_raw_api(make_emulator(time_scale=1_000_000.0))
    url = api.upload_v2(_picture((1, 1, 1)))["data"]["download_url"]
    deadline = time.monotonic() + 5
    while api.http.get(url).status_code != 403:  # 24 emulated hours take 86 ms here
        assert time.monotonic() < deadline
        time.sleep(0.01)


@pytest.mark.parametrize("form", ["fileName", "bare", "hash_only_v1", "download_url"])
def test_the_loader_accepts_each_upload_reference(raw_api, api_key, form) -> None:
    data = _picture((10, 20, 30))
    if form == "hash_only_v1":
        answer = raw_api.http.post(
            "/task/openapi/upload", data={"apiKey": api_key}, files={"file": ("a.png", data)}
        ).json()
        value = answer["data"]["fileName"]
    else:
        upload = raw_api.upload_v2(data)["data"]
        value = {
            "fileName": upload["fileName"],
            "bare": upload["fileName"].split("/", 1)[1],
            "download_url": upload["download_url"],
        }[form]
    assert _inverted_pixels_of(raw_api, value) == (245, 235, 225)


def test_the_loader_accepts_an_output_url_of_this_emulator(raw_api) -> None:
    first = raw_api.wait(raw_api.run_workflow(INVERT)["taskId"])
    url = first["results"][0]["url"]
    node = [{"nodeId": "107", "fieldName": "image", "fieldValue": url}]
    twice = raw_api.wait(raw_api.run_workflow(INVERT, node)["taskId"])
    image = Image.open(io.BytesIO(raw_api.http.get(twice["results"][0]["url"]).content))
    original = Image.open(SAMPLE_IMAGE).convert("RGB")
    assert ImageChops.difference(image.convert("RGB"), original).getbbox() is None


@pytest.mark.parametrize(
    "value",
    ["openapi/" + "0" * 64 + ".png", "http://example.com/a.png", "nothing-here.png"],
)
def test_unknown_media_fails_the_task_at_the_loader(raw_api, value) -> None:
    node = [{"nodeId": "107", "fieldName": "image", "fieldValue": value}]
    done = raw_api.wait(raw_api.run_workflow(INVERT, node)["taskId"])
    assert done["status"] == "FAILED" and done["failedReason"]["node_id"] == "107"


def test_an_expired_download_url_fails_the_task(raw_api) -> None:
    url = raw_api.upload_v2(_picture((5, 5, 5)))["data"]["download_url"]
    raw_api.server.configure(advance_clock=2 * 86400)
    node = [{"nodeId": "107", "fieldName": "image", "fieldValue": url}]
    done = raw_api.wait(raw_api.run_workflow(INVERT, node)["taskId"])
    assert done["status"] == "FAILED" and "expired" in done["failedReason"]["exception_message"]


def test_a_missing_file_part_is_a_bad_request(raw_api, api_key) -> None:
    answer = raw_api.http.post(
        "/openapi/v2/media/upload/binary",
        files={"other": ("a.png", b"x")},
        headers={"Authorization": f"Bearer {api_key}"},
    ).json()
    assert answer["code"] == 1007
    not_multipart = raw_api.http.post("/task/openapi/upload", json={"apiKey": api_key}).json()
    assert not_multipart["code"] == 301


def test_outputs_support_range_requests(raw_api) -> None:
    done = raw_api.wait(raw_api.run_workflow(INVERT)["taskId"])
    url = done["results"][0]["url"]
    whole = raw_api.http.get(url).content
    part = raw_api.http.get(url, headers={"Range": "bytes=10-"})
    assert part.status_code == 206 and part.content == whole[10:]
