"""The fault campaign: single runs, 50 concurrent async tasks and a 200-row batch against an
emulator that injects transient faults (``fault_rate`` 0.05, 0.1 and 0.2, every kind mixed,
seeded), 421 bursts (more tasks at once than the emulator's concurrency) and a webhook
receiver that refuses deliveries.

For every run:
- no input is lost: each one succeeded, or its submit's answer was destroyed by an
  after-handler fault (HTTP 500, truncated body, HTML instead of JSON) and it is reported as
  outcome unknown; the count of each such kind never exceeds the faults of that kind injected;
- no input ran twice: the emulator's per-fingerprint counter is 1 for every input it ran,
  and it ran nothing else (fingerprints are recomputed here from the inputs' bytes);
- every output is byte-identical to what the emulator's node engine produces for that input
  (recomputed here, without a server);
- retries are bounded: API requests per input <= ``REQUESTS_PER_TASK_BOUND`` (see below).

The fault sequence is seeded; which request draws which fault still depends on the order in
which concurrent requests arrive, so the counts vary a little from run to run.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runninghub import (
    APIError,
    AsyncClient,
    Client,
    PollPolicy,
    RetryPolicy,
    SubmitOutcomeUnknownError,
)
from runninghub.batch import (
    BatchRunner,
    BatchSpec,
    Ledger,
    RowState,
    ledger_for_plan,
    plan_batch,
    read_inputs,
)
from runninghub.emulator import EmulatorServer
from tests.reliability.campaign_support import (
    API_KEY,
    INVERT,
    FlakyReceiver,
    check_fingerprints,
    check_unknowns_are_lost_answers,
    expected_output_sha,
    input_fingerprint,
    make_images,
    requests_per_task,
    resume_batch,
    sha256,
    start_batch,
    wait_until,
)

MakeEmulator = Callable[..., EmulatorServer]

# Fast policies for 0.1 s tasks; the shape (attempts, backoff, capacity patience) is the
# default one, only the delays are shorter.
RETRY = RetryPolicy(
    initial_delay=0.01,
    max_delay=0.05,
    capacity_initial_delay=0.05,
    capacity_max_delay=0.2,
    capacity_timeout=60.0,
)
POLL = PollPolicy(initial=0.05, factor=1.5, max_interval=0.2, timeout=60.0)

# The bound on API requests per input. Without faults an input costs about 6 requests: its
# upload, the workflow graph (validation; cached, but fetched by each of the submits that
# start before the first answer), the submit, the legacy outputs call that gives the progress
# socket's address, one or two status queries, and the submits the emulator refused with 421
# during a burst. The retry policy makes at most ``max_attempts`` (4) requests per call; at
# fault rate p, 5/6 of the faults fail a request (``slow`` only delays it), so a call costs on
# average 1 / (1 - 5p/6) requests: 1.2 at p = 0.2. Twice the fault-free cost leaves room for
# that and for the longer 421 bursts that slow answers cause; a retry storm (capacity retries
# or polls without backoff, retries without a cap) would exceed it many times over.
REQUESTS_PER_TASK_BOUND = 12.0

RATES = [
    pytest.param(0.05, marks=pytest.mark.slow, id="rate-0.05"),
    pytest.param(0.1, id="rate-0.1"),
    pytest.param(0.2, marks=pytest.mark.slow, id="rate-0.2"),
]


def _emulator(
    make_emulator: MakeEmulator, rate: float, concurrency: int, task_seconds: float = 0.1
) -> EmulatorServer:
    return make_emulator(
        task_seconds=task_seconds,
        concurrency=concurrency,
        fault_rate=rate,
        fault_seed=int(rate * 1000) + 7,
        fault_slow_seconds=0.3,
        time_scale=100.0,  # webhook retries 10 emulated seconds apart: 0.1 s
        webhook_retries=3,
    )


def _check_webhooks(server: EmulatorServer, receiver: FlakyReceiver) -> dict[str, Any]:
    """Every task created got its TASK_END through, once, despite the refused deliveries."""

    def settled() -> bool:
        stats = server.stats()
        hooks = stats["webhooks"]
        return bool(hooks["delivered"] + hooks["failed"] == stats["tasks_created"])

    wait_until(settled, 20, "the webhooks to settle")
    stats = server.stats()
    assert stats["webhooks"]["failed"] == 0
    assert stats["webhooks"]["attempts_failed"] == receiver.refused > 0
    assert len(receiver.accepted) == stats["tasks_created"]
    assert set(receiver.accepted.values()) == {1}
    return stats


def _capacity_retries(caplog: pytest.LogCaptureFixture) -> int:
    """How many submits the emulator refused with 421 and the client retried."""
    return sum("[421]" in r.getMessage() for r in caplog.records if r.name == "runninghub")


def _check_outcomes(
    server: EmulatorServer,
    images: list[Path],
    outcomes: list[Any],
    record_property: Callable[[str, object], None],
) -> None:
    """``outcomes[i]`` is what input i ended with: its saved files, the
    SubmitOutcomeUnknownError of a lost answer, or the APIError of a call that spent all its
    attempts before anything was created (at fault rate p a call fails ``max_attempts`` times
    in a row with probability (5p/6)**4: 0.08% at p = 0.2)."""
    stats = server.stats()
    unknown = [i for i, o in enumerate(outcomes) if isinstance(o, SubmitOutcomeUnknownError)]
    gave_up = [i for i, o in enumerate(outcomes) if isinstance(o, APIError) and i not in unknown]
    succeeded = [i for i in range(len(images)) if i not in unknown + gave_up]
    check_unknowns_are_lost_answers([str(outcomes[i]) for i in unknown], stats["faults"])
    for i in succeeded:
        [saved] = outcomes[i]
        assert saved.sha256 == sha256(saved.path.read_bytes()) == expected_output_sha(images[i])
    check_fingerprints(
        stats,
        succeeded=[input_fingerprint(images[i]) for i in succeeded],
        unknown=[input_fingerprint(images[i]) for i in unknown],
    )
    # A call that gave up created nothing, and used up one failing fault per attempt.
    assert not {input_fingerprint(images[i]) for i in gave_up} & set(stats["tasks_by_fingerprint"])
    failing_faults = sum(n for kind, n in stats["faults"].items() if kind != "slow")
    assert len(gave_up) * RETRY.max_attempts <= failing_faults, [outcomes[i] for i in gave_up]
    per_task = requests_per_task(stats, len(images))
    record_property("faults", stats["faults"])
    record_property("unknown", len(unknown))
    record_property("gave_up", len(gave_up))
    record_property("requests_per_task", round(per_task, 2))
    assert per_task <= REQUESTS_PER_TASK_BOUND, stats["requests"]


@pytest.mark.parametrize("rate", RATES)
def test_single_runs_from_five_threads_survive_faults_and_421_bursts(
    make_emulator: MakeEmulator,
    tmp_path: Path,
    rate: float,
    record_property: Callable[[str, object], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="runninghub")
    server = _emulator(make_emulator, rate, concurrency=2)
    receiver = FlakyReceiver()
    images = make_images(tmp_path / "in", 15)
    outcomes: list[Any] = [None] * len(images)

    def run_inputs(indexes: range) -> None:
        with Client(API_KEY, base_url=server.base_url, retry=RETRY, poll=POLL) as client:
            for i in indexes:
                try:
                    task = client.run(INVERT, {"107.image": images[i]}, webhook_url=receiver.url)
                except APIError as exc:  # SubmitOutcomeUnknownError among them
                    outcomes[i] = exc
                    continue
                outcomes[i] = client.download(task, tmp_path / "out" / str(i))

    threads = [threading.Thread(target=run_inputs, args=(range(n, 15, 5),)) for n in range(5)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=100)
        assert all(o is not None for o in outcomes), "a run ended without an outcome"
        _check_outcomes(server, images, outcomes, record_property)
        _check_webhooks(server, receiver)
        assert server.stats()["max_running"] <= 2
        record_property("capacity_retries", _capacity_retries(caplog))
        assert _capacity_retries(caplog) > 0  # the five threads did hit the limit of two
    finally:
        receiver.close()


@pytest.mark.parametrize("rate", RATES)
async def test_fifty_concurrent_async_tasks_survive_faults_and_421_bursts(
    make_emulator: MakeEmulator,
    tmp_path: Path,
    rate: float,
    record_property: Callable[[str, object], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="runninghub")
    server = _emulator(make_emulator, rate, concurrency=4, task_seconds=0.2)
    receiver = FlakyReceiver()
    images = make_images(tmp_path / "in", 50)

    async def one(client: AsyncClient, i: int) -> Any:
        try:
            handle = await client.submit(INVERT, {"107.image": images[i]}, webhook_url=receiver.url)
            task = await handle.wait()
        except APIError as exc:  # SubmitOutcomeUnknownError among them
            return exc
        return await client.download(task, tmp_path / "out" / str(i))

    try:
        async with AsyncClient(API_KEY, base_url=server.base_url, retry=RETRY, poll=POLL) as c:
            outcomes = await asyncio.gather(*(one(c, i) for i in range(len(images))))
        _check_outcomes(server, images, list(outcomes), record_property)
        stats = await asyncio.to_thread(_check_webhooks, server, receiver)
        assert stats["max_running"] <= 4
        record_property("capacity_retries", _capacity_retries(caplog))
        assert _capacity_retries(caplog) > 0  # fifty at once did hit the limit of four
    finally:
        receiver.close()


async def _finish_batch(base_url: str, ledger: Path) -> dict[str, int]:
    """Resume until no row is pending or running (a run leaves rows behind when their
    submits keep failing; the next run picks them up)."""
    for _ in range(8):
        report = await resume_batch(base_url, ledger)
        if report.counts["pending"] + report.counts["running"] == 0:
            return report.counts
    raise AssertionError(f"rows still open after 8 resumes: {report.counts}")


@pytest.mark.parametrize("rate", RATES)
async def test_two_hundred_row_batch_survives_faults_and_421_bursts(
    make_emulator: MakeEmulator,
    tmp_path: Path,
    rate: float,
    record_property: Callable[[str, object], None],
) -> None:
    # Tasks of 0.25 s: long enough that six submitters meet the limit of four even when a
    # busy machine makes each submit slow (with 0.1 s tasks they could miss each other).
    server = _emulator(make_emulator, rate, concurrency=4, task_seconds=0.25)
    images = make_images(tmp_path / "in", 200)
    out = tmp_path / "out"
    report = await start_batch(server.base_url, tmp_path / "in", out, concurrency=6)
    counts = report.counts
    if counts["pending"] + counts["running"]:
        counts = await _finish_batch(server.base_url, out / "batch.sqlite")
    assert counts["succeeded"] + counts["unknown"] == counts["total"] == 200, counts
    with Ledger.open(out / "batch.sqlite") as ledger:
        rows = ledger.rows()
        attempts = ledger.attempts()
    stats = server.stats()
    unknown = [r for r in rows if r.state is RowState.UNKNOWN]
    for row in unknown:
        assert (row.error or "").startswith("submit outcome unknown"), row.error
    check_unknowns_are_lost_answers([r.error or "" for r in unknown], stats["faults"])
    succeeded = [r for r in rows if r.state is RowState.SUCCEEDED]
    for row in succeeded:
        [output] = row.outputs
        source = images[row.row - 1]
        assert sha256(Path(output).read_bytes()) == expected_output_sha(source), row
    check_fingerprints(
        stats,
        succeeded=[input_fingerprint(images[r.row - 1]) for r in succeeded],
        unknown=[input_fingerprint(images[r.row - 1]) for r in unknown],
    )
    assert not list(out.rglob("*.part")), "a partial download was left behind"
    assert stats["max_running"] <= 4
    refused = [a for a in attempts if "[421]" in (a.error or "")]
    record_property("capacity_refusals", len(refused))
    assert refused, "six at once never hit the emulator's limit of four"
    per_task = requests_per_task(stats, 200)
    record_property("faults", stats["faults"])
    record_property("unknown", len(unknown))
    record_property("requests_per_task", round(per_task, 2))
    assert per_task <= REQUESTS_PER_TASK_BOUND, stats["requests"]


async def test_an_outage_during_the_balance_check_does_not_stop_the_batch(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    """The balance check is a guard: when it cannot be made, the batch still runs."""
    server = make_emulator(task_seconds=0.05, concurrency=4)
    images = make_images(tmp_path / "in", 3)
    outage_over = False

    def end_outage_once_running(progress: object) -> None:
        nonlocal outage_over
        if not outage_over:  # the first report comes right after the balance check
            server.configure(fault_rate=0.0)
            outage_over = True

    async with AsyncClient(API_KEY, base_url=server.base_url, retry=RETRY, poll=POLL) as client:
        graph = await client.workflow_graph(INVERT)
        plan = plan_batch(read_inputs(tmp_path / "in"), graph, workflow_id=INVERT)
        spec = BatchSpec(
            workflow_id=INVERT, out_dir=str(tmp_path / "out"), columns=plan.columns, concurrency=2
        )
        server.configure(fault_rate=1.0, fault_kinds=["http_503"])
        with ledger_for_plan(tmp_path / "out" / "batch.sqlite", plan, spec) as ledger:
            runner = BatchRunner(ledger, [client], on_progress=end_outage_once_running)
            report = await runner.run_async()
    assert report.complete, report
    assert any("balance of key #1 not checked" in e for e in report.errors), report.errors
    stats = server.stats()
    assert stats["requests"]["/uc/openapi/accountStatus"] == RETRY.max_attempts
    check_fingerprints(stats, [input_fingerprint(i) for i in images], [])
