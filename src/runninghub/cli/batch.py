"""``runninghub batch``: many inputs through one workflow, recorded in a resumable ledger."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ._batch_limits import show_limits
from ._batch_report import ProgressLine, finish
from ._batch_targets import choose_target, plan_rows, target_options
from ._context import CliState, json_option, pass_state, with_options
from ._option_kinds import dir_option, file_option, repeated_option

if TYPE_CHECKING:
    from runninghub import AsyncClient
    from runninghub.batch import BatchReport, BatchSpec, Ledger

__all__ = ["batch"]

F = TypeVar("F", bound=Callable[..., Any])

_DEFAULT_OUT = "batch-out"
_LEDGER_NAME = "batch.sqlite"


@click.group()
def batch() -> None:
    """Run many inputs through one workflow, model or preset, resumably.

    \b
    Inputs: a CSV or JSONL file (one row per task), or a directory (one row per media
    file, column `file`). A column named NODE.FIELD maps itself; map others with
    --map COLUMN=NODE.FIELD. Every row is validated before the first submit.
    Progress is recorded in a SQLite ledger (default OUT/batch.sqlite): a crash, Ctrl-C
    or SIGTERM (exit 143) loses nothing, and `batch resume` never submits an input
    twice. Outputs and OUT/manifest.jsonl (row -> task -> files) land in OUT, which
    belongs to that one batch.
    """


def run_limits(func: F) -> F:
    """Concurrency, spend guards and keys: given to ``run``, changeable on ``resume``."""
    options = [
        click.option(
            "--concurrency",
            metavar="N|auto",
            help="Tasks at once per key (default auto: the account's limit).",
        ),
        click.option("--max-tasks", type=click.IntRange(min=0), metavar="N",
                     help="Stop submitting once N tasks were created (in all runs)."),
        click.option("--max-coins", metavar="N",
                     help="Submit only while coins spent plus tasks in flight (at the highest"
                     " price seen) stay within N."),
        file_option("--keys", "keys_file", help="Spread rows over these API keys (one per line)."),
    ]  # fmt: skip
    return with_options(func, options)


# `resume`, `retry` and `status` read a ledger that `run` wrote.
_existing_ledger = file_option(
    "--ledger", "ledger_path", help=f"The ledger (default ./{_DEFAULT_OUT}/{_LEDGER_NAME})."
)


def _continuing(
    command_name: str, *extra: Callable[[Any], Any]
) -> Callable[[Callable[..., None]], click.Command]:
    """``resume`` and ``retry``: a ledger that ``run`` wrote, the ``extra`` options, the run
    limits (changeable on a rerun) and --json."""

    def decorate(func: Callable[..., None]) -> click.Command:
        options = [_existing_ledger, *extra, run_limits, json_option]
        return batch.command(command_name)(with_options(pass_state(func), options))

    return decorate


@batch.command("run")
@click.argument("workflow_id", required=False)
@target_options
@click.option(
    "--inputs",
    "inputs_path",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    metavar="FILE|DIR",
    help="CSV, TSV or JSONL file, or a directory of media files.",
)
@repeated_option(
    "--map",
    "maps",
    metavar="COLUMN=NODE.FIELD",
    help="Map an input column to a field (repeatable).",
)
@repeated_option(
    "--ignore",
    "ignored",
    metavar="COLUMN",
    help="A CSV/JSONL column that is not a field (an id, a note): not sent (repeatable).",
)
@repeated_option(
    "--set", "sets", metavar="NODE.FIELD=VALUE", help="Set a field for every row (repeatable)."
)
@dir_option(
    "--out", "out_dir", help=f"Where outputs and the manifest go (default ./{_DEFAULT_OUT})."
)
@file_option("--ledger", "ledger_path", help=f"The ledger (default OUT/{_LEDGER_NAME}).")
@click.option(
    "--name",
    "name_template",
    metavar="TEMPLATE",
    help="Output file names; fields {row} {stem} {input} {node} {index} {n} {ext} {task_id}"
    " (default {row:05d}_{node}_{index}.{ext}; {index} and {n} count from 1).",
)
@click.option(
    "--allow-duplicates",
    is_flag=True,
    help="Run rows with identical inputs anyway (each is paid for).",
)
@click.option(
    "--allow-multiline",
    is_flag=True,
    help="Accept quoted CSV cells that span lines (refused by default: usually a stray quote).",
)
@run_limits
@json_option
@pass_state
def run_command(
    state: CliState, /, workflow_id: str | None, inputs_path: Path, **options: Any
) -> None:
    """Run WORKFLOW_ID (or --model ENDPOINT, or --preset NAME) once per input row.

    \b
    A column named NODE.FIELD maps itself; map any other with --map, or leave it
    out with --ignore (an unmapped column is an error). An empty CSV cell (JSONL
    null) leaves that field as the workflow has it. Local files for media fields
    are uploaded; relative paths are read from the inputs' folder. Identical rows
    are refused unless --allow-duplicates. Running it again with the same --ledger
    resumes (the inputs must be the same). --max-coins counts the tasks in flight
    at the highest price seen; exit 4 while a limit leaves rows pending.

    \b
    With --model, columns are the model's parameters (--map COLUMN=KEY); with
    --preset, the preset's parameter names, its settings holding for every row.

    \b
    Examples:
      runninghub batch run 1987728214757978114 --inputs photos/ --out results/
      runninghub batch run --model rhart-image-n-pro/text-to-image --inputs prompts.csv \\
          --set resolution=1k --max-coins 5
      runninghub batch run --preset fox --inputs prompts.csv
    """  # fmt: skip
    from runninghub.batch.report import DEFAULT_NAME_TEMPLATE, check_name_template

    out_dir = (options["out_dir"] or Path(_DEFAULT_OUT)).resolve()
    ledger_path = options["ledger_path"] or out_dir / _LEDGER_NAME
    template = check_name_template(options["name_template"] or DEFAULT_NAME_TEMPLATE)
    target = options["target"] = choose_target(state, workflow_id, options)
    keys = _read_keys(state, options["keys_file"])
    spec = _new_spec(target.target, inputs_path, out_dir, template, options, key_count=len(keys))
    spec = replace(spec, kind=target.kind)

    async def prepare(clients: Sequence[AsyncClient]) -> Ledger:
        if ledger_path.is_file():  # a rerun: refuse wrong keys before the settings change
            with _open_ledger(ledger_path, read_only=True) as existing:
                _check_running_keys(state, existing, keys)
        return await _ledger_for_inputs(clients[0], ledger_path, spec, inputs_path, options)

    report = _drive(state, keys, prepare)
    finish(state, report)


@_continuing("resume")
def resume_command(state: CliState, /, ledger_path: Path | None, **options: Any) -> None:
    """Finish a batch: follow running tasks, download, submit what was never submitted."""
    _resume(state, ledger_path, options, retry_states=())


@_continuing(
    "retry",
    click.option(
        "--unknown",
        "include_unknown",
        is_flag=True,
        help="Also resubmit rows whose submit outcome was lost (a task may run twice).",
    ),
)
def retry_command(
    state: CliState, /, ledger_path: Path | None, include_unknown: bool, **options: Any
) -> None:
    """Resubmit failed and canceled rows (and, with --unknown, unknown ones), then resume.

    Earlier attempts stay in the ledger's history.
    """  # fmt: skip
    from runninghub.batch import RowState

    states = [RowState.FAILED, RowState.CANCELED]
    if include_unknown:
        states.append(RowState.UNKNOWN)
    _resume(state, ledger_path, options, retry_states=states)


@batch.command("status")
@_existing_ledger
@json_option
@pass_state
def status_command(state: CliState, /, ledger_path: Path | None) -> None:
    """Count the rows of a batch by state."""  # fmt: skip
    from runninghub.batch import state_counts

    with _open_ledger(ledger_path, read_only=True) as ledger:  # also on a read-only disk
        counts = state_counts(ledger.counts())
        spec = ledger.spec
    shown = ("total", "succeeded", "failed", "canceled", "pending", "running", "unknown")
    where = {"workflow_id": spec.workflow_id, "kind": spec.kind, "ledger": str(ledger.path)}
    document = {**where, **counts}
    state.render.result(document, ["  ".join(f"{name} {counts[name]}" for name in shown)])


# -- the work -----------------------------------------------------------------------------------


def _resume(
    state: CliState, ledger_path: Path | None, options: dict[str, Any], *, retry_states: Any
) -> None:
    with _open_ledger(ledger_path) as ledger:
        ledger.lock()  # no other process may be running it while its settings change
        spec = _updated_spec(ledger.spec, options)
        keys = _read_keys(state, Path(spec.keys_file) if spec.keys_file else None)
        _check_running_keys(state, ledger, keys)  # before the new settings are stored
        ledger.update_spec(replace(spec, key_count=len(keys)))
        show_limits(state, ledger, spec, options)
        if retry_states:
            ledger.reset_for_retry(retry_states)
        path = ledger.path

    async def prepare(clients: Sequence[AsyncClient]) -> Ledger:
        from runninghub.batch import Ledger

        return Ledger.open(path)

    finish(state, _drive(state, keys, prepare))


def _check_running_keys(state: CliState, ledger: Ledger, keys: list[str | None]) -> None:
    """Refuse keys that do not hold the batch's running tasks (ConfigError, exit 3)."""
    from runninghub.batch import RowState, key_id, keys_of_running_tasks

    ids = [key_id(key or state.settings().api_key) for key in keys]
    keys_of_running_tasks(ledger.rows([RowState.SUBMITTED]), ids)


def _drive(
    state: CliState,
    keys: list[str | None],
    prepare: Callable[[Sequence[AsyncClient]], Awaitable[Ledger]],
) -> BatchReport:
    """Make one client per key, get the ledger ready, run it; Ctrl-C or SIGTERM keeps what
    was done (the submit in flight is finished and recorded)."""
    from runninghub.batch import BatchRunner

    terminated: list[int] = []
    opened: list[Path] = []  # the ledger, for the rows a Ctrl-C left unsubmitted
    bar = ProgressLine(state, len(keys))

    async def main() -> BatchReport:
        async with AsyncExitStack() as stack:
            stack.enter_context(_cancel_on_sigterm(terminated))
            clients = [await stack.enter_async_context(_client(state, key)) for key in keys]
            ledger = await prepare(clients)
            opened.append(ledger.path)
            stack.callback(ledger.close)
            stack.callback(bar.close)
            return await BatchRunner(ledger, clients, on_progress=bar.update).run_async()

    from runninghub.batch import LedgerError

    try:
        return asyncio.run(main())
    except LedgerError as exc:
        raise _ledger_usage_error(exc) from None
    except KeyboardInterrupt:
        from ._batch_interrupt import describe_interruption

        state.render.warn(describe_interruption(opened[0] if opened else None, bar.paused))
        raise
    except asyncio.CancelledError:
        if not terminated:
            raise
        state.render.warn("terminated: submitted tasks keep running; `batch resume` picks up")
        click.get_current_context().exit(EXIT_TERMINATED)
        raise  # not reached: exit() raises


EXIT_TERMINATED = 128 + signal.SIGTERM  # what a shell reports for a process ended by SIGTERM


@contextlib.contextmanager
def _cancel_on_sigterm(terminated: list[int]) -> Iterator[None]:
    """SIGTERM cancels the batch like Ctrl-C does, instead of killing it mid-submit."""
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()

    def on_sigterm() -> None:
        terminated.append(signal.SIGTERM)
        if main is not None:
            main.cancel()

    try:
        loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    except (NotImplementedError, RuntimeError, ValueError):  # no signals here (thread, Windows)
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


def _client(state: CliState, key: str | None) -> AsyncClient:
    """A client for one key (``None``: the key the usual resolution finds)."""
    from runninghub import AsyncClient, RetryPolicy

    if key is None:
        key = state.settings().api_key  # the site left open: the client may find the key's
    # Capacity refusals come straight back: the runner knows when a slot frees up.
    retry = RetryPolicy(capacity_timeout=0.0)
    if state.retries is not None:
        retry = replace(retry, max_attempts=state.retries + 1)
    return AsyncClient(
        api_key=key, base_url=state.base_url, site=state.site, retry=retry,
        **state.journal_options(),
    )  # fmt: skip


async def _ledger_for_inputs(
    client: AsyncClient, path: Path, spec: BatchSpec, inputs: Path, options: dict[str, Any]
) -> Ledger:
    from runninghub.batch import ledger_for_plan, parse_assignments, read_inputs

    maps = parse_assignments(options["maps"], "--map")
    sets = parse_assignments(options["sets"], "--set")
    # Bad inputs fail here, before any network call.
    table = read_inputs(inputs, multiline=options["allow_multiline"])
    plan = await plan_rows(client, options["target"], table, maps=maps, sets=sets, options=options)
    spec = replace(spec, columns=plan.columns, sets=plan.sets)
    return ledger_for_plan(path, plan, spec)


def _new_spec(  # noqa: PLR0913 - the batch command's options
    workflow_id: str,
    inputs: Path,
    out_dir: Path,
    template: str,
    options: dict[str, Any],
    *,
    key_count: int,
) -> BatchSpec:
    from runninghub.batch import BatchSpec

    keys_file = options["keys_file"]
    return BatchSpec(
        workflow_id=workflow_id,
        out_dir=str(out_dir),
        name_template=template,
        inputs=str(inputs.resolve()),
        concurrency=_concurrency(options["concurrency"]),
        max_tasks=options["max_tasks"],
        max_coins=_coins(options["max_coins"]),
        keys_file=str(keys_file.resolve()) if keys_file else None,
        key_count=key_count,
    )


def _updated_spec(spec: BatchSpec, options: dict[str, Any]) -> BatchSpec:
    """The stored settings, with the limits given on this command line replacing them."""
    changes: dict[str, Any] = {}
    if options.get("concurrency") is not None:
        changes["concurrency"] = _concurrency(options["concurrency"])
    if options.get("max_tasks") is not None:
        changes["max_tasks"] = options["max_tasks"]
    if options.get("max_coins") is not None:
        changes["max_coins"] = _coins(options["max_coins"])
    if options.get("keys_file") is not None:
        changes["keys_file"] = str(options["keys_file"].resolve())
    return replace(spec, **changes)


def _concurrency(text: str | None) -> int | None:
    if text is None or text.strip().lower() == "auto":
        return None
    if not text.strip().isdigit() or int(text) < 1:
        raise click.BadParameter(f"expected a number >= 1 or 'auto', got {text!r}",
                                 param_hint="--concurrency")  # fmt: skip
    return int(text)


def _coins(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value < 0:
        raise click.BadParameter(f"expected a number of coins, got {text!r}",
                                 param_hint="--max-coins")  # fmt: skip
    return str(value)


def _read_keys(state: CliState, keys_file: Path | None) -> list[str | None]:
    """The keys of a --keys file (never echoed), or [None]: the usual key resolution."""
    if keys_file is None:
        return [None]
    try:
        lines = keys_file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise click.BadParameter(f"cannot read {keys_file}: {exc.strerror or exc}",
                                 param_hint="--keys") from None  # fmt: skip
    keys = [line.split("#", 1)[0].strip() for line in lines]
    keys = [key for key in keys if key]
    if not keys:
        raise click.BadParameter(f"{keys_file} holds no key", param_hint="--keys")
    for key in keys:
        state.render.add_secret(key)
    return list(dict.fromkeys(keys))


class _open_ledger:
    """Open the ledger, turning ledger problems into a usage error on --ledger."""

    def __init__(self, path: Path | None, *, read_only: bool = False) -> None:
        self.path = path or Path(_DEFAULT_OUT) / _LEDGER_NAME
        self.read_only = read_only
        self.ledger: Ledger | None = None

    def __enter__(self) -> Ledger:
        from runninghub.batch import Ledger, LedgerError

        try:
            self.ledger = Ledger.open(self.path, read_only=self.read_only)
        except LedgerError as exc:
            raise _ledger_usage_error(exc) from None
        return self.ledger

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        from runninghub.batch import LedgerError

        if self.ledger is not None:
            self.ledger.close()
        if isinstance(exc, LedgerError):
            raise _ledger_usage_error(exc) from None


def _ledger_usage_error(exc: Any) -> click.BadParameter:
    """A ledger that cannot be used is a problem with --ledger (exit 2)."""
    hint = f" ({exc.cli_hint})" if exc.cli_hint else ""
    return click.BadParameter(f"{exc.cli_message}{hint}", param_hint="--ledger")
