"""What ``batch resume`` says about its spend guards, and how to go on after one stopped it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._context import CliState

if TYPE_CHECKING:
    from runninghub.batch import BatchReport, BatchSpec, Ledger

__all__ = ["EXIT_LIMIT", "how_to_go_on", "show_limits"]

# Rows left pending by --max-tasks or --max-coins: work not done, to be finished by a resume,
# as when the API refused it (exit 4 in the table); the JSON report's `stopped` says which.
EXIT_LIMIT = 4

_LIMIT_FLAGS = ("--max-tasks", "--max-coins")


def show_limits(state: CliState, ledger: Ledger, spec: BatchSpec, options: dict[str, Any]) -> None:
    """One note naming each limit, whether it came from the ledger or this command line."""
    given = {name for name in ("concurrency", "max_tasks", "max_coins") if options.get(name)
             is not None}  # fmt: skip

    def origin(name: str) -> str:
        return "given now" if name in given else "from the ledger"

    concurrency = "auto" if spec.concurrency is None else str(spec.concurrency)
    parts = [f"concurrency {concurrency} ({origin('concurrency')})"]
    created = ledger.tasks_created()
    if spec.max_tasks is None:
        parts.append(f"no --max-tasks ({created} tasks created so far)")
    else:
        parts.append(f"--max-tasks {spec.max_tasks} ({origin('max_tasks')}; {created} created)")
    spent = ledger.coins_spent()
    if spec.max_coins is None:
        parts.append(f"no --max-coins ({spent} coins spent so far)")
    else:
        parts.append(f"--max-coins {spec.max_coins} ({origin('max_coins')}; {spent} spent)")
    state.render.note("limits: " + ", ".join(parts))


def how_to_go_on(state: CliState, report: BatchReport) -> None:
    """After a spend guard stopped submitting with rows pending: the command that goes on."""
    pending = report.counts.get("pending", 0)
    if not report.stopped or not pending:
        return
    flag = report.stopped.split()[0]
    if flag not in _LIMIT_FLAGS:
        return
    ledger = f" --ledger {report.ledger}" if report.ledger else ""
    noun = "row is" if pending == 1 else "rows are"
    state.render.warn(
        f"{pending} {noun} still pending ({report.stopped});"
        f" go on with `runninghub batch resume{ledger} {flag} N` and a higher N"
    )
