"""``runninghub spend``: what the recorded tasks cost, by day, workflow, model or key."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ._context import CliState, json_option, pass_state
from ._journal_cli import iso_time, open_journal, safe_data, since_timestamp

if TYPE_CHECKING:
    from runninghub.journal import SpendRow

__all__ = ["spend"]

_GROUPINGS = ("day", "workflow", "model", "key")
_HEADERS = ["group", "tasks", "failed", "unknown", "coins", "money", "seconds"]


@click.command()
@click.option("--since", default="30d", show_default=True, metavar="AGE", help="7d, 12h, 30m ...")
@click.option(
    "--by",
    type=click.Choice(_GROUPINGS),
    default="day",
    show_default=True,
    help="day; workflow (and AI apps); model (hosted models); key (by its hash).",
)
@json_option
@pass_state
def spend(state: CliState, since: str, by: str) -> None:
    """Show what the recorded tasks cost: coins, money, task and failure counts.

    Sums the usage RunningHub reported for each task the journal followed to its end;
    submits with an unknown outcome are counted apart (their cost is not known).

    \b
    Examples:
      runninghub spend
      runninghub spend --since 7d --by workflow --json
    """
    from runninghub.journal import total

    start = since_timestamp(since, "--since")
    journal = open_journal(create=False)
    rows: list[SpendRow] = []
    if journal is not None:
        with journal:
            journal.reconcile()
            rows = journal.spend(since=start, by=by)
    summed = total(rows)
    if state.json:
        state.render.document(
            safe_data(
                {
                    "since": iso_time(start),
                    "by": by,
                    "groups": [row.to_dict() for row in rows],
                    "total": summed.to_dict(),
                }
            )
        )
        return
    if not rows:
        state.render.note(f"no tasks recorded in the last {since}")
    state.render.table(_HEADERS, [_cells(row) for row in [*rows, summed]])


def _cells(row: SpendRow) -> list[Any]:
    values = safe_data(row.to_dict())
    return [
        values["group"],
        row.tasks,
        row.failures,
        row.unknown,
        values["coins"],
        values["money"],
        values["seconds"],
    ]
