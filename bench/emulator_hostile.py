"""The emulator under one hostile client: do other keys still get quick answers?

Target (issue 13): while one client sends the hostile loads of items 10 to 13, another key's
requests are answered within 50 ms at the 99th percentile. The emulator runs in its own
process with its default limits (a key runs at most 2 tasks at once); the victim is one
keep-alive connection sending v2 queries (and a submit every tenth request) with its own
key, one at a time; the attacker runs one phase at a time, each bounded in count and time:

- ``form-text``: multipart uploads with 2.4 MB of text fields; legacy uploads with a bad key;
- ``graphs``: 12 chained inverts of an 8192-square image; four 12,000-node graphs; four
  graphs at the node limit; bodies nested 100,000 deep;
- ``gif``: a 23 MB GIF of a million 1x1 frames, named ``.png``, loaded by a task;
- ``slowloris``: 300 connections that never finish their headers, plus non-ASCII
  signatures and socket tokens.

An ``idle`` phase first measures the victim alone, as the baseline of the machine at the
time. Loopback only; it stops by itself. Run with ``python -m bench emulator_hostile``.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import re
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx

from bench.emulator_query import start_emulator

VICTIM_KEY = "fedcba9876543210fedcba9876543210"
HOSTILE_KEY = "0123456789abcdef0123456789abcdef"
INVERT = "1987728214757978114"
TARGET_P99_MS = 50.0
PHASE_SECONDS = 8.0


# ---- the victim ------------------------------------------------------------------------


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, body: dict[str, Any]
) -> dict[str, Any]:
    payload = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {VICTIM_KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    writer.write(head.encode() + payload)
    headers = await reader.readuntil(b"\r\n\r\n")
    length = int(re.search(rb"content-length: (\d+)", headers.lower()).group(1))  # type: ignore[union-attr]
    answer: dict[str, Any] = json.loads(await reader.readexactly(length))
    return answer


async def victim(base_url: str, ready: Any, stop: Any, latencies: list[float]) -> None:
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    task = await _request(reader, writer, f"/openapi/v2/run/workflow/{INVERT}", {})
    ready.set()
    count = 0
    while not stop.is_set():
        count += 1
        path, body = "/openapi/v2/query", {"taskId": task["taskId"]}
        if count % 10 == 0:
            path, body = f"/openapi/v2/run/workflow/{INVERT}", {}
        started = time.perf_counter()
        answer = await _request(reader, writer, path, body)
        latencies.append((time.perf_counter() - started) * 1000)
        assert answer.get("errorCode") in ("", "421", None), answer  # 421 is an answer too
        await asyncio.sleep(0.01)
    writer.close()


# ---- the attacker ------------------------------------------------------------------------

BOUNDARY = "hostile"


def _form(fields: int, key: str | None = None) -> bytes:
    parts = [] if key is None else [_field("apiKey", key)]
    parts += [_field(f"f{index}", "x" * 60_000) for index in range(fields)]
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'
    return b"".join(parts) + head.encode() + b"\x89PNG" + f"\r\n--{BOUNDARY}--\r\n".encode()


def _field(name: str, value: str) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    )


def form_text(http: httpx.Client, until: float) -> None:
    content_type = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    bearer = {"Authorization": f"Bearer {HOSTILE_KEY}", **content_type}
    for _ in range(40):
        if time.monotonic() > until:
            return
        http.post("/openapi/v2/media/upload/binary", content=_form(40), headers=bearer)
        http.post("/task/openapi/upload", content=_form(40, key="nope"), headers=content_type)


def _chain(length: int, width: int = 8) -> str:
    graph: dict[str, Any] = {
        "1": {"class_type": "EmptyImage", "inputs": {"width": width, "height": width}}
    }
    for index in range(2, length + 2):
        graph[str(index)] = {"class_type": "ImageInvert", "inputs": {"image": [str(index - 1), 0]}}
    graph[str(length + 2)] = {"class_type": "SaveImage", "inputs": {"images": [str(length + 1), 0]}}
    return json.dumps(graph)


def graphs(http: httpx.Client, until: float) -> None:
    run = f"/openapi/v2/run/workflow/{INVERT}"
    bearer = {"Authorization": f"Bearer {HOSTILE_KEY}"}
    http.post(run, json={"workflow": _chain(12, width=8192)}, headers=bearer)
    huge, at_limit = _chain(12_000), _chain(1997)
    nested = "[" * 100_000 + "]" * 100_000
    for _ in range(4):
        http.post(run, json={"workflow": huge}, headers=bearer)
        http.post(run, json={"workflow": at_limit}, headers=bearer)
        headers = {**bearer, "Content-Type": "application/json"}
        http.post(run, content=f'{{"nodeInfoList": {nested}}}', headers=headers)
    _wait_idle(http, until)


def million_frame_gif() -> bytes:
    """A GIF of a million 1x1 frames (about 23 MB), written by hand: Pillow would take minutes."""
    header = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
    frame = (
        b"\x21\xf9\x04\x00\x01\x00\x00\x00"  # graphic control: 10 ms
        b"\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00"  # a 1x1 image at 0,0
        b"\x02\x02\x44\x01\x00"  # LZW: clear, pixel 0, end
    )
    return header + frame * 1_000_000 + b"\x3b"


def gif(http: httpx.Client, until: float) -> None:
    bearer = {"Authorization": f"Bearer {HOSTILE_KEY}"}
    files = {"file": ("innocent.png", million_frame_gif())}
    upload = http.post("/openapi/v2/media/upload/binary", files=files, headers=bearer).json()
    name = upload["data"]["fileName"]
    item = {"nodeId": "107", "fieldName": "image", "fieldValue": name}
    http.post(f"/openapi/v2/run/workflow/{INVERT}", json={"nodeInfoList": [item]}, headers=bearer)
    _wait_idle(http, until)


def slowloris(http: httpx.Client, until: float) -> None:
    import socket

    host, port = str(http.base_url).removeprefix("http://").rstrip("/").split(":")
    hanging = []
    for _ in range(300):
        connection = socket.create_connection((host, int(port)), timeout=5)
        connection.sendall(b"POST /openapi/v2/query HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        hanging.append(connection)
    while time.monotonic() < until:
        http.get("/files/openapi/x.png?q-sign-time=1;9999999999&q-signature=%C3%A9")
        http.get("/ws/c_instance?taskId=1&Rh-Comfy-Auth=%C3%A9")
        time.sleep(0.05)
    for connection in hanging:
        connection.close()


def _wait_idle(http: httpx.Client, until: float) -> None:
    while time.monotonic() < until and http.get("/__emulator__/stats").json()["running"]:
        time.sleep(0.1)


def idle(http: httpx.Client, until: float) -> None:
    """No attack: the victim's baseline on this machine, for comparison."""
    time.sleep(max(0.0, until - time.monotonic()))


PHASES: dict[str, Callable[[httpx.Client, float], None]] = {
    "idle": idle,
    "form-text": form_text,
    "graphs": graphs,
    "gif": gif,
    "slowloris": slowloris,
}


# ---- the run ---------------------------------------------------------------------------


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _victim_process(base_url: str, ready: Any, stop: Any, results: Any) -> None:
    latencies: list[float] = []
    asyncio.run(victim(base_url, ready, stop, latencies))
    results.put(latencies)


def run_phase(base_url: str, name: str) -> list[float]:
    """One attack phase, with the victim in a process of its own: the attacker's own work
    (building a 23 MB GIF, a 12,000-node graph) must not be counted as the server's delay."""
    context = multiprocessing.get_context("spawn")
    ready, stop, results = context.Event(), context.Event(), context.Queue()
    process = context.Process(target=_victim_process, args=(base_url, ready, stop, results))
    process.start()
    try:
        if not ready.wait(60):
            raise RuntimeError("the victim did not start")
        with httpx.Client(base_url=base_url, timeout=60, trust_env=False) as http:
            PHASES[name](http, time.monotonic() + PHASE_SECONDS)
    finally:
        stop.set()
    latencies: list[float] = results.get(timeout=60)
    process.join(timeout=30)
    return latencies


def _load_averages() -> str:
    one, five, fifteen = os.getloadavg()
    return f"machine load average {one:.1f} / {five:.1f} / {fifteen:.1f} (1 / 5 / 15 min)"


def main() -> None:
    print(f"before: {_load_averages()}, {os.cpu_count()} cores", flush=True)
    process, base_url = start_emulator("--task-seconds", "0")
    worst = 0.0
    try:
        for name in PHASES:
            latencies = run_phase(base_url, name)
            p99 = _percentile(latencies, 0.99)
            worst = max(worst, p99)
            print(
                f"{name:>10}: {len(latencies)} victim requests, "
                f"p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms, "
                f"max {max(latencies):.1f} ms (machine load {os.getloadavg()[0]:.1f})",
                flush=True,
            )
    finally:
        process.terminate()
        process.wait(timeout=30)
    verdict = "met" if worst <= TARGET_P99_MS else "MISSED"
    print(f"after: {_load_averages()}")
    print(f"worst p99 {worst:.1f} ms: target of {TARGET_P99_MS:.0f} ms {verdict}")
