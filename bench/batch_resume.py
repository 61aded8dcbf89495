"""Resuming a 10,000-row ledger: how long until the first submit goes out.

Target (issue 6): under 2 s. The ledger holds 10,000 rows, the first half already succeeded.
Two figures: in-process (open the ledger, recover, plan the slots, first ``submitting``
committed) and end to end (a fresh ``runninghub batch resume`` process, from its start to the
emulator receiving the first submit, Python start-up included). Run with
``python -m bench batch_resume``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROWS = 10_000
WORKFLOW_ID = "1904136902449209346"
KEY = "0123456789abcdef0123456789abcdef"
TARGET_SECONDS = 2.0
SUBMIT_PATH = f"/openapi/v2/run/workflow/{WORKFLOW_ID}"


def build_ledger(path: Path) -> None:
    """10,000 planned rows; the first half marked succeeded in one statement (setup only)."""
    from runninghub import NodeOverride
    from runninghub.batch import BatchSpec, Ledger
    from runninghub.batch.inputs import fingerprint
    from runninghub.batch.ledger import encode_overrides

    def rows():  # type: ignore[no-untyped-def]
        for i in range(1, ROWS + 1):
            overrides = [NodeOverride("6", "text", f"variation {i}"), NodeOverride("3", "steps", 1)]
            yield i, fingerprint(WORKFLOW_ID, overrides), encode_overrides(overrides)

    spec = BatchSpec(workflow_id=WORKFLOW_ID, out_dir=str(path.parent), concurrency=4)
    Ledger.create(path, spec, rows()).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE rows SET state = 'succeeded' WHERE row <= ?", (ROWS // 2,))
    conn.commit()
    conn.close()


async def in_process(base_url: str, path: Path) -> float:
    from runninghub import AsyncClient
    from runninghub.batch import BatchProgress, BatchRunner, Ledger

    first = asyncio.get_running_loop().create_future()

    def on_progress(progress: BatchProgress) -> None:
        if progress.running and not first.done():
            first.set_result(time.perf_counter())

    async with AsyncClient(KEY, base_url=base_url) as client:
        started = time.perf_counter()
        with Ledger.open(path) as ledger:
            run = asyncio.ensure_future(
                BatchRunner(ledger, [client], on_progress=on_progress).run_async()
            )
            submitted_at = await first
            run.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await run
    return submitted_at - started


def end_to_end(server: object, path: Path) -> float:
    env = {**os.environ, "RUNNINGHUB_API_KEY": KEY}
    command = [sys.executable, "-m", "runninghub", "--base-url", server.base_url,  # type: ignore[attr-defined]
               "batch", "resume", "--ledger", str(path)]  # fmt: skip
    before = server.stats()["requests"].get(SUBMIT_PATH, 0)  # type: ignore[attr-defined]
    started = time.perf_counter()
    proc = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while server.stats()["requests"].get(SUBMIT_PATH, 0) == before:  # type: ignore[attr-defined]
            if proc.poll() is not None:
                raise RuntimeError(f"batch resume exited with {proc.returncode}")
            time.sleep(0.005)
        return time.perf_counter() - started
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C: the submit in flight is recorded, then exit
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    from runninghub.emulator import serve_in_thread

    with tempfile.TemporaryDirectory() as tmp, serve_in_thread(task_seconds=5.0) as server:
        first, second = Path(tmp) / "a" / "batch.sqlite", Path(tmp) / "b" / "batch.sqlite"
        build_ledger(first)
        build_ledger(second)
        inside = asyncio.run(in_process(server.base_url, first))
        outside = end_to_end(server, second)
    verdict = "ok" if max(inside, outside) < TARGET_SECONDS else "OVER TARGET"
    print(
        f"batch_resume: {ROWS} rows ({ROWS // 2} done): first submit {inside * 1000:.0f} ms after"
        f" opening the ledger in-process, {outside * 1000:.0f} ms after starting"
        f" `runninghub batch resume` (target < {TARGET_SECONDS:.0f} s: {verdict})"
    )


if __name__ == "__main__":
    main()
