"""What every command shares: the global options, the renderer and the client factory.

Kept free of heavy imports: the client (and with it httpx) is imported only when a command
actually needs to talk to the service.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ._render import Renderer

if TYPE_CHECKING:
    from runninghub import Catalogue, Client
    from runninghub._support import Settings
    from runninghub.journal import Journal

    from ._queue_watch import QueueWatch

__all__ = [
    "CliState",
    "InterruptedWait",
    "json_option",
    "pass_state",
    "read_key_file",
    "with_options",
]

F = TypeVar("F", bound=Callable[..., Any])


class InterruptedWait(Exception):
    """Ctrl-C arrived while waiting for a task; the task may still be running."""

    def __init__(self, task_id: str | None, *, cancelled: bool = False) -> None:
        self.task_id = task_id
        self.cancelled = cancelled
        if task_id is None:
            message = "interrupted before a task was created"
        elif cancelled:
            message = f"interrupted; task {task_id} was cancelled"
        else:
            message = f"interrupted while waiting for task {task_id} (it keeps running)"
        super().__init__(message)

    @property
    def hint(self) -> str | None:
        if self.task_id is None or self.cancelled:
            return None
        return f"resume with: runninghub wait {self.task_id}"


@dataclass
class CliState:
    """The global options, filled by the root command and read by every subcommand."""

    api_key_file: Path | None = None
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    site: str | None = None
    retries: int | None = None
    quiet: bool = False
    verbose: bool = False
    json: bool = False
    no_journal: bool = False
    catalogue: Path | None = None  # a model registry file instead of the shipped one
    no_upload_cache: bool = False
    presets_file: Path | None = None  # `preset --presets FILE`
    _renderer: Renderer | None = field(default=None, repr=False)
    _queue_watch: QueueWatch | None = field(default=None, repr=False)

    @classmethod
    def from_argv(cls, argv: list[str]) -> CliState:
        """A first guess from the raw arguments, so that errors found while parsing them
        already honour ``--json`` and ``--verbose``."""
        words = argv[: argv.index("--")] if "--" in argv else argv
        return cls(
            json="--json" in words,
            verbose="--verbose" in words or "-v" in words,
            quiet="--quiet" in words or "-q" in words,
        )

    @property
    def render(self) -> Renderer:
        if self._renderer is None:
            self._renderer = Renderer(json_mode=self.json, quiet=self.quiet, verbose=self.verbose)
        self._renderer.json_mode = self.json
        self._renderer.quiet = self.quiet
        self._renderer.verbose = self.verbose
        return self._renderer

    @property
    def queue_watch(self) -> QueueWatch:
        """What the clients of this command report a full queue to."""
        if self._queue_watch is None:
            from ._queue_watch import QueueWatch

            self._queue_watch = QueueWatch(self.render)
        return self._queue_watch

    def resolved_key(self) -> str | None:
        """The key given on the command line (``--api-key-file`` or the seed's ``--api-key``).

        ``None`` lets the client fall back to the environment and the config file.
        """
        key = self.api_key
        if key is None and self.api_key_file is not None:
            key = read_key_file(self.api_key_file)
        self.render.add_secret(key)
        return key

    def client(self, *, poll: Any = None) -> Client:
        """A client configured from the global options (raises ConfigError when no key)."""
        settings = self.settings()
        from runninghub import Client

        # The site and base URL only as given: left open, the client may find the key's site.
        return Client(
            api_key=settings.api_key,
            base_url=self.base_url,
            site=self.site,
            retry=self._retry_policy(),
            poll=poll,
            catalogue=self.catalogue,
            on_queue_full=self.queue_watch,
            **self.journal_options(),
        )

    def model_catalogue(self) -> Catalogue:
        """The model catalogue (``--catalogue``, else the environment's, else the shipped
        one), read without a key: listing models needs no account."""
        from runninghub._support import load_catalogue

        return load_catalogue(self.catalogue)

    def journal_options(self) -> dict[str, Any]:
        """The client's ``journal`` and ``upload_cache``: the command line records every
        submit unless told not to."""
        from runninghub.journal import JournalError

        try:
            journal = self.journal()
        except JournalError as exc:  # a broken journal must not stop a paid run
            self.render.warn(f"{exc.message}; not recording this run")
            journal = None
        return {"journal": journal, "upload_cache": not self.no_upload_cache}

    def settings(self) -> Settings:
        """Key, site and base URL as the client would resolve them; the key joins the secrets
        the renderer redacts, wherever it came from."""
        from runninghub._support import resolve_settings

        settings = resolve_settings(self.resolved_key(), base_url=self.base_url, site=self.site)
        self.render.add_secret(settings.api_key)
        if settings.key_source == "argument":  # from this command line: say which option
            source = (
                "--api-key" if self.api_key is not None else f"--api-key-file {self.api_key_file}"
            )
            settings = dataclasses.replace(settings, key_source=source)
        return settings

    def journal(self) -> Journal | None:
        """The journal commands record their submits in; ``None`` when it is turned off
        (``--no-journal`` or ``RUNNINGHUB_NO_JOURNAL=1``)."""
        from runninghub.journal import Journal, journal_disabled

        if self.no_journal or journal_disabled():
            return None
        return Journal.open()

    def _retry_policy(self) -> Any:
        if self.retries is None:
            return None
        from runninghub import RetryPolicy

        if self.retries == 0:
            return RetryPolicy.never()  # not even the patient retries of a full queue
        return RetryPolicy(max_attempts=self.retries + 1)


def read_key_file(path: Path) -> str:
    """Read a key from a file: the bare key, or a JSON object with ``api_key`` / ``apiKey``."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise click.BadParameter(
            f"cannot read {path}: {exc.strerror or exc}", param_hint="--api-key-file"
        ) from None
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise click.BadParameter(
                f"{path} is neither a key nor valid JSON", param_hint="--api-key-file"
            ) from None
        value = data.get("api_key") or data.get("apiKey") if isinstance(data, dict) else None
        if not isinstance(value, str):
            raise click.BadParameter(
                f"{path} has no api_key field", param_hint="--api-key-file"
            ) from None
        text = value.strip()
    return text


pass_state = click.make_pass_decorator(CliState, ensure=True)


def _set_json(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    del param
    if value:
        ctx.ensure_object(CliState).json = True
    return value


def with_options(func: F, options: Sequence[Callable[[Any], Any]]) -> F:
    """``func`` with ``options`` applied so that ``--help`` lists them in this order.

    Here, not in ``_option_kinds``: the seed's flags use it on the ``--help`` path."""
    for option in reversed(options):
        func = option(func)
    return func


def json_option(func: F) -> F:
    """``--json``: print one JSON document on stdout instead of human output."""
    option = click.option(
        "--json",
        "json_output",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_set_json,
        help="Print one JSON document on stdout (errors too) instead of human output.",
    )
    return option(func)
