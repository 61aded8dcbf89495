"""The emulator driven the way published RunningHub clients drive the real service.

Those clients send the documented ``Host: www.runninghub.cn`` on every call, reach the
service through whatever network the user has (here a TCP port map: the emulator listens on
one port, the client connects to another, and ``public_url`` names the one the client sees),
send ``usePersonalQueue`` as the string ``"false"``, and feed an upload's ``download_url``
back as a LoadImage value. Every URL in every answer must then work from the client's side.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from PIL import Image, ImageChops, ImageOps
from websockets.sync.client import connect

from runninghub.emulator import EmulatorServer
from runninghub.emulator.catalog import SAMPLE_IMAGE
from runninghub.emulator.options import read_keys_file
from tests.emulator.emulator_helpers import PortMap, Receiver

DOCUMENTED_HOST = "www.runninghub.cn"
INVERT = "1987728214757978114"
APP = "1877265245566922753"
URL = re.compile(r"""(?:https?|wss?)://[^\s'"\\]+""")


@pytest.fixture
def port_map() -> Iterator[PortMap]:
    mapped = PortMap()
    yield mapped
    mapped.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    yield hook
    hook.close()


@pytest.fixture
def behind_the_map(port_map: PortMap, make_emulator: Any) -> EmulatorServer:
    server = make_emulator(public_url=port_map.url, task_seconds=0.3)
    port_map.forward_to(server.base_url)
    return server


class PublishedClient:
    """Calls as the published clients make them: the documented Host header on every one."""

    def __init__(self, base_url: str, key: str) -> None:
        self.key = key
        headers = {"Host": DOCUMENTED_HOST, "Authorization": f"Bearer {key}"}
        self.http = httpx.Client(base_url=base_url, headers=headers, trust_env=False, timeout=10)
        self.answers: list[Any] = []  # every answer, for the URL sweep

    def post(self, path: str, **kwargs: Any) -> Any:
        answer = self.http.post(path, **kwargs)
        assert answer.status_code == 200, answer.text
        self.answers.append(answer.json())
        return self.answers[-1]

    def get(self, path: str, **kwargs: Any) -> Any:
        answer = self.http.get(path, **kwargs)
        assert answer.status_code == 200, answer.text
        self.answers.append(answer.json())
        return self.answers[-1]

    def wait(self, task_id: str, timeout: float = 15) -> Any:
        deadline = time.monotonic() + timeout
        while (task := self.post("/openapi/v2/query", json={"taskId": task_id}))["status"] in (
            "QUEUED",
            "RUNNING",
        ):
            assert time.monotonic() < deadline, task
            time.sleep(0.02)
        return task


@pytest.fixture
def published(port_map: PortMap, api_key: str) -> Iterator[PublishedClient]:
    client = PublishedClient(port_map.url, api_key)
    yield client
    client.http.close()


def urls_in(documents: list[Any]) -> set[str]:
    """Every URL anywhere in the documents, also inside strings (curl, eventData)."""
    return set(URL.findall(json.dumps(documents).replace("\\/", "/")))


def fetch_from_the_client_side(url: str, client: PublishedClient) -> None:
    """Use a URL the way its kind is used: download a file, listen to a socket, call an API."""
    if url.startswith("ws"):
        with connect(url, open_timeout=5) as socket:
            assert json.loads(socket.recv(timeout=5))["type"] == "status"
    elif "/files/" in url or "/outputs/" in url:
        answer = httpx.get(url, trust_env=False, timeout=10)
        assert answer.status_code == 200 and answer.content, url
    else:  # an API address quoted in a curl or invoke example
        answer = client.http.post(url, json={"webappId": APP, "nodeInfoList": []})
        assert answer.status_code == 200 and "json" in answer.headers["content-type"], url


def test_a_run_made_as_published_clients_make_it_hands_out_only_working_urls(
    behind_the_map: EmulatorServer,
    port_map: PortMap,
    published: PublishedClient,
    receiver: Receiver,
    api_key: str,
) -> None:
    picture = SAMPLE_IMAGE.read_bytes()
    upload = published.post("/openapi/v2/media/upload/binary", files={"file": ("a.png", picture)})
    download_url = upload["data"]["download_url"]
    item = {"nodeId": "107", "fieldName": "image", "fieldValue": download_url}
    body = {"nodeInfoList": [item], "usePersonalQueue": "false", "webhookUrl": receiver.url}
    submitted = published.post(f"/openapi/v2/run/workflow/{INVERT}", json=body)
    legacy = published.post(
        "/task/openapi/create",
        json={"apiKey": api_key, "workflowId": INVERT, "usePersonalQueue": "false"},
    )
    final = published.wait(submitted["taskId"])
    published.post("/task/openapi/outputs", json={"apiKey": api_key, "taskId": final["taskId"]})
    published.get("/api/webapp/apiCallDemo", params={"apiKey": api_key, "webappId": APP})
    published.post("/openapi/v2/aiapp/list", json={}, headers={"Authorization": api_key})
    [webhook] = receiver.wait_for(1)

    assert (submitted["errorCode"], final["status"], legacy["code"]) == ("", "SUCCESS", 0)
    assert legacy["data"]["netWssUrl"], "the legacy create of a running task gives its socket"
    found = urls_in([*published.answers, webhook])
    assert found, "the answers carry URLs"
    assert DOCUMENTED_HOST not in json.dumps([*published.answers, webhook])
    own = (port_map.url, port_map.url.replace("http", "ws", 1))
    assert {url for url in found if not url.startswith(own)} == set()
    for url in found:
        fetch_from_the_client_side(url, published)
    assert httpx.get(download_url, trust_env=False).content == picture
    produced = httpx.get(final["results"][0]["url"], trust_env=False).content
    expected = ImageOps.invert(Image.open(SAMPLE_IMAGE).convert("RGB"))
    assert ImageChops.difference(Image.open(io.BytesIO(produced)), expected).getbbox() is None
    assert port_map.connections >= 3  # calls, downloads and the socket all went through it


def test_the_emulator_process_takes_the_public_url_and_the_cancel_status_on_its_command_line(
    port_map: PortMap, published: PublishedClient, api_key: str
) -> None:
    command = [sys.executable, "-m", "runninghub", "emulator", "--task-seconds", "30"]
    command += ["--public-url", port_map.url, "--cancel-status-v2", "FAILED"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        listening = process.stdout.readline().strip().rsplit(" ", 1)[-1]
        assert process.stdout.readline().strip() == f"URLs it hands out start with {port_map.url}"
        port_map.forward_to(listening)
        task_id = published.post(f"/openapi/v2/run/workflow/{INVERT}", json={})["taskId"]
        running = published.post("/task/openapi/outputs", json={"taskId": task_id})
        published.post("/task/openapi/cancel", json={"apiKey": api_key, "taskId": task_id})
        cancelled = published.post("/openapi/v2/query", json={"taskId": task_id})
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=10)

    assert running["data"]["netWssUrl"].startswith(port_map.url.replace("http", "ws", 1))
    assert (cancelled["status"], cancelled["errorCode"]) == ("FAILED", "1000")
    assert "Traceback" not in errors and api_key not in errors


KEYS = {"NORMAL": "1" * 32, "SHARED": "2" * 32, "EXCLUSIVE": "3" * 32}
TTS = "kling-lip-sync/tts"  # a catalogue model with a fixed list price
TTS_PARAMS = {"text": "hi", "voiceId": "genshin_klee2", "voiceLanguage": "en"}


def test_keys_of_each_type_answer_as_clients_written_for_them_expect(
    port_map: PortMap, make_emulator: Any, tmp_path: Any
) -> None:
    keys_file = tmp_path / "keys.txt"
    keys_file.write_text("".join(f"{key} {kind}\n" for kind, key in KEYS.items()))
    server = make_emulator(
        keys=sorted(read_keys_file(keys_file)), public_url=port_map.url, task_seconds=0.05
    )
    port_map.forward_to(server.base_url)
    seen: dict[str, dict[str, Any]] = {}
    for kind, key in KEYS.items():
        client = PublishedClient(port_map.url, key)
        try:
            before = client.post("/uc/openapi/accountStatus", json={"apikey": key})["data"]
            queue = client.get("/openapi/v2/queue/status")["data"]
            model = client.post(f"/openapi/v2/{TTS}", json=TTS_PARAMS)
            task = client.post(f"/openapi/v2/run/workflow/{INVERT}", json={})
            client.wait(task["taskId"])
            after = client.post("/uc/openapi/accountStatus", json={"apikey": key})["data"]
            for url in urls_in(client.answers):
                fetch_from_the_client_side(url, client)
        finally:
            client.http.close()
        seen[kind] = {"before": before, "queue": queue, "model": model, "after": after}

    for kind in KEYS:
        assert seen[kind]["before"]["apiType"] == seen[kind]["queue"]["apiKeyType"] == kind
    normal, shared, exclusive = seen["NORMAL"], seen["SHARED"], seen["EXCLUSIVE"]
    assert normal["model"]["errorCode"] == "1014", "consumer keys cannot call standard models"
    assert int(normal["after"]["remainCoins"]) < int(normal["before"]["remainCoins"])
    assert normal["before"]["remainMoney"] is None
    for wallet in (shared, exclusive):
        assert wallet["model"]["errorCode"] == "" and wallet["model"]["taskId"]
        assert wallet["before"]["currency"] == "CNY"
        assert Decimal(wallet["after"]["remainMoney"]) < Decimal(wallet["before"]["remainMoney"])
