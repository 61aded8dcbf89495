"""One hostile client must not knock the emulator over: every limit answers with a
documented error (and creates nothing), never a 500, a traceback or unbounded memory."""

from __future__ import annotations

import io
import json
import socket
from typing import Any

import httpx
import pytest
from PIL import Image

INVERT = "1987728214757978114"
KEY = "0123456789abcdef0123456789abcdef"
OTHER_KEY = "fedcba9876543210fedcba9876543210"
BOUNDARY = "hostileboundary"


def _part(name: str, value: str) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
    ).encode()


def _file_head(filename: str = "a.png") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"'
        "\r\nContent-Type: image/png\r\n\r\n"
    ).encode()


def _form(*parts: bytes, file: bytes = b"\x89PNG") -> bytes:
    return b"".join(parts) + _file_head() + file + f"\r\n--{BOUNDARY}--\r\n".encode()


def _multipart(api, path: str, body: bytes, key: str | None = KEY) -> Any:
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    return api.http.post(path, content=body, headers=headers).json()


# ---- item 10: multipart text fields, and the key before the form ------------------------


def test_many_text_fields_are_refused_past_a_total_cap(raw_api) -> None:
    fields = [_part(f"f{index}", "x" * 60_000) for index in range(40)]  # 2.4 MB of text
    v2 = _multipart(raw_api, "/openapi/v2/media/upload/binary", _form(*fields))
    legacy = _multipart(raw_api, "/task/openapi/upload", _form(_part("apiKey", KEY), *fields))
    assert v2["code"] == 1007 and "form text" in v2["message"]
    assert legacy["code"] == 301 and "form text" in legacy["errorMessages"][0]
    assert raw_api.server.stats()["uploads"] == 0


def test_the_cap_on_form_text_is_a_setting(raw_api) -> None:
    raw_api.server.configure(max_form_text=4096)
    fields = [_part(f"f{index}", "x" * 1000) for index in range(5)]
    refused = _multipart(raw_api, "/openapi/v2/media/upload/binary", _form(*fields))
    accepted = _multipart(raw_api, "/openapi/v2/media/upload/binary", _form(*fields[:3]))
    assert refused["code"] == 1007 and accepted["code"] == 0


def _send_unfinished_upload(base_url: str, path: str, head: bytes, headers: str) -> bytes:
    """Send the start of a multipart upload (never its end) and read what comes back."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        request = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{headers}"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {len(head) + 20_000_000}\r\n\r\n"
        ).encode()
        connection.sendall(request + head)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = connection.recv(65536)  # a socket timeout here: the server kept reading
            if not chunk:
                break
            answer += chunk
    return answer


def test_a_bad_key_in_the_form_stops_the_upload_before_the_rest_is_read(make_emulator) -> None:
    server = make_emulator(keys=[KEY])
    head = _part("apiKey", OTHER_KEY) + _file_head() + b"\x89PNG" + b"\0" * 10_000
    answer = _send_unfinished_upload(server.base_url, "/task/openapi/upload", head, "")
    assert b"HTTP/1.1 200" in answer and b'"code":802' in answer
    assert server.stats()["uploads"] == 0


@pytest.mark.parametrize("path", ["/task/openapi/upload", "/openapi/v2/media/upload/binary"])
def test_a_bad_bearer_key_is_refused_before_the_form_is_read(make_emulator, path) -> None:
    server = make_emulator(keys=[KEY])
    head = _part("note", "x" * 1000) + _file_head() + b"\0" * 10_000
    bearer = f"Authorization: Bearer {OTHER_KEY}\r\n"
    answer = _send_unfinished_upload(server.base_url, path, head, bearer)
    assert b"HTTP/1.1 200" in answer and (b'"code":802' in answer or b'"code":401' in answer)
    assert server.stats()["uploads"] == 0


def test_a_legacy_upload_without_any_key_is_refused(make_emulator, make_raw_api) -> None:
    api = make_raw_api(make_emulator(keys=[KEY]))
    fields = [_part(f"f{index}", "x" * 60_000) for index in range(40)]
    answer = _multipart(api, "/task/openapi/upload", _form(*fields), key=None)
    assert answer["code"] in (301, 802)
    assert api.server.stats()["uploads"] == 0


# ---- item 11: big graphs and deep nesting ------------------------------------------------


def _chain(length: int, image: str = "example.png") -> dict[str, Any]:
    graph: dict[str, Any] = {"1": {"class_type": "LoadImage", "inputs": {"image": image}}}
    for index in range(2, length + 2):
        graph[str(index)] = {"class_type": "ImageInvert", "inputs": {"image": [str(index - 1), 0]}}
    last = str(length + 1)
    graph[str(length + 2)] = {"class_type": "SaveImage", "inputs": {"images": [last, 0]}}
    return graph


def test_a_graph_over_the_node_limit_is_refused_and_creates_nothing(raw_api) -> None:
    raw_api.server.configure(max_graph_nodes=100)
    big = raw_api.run_workflow(INVERT, workflow=json.dumps(_chain(120)))
    legacy = raw_api.v1(
        "/task/openapi/create", {"workflowId": INVERT, "workflow": json.dumps(_chain(120))}
    )
    fits = raw_api.run_workflow(INVERT, workflow=json.dumps(_chain(90)))
    assert big["errorCode"] == "1101" and "100 nodes" in big["errorMessage"]
    assert legacy["code"] == 301
    assert raw_api.wait(fits["taskId"])["status"] == "SUCCESS"
    assert raw_api.server.stats()["tasks_created"] == 1


def test_the_default_node_limit_refuses_a_twelve_thousand_node_graph(raw_api) -> None:
    answer = raw_api.run_workflow(INVERT, workflow=json.dumps(_chain(12_000)))
    assert answer["errorCode"] == "1101"
    assert raw_api.server.stats()["tasks_created"] == 0


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [100, 100_000])
def test_deeply_nested_bodies_get_a_json_error(raw_api, depth) -> None:
    item = f'{{"nodeId": "107", "fieldName": "x", "fieldValue": {_nested(depth)}}}'
    body = f'{{"nodeInfoList": [{item}]}}'
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    v2 = raw_api.http.post(f"/openapi/v2/run/workflow/{INVERT}", content=body, headers=headers)
    legacy_body = body.replace("{", f'{{"apiKey": "{KEY}", "workflowId": "{INVERT}", ', 1)
    v1 = raw_api.http.post("/task/openapi/create", content=legacy_body, headers=headers)
    config = raw_api.http.post(
        "/__emulator__/config", content=f'{{"x": {_nested(depth)}}}', headers=headers
    )
    assert v2.status_code == 200 and v2.json()["errorCode"] == "1007"
    assert "nested" in v2.json()["errorMessage"]
    assert v1.status_code == 200 and v1.json()["code"] == 301
    assert config.status_code == 400 and "nested" in config.json()["error"]
    assert raw_api.server.stats()["tasks_created"] == 0


def test_a_deeply_nested_workflow_field_gets_a_json_error(raw_api) -> None:
    graph = f'{{"1": {{"class_type": "SaveImage", "inputs": {{"x": {_nested(50_000)}}}}}}}'
    answer = raw_api.run_workflow(INVERT, workflow=graph)
    assert answer["errorCode"] == "1101" and "nested" in answer["errorMessage"]
    assert raw_api.server.stats()["tasks_created"] == 0


# ---- item 12: frames, outputs and pixels of one task ---------------------------------------


def _gif(frames: int) -> bytes:
    images = [Image.new("L", (1, 1), (index * 37) % 256) for index in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=10)
    return buffer.getvalue()


def test_a_gif_with_too_many_frames_named_png_fails_the_task(raw_api) -> None:
    raw_api.server.configure(max_frames=50)
    name = raw_api.upload_v2(_gif(60), filename="innocent.png")["data"]["fileName"]
    task_id = raw_api.run_workflow(
        INVERT, [{"nodeId": "107", "fieldName": "image", "fieldValue": name}]
    )["taskId"]
    task = raw_api.wait(task_id)
    assert task["status"] == "FAILED" and "50 frames" in task["errorMessage"]
    assert raw_api.query(task_id)["results"] is None


def test_a_task_may_write_only_so_many_outputs(raw_api) -> None:
    raw_api.server.configure(max_outputs=10)
    graph = {
        "1": {"class_type": "EmptyImage", "inputs": {"width": 1, "height": 1, "batch_size": 11}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}},
    }
    many = raw_api.wait(raw_api.run_workflow(INVERT, workflow=json.dumps(graph))["taskId"])
    graph["1"]["inputs"]["batch_size"] = 10
    enough = raw_api.wait(raw_api.run_workflow(INVERT, workflow=json.dumps(graph))["taskId"])
    assert many["status"] == "FAILED" and "10 output files" in many["errorMessage"]
    assert enough["status"] == "SUCCESS" and len(enough["results"]) == 10


def test_the_pixels_one_task_computes_are_bounded(raw_api) -> None:
    raw_api.server.configure(max_task_pixels=64 * 64 * 10)
    graph = {"1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64}}}
    for index in range(2, 14):
        graph[str(index)] = {"class_type": "ImageInvert", "inputs": {"image": [str(index - 1), 0]}}
    graph["20"] = {"class_type": "SaveImage", "inputs": {"images": ["13", 0]}}
    task = raw_api.wait(raw_api.run_workflow(INVERT, workflow=json.dumps(graph))["taskId"])
    assert task["status"] == "FAILED" and "pixels" in task["errorMessage"]


# ---- item 13: non-ASCII signatures and tokens ----------------------------------------------


def test_a_non_ascii_signature_is_refused_like_a_wrong_one(raw_api) -> None:
    url = raw_api.upload_v2(b"\x89PNG-bytes")["data"]["download_url"]
    for signature in ("%C3%A9", "%E2%80%AE"):
        tampered = url.split("q-signature=")[0] + f"q-signature={signature}"
        answer = raw_api.http.get(tampered)
        assert answer.status_code == 403 and b"SignatureDoesNotMatch" in answer.content


def test_a_non_ascii_socket_token_is_refused_like_a_wrong_one(raw_api) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    data = raw_api.v1("/task/openapi/create", {"workflowId": INVERT})["data"]
    url = data["netWssUrl"]
    token = url.split("Rh-Comfy-Auth=")[1].split("&")[0]
    tampered = url.replace(token, "%C3%A9" * 4)
    with pytest.raises((InvalidStatus, ConnectionError)) as refused:
        with connect(tampered, open_timeout=5, close_timeout=2) as websocket:
            websocket.recv(timeout=5)
    assert "500" not in str(refused.value)
    answer = httpx.get(f"{raw_api.server.base_url}/__emulator__/stats", trust_env=False)
    assert answer.status_code == 200
