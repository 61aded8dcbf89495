"""Emulator throughput: v2 query requests per second with 50 tasks in flight.

Target (issue 2): at least 500 query requests per second on this machine. The emulator runs
in its own process (as ``runninghub emulator`` would), the load comes from this one over
loopback: asyncio workers on keep-alive connections (a minimal HTTP/1.1 client, so that the
load generator is not the bottleneck), a bounded number of requests, each answer checked.
Run with ``python -m bench emulator_query``.
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import subprocess
import sys
import time
from typing import Any

import httpx

KEY = "0123456789abcdef0123456789abcdef"
WORKFLOW_ID = "1987728214757978114"
TASKS_IN_FLIGHT = 50
REQUESTS = 6000
WORKERS = 8
TARGET_PER_SECOND = 500.0
_READY = re.compile(r"listening on (http://\S+)")


def start_emulator(*options: str) -> tuple[subprocess.Popen[str], str]:
    """An emulator process (``options``: its flags; default: this benchmark's) and its URL."""
    defaults = ("--concurrency", str(TASKS_IN_FLIGHT), "--task-seconds", "600")
    command = [sys.executable, "-m", "runninghub.emulator.server", *(options or defaults)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    match = _READY.search(process.stdout.readline())
    if match is None:
        process.kill()
        raise RuntimeError("the emulator did not start")
    return process, match.group(1)


async def submit_tasks(client: httpx.AsyncClient) -> list[str]:
    ids = []
    for _ in range(TASKS_IN_FLIGHT):
        answer = await client.post(f"/openapi/v2/run/workflow/{WORKFLOW_ID}", json={})
        task = answer.json()
        assert task["errorCode"] == "", task
        ids.append(task["taskId"])
    return ids


class Connection:
    """A minimal keep-alive HTTP/1.1 client: the load generator must cost far less CPU than
    the server it measures (httpx spends ~3 ms of CPU per request here, the server ~0.7)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, base_url: str) -> Connection:
        url = httpx.URL(base_url)
        reader, writer = await asyncio.open_connection(url.host, url.port)
        return cls(reader, writer)

    async def post_json(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        payload = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        self.writer.write(head.encode() + payload)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        return int(status_line.split()[1]), json.loads(await self.reader.readexactly(length))

    def close(self) -> None:
        self.writer.close()


async def query_worker(
    base_url: str, ids: list[str], start: int, count: int, latencies: list[float]
) -> None:
    connection = await Connection.open(base_url)
    try:
        for index in range(start, start + count):
            began = time.perf_counter()
            status, task = await connection.post_json(
                "/openapi/v2/query", {"taskId": ids[index % len(ids)]}
            )
            latencies.append(time.perf_counter() - began)
            assert status == 200 and task["status"] == "RUNNING", task
    finally:
        connection.close()


async def measure(base_url: str) -> tuple[float, list[float]]:
    headers = {"Authorization": f"Bearer {KEY}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, trust_env=False) as client:
        ids = await submit_tasks(client)
    await asyncio.gather(*[query_worker(base_url, ids, i, 20, []) for i in range(WORKERS)])
    latencies: list[float] = []
    share = REQUESTS // WORKERS
    began = time.perf_counter()
    jobs = [query_worker(base_url, ids, i * share, share, latencies) for i in range(WORKERS)]
    await asyncio.gather(*jobs)
    elapsed = time.perf_counter() - began
    return share * WORKERS / elapsed, latencies


def main() -> None:
    process, base_url = start_emulator()
    try:
        rate, latencies = asyncio.run(measure(base_url))
    finally:
        process.terminate()
        process.wait(timeout=10)
    cuts = statistics.quantiles(latencies, n=100)
    verdict = "ok" if rate >= TARGET_PER_SECOND else "BELOW TARGET"
    print(
        f"emulator query: {rate:.0f} req/s with {TASKS_IN_FLIGHT} tasks in flight "
        f"({len(latencies)} requests, {WORKERS} connections; latency p50 {cuts[49] * 1000:.1f} ms, "
        f"p99 {cuts[98] * 1000:.1f} ms; target >= {TARGET_PER_SECOND:.0f}: {verdict})"
    )


if __name__ == "__main__":
    main()
