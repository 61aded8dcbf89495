"""The global options, accepted before the command and after it, on every command.

``runninghub --quiet run ID`` and ``runninghub run ID --quiet`` mean the same. The root group
declares them (shown in ``runninghub --help``); every command gets hidden copies when it is
loaded, unless it has an option of the same name with a meaning of its own (``auth set --site``
picks the site a key is stored for, ``emulator --site`` the site it emulates).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from ._context import CliState

__all__ = ["attach_global_options", "global_options", "start_logging"]

F = TypeVar("F", bound=Callable[..., Any])

_LOG_DETACH = "runninghub.log_detach"


@dataclass(frozen=True)
class _Global:
    decls: tuple[str, ...]
    attribute: str
    settings: dict[str, Any]


_GLOBALS = (
    _Global(
        ("--api-key-file",),
        "api_key_file",
        {
            "type": click.Path(dir_okay=False, path_type=Path),
            "metavar": "PATH",
            "help": "Read the API key from this file (the bare key, or JSON with api_key).",
        },
    ),
    _Global(
        ("--base-url",),
        "base_url",
        {"metavar": "URL", "help": "API base URL (e.g. an emulator's)."},
    ),
    _Global(
        ("--site",),
        "site",
        {"type": click.Choice(["cn", "ai"]), "help": "www.runninghub.cn or .ai."},
    ),
    _Global(
        ("--retries",),
        "retries",
        {
            "type": click.IntRange(min=0),
            "metavar": "N",
            "help": "Retries of a transient failure (default: the client's policy).",
        },
    ),
    _Global(
        ("-q", "--quiet"),
        "quiet",
        {"is_flag": True, "help": "No progress or notes on stderr."},
    ),
    _Global(
        ("-v", "--verbose"),
        "verbose",
        {"is_flag": True, "help": "Debug logs and tracebacks on stderr."},
    ),
    _Global(
        ("--no-journal",),
        "no_journal",
        {
            "is_flag": True,
            "help": "Record nothing in the local journal (or RUNNINGHUB_NO_JOURNAL=1).",
        },
    ),
    _Global(
        ("--no-upload-cache",),
        "no_upload_cache",
        {"is_flag": True, "help": "Upload every file, even one uploaded within the cache's TTL."},
    ),
)

# The root group declares its own --json; commands without one get this copy.
_JSON = _Global(
    ("--json",),
    "json",
    {"is_flag": True, "help": "Print one JSON document on stdout (errors too)."},
)


def start_logging(ctx: click.Context, state: CliState) -> None:
    """Route the library's log to stderr: debug lines with ``--verbose``, else warnings only.

    Called again when ``--verbose`` comes after the command: the earlier handler is replaced,
    so that no warning is printed twice.
    """
    root = ctx.find_root()
    previous = root.meta.pop(_LOG_DETACH, None)
    if previous is not None:
        previous()
    if state.verbose:
        detach = state.render.enable_debug_logging()
    else:
        detach = state.render.show_library_warnings()
    root.meta[_LOG_DETACH] = detach

    def stop_logging() -> None:  # once, however many times logging was (re)started
        root.meta.pop(_LOG_DETACH, lambda: None)()

    root.call_on_close(stop_logging)


def _store(attribute: str, *, given_after: bool) -> Callable[[click.Context, Any, Any], Any]:
    """The callback that puts an option's value on the shared state.

    Before the command every value is taken (the state's first guess from the raw arguments is
    replaced); after it only a value actually given, so a default never undoes the root's.
    """

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        del param
        if given_after and value in (None, False):
            return value
        state = ctx.ensure_object(CliState)
        setattr(state, attribute, value)
        if given_after and attribute == "verbose":
            start_logging(ctx, state)
        return value

    return callback


def global_options(func: F) -> F:
    """The root group's copies: shown in ``runninghub --help``."""
    for spec in reversed(_GLOBALS):
        option = click.option(
            *spec.decls,
            spec.attribute,
            expose_value=False,
            callback=_store(spec.attribute, given_after=False),
            **spec.settings,
        )
        func = option(func)
    return func


def attach_global_options(command: click.Command) -> click.Command:
    """Give ``command`` (and, for a group, its subcommands) the global options, hidden.

    Idempotent: an option whose name is taken already (by an earlier call, or by the
    command's own option) is skipped.
    """
    taken = {opt for param in command.params for opt in param.opts}
    for spec in (*_GLOBALS, _JSON):
        if taken.intersection(spec.decls):
            continue
        command.params.append(
            click.Option(
                spec.decls,
                expose_value=False,
                hidden=True,
                callback=_store(spec.attribute, given_after=True),
                **spec.settings,
            )
        )
    if isinstance(command, click.Group):
        for subcommand in command.commands.values():
            attach_global_options(subcommand)
    return command
