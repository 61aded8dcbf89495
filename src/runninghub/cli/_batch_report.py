"""What ``runninghub batch`` shows: the live progress line and the final report."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

import click

from ._batch_limits import EXIT_LIMIT, how_to_go_on
from ._context import CliState

if TYPE_CHECKING:
    from runninghub.batch import BatchProgress, BatchReport

__all__ = ["ProgressLine", "finish"]


class ProgressLine:
    """One live line on stderr while the batch runs (only on a terminal, never with --quiet)."""

    def __init__(self, state: CliState) -> None:
        self._enabled = not state.quiet and sys.stderr.isatty()
        self._last = 0.0
        self._shown = False

    def update(self, progress: BatchProgress) -> None:
        now = time.monotonic()
        if not self._enabled or now - self._last < 0.1:
            return
        self._last = now
        rate = f"{progress.rate:.2f}/s" if progress.rate else "-"
        eta = f"{progress.eta:.0f}s" if progress.eta is not None else "-"
        text = (
            f"{progress.done}/{progress.total} done  {progress.running} running"
            f"  {progress.queued} queued  {progress.failed + progress.unknown} failed"
            f"  {rate}  eta {eta}"
        )
        click.echo(f"\r\x1b[K{text}", err=True, nl=False)
        self._shown = True

    def close(self) -> None:
        if self._shown:
            click.echo("\r\x1b[K", err=True, nl=False)


def finish(state: CliState, report: BatchReport) -> None:
    """Print the report; exit 1 when rows failed, 4 when rows were left pending (by errors or
    by --max-tasks/--max-coins)."""
    counts = report.counts
    human = [
        f"{counts['succeeded']}/{counts['total']} succeeded, {counts['failed']} failed,"
        f" {counts['canceled']} canceled, {counts['unknown']} unknown,"
        f" {counts['pending']} pending, {counts['running']} running",
        f"{report.tasks_submitted} tasks submitted in {report.elapsed:.1f} s,"
        f" {report.coins} coins ({report.coins_total} in all)",
        f"manifest: {report.manifest}",
    ]
    if report.stopped:
        human.append(f"stopped submitting: {report.stopped}")
    state.render.result(report.to_dict(), human)
    for error in report.errors[:20]:
        state.render.warn(error)
    how_to_go_on(state, report)
    if counts["unknown"]:
        state.render.note(
            "unknown rows may or may not have run; `batch retry --unknown` resubmits them"
        )
    code = _exit_code(report)
    if code:
        # The batch ran but not every row succeeded: an exit code, not an error to report.
        click.get_current_context().exit(code)


def _exit_code(report: BatchReport) -> int:
    counts = report.counts
    if counts["failed"] or counts["canceled"] or counts["unknown"]:
        return 1
    if counts["pending"] or counts["running"]:
        # Rows left behind by errors (see the warnings) or by a spend guard (`stopped`):
        # `batch resume` goes on, with higher limits for the latter.
        return 4 if not report.stopped else EXIT_LIMIT
    return 0
