"""The spend guards of a batch (``--max-tasks``, ``--max-coins``), counting tasks in flight.

A task's price is known only once it has finished, so a guard that counted finished tasks
alone let every slot's task through on the last coin (``--max-coins 3`` spent 4 at
concurrency 2). The rule here: a submit goes out only if the coins already spent, plus the
expected price of every task still in flight, plus the expected price of this one stay within
``--max-coins``. A model's row is expected to cost its list price (``_targets.ExpectedSpend``);
any other task the highest cost seen for this batch (in this run or an earlier one of the same
ledger): a cheap failed task never lowers it. While no price is known yet, one task without a
list price runs at a time until the first one is priced: the guard never bets on a price it
has not seen.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import TYPE_CHECKING

from .spec import BatchSpec

if TYPE_CHECKING:
    from ._targets import ExpectedSpend
    from .ledger import LedgerRow

__all__ = ["SubmitLimits"]


class SubmitLimits:
    """Counts tasks created and coins spent or promised, and says when submitting must stop."""

    def __init__(
        self,
        spec: BatchSpec,
        *,
        tasks_before: int,
        coins_before: Decimal,
        last_price: Decimal | None,
        list_prices: ExpectedSpend | None = None,
    ) -> None:
        self.max_tasks = spec.max_tasks
        self.max_coins = None if spec.max_coins is None else Decimal(spec.max_coins)
        self.tasks = tasks_before  # attempts that created (or may have created) a task
        self.coins_before = coins_before
        self.coins_this_run = Decimal(0)
        self.price = last_price  # the expected cost of one more task; None: not known yet
        self.active = 0  # tasks reserved or running, whose cost is still to come
        self.unpriced = 0  # tasks that may exist but were left behind (lost, unknown submits)
        self._settled = asyncio.Event()
        self._list_prices = list_prices  # a model's rows in flight, at their list prices

    @property
    def spent(self) -> Decimal:
        return self.coins_before + self.coins_this_run

    def to_dict(self) -> dict[str, object]:
        """The guards and where they stand, as numbers (``None``: no such limit)."""
        return {
            "max_tasks": self.max_tasks,
            "max_coins": None if self.max_coins is None else float(self.max_coins),
            "tasks_created": self.tasks,
            "coins_spent": float(self.spent),
        }

    def reason_to_stop(self, row: LedgerRow | None = None) -> str | None:
        """Why no further task (``row``, when known) may be submitted (None: one more may go)."""
        if self.max_tasks is not None and self.tasks >= self.max_tasks:
            return f"--max-tasks {self.max_tasks} reached"
        if self.max_coins is None:
            return None
        if self.spent >= self.max_coins:
            return f"--max-coins {self.max_coins} reached ({self.spent} spent)"
        listed, listed_sum = self._listed()
        row_price = self._list_price(row)
        unlisted = self._unlisted_in_flight(listed) + (row_price is None)
        ahead = listed_sum + (row_price or 0) + (self.price or 0) * unlisted
        if self.spent + ahead <= self.max_coins:
            return None
        in_flight = self.active + self.unpriced
        if not listed and row_price is None:
            return (
                f"--max-coins {self.max_coins} reached ({self.spent} spent,"
                f" {in_flight} more in flight at about {self.price} each)"
            )
        return (
            f"--max-coins {self.max_coins} reached ({self.spent} spent, {ahead} expected for"
            f" the {in_flight} in flight and the next, list prices counted)"
        )

    async def wait_for_price(self, row: LedgerRow | None = None) -> None:
        """Under ``--max-coins``, while no price has been seen, a task without a list price
        waits until no other such task is in flight: the first one tells the price."""
        while (
            self.max_coins is not None
            and self.price is None
            and self._list_price(row) is None
            and self._unlisted_in_flight(self._listed()[0]) > 0
        ):
            self._settled.clear()
            await self._settled.wait()

    def _listed(self) -> tuple[int, Decimal]:
        return (0, Decimal(0)) if self._list_prices is None else self._list_prices.held

    def _list_price(self, row: LedgerRow | None) -> Decimal | None:
        return None if self._list_prices is None else self._list_prices.cost(row)

    def _unlisted_in_flight(self, listed: int) -> int:
        """Tasks in flight (or left unpriced) that hold no list price."""
        return max(0, self.active + self.unpriced - listed)

    def attached(self) -> None:
        """A task from an earlier run, still running: its cost is still to come."""
        self.active += 1

    def reserve(self, row: LedgerRow | None = None) -> None:
        """A submit is about to be attempted: it counts as a task and as a cost to come."""
        self.tasks += 1
        self.active += 1
        if self._list_prices is not None and row is not None:
            self._list_prices.reserve(row)

    def unreserve(self, row: int | None = None) -> None:
        """The attempt created nothing (refused, or never sent)."""
        self.tasks -= 1
        self._end_flight(row)

    def settled(self, coins: Decimal | None, row: int | None = None) -> None:
        """A task ended; ``coins`` is what it cost (None: not reported)."""
        if coins is not None:
            self.coins_this_run += coins
            self.price = coins if self.price is None else max(self.price, coins)
        self._end_flight(row)

    def left_unpriced(self) -> None:
        """A task that may exist was left behind (its submit's answer was lost, or the wait
        gave up): its cost may still come, so it stays counted at the expected price (and a
        model's row at its list price)."""
        self.unpriced += 1
        self.active = max(0, self.active - 1)
        self._settled.set()

    def _end_flight(self, row: int | None) -> None:
        self.active = max(0, self.active - 1)
        if self._list_prices is not None and row is not None:
            self._list_prices.settle(row)
        self._settled.set()
