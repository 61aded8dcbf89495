"""Helpers for the batch tests: inputs, fast clients for the emulator, and ledger inspection."""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from runninghub import AsyncClient, PollPolicy, RetryPolicy
from runninghub.batch import (
    BatchProgress,
    BatchReport,
    BatchRunner,
    BatchSpec,
    Ledger,
    RowState,
    ledger_for_plan,
    plan_batch,
    read_inputs,
)
from runninghub.journal import Journal

API_KEY = "0123456789abcdef0123456789abcdef"
OTHER_KEY = "fedcba9876543210fedcba9876543210"
INVERT = "1987728214757978114"  # 107 LoadImage -> 108 ImageInvert -> 109 SaveImage
TEXT = "1904136902449209346"  # the default text-to-image graph
FAILING = "1900000000000000805"  # fails at node 276 every time

# Tasks of the test emulators last 0.1-0.3 s: poll often so that tests stay short.
FAST_POLL = PollPolicy(initial=0.03, factor=1.3, max_interval=0.15, jitter=0.0)
FAST_RETRY = RetryPolicy(initial_delay=0.01, max_delay=0.05, capacity_timeout=0.0)


def make_images(directory: Path, count: int) -> list[Path]:
    """``count`` small distinct PNGs (a gradient that depends on the index)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        image = Image.new("RGB", (8, 6))
        image.putdata([((i * 7 + x) % 256, (i * 13 + x * 3) % 256, x * 5) for x in range(48)])
        path = directory / f"img{i:03d}.png"
        image.save(path)
        paths.append(path)
    return paths


def write_prompts(path: Path, count: int) -> Path:
    """A CSV of ``count`` distinct prompts for the text-to-image workflow."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["prompt", "KSampler.steps"])
        for i in range(count):
            writer.writerow([f"a lighthouse, variation {i}", 2])
    return path


def is_inverted(output: Path, source: Path) -> bool:
    with Image.open(output) as out, Image.open(source) as src:
        expected = ImageOps.invert(src.convert("RGB"))
        return out.convert("RGB").tobytes() == expected.tobytes()


def clients_for(
    stack: AsyncExitStack, base_url: str, keys: Sequence[str], journal: Journal | None = None
) -> Any:
    async def make() -> list[AsyncClient]:
        made = []
        for key in keys:
            client = AsyncClient(
                key, base_url=base_url, poll=FAST_POLL, retry=FAST_RETRY, journal=journal
            )
            made.append(await stack.enter_async_context(client))
        return made

    return make()


async def start_batch(  # noqa: PLR0913 - keyword-only options of a test batch
    base_url: str,
    inputs: Path,
    out: Path,
    *,
    workflow: str = INVERT,
    keys: Sequence[str] = (API_KEY,),
    concurrency: int | None = 4,
    max_tasks: int | None = None,
    max_coins: str | None = None,
    maps: dict[str, str] | None = None,
    on_progress: Callable[[BatchProgress], None] | None = None,
    journal: Journal | None = None,
) -> BatchReport:
    """Plan ``inputs`` (validated against the emulator's graph) and run the batch."""
    async with AsyncExitStack() as stack:
        clients = await clients_for(stack, base_url, keys, journal)
        graph = await clients[0].workflow_graph(workflow)
        plan = plan_batch(read_inputs(inputs), graph, workflow_id=workflow, maps=maps)
        spec = BatchSpec(
            workflow_id=workflow,
            out_dir=str(out),
            columns=plan.columns,
            concurrency=concurrency,
            max_tasks=max_tasks,
            max_coins=max_coins,
            key_count=len(keys),
        )
        with ledger_for_plan(out / "batch.sqlite", plan, spec) as ledger:
            return await BatchRunner(ledger, clients, on_progress=on_progress).run_async()


async def resume_batch(
    base_url: str,
    ledger_path: Path,
    *,
    keys: Sequence[str] = (API_KEY,),
    retry: Iterable[RowState] = (),
    **spec_changes: Any,
) -> BatchReport:
    """Resume a ledger (after moving ``retry`` states back to pending, and new limits)."""
    async with AsyncExitStack() as stack:
        clients = await clients_for(stack, base_url, keys)
        with Ledger.open(ledger_path) as ledger:
            if spec_changes:
                from dataclasses import replace

                ledger.update_spec(replace(ledger.spec, **spec_changes))
            ledger.reset_for_retry(list(retry))
            return await BatchRunner(ledger, clients).run_async()


def row_states(ledger_path: Path) -> dict[int, str]:
    """Row -> state, read with plain SQL (as a monitoring tool would), no runner lock."""
    conn = sqlite3.connect(ledger_path, timeout=10)
    try:
        return dict(conn.execute("SELECT row, state FROM rows ORDER BY row").fetchall())
    finally:
        conn.close()


def fingerprint_counts(stats: dict[str, Any]) -> list[int]:
    return sorted(stats["tasks_by_fingerprint"].values())
