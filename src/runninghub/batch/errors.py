"""The errors of a batch ledger."""

from __future__ import annotations

from .._errors import InvalidRequestError, RunningHubError

__all__ = [
    "IllegalTransitionError",
    "LedgerBusyError",
    "LedgerError",
    "NotALedgerError",
    "OutputFolderTakenError",
    "StaleStateError",
]


class LedgerError(RunningHubError):
    """The ledger cannot be used (wrong file, newer schema, illegal transition...)."""


class NotALedgerError(LedgerError):
    """The file exists but is not a batch ledger."""


class LedgerBusyError(LedgerError):
    """Another process is running a batch on this ledger."""


class IllegalTransitionError(LedgerError):
    """The state machine does not allow this move (e.g. ``succeeded -> pending``)."""


class StaleStateError(LedgerError):
    """The row was not in the expected state: someone else moved it first."""


class OutputFolderTakenError(InvalidRequestError):
    """The output folder holds another batch's outputs (exit 2: choose another ``--out``)."""
