"""``runninghub history``: every submit this machine made, found again; and its sub-commands
``show``, ``resolve`` and ``prune``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ._context import CliState, json_option, pass_state
from ._journal_cli import (
    clock_time,
    iso_time,
    local_time,
    open_journal,
    parse_age,
    safe,
    safe_data,
    since_timestamp,
)
from ._rerun import rerun_command

if TYPE_CHECKING:
    from runninghub.journal import HistoryEntry, HistoryFilter, Journal, TaskRecord

__all__ = ["history"]

# Mirrors runninghub.journal.STATUSES; kept here so that `history --help` imports no journal.
_STATUSES = (
    "create",
    "queued",
    "running",
    "success",
    "failed",
    "cancel",
    "submitting",
    "submitted",
    "refused",
    "unknown",
)
_UNKNOWN_SHOWN = 10
_TASK_ID_HELP = "the task id from RunningHub's web console (call-record list), or its page address"


@click.group(invoke_without_command=True)
@click.option(
    "--workflow", metavar="ID", help="Only runs of this workflow (its id or page address)."
)
@click.option("--app", metavar="ID", help="Only runs of this AI app (its id or page address).")
@click.option("--model", metavar="ENDPOINT", help="Only runs of this hosted model.")
@click.option(
    "--status",
    type=click.Choice(_STATUSES, case_sensitive=False),
    help="Only submits in this state: a task status, or submitting, refused, unknown.",
)
@click.option("--since", metavar="AGE", help="Only submits newer than AGE (7d, 12h, 30m).")
@click.option("--search", metavar="TEXT", help="Words of a prompt or another text value.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True)
@json_option
@pass_state
@click.pass_context
def history(ctx: click.Context, state: CliState, /, **options: Any) -> None:
    """List the submits recorded in the local journal, newest first.

    Submits whose outcome is unknown (the answer was lost, or the process died before
    recording it) are listed first, on stderr: check RunningHub's web console, then
    `runninghub history resolve INTENT --task TASK_ID`.

    \b
    Examples:
      runninghub history --since 7d --search lighthouse
      runninghub history --workflow 1904136902449209346 --status failed --json
      runninghub history show TASK_ID
    """
    if ctx.invoked_subcommand is not None:
        return
    wanted = _filter(options)
    journal = open_journal(create=False)
    if journal is None:
        _print_history(state, [], [], filtered=False)
        return
    with journal:
        journal.reconcile()
        entries = journal.history(wanted)
        unknown = _unknown(journal)
    filtered = any(
        options[name] for name in ("workflow", "app", "model", "status", "since", "search")
    )
    _print_history(state, entries, unknown, filtered=filtered)


def _filter(options: dict[str, Any]) -> HistoryFilter:
    from runninghub.journal import HistoryFilter

    chosen = [(kind, options[kind]) for kind in ("workflow", "app", "model") if options[kind]]
    if len(chosen) > 1:
        raise click.UsageError("give at most one of --workflow, --app and --model")
    kind, target = chosen[0] if chosen else (None, None)
    if kind in ("workflow", "app") and target is not None:
        from runninghub._support import check_history_id

        target = check_history_id(target, kind)  # a pasted page address gives its id
    return HistoryFilter(
        kind=kind,
        target=target,
        status=options["status"],
        since=since_timestamp(options["since"], "--since"),
        search=options["search"],
        limit=options["limit"],
    )


def _unknown(journal: Journal) -> list[HistoryEntry]:
    from runninghub.journal import HistoryFilter

    return journal.history(HistoryFilter(status="unknown", limit=_UNKNOWN_SHOWN + 1))


def _entry_document(entry: HistoryEntry) -> dict[str, Any]:
    return dict(safe_data({**entry.to_dict(), "created_at": iso_time(entry.created_at)}))


def _print_history(
    state: CliState, entries: list[HistoryEntry], unknown: list[HistoryEntry], *, filtered: bool
) -> None:
    _warn_unknown(state, unknown)
    if state.json:
        state.render.document(
            {
                "unknown": [_entry_document(e) for e in unknown[:_UNKNOWN_SHOWN]],
                "entries": [_entry_document(e) for e in entries],
            }
        )
        return
    if not entries:
        state.render.note("no recorded submit matches" if filtered else "no submits recorded yet")
        return
    rows = [
        [
            local_time(e.created_at),
            f"i{e.intent_id}",
            e.task_id or "",
            safe(e.shown_status),
            safe(f"{e.kind} {e.target}"),
            "" if e.coins is None else str(e.coins),
            safe(e.summary),
        ]
        for e in entries
    ]
    state.render.table(["when", "intent", "task", "status", "what", "coins", "summary"], rows)


def _warn_unknown(state: CliState, unknown: list[HistoryEntry]) -> None:
    if not unknown or state.json:
        return
    more = "+" if len(unknown) > _UNKNOWN_SHOWN else ""
    state.render.warn(
        f"{min(len(unknown), _UNKNOWN_SHOWN)}{more} submit(s) with an unknown outcome: a task "
        "may exist (and bill); do not resubmit before checking RunningHub's web console"
    )
    for entry in unknown[:_UNKNOWN_SHOWN]:
        summary = f" {safe(entry.summary)!r}" if entry.summary else ""
        state.render.warn(
            f"  i{entry.intent_id} {local_time(entry.created_at)} {safe(entry.kind)} "
            f"{safe(entry.target)}{summary}; found it? runninghub history resolve "
            f"i{entry.intent_id} --task TASK_ID"
        )


@history.command()
@click.argument("ref", metavar="TASK_ID")
@json_option
@pass_state
def show(state: CliState, ref: str) -> None:
    """Show everything recorded for a task, and the command that would run it again.

    TASK_ID may also be an intent id such as i12 (a submit with no task id).

    \b
    Example:
      runninghub history show 1910246754753896450 --json
    """
    record = _find(ref)
    argv = rerun_command(record)
    document = _record_document(record)
    document["command"] = safe(_shell(argv))
    state.render.result(document, [*_record_lines(record), f"again: {safe(_shell(argv))}"])


def _find(ref: str) -> TaskRecord:
    from runninghub.journal import UnknownIntentError

    journal = open_journal(create=False)
    if journal is None:
        raise click.BadParameter(f"no task or intent {safe(ref[:80])!r} in the journal")
    with journal:
        journal.reconcile()
        try:
            return journal.show(_task_ref(ref))
        except UnknownIntentError as exc:
            raise click.BadParameter(safe(exc.message), param_hint="TASK_ID") from None


def _task_ref(ref: str) -> str:
    """A task id or intent id as typed, or the id a pasted task page address names."""
    from runninghub._support import check_history_id, looks_like_address

    return check_history_id(ref, "task") if looks_like_address(ref) else ref.strip()


def _record_document(record: TaskRecord) -> dict[str, Any]:
    document = record.to_dict()
    document["created_at"] = iso_time(record.entry.created_at)
    for change in document["statuses"]:
        change["at"] = iso_time(change["at"])
    return dict(safe_data(document))


def _record_lines(record: TaskRecord) -> list[str]:
    entry = record.entry
    head = f"task {entry.task_id}" if entry.task_id else "no task id"
    changes = ", ".join(f"{s.status} {clock_time(s.at)}" for s in record.statuses)
    lines = [
        f"{head} (intent i{entry.intent_id}, {local_time(entry.created_at)})",
        f"status: {entry.shown_status}" + (f" ({changes})" if changes else ""),
        f"what: {entry.kind} {entry.target}"
        + (f" on {record.site}" if record.site else "")
        + (f" (key {record.key_hash})" if record.key_hash else ""),
    ]
    lines += _detail_lines(record)
    return [safe(line) for line in lines]


def _detail_lines(record: TaskRecord) -> list[str]:
    lines = [f"set: {key} = {value}" for key, value in record.params.items()]
    lines += [
        f"input: {i.address} = {i.path} ({i.size} bytes, sha256 {i.sha256})" for i in record.inputs
    ]
    for output in record.outputs:
        where = f" -> {output.path} (sha256 {output.sha256})" if output.path else ""
        value = output.url or (output.text or "")[:200]
        lines.append(f"output: node {output.node_id} {output.type or ''} {value}{where}")
    if record.failure:
        failure = record.failure
        lines.append(
            f"failure: node {failure['node_id']} {failure['exception_type'] or ''}: "
            f"{failure['message'] or ''}"
        )
    usage = {k: v for k, v in record.usage.items() if v is not None}
    if usage:
        lines.append("usage: " + ", ".join(f"{k} {v}" for k, v in usage.items()))
    if record.entry.batch:
        lines.append(f"batch: {record.entry.batch} row {record.entry.batch_row}")
    if record.note:
        lines.append(f"note: {record.note}")
    return lines


def _shell(argv: list[str]) -> str:
    import shlex

    return shlex.join(argv)


@history.command()
@click.argument("intent", metavar="INTENT")
@click.option("--task", "task_id", required=True, metavar="TASK_ID", help=_TASK_ID_HELP)
@json_option
@pass_state
def resolve(state: CliState, intent: str, task_id: str) -> None:
    """Attach the task id of a submit whose outcome was unknown.

    Find the task in RunningHub's web console; afterwards `runninghub wait TASK_ID`
    follows it and the journal fills the record in.

    \b
    Example:
      runninghub history resolve i12 --task 1910246754753896450
    """
    from runninghub.journal import JournalError

    number = _intent_number(intent)
    from runninghub._support import check_history_id

    task_id = check_history_id(task_id, "task")  # a pasted task page address gives its id
    journal = open_journal(create=False)
    if journal is None:
        raise click.BadParameter(f"no intent i{number} in the journal", param_hint="INTENT")
    with journal:
        try:
            journal.resolve(number, task_id)
        except ValueError as exc:
            raise click.BadParameter(safe(str(exc)), param_hint="--task") from None
        except JournalError as exc:
            raise click.BadParameter(safe(exc.message), param_hint="INTENT") from None
    state.render.note(f"follow it with: runninghub wait {task_id}")
    state.render.result(
        {"intent": number, "task_id": task_id, "state": "submitted"},
        [f"intent i{number} -> task {task_id}"],
    )


def _intent_number(text: str) -> int:
    digits = text.strip().removeprefix("i").removeprefix("I")
    if not digits.isascii() or not digits.isdigit() or len(digits) > 18:
        raise click.BadParameter(
            f"{safe(text[:40])!r} is not an intent id (such as i12)", param_hint="INTENT"
        )
    return int(digits)


@history.command()
@click.option("--older-than", "age", required=True, metavar="AGE", help="90d, 12w, 36h ...")
@click.option("--include-unknown", is_flag=True, help="Forget unknown submits too.")
@json_option
@pass_state
def prune(state: CliState, age: str, include_unknown: bool) -> None:
    """Forget the submits older than AGE (and uploads past their time to live).

    Unknown submits are kept unless --include-unknown: each still needs a decision.

    \b
    Example:
      runninghub history prune --older-than 90d
    """
    seconds = parse_age(age, "--older-than")
    journal = open_journal(create=False)
    if journal is None:
        state.render.result({"removed": 0, "kept_unknown": 0, "uploads_removed": 0}, ["removed 0"])
        return
    with journal:
        journal.reconcile()
        result = journal.prune(seconds, include_unknown=include_unknown)
    if result.kept_unknown:
        state.render.note(
            f"kept {result.kept_unknown} older submit(s) with an unknown outcome; resolve them "
            "or add --include-unknown"
        )
    state.render.result(
        {
            "removed": result.removed,
            "kept_unknown": result.kept_unknown,
            "uploads_removed": result.uploads_removed,
        },
        [f"removed {result.removed}"],
    )
