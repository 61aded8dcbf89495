"""What ``runninghub batch`` shows at the end: the report (the live progress is
``_batch_progress``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ._batch_limits import EXIT_LIMIT, how_to_go_on
from ._batch_progress import ProgressLine
from ._context import CliState

if TYPE_CHECKING:
    from runninghub.batch import BatchReport

__all__ = ["ProgressLine", "finish"]


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
    human += _failed_rows(report)
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


_LISTED = 20  # failed rows named in the summary; the manifest has every one


def _failed_rows(report: BatchReport) -> list[str]:
    """One line per row that did not succeed, with why (the first ones, then a count)."""
    failures = report.failures
    lines = [
        f"row {row} {status}: {' '.join(why.split()) or 'no reason given'}"
        for row, status, why in failures
    ]
    if len(lines) > _LISTED:
        lines = [*lines[:_LISTED], f"... and {len(lines) - _LISTED} more in the manifest"]
    return lines


def _exit_code(report: BatchReport) -> int:
    counts = report.counts
    if counts["failed"] or counts["canceled"] or counts["unknown"]:
        return 1
    if counts["pending"] or counts["running"]:
        # Rows left behind by errors (see the warnings) or by a spend guard (`stopped`):
        # `batch resume` goes on, with higher limits for the latter.
        return 4 if not report.stopped else EXIT_LIMIT
    return 0
