"""What to do once a task is submitted: the options ``run``, ``app run``, ``model run``,
``preset run`` and ``wait`` share (deadline, cancel, where and whether to save).

Kept apart from ``run`` so that ``wait`` takes the very same options without importing the
run command (and its helpers) it does not use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

import click

from ._context import with_options
from ._option_kinds import dir_option
from ._seconds import SECONDS

__all__ = ["FinishChoices", "finish_options", "overwrite_option"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class FinishChoices:
    """How to wait for a submitted task and what to do with its outputs."""

    timeout: float | None = None
    out: Path | None = None
    cancel_on_interrupt: bool = False
    cancel_on_timeout: bool = False
    overwrite: bool = False
    download: bool = True

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> FinishChoices:
        """The choices from a command's parameters; a contradiction is a usage error (exit 2)."""
        if params["no_download"]:
            for name in ("out", "overwrite"):
                if params[name]:
                    raise click.UsageError(f"--no-download saves nothing: drop --{name}")
        named_alike = {f.name: params[f.name] for f in fields(cls) if f.name != "download"}
        return cls(**named_alike, download=not params["no_download"])


def overwrite_option(func: F) -> F:
    """``--overwrite``: replace a different file of the same name instead of numbering."""
    return click.option(
        "--overwrite",
        is_flag=True,
        help="Replace a saved file of the same name (default: keep it, number the new one;"
        " a file already saved with the same bytes is never copied twice).",
    )(func)


def finish_options(func: F) -> F:
    """``--timeout``, ``--out``, ``--overwrite``, ``--no-download`` and the two cancels."""
    options = [
        click.option(
            "--timeout",
            type=SECONDS,
            metavar="S",
            help="Stop waiting after S seconds, S > 0 (exit 5; the task keeps running"
            " unless --cancel-on-timeout).",
        ),
        click.option(
            "--cancel-on-timeout",
            is_flag=True,
            help="When --timeout (or the default deadline) runs out, cancel the task.",
        ),
        dir_option("--out", help="Save outputs here (default ./runninghub-outputs/TASK_ID/)."),
        overwrite_option,
        click.option("--no-download", is_flag=True, help="Print the outputs' URLs; save nothing."),
        click.option(
            "--cancel-on-interrupt",
            is_flag=True,
            help="Ctrl-C cancels the task instead of only stopping the wait.",
        ),
    ]
    return with_options(func, options)
