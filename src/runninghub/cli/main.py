"""The ``runninghub`` command: root group, global options, and the one exception -> exit code map.

Subcommands live in one module per group and are imported only when used, so that
``runninghub --help`` starts fast (no httpx, rich or uvicorn at import time).

Exit codes (stable, documented in SKILL.md):
    0 success; 1 the task ran and failed or was cancelled; 2 usage or bad input;
    3 configuration or authentication (or a missing install extra); 4 the API refused or
    could not be reached; 5 timed out waiting (the task id is printed); 130 interrupted.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Sequence
from typing import Any

import click

import runninghub as errors
from runninghub import __version__

from . import seed_form
from ._context import CliState, InterruptedWait
from ._globals import attach_global_options, global_options, start_logging
from ._render import ErrorReport

__all__ = ["cli", "exit_code_for", "main"]

# name -> "module:attribute"; imported on first use.
_COMMANDS: dict[str, str] = {
    "account": "runninghub.cli.account:account",
    "app": "runninghub.cli.run:app",
    "auth": "runninghub.cli.auth:auth",
    "cancel": "runninghub.cli.tasks:cancel",
    "demo": "runninghub.cli.demo:demo",
    "emulator": "runninghub.cli.emulator_cmd:emulator",
    "history": "runninghub.cli.history:history",
    "lora": "runninghub.cli.lists:lora",
    "model": "runninghub.cli.models:model",
    "nodes": "runninghub.cli.nodes:nodes",
    "outputs": "runninghub.cli.tasks:outputs",
    "resources": "runninghub.cli.lists:resources",
    "preset": "runninghub.cli.preset:preset",
    "run": "runninghub.cli.run:run",
    "skill": "runninghub.cli.skill:skill",
    "spend": "runninghub.cli.spend:spend",
    "status": "runninghub.cli.tasks:status",
    "upload": "runninghub.cli.upload:upload",
    "wait": "runninghub.cli.tasks:wait",
    "webhook": "runninghub.cli.webhook:webhook",
}

# Commands whose module may be absent from an installation: listed only when it is present,
# and never allowed to break the rest of the command line. Register new optional command
# groups here (the module defines a click command or group under the given attribute).
_OPTIONAL_COMMANDS: dict[str, str] = {
    "batch": "runninghub.cli.batch:batch",
    "mcp": "runninghub.cli.mcp_cmd:mcp",
    "studio": "runninghub.cli.studio_cmd:studio",
}

# What `runninghub --help` lists, so that the root help imports no command module (a test
# keeps these equal to the commands' own first docstring lines).
_SUMMARIES: dict[str, str] = {
    "account": "Show the balance, the running tasks and the concurrency limit.",
    "app": "AI apps: list the public ones, show an app's inputs, run it.",
    "auth": "Store, show or remove the API key.",
    "batch": "Run many inputs through one workflow, model or preset, resumably.",
    "cancel": "Cancel a queued or running task (it stops billing).",
    "demo": "Run two bundled workflows on a local emulator and save their outputs.",
    "emulator": "Serve the RunningHub API locally (really runs a set of ComfyUI image nodes).",
    "history": "List the submits recorded in the local journal, newest first.",
    "lora": "LoRA files: upload one for an RHLoraLoader node.",
    "model": "Standard models: list, show, price and run the hosted models.",
    "mcp": "Serve RunningHub to an AI agent over the Model Context Protocol (stdio by default).",
    "nodes": "List the fields of a workflow that --set can change, with their current values.",
    "outputs": "List a finished task's outputs; with --out, download them too.",
    "resources": "Search the model files a workflow may load (checkpoints, LoRAs ...).",
    "preset": "Save a workflow, app or model with its settings under a name, and run it by name.",
    "run": "Run a saved workflow, wait, and save its outputs.",
    "skill": "Install runninghub as an agent skill (OpenClaw, Claude Code, AgentSkills hosts).",
    "spend": "Show what the recorded tasks cost: coins, money, task and failure counts.",
    "status": "Show a task's status (and its outputs' URLs once it has succeeded).",
    "studio": "A local web page to run workflows, watch them and browse what they made.",
    "upload": "Upload a file (image, video, audio, zip; up to 30 MB) and print its name.",
    "wait": "Wait for a task to finish, then save its outputs.",
    "webhook": "A task's webhook: show how its delivery went, send it again.",
}

_SEED_SECTION = "Seed-compatible flags (those of runninghub_client.py; no command)"


def _show_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """``--version``: the package's, and the model catalogue's (read only here)."""
    del param
    if not value or ctx.resilient_parsing:
        return
    from runninghub._support import load_catalogue

    try:
        catalogue = f"model catalogue {load_catalogue().version}"
    except errors.ConfigError as exc:
        catalogue = f"model catalogue unreadable: {exc}"
    click.echo(f"runninghub, version {__version__} ({catalogue})")
    ctx.exit()


EXIT_OK = 0
EXIT_TASK_FAILED = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_API = 4
EXIT_TIMEOUT = 5
EXIT_INTERRUPTED = 130


def exit_code_for(exc: BaseException) -> int:
    """The one map from an exception to the documented exit code."""
    if isinstance(exc, InterruptedWait | click.Abort | KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, errors.TaskFailedError):
        return EXIT_TASK_FAILED
    if isinstance(exc, errors.WaitTimeoutError):
        return EXIT_TIMEOUT
    if isinstance(exc, click.ClickException | errors.InvalidRequestError | OSError):
        return EXIT_USAGE
    if _undecodable_input(exc):
        return EXIT_USAGE
    if isinstance(exc, errors.ConfigError | errors.AuthenticationError):
        return EXIT_CONFIG
    # Every other APIError (refused, not found, capacity after retries, unreachable, outcome
    # unknown), an OutputError, and anything unexpected.
    return EXIT_API


def error_report(exc: BaseException) -> ErrorReport:
    """What the user is told about ``exc``: type, code, one-line message, hint."""
    if isinstance(exc, click.ClickException):
        return _usage_report(exc)
    if isinstance(exc, InterruptedWait):
        return ErrorReport("Interrupted", str(exc), hint=exc.hint, task_id=exc.task_id)
    if isinstance(exc, click.Abort | KeyboardInterrupt):
        return ErrorReport("Interrupted", "interrupted")
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return ErrorReport(type(exc).__name__, f"{exc.strerror or exc}{where}")
    if isinstance(exc, errors.RunningHubError):
        return _library_report(exc)
    if isinstance(exc, UnicodeEncodeError) and _undecodable_input(exc):
        return _undecodable_report(exc)
    return ErrorReport(
        "InternalError",
        f"unexpected {type(exc).__name__}: {exc}",
        hint="rerun with --verbose for the traceback, and report it",
    )


def _undecodable_input(exc: BaseException) -> bool:
    """Text read with surrogateescape (argv bytes that are not UTF-8) met a UTF-8 encoder: the
    input is at fault, wherever it ended up (the journal's search, a file name, ...)."""
    return isinstance(exc, UnicodeEncodeError) and "surrogates not allowed" in exc.reason


def _undecodable_report(exc: UnicodeEncodeError) -> ErrorReport:
    text = exc.object if isinstance(exc.object, str) else ""
    code = ord(text[exc.start]) if exc.start < len(text) else 0
    byte = f"the byte 0x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else "a lone surrogate"
    return ErrorReport(
        "UsageError",
        f"a value is not UTF-8 text ({byte})",
        hint="check the terminal's encoding, or the bytes that were passed",
    )


def _usage_report(exc: click.ClickException) -> ErrorReport:
    ctx = getattr(exc, "ctx", None)
    hint = f"see '{ctx.command_path} --help'" if isinstance(ctx, click.Context) else None
    return ErrorReport("UsageError", exc.format_message(), hint=hint)


def _library_report(exc: errors.RunningHubError) -> ErrorReport:
    """The exception's own message and hint, in the command line's words."""
    code = getattr(exc, "code", None)
    task: dict[str, Any] | None = None
    if isinstance(exc, errors.TaskFailedError):
        code = exc.task.error_code
        task = exc.task.to_dict()
    return ErrorReport(
        type(exc).__name__,
        exc.cli_message,
        code=str(code) if code else None,
        hint=exc.cli_hint,
        task_id=getattr(exc, "task_id", None),
        task=task,
    )


def report_error(exc: BaseException, state: CliState) -> int:
    """Tell the user about ``exc`` (one line, a hint, JSON when asked); return the exit code."""
    text = None
    if state.verbose:
        import traceback  # only here: most runs end without one, and it is slow to import

        text = "".join(traceback.format_exception(exc))
    state.render.error(error_report(exc), traceback_text=text)
    return exit_code_for(exc)


class RootGroup(click.Group):
    """Lazy subcommands, the seed's flags, and exit codes for every way of being called."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        present = [name for name, target in _OPTIONAL_COMMANDS.items() if _module_exists(target)]
        return sorted([*_COMMANDS, *present])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in _COMMANDS:
            return _load(_COMMANDS[cmd_name])
        target = _OPTIONAL_COMMANDS.get(cmd_name)
        if target is None or not _module_exists(target):
            return None
        try:
            return _load(target)
        except Exception:  # an optional module that fails to import must not break the rest
            return None

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The real options first; the seed script's flags in a section of their own."""
        seed_names = set(seed_form.SeedOptions.__dataclass_fields__)
        options: list[tuple[str, str]] = []
        seed_flags: list[tuple[str, str]] = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.name in seed_names:
                seed_flags.append((record[0], record[1].removeprefix("(seed) ")))
            else:
                options.append(record)
        for title, rows in (("Options", options), (_SEED_SECTION, seed_flags)):
            with formatter.section(title):
                formatter.write_dl(rows)
        self.format_commands(ctx, formatter)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            summary = _SUMMARIES.get(name)
            if summary is None:
                command = self.get_command(ctx, name)
                if command is None or command.hidden:
                    continue
                summary = command.get_short_help_str()
            rows.append((name, summary))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        state = extra.pop("obj", None) or CliState.from_argv(argv)
        try:
            # Without standalone mode click returns (not raises) the code given to ctx.exit().
            result = super().main(
                argv, prog_name, complete_var, standalone_mode=False, obj=state, **extra
            )
            code = result if type(result) is int else EXIT_OK
        except click.exceptions.Exit as exc:
            code = exc.exit_code
        except (Exception, KeyboardInterrupt) as exc:
            code = report_error(state.queue_watch.explain(exc), state)
        if standalone_mode:
            sys.exit(code)
        return code


def _module_exists(target: str) -> bool:
    module = target.split(":", 1)[0]
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


def _load(target: str) -> click.Command:
    module_name, attribute = target.split(":", 1)
    command = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{target} is not a click command")
    return attach_global_options(command)


_EPILOG = """\b
Examples:
  runninghub auth set                       # store the API key (hidden prompt)
  runninghub nodes 1904136902449209346      # what can be set
  runninghub run 1904136902449209346 --set 6.text="a red fox" --json
  runninghub wait TASK_ID --out ./results
\b
Global options work before or after the command: runninghub run ID --quiet.
\b
Seed-compatible form (the flags of runninghub_client.py):
  runninghub --workflow-id 1987728214757978114 --action run-with-image \\
             --image photo.png --node-id 107 --field-name image
\b
Exit codes: 0 ok, 1 task failed, 2 bad input, 3 config/auth, 4 API error, 5 wait timed out,
130 interrupted.  Shell completion: eval "$(_RUNNINGHUB_COMPLETE=bash_source runninghub)"
"""


@click.group(
    "runninghub",
    cls=RootGroup,
    invoke_without_command=True,
    epilog=_EPILOG,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@global_options
@click.option("--json", "json_output", is_flag=True, help="JSON output for every command.")
@seed_form.seed_options
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help="Show the version (and the model catalogue's) and exit.",
)
@click.pass_context
def cli(ctx: click.Context, /, **options: Any) -> None:
    """Run ComfyUI workflows on RunningHub from the shell: for people and for scripts.

    Progress and notes go to stderr; results to stdout (one JSON document with --json).
    """
    state = ctx.ensure_object(CliState)
    state.json = state.json or options.pop("json_output")
    start_logging(ctx, state)
    seed_options = seed_form.SeedOptions.from_params(options)
    seed_form.apply_key_options(state, seed_options)
    if ctx.invoked_subcommand is not None:
        return
    if seed_options.wants_action():
        seed_form.run_seed_action(state, seed_options)
    elif not seed_options.save_key:
        state.render.raw(ctx.get_help())


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point for ``runninghub`` and ``rhub``."""
    cli.main(args=argv)
