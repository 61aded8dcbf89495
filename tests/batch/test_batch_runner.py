"""The batch runner against the emulator over loopback: outputs, capacity, faults, guards, keys."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runninghub import AsyncClient, Client, InsufficientFundsError
from runninghub.batch import (
    BatchProgress,
    BatchRunner,
    BatchSpec,
    Ledger,
    LedgerBusyError,
    RowState,
    ledger_for_plan,
    plan_batch,
    read_inputs,
)
from runninghub.emulator import EmulatorServer
from tests.batch.batch_helpers import (
    API_KEY,
    FAILING,
    FAST_POLL,
    INVERT,
    OTHER_KEY,
    TEXT,
    fingerprint_counts,
    is_inverted,
    make_images,
    resume_batch,
    row_states,
    start_batch,
    write_prompts,
)

MakeEmulator = Callable[..., EmulatorServer]
SUBMIT_INVERT = f"/openapi/v2/run/workflow/{INVERT}"
SUBMIT_TEXT = f"/openapi/v2/run/workflow/{TEXT}"


def _manifest(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


async def test_fifty_rows_complete_with_every_output_present_and_correct(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    server = make_emulator(task_seconds=0.1, concurrency=4)
    images = make_images(tmp_path / "photos", 50)
    seen: list[BatchProgress] = []
    report = await start_batch(
        server.base_url, tmp_path / "photos", tmp_path / "out", on_progress=seen.append
    )
    assert report.complete and report.counts["succeeded"] == 50
    assert report.tasks_submitted == 50
    manifest = _manifest(tmp_path / "out")
    assert [entry["row"] for entry in manifest] == list(range(1, 51))
    for entry, source in zip(manifest, images, strict=True):
        assert entry["status"] == "succeeded" and entry["error"] is None
        [output] = entry["outputs"]
        assert Path(output).name == f"{entry['row']:05d}_109_1.png"
        assert is_inverted(Path(output), source), f"row {entry['row']}"
    stats = server.stats()
    assert fingerprint_counts(stats) == [1] * 50
    assert stats["max_running"] <= 4
    assert seen[-1].done == 50 and seen[-1].running == 0 and seen[-1].queued == 0
    assert not list((tmp_path / "out").glob(".*part*"))  # no half-written file left


async def test_capacity_refusals_never_fail_a_row(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    server = make_emulator(task_seconds=0.15, concurrency=2)
    make_images(tmp_path / "photos", 12)
    report = await start_batch(
        server.base_url, tmp_path / "photos", tmp_path / "out", concurrency=4
    )
    assert report.complete
    stats = server.stats()
    refused = stats["requests"][SUBMIT_INVERT] - stats["tasks_created"]
    assert refused >= 2  # four submits at once against a limit of two
    assert stats["max_running"] == 2
    assert fingerprint_counts(stats) == [1] * 12


async def test_auto_concurrency_follows_the_account_limit(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    server = make_emulator(task_seconds=0.15, concurrency=3)
    write_prompts(tmp_path / "prompts.csv", 9)
    report = await start_batch(
        server.base_url,
        tmp_path / "prompts.csv",
        tmp_path / "out",
        workflow=TEXT,
        concurrency=None,
        maps={"prompt": "6.text"},
    )
    assert report.complete
    stats = server.stats()
    assert stats["requests"][SUBMIT_TEXT] == stats["tasks_created"] == 9  # never refused
    assert stats["max_running"] == 3


async def test_an_ambiguous_submit_lands_in_unknown_and_is_only_resubmitted_on_request(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    server = make_emulator(task_seconds=0.1, concurrency=4)
    write_prompts(tmp_path / "prompts.csv", 3)
    out = tmp_path / "out"

    def lose_every_answer(progress: BatchProgress) -> None:
        # Once the run is under way (before its first submit): every answer is lost after
        # the service acted on the request.
        server.configure(fault_rate=1.0, fault_kinds=["http_500"])

    report = await start_batch(
        server.base_url,
        tmp_path / "prompts.csv",
        out,
        workflow=TEXT,
        maps={"prompt": "6.text"},
        on_progress=lose_every_answer,
    )
    assert report.counts["unknown"] == 3 and not report.complete
    assert server.stats()["tasks_created"] == 3  # each submit did create its task
    with Ledger.open(out / "batch.sqlite") as ledger:
        assert all("outcome unknown" in (r.error or "") for r in ledger.rows())
    server.configure(fault_rate=0.0)

    again = await resume_batch(server.base_url, out / "batch.sqlite")
    assert again.counts["unknown"] == 3 and again.tasks_submitted == 0
    assert server.stats()["tasks_created"] == 3  # a resume never resubmits an unknown row

    # The lost tasks may still run (their worker process starting): once they end, the
    # retry's submits find free slots, so its history has no queue-full attempt in it.
    while {"QUEUED", "RUNNING"} & set(server.stats()["tasks_by_status"]):
        await asyncio.sleep(0.05)  # ends when they end, or by the test's timeout
    retried = await resume_batch(server.base_url, out / "batch.sqlite", retry=[RowState.UNKNOWN])
    assert retried.complete
    # The trade-off of an explicit retry: the lost first tasks existed, so each input ran twice.
    assert fingerprint_counts(server.stats()) == [2, 2, 2]
    with Ledger.open(out / "batch.sqlite") as ledger:
        history = ledger.attempts(1)
        assert [a.state for a in history] == [RowState.UNKNOWN, RowState.SUCCEEDED]


async def test_max_tasks_stops_submitting_and_a_resume_finishes(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    server = make_emulator(task_seconds=0.1, concurrency=4)
    write_prompts(tmp_path / "prompts.csv", 8)
    out = tmp_path / "out"
    report = await start_batch(
        server.base_url,
        tmp_path / "prompts.csv",
        out,
        workflow=TEXT,
        maps={"prompt": "6.text"},
        max_tasks=3,
    )
    assert report.stopped == "--max-tasks 3 reached"
    assert (report.counts["succeeded"], report.counts["pending"]) == (3, 5)
    assert server.stats()["tasks_created"] == 3
    assert [e["status"] for e in _manifest(out)] == ["succeeded"] * 3 + ["pending"] * 5

    still = await resume_batch(server.base_url, out / "batch.sqlite")
    assert still.stopped and still.tasks_submitted == 0  # the guard counts every run

    done = await resume_batch(server.base_url, out / "batch.sqlite", max_tasks=None)
    assert done.complete and done.tasks_submitted == 5
    assert fingerprint_counts(server.stats()) == [1] * 8


async def test_max_coins_stops_submitting_once_finished_tasks_used_them(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    server = make_emulator(task_seconds=0.05, concurrency=1)  # each task costs 1 coin
    make_images(tmp_path / "photos", 5)
    out = tmp_path / "out"
    report = await start_batch(
        server.base_url, tmp_path / "photos", out, concurrency=1, max_coins="2"
    )
    # Decided while the second task ran: its expected price fills the budget.
    assert report.stopped == "--max-coins 2 reached (1 spent, 1 more in flight at about 1 each)"
    assert report.coins == 2 and report.counts["succeeded"] == 2
    assert server.stats()["tasks_created"] == 2
    with Ledger.open(out / "batch.sqlite") as ledger:
        assert ledger.coins_spent() == 2


async def test_two_keys_share_the_rows_each_within_its_own_limit(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    server = make_emulator(task_seconds=0.15, concurrency=2)
    write_prompts(tmp_path / "prompts.csv", 8)
    report = await start_batch(
        server.base_url,
        tmp_path / "prompts.csv",
        tmp_path / "out",
        workflow=TEXT,
        maps={"prompt": "6.text"},
        concurrency=None,
        keys=(API_KEY, OTHER_KEY),
    )
    assert report.complete
    stats = server.stats()
    assert len(stats["tasks_by_key"]) == 2 and sum(stats["tasks_by_key"].values()) == 8
    assert stats["requests"][SUBMIT_TEXT] == 8  # both limits respected: no refusal
    with Ledger.open(tmp_path / "out" / "batch.sqlite") as ledger:
        assert {r.key_index for r in ledger.rows()} == {0, 1}
        text = ledger.path.read_bytes()
    assert API_KEY.encode() not in text and OTHER_KEY.encode() not in text


async def test_a_failing_task_fails_its_row_with_the_node_and_the_rest_go_on(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    server = make_emulator(task_seconds=0.05, concurrency=2)
    make_images(tmp_path / "photos", 3)
    report = await start_batch(
        server.base_url, tmp_path / "photos", tmp_path / "out", workflow=FAILING
    )
    assert report.counts["failed"] == 3
    entry = _manifest(tmp_path / "out")[0]
    assert entry["status"] == "failed" and entry["task_id"]
    assert "276" in entry["error"] and entry["outputs"] == []


async def test_an_empty_balance_stops_before_the_first_submit(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    server = make_emulator(task_seconds=0.05, initial_coins=0)
    make_images(tmp_path / "photos", 2)
    with pytest.raises(InsufficientFundsError, match="balance"):
        await start_batch(server.base_url, tmp_path / "photos", tmp_path / "out")
    assert server.stats()["tasks_created"] == 0
    assert set(row_states(tmp_path / "out" / "batch.sqlite").values()) == {"pending"}


async def test_an_interrupted_run_keeps_every_task_id_and_a_resume_finishes(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    server = make_emulator(task_seconds=0.3, concurrency=4)
    make_images(tmp_path / "photos", 10)
    out = tmp_path / "out"
    run: asyncio.Task[Any] | None = None

    def interrupt_when_busy(progress: BatchProgress) -> None:
        if progress.running >= 3 and run is not None:
            run.cancel()  # what Ctrl-C does to the event loop's main task

    run = asyncio.ensure_future(
        start_batch(server.base_url, tmp_path / "photos", out, on_progress=interrupt_when_busy)
    )
    with pytest.raises(asyncio.CancelledError):
        await run
    states = row_states(out / "batch.sqlite")
    assert "submitting" not in states.values() and "unknown" not in states.values()
    assert list(states.values()).count("submitted") >= 1

    report = await resume_batch(server.base_url, out / "batch.sqlite")
    assert report.complete
    assert fingerprint_counts(server.stats()) == [1] * 10


async def test_a_finished_batch_resumes_without_submitting_anything(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    make_images(tmp_path / "photos", 3)
    out = tmp_path / "out"
    first = await start_batch(emulator.base_url, tmp_path / "photos", out)
    assert first.complete
    before = emulator.stats()["requests"][SUBMIT_INVERT]
    again = await start_batch(emulator.base_url, tmp_path / "photos", out)  # same inputs
    assert again.complete and again.tasks_submitted == 0
    assert emulator.stats()["requests"][SUBMIT_INVERT] == before


async def test_one_ledger_runs_in_one_process_at_a_time(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    make_images(tmp_path / "photos", 2)
    out = tmp_path / "out"
    await start_batch(emulator.base_url, tmp_path / "photos", out)
    with Ledger.open(out / "batch.sqlite") as holder:
        holder.lock()
        with pytest.raises(LedgerBusyError):
            await resume_batch(emulator.base_url, out / "batch.sqlite")


async def test_under_random_faults_no_input_runs_twice_and_unknown_rows_had_a_task(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    server = make_emulator(task_seconds=0.1, concurrency=4, fault_rate=0.1, fault_seed=7)
    make_images(tmp_path / "photos", 30)
    out = tmp_path / "out"
    report = await start_batch(server.base_url, tmp_path / "photos", out)
    for _ in range(5):  # rows left behind by transient errors are picked up by a resume
        if report.counts["pending"] + report.counts["running"] == 0:
            break
        report = await resume_batch(server.base_url, out / "batch.sqlite")
    counts = report.counts
    assert counts["succeeded"] + counts["unknown"] == 30
    stats = server.stats()
    # Every row created exactly one task, the unknown ones included: a row is unknown only
    # when its submit reached the service and the answer was lost.
    assert fingerprint_counts(stats) == [1] * 30
    assert counts["unknown"] <= sum(
        stats["faults"].get(k, 0) for k in ("http_500", "truncated", "non_json")
    )

    server.configure(fault_rate=0.0)
    retried = await resume_batch(server.base_url, out / "batch.sqlite", retry=[RowState.UNKNOWN])
    assert retried.complete
    assert fingerprint_counts(server.stats()).count(2) == counts["unknown"]


def test_the_synchronous_run_owns_its_loop_and_closes_the_clients(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    make_images(tmp_path / "photos", 3)
    with Client(API_KEY, base_url=emulator.base_url) as client:
        graph = client.workflow_graph(INVERT)
    plan = plan_batch(read_inputs(tmp_path / "photos"), graph, workflow_id=INVERT)
    spec = BatchSpec(workflow_id=INVERT, out_dir=str(tmp_path / "out"), columns=plan.columns)
    async_client = AsyncClient(API_KEY, base_url=emulator.base_url, poll=FAST_POLL)
    with ledger_for_plan(tmp_path / "out" / "batch.sqlite", plan, spec) as ledger:
        report = BatchRunner(ledger, [async_client]).run()
    assert report.complete and report.tasks_submitted == 3
    assert len(list((tmp_path / "out").glob("*.png"))) == 3
