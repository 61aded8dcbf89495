"""The --max-coins rule of batch._limits, step by step (pure: no sockets, no sleeps)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from runninghub.batch import BatchSpec
from runninghub.batch._limits import SubmitLimits


def _limits(max_coins: str | None, *, price: str | None = None) -> SubmitLimits:
    spec = BatchSpec(workflow_id="1", out_dir="out", max_coins=max_coins)
    known = None if price is None else Decimal(price)
    return SubmitLimits(spec, tasks_before=0, coins_before=Decimal(0), last_price=known)


def test_tasks_in_flight_count_at_the_highest_price_seen() -> None:
    limits = _limits("10", price="3")
    limits.reserve()
    limits.reserve()
    assert limits.reason_to_stop() is None  # 0 spent + 3 x (2 running + 1) = 9 <= 10
    limits.reserve()
    assert limits.reason_to_stop() == (
        "--max-coins 10 reached (0 spent, 3 more in flight at about 3 each)"
    )
    limits.settled(Decimal(0))  # a task that failed for free does not make the next cheaper
    assert limits.price == 3 and limits.reason_to_stop() is None


def test_with_no_price_known_the_next_submit_waits_for_the_running_one() -> None:
    async def scenario() -> list[str]:
        limits = _limits("5")
        limits.reserve()
        order: list[str] = []

        async def next_submit() -> None:
            await limits.wait_for_price()
            order.append("next submit")

        waiting = asyncio.ensure_future(next_submit())
        await asyncio.sleep(0)
        order.append("first task priced")
        limits.settled(Decimal(2))
        await waiting
        return order

    assert asyncio.run(scenario()) == ["first task priced", "next submit"]


def test_without_max_coins_nothing_waits_and_max_tasks_counts_reservations() -> None:
    spec = BatchSpec(workflow_id="1", out_dir="out", max_tasks=2)
    limits = SubmitLimits(spec, tasks_before=1, coins_before=Decimal(0), last_price=None)
    limits.reserve()
    asyncio.run(limits.wait_for_price())  # returns at once: no coin limit
    assert limits.reason_to_stop() == "--max-tasks 2 reached"
    limits.unreserve()  # the attempt created nothing
    assert limits.reason_to_stop() is None
