"""Pure parts of the batch runner: concurrency slots, output names, the manifest, progress."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

import pytest

from runninghub import AsyncClient
from runninghub.batch import BatchInputError, BatchProgress, LedgerRow, Manifest, RowState
from runninghub.batch._queue_pauses import QueuePauses
from runninghub.batch._slots import SlotPool
from runninghub.batch.report import check_name_template, render_name, state_counts
from runninghub.emulator import EmulatorServer
from tests.conftest import API_KEY


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_slots_spread_over_keys_and_refill_as_soon_as_one_frees() -> None:
    pool = SlotPool([2, 2])
    first = [await pool.acquire() for _ in range(4)]
    assert sorted(first) == [0, 0, 1, 1]
    assert first[:2] in ([0, 1], [1, 0])  # alternates while the keys have equal room
    waiter = asyncio.ensure_future(pool.acquire())
    await asyncio.sleep(0)
    assert not waiter.done()  # all four slots taken
    await pool.release(1, finished=True)
    assert await asyncio.wait_for(waiter, 1.0) == 1


async def test_a_capacity_refusal_lowers_the_limit_and_successes_raise_it_again() -> None:
    pool = SlotPool([4])
    for _ in range(4):
        await pool.acquire()
    await pool.refused(0)  # 4 in flight, the service took 3 at most
    await pool.refused(0)  # and then only 2
    assert pool.limits() == [2]
    assert pool.in_use() == 2
    await pool.release(0, finished=True)
    await pool.release(0, finished=True)  # two clean finishes at limit 2
    assert pool.limits() == [3]
    for _ in range(3):
        await pool.acquire()
        await pool.release(0, finished=True)
    assert pool.limits() == [4]  # back to the ceiling, never above
    for _ in range(8):
        await pool.acquire()
        await pool.release(0, finished=True)
    assert pool.limits() == [4]


async def test_a_key_refused_with_nothing_of_ours_running_cools_down() -> None:
    clock = FakeClock()
    pool = SlotPool([2, 1], clock=clock)
    assert await pool.acquire() == 0
    await pool.refused(0)  # refused while none of our tasks run there: foreign load
    assert pool.limits() == [1, 1]
    assert await pool.acquire() == 1  # the other key is used meanwhile
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(pool.acquire(), 0.05)
    clock.now += 1.0  # the cooldown is over
    assert await pool.acquire() == 0


def test_a_pool_needs_a_positive_limit() -> None:
    with pytest.raises(ValueError):
        SlotPool([0])


def test_output_names_follow_the_template_and_stay_in_the_directory() -> None:
    template = "{row:05d}_{node}_{index}.{ext}"
    assert render_name(template, row=7, node="9", index=1, n=1, ext="png", task_id="1") == (
        "00007_9_1.png"
    )
    assert render_name("{row}_{node}_{n}.{ext}", row=1, node="../x", n=0, ext="png") == (
        "1_.._x_0.png"
    )
    assert check_name_template("{task_id}-{row}-{n}.{ext}") == "{task_id}-{row}-{n}.{ext}"


@pytest.mark.parametrize(
    "template",
    ["{node}_{index}.{ext}", "{row}.{ext}", "{row}_{nope}.{ext}", "sub/{row}_{n}.{ext}", "{row"],
)
def test_templates_that_could_collide_or_escape_are_refused(template: str) -> None:
    with pytest.raises(BatchInputError):
        check_name_template(template)


def _row(number: int, state: RowState, **kwargs: object) -> LedgerRow:
    return LedgerRow(number, state, f"fp{number}", "[]", **kwargs)  # type: ignore[arg-type]


def test_the_manifest_is_appended_then_compacted_to_one_line_per_row(tmp_path: Path) -> None:
    manifest = Manifest(tmp_path / "out" / "manifest.jsonl")
    manifest.append(_row(2, RowState.FAILED, task_id="8", error="boom", attempt=1))
    manifest.append(_row(2, RowState.SUCCEEDED, task_id="9", outputs=("/o/2.png",), attempt=2))
    with manifest.path.open("a") as handle:
        handle.write('{"row": 3, "sta')  # a line torn by a crash
    assert manifest.read()[2]["status"] == "succeeded"
    manifest.compact(
        [
            _row(1, RowState.PENDING),
            _row(2, RowState.SUCCEEDED, task_id="9", outputs=("/o/2.png",), coins=Decimal(3)),
        ]
    )
    lines = [json.loads(x) for x in manifest.path.read_text().splitlines()]
    assert lines == [
        {
            "row": 1,
            "input": None,  # a row recorded without its input (a ledger older than that)
            "input_file": None,
            "status": "pending",
            "task_id": None,
            "outputs": [],
            "error": None,
            "coins": None,
            "attempts": 0,
        },
        {
            "row": 2,
            "input": None,
            "input_file": None,
            "status": "succeeded",
            "task_id": "9",
            "outputs": ["/o/2.png"],
            "error": None,
            "coins": 3,
            "attempts": 0,
        },
    ]
    assert [p.name for p in manifest.path.parent.iterdir()] == ["manifest.jsonl"]


def test_status_counts_name_every_state_and_the_totals() -> None:
    counts = state_counts({RowState.SUCCEEDED: 3, RowState.SUBMITTED: 2, RowState.SUBMITTING: 1})
    assert counts["total"] == 6
    assert counts["running"] == 3
    assert counts["unknown"] == 0 and counts["pending"] == 0


def test_progress_rate_and_eta() -> None:
    progress = BatchProgress(
        total=10,
        succeeded=4,
        failed=1,
        canceled=0,
        unknown=0,
        running=2,
        queued=3,
        elapsed=5.0,
        finished_this_run=5,
    )
    assert progress.done == 5
    assert progress.rate == 1.0
    assert progress.eta == 5.0
    idle = BatchProgress(10, 0, 0, 0, 0, 0, 10, 1.0, 0)
    assert idle.rate is None and idle.eta is None


def test_an_ambiguous_refusal_of_a_submit_is_never_released_for_resubmission() -> None:
    from runninghub import APIConnectionError, CapacityError, ServerError
    from runninghub._errors import APIError, error_for_code
    from runninghub._recording import may_have_created as _may_have_created

    # the service failed on its side, or answered a code we do not know: a task may exist
    assert _may_have_created(error_for_code("1000", "unknown error"))
    assert _may_have_created(ServerError("boom", code="500"))
    assert _may_have_created(error_for_code("99999", "never documented"))
    assert _may_have_created(APIError("refused", code="433", task_id="1900000000000000001"))
    # provably nothing created: safe to put back in the queue
    assert not _may_have_created(CapacityError("full", code="421"))
    assert not _may_have_created(APIConnectionError("refused"))


async def test_a_queue_pause_lasts_while_a_row_refused_there_still_waits(
    emulator: EmulatorServer,
) -> None:
    # Two rows refused on key 0; one is then submitted on another key: the pause goes on
    # for the other, and ends once no row refused there waits (a display stops saying it).
    pauses, told = QueuePauses(), []
    async with AsyncClient(API_KEY, base_url=emulator.base_url) as client:
        await pauses.refused(0, 1, "queue full", client, lambda: told.append("told"))
        await pauses.refused(0, 2, "queue full", client, lambda: told.append("told"))
    assert told == ["told"]  # one pause, told once
    assert [(p.key, p.running, p.limit) for p in pauses.current()] == [(0, 0, 2)]  # its status
    pauses.settled(1)
    assert [p.key for p in pauses.current()] == [0]
    pauses.settled(2)
    assert pauses.current() == ()
