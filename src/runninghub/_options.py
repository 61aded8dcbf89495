"""The options a flow carries, as small typed objects instead of long keyword lists.

The public methods keep their keyword arguments (that is the API); they pack them here once,
and everything below them passes one object.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from ._errors import InvalidRequestError
from ._policy import PollPolicy
from ._waiting import Progress

__all__ = ["ProgressCallback", "SaveOptions", "SubmitOptions", "WaitOptions", "WorkflowJSON"]

WorkflowJSON: TypeAlias = Mapping[str, Any] | str
# Called with each status change and node progress; the async face awaits what it returns.
ProgressCallback: TypeAlias = Callable[[Progress], Any]


@dataclass(frozen=True)
class SubmitOptions:
    """How to submit: the graph to send, webhook, instance, metadata and validation."""

    workflow_json: WorkflowJSON | None = None
    webhook_url: str | None = None
    instance: str = "default"
    add_metadata: bool = True
    validate: bool | None = None  # None: the client's setting
    personal_queue: bool | None = None  # usePersonalQueue (exclusive keys); None: not sent
    retain_seconds: int | None = None  # keep the machine warm after the task (10-180)
    access_password: str | None = field(default=None, repr=False)  # never shown or logged


@dataclass(frozen=True)
class WaitOptions:
    """How to wait: deadline (None: the poll policy's), cancel on timeout, progress callback."""

    timeout: float | None = None
    cancel_on_timeout: bool = False
    on_progress: ProgressCallback | None = None

    def __post_init__(self) -> None:
        # A zero deadline would submit a paid task and time out at once: refused before any
        # submit (not waiting at all is ``submit`` / ``--no-wait``).
        if self.timeout is not None and not self.timeout > 0:
            raise InvalidRequestError(
                f"timeout must be more than 0 seconds, got {self.timeout}",
                hint="to submit without waiting, use submit() (--no-wait on the command line)",
            )

    policy: PollPolicy | None = None  # None: the client's


@dataclass(frozen=True)
class SaveOptions:
    """Where a run saves its outputs, and whether a different file of the same name is replaced."""

    out_dir: str | os.PathLike[str]
    overwrite: bool = False

    @classmethod
    def of(cls, out_dir: str | os.PathLike[str] | None, overwrite: bool) -> SaveOptions | None:
        """None (save nothing) without an ``out_dir``."""
        return None if out_dir is None else cls(out_dir, overwrite)
