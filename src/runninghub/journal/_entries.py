"""What ``runninghub history`` lists: one frozen line per submit, and where it stands.

Apart from the other records so that listing the journal loads only these two: each frozen
dataclass costs the process start of ``history`` about a millisecond to build.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .._numbers import json_number

__all__ = ["HistoryEntry", "IntentState", "json_amount"]


class IntentState(enum.Enum):
    """Where a submit stands, as far as this machine can know."""

    SUBMITTING = "submitting"  # written before the submit was sent; the answer is awaited
    SUBMITTED = "submitted"  # the service answered with a task id
    REFUSED = "refused"  # the service refused it and created nothing
    UNKNOWN = "unknown"  # the answer was lost, or the process died before recording it


# The two fields whose JSON key is shorter than the field's name.
_SHORT_NAMES = {"intent_id": "intent", "batch_row": "row"}


@dataclass(frozen=True)
class HistoryEntry:
    """One line of ``runninghub history``."""

    intent_id: int
    created_at: float
    kind: str
    target: str
    state: IntentState
    task_id: str | None
    status: str | None
    coins: Decimal | None
    money: Decimal | None
    summary: str
    batch: str | None = None
    batch_row: int | None = None

    @property
    def shown_status(self) -> str:
        """The task's status once there is a task; else where the submit stands."""
        return (
            self.status
            if self.state is IntentState.SUBMITTED and self.status
            else (self.state.value)
        )

    def to_dict(self) -> dict[str, Any]:
        """Every field under its own name but two (``intent``, ``row``), as JSON values."""
        shown = {
            **vars(self),
            "state": self.state.value,
            "status": self.shown_status,
            "coins": json_amount(self.coins),
            "money": json_amount(self.money),
        }
        return {_SHORT_NAMES.get(name, name): value for name, value in shown.items()}


def json_amount(value: Decimal | None) -> int | float | None:
    """An amount (or its absence) as JSON shows it: a number, or null."""
    return None if value is None else json_number(value)
