"""The rows of a batch ledger: their states, the legal moves between them, and their records."""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .._models import NodeOverride
from .errors import LedgerError
from .spec import decode_overrides

__all__ = [
    "ALLOWED_TRANSITIONS",
    "ATTEMPT_SELECT",
    "ROW_SELECT",
    "Attempt",
    "LedgerRow",
    "RowState",
    "attempt_from_db",
    "row_from_db",
]


class RowState(enum.Enum):
    """Where one input row stands."""

    PENDING = "pending"
    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    UNKNOWN = "unknown"

    @property
    def is_final(self) -> bool:
        return self in (RowState.SUCCEEDED, RowState.FAILED, RowState.CANCELED, RowState.UNKNOWN)


_S = RowState
ALLOWED_TRANSITIONS: frozenset[tuple[RowState, RowState]] = frozenset(
    {
        (_S.PENDING, _S.SUBMITTING),
        (_S.SUBMITTING, _S.SUBMITTED),  # the service answered with a task id
        (_S.SUBMITTING, _S.PENDING),  # the service refused and provably created nothing
        (_S.SUBMITTING, _S.FAILED),  # refused for good (bad input, funds...): nothing created
        (_S.SUBMITTING, _S.UNKNOWN),  # the answer was lost, or the process died meanwhile
        (_S.SUBMITTED, _S.SUCCEEDED),
        (_S.SUBMITTED, _S.FAILED),
        (_S.SUBMITTED, _S.CANCELED),
        (_S.FAILED, _S.PENDING),  # retry, on request
        (_S.CANCELED, _S.PENDING),
        (_S.UNKNOWN, _S.PENDING),
    }
)


@dataclass(frozen=True)
class LedgerRow:
    """One input row as the ledger last recorded it."""

    row: int
    state: RowState
    fingerprint: str
    overrides_json: str = field(repr=False)
    task_id: str | None = None
    key_index: int | None = None
    attempt: int = 0
    outputs: tuple[str, ...] = ()
    coins: Decimal | None = None
    error: str | None = None
    key_id: str | None = None  # which key submitted it, by a hash (see batch._keys)
    input_json: str | None = field(default=None, repr=False)  # see batch._naming.row_input

    @property
    def overrides(self) -> list[NodeOverride]:
        return decode_overrides(self.overrides_json)

    @property
    def input(self) -> dict[str, Any]:
        """The row's input as read: ``cells`` (column -> value) and ``file`` (a local file's
        name, or None); empty for a ledger made before inputs were recorded."""
        if self.input_json is None:
            return {}
        loaded = json.loads(self.input_json)
        return loaded if isinstance(loaded, dict) else {}


@dataclass(frozen=True)
class Attempt:
    """One submission of a row (the history survives retries)."""

    row: int
    attempt: int
    key_index: int | None
    task_id: str | None
    state: RowState
    error: str | None
    coins: Decimal | None
    started_at: float
    ended_at: float | None
    key_id: str | None = None


ROW_SELECT = (
    "SELECT row, state, fingerprint, overrides, task_id, key_index, attempt, outputs, coins, error,"
    " key_id, input FROM rows"
)
ATTEMPT_SELECT = (
    "SELECT row, attempt, key_index, task_id, state, error, coins, started_at, ended_at, key_id"
    " FROM attempts"
)


def row_from_db(r: Sequence[Any]) -> LedgerRow:
    """A row as stored; a value no runninghub wrote (a damaged file) raises LedgerError."""
    try:
        return LedgerRow(
            row=int(r[0]),
            state=RowState(r[1]),
            fingerprint=str(r[2]),
            overrides_json=str(r[3]),
            task_id=r[4],
            key_index=r[5],
            attempt=int(r[6]),
            outputs=tuple(str(o) for o in json.loads(r[7])),
            coins=_decimal(r[8]),
            error=r[9],
            key_id=r[10],
            input_json=r[11],
        )
    except (ValueError, TypeError, ArithmeticError, RecursionError) as exc:
        raise LedgerError(f"row {r[0]!r} of the ledger is garbled ({exc})") from None


def attempt_from_db(r: Sequence[Any]) -> Attempt:
    try:
        return Attempt(
            row=int(r[0]),
            attempt=int(r[1]),
            key_index=r[2],
            task_id=r[3],
            state=RowState(r[4]),
            error=r[5],
            coins=_decimal(r[6]),
            started_at=float(r[7]),
            ended_at=None if r[8] is None else float(r[8]),
            key_id=r[9],
        )
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise LedgerError(f"attempt {r[1]!r} of row {r[0]!r} is garbled ({exc})") from None


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))
