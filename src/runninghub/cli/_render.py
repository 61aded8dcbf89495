"""Everything the command line writes goes through here: the only module that prints.

Two readers, two channels. Results go to stdout: plain lines for people and pipes, or, with
``--json``, exactly one JSON document and nothing else. Everything meant for a person
(progress, notes, warnings, errors) goes to stderr. Rich is loaded only when a live display or
a table on a terminal needs it, so ``runninghub --help`` stays fast.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rich.console import Console

    from runninghub import Progress

__all__ = ["ErrorReport", "Renderer"]


@dataclass(frozen=True)
class ErrorReport:
    """What an error says, in the words the user sees (the key already redacted)."""

    type: str
    message: str
    code: str | None = None
    hint: str | None = None
    task_id: str | None = None
    task: dict[str, Any] | None = None  # the final state, for a task that failed

    def to_dict(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "type": self.type,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
        }
        if self.task_id is not None:
            error["task_id"] = self.task_id
        if self.task is not None:
            error["task"] = self.task
        return {"error": error}


def _json_default(value: object) -> object:
    # Decimals (money, coins) print as JSON numbers; paths and enums as their text form.
    if isinstance(value, Decimal):
        from runninghub._support import json_number

        return json_number(value)
    if isinstance(value, Path):
        return str(value)
    enum_value = getattr(value, "value", None)
    if isinstance(enum_value, str):
        return enum_value
    return str(value)


# C1 controls, the invisible characters that reorder or hide text, and lone surrogates (which
# no terminal encoding can write); json.dumps already escapes C0 controls, and outside strings
# a JSON document is ASCII, so only strings hold them. Escaped, they stay the same JSON value.
_UNSAFE_CHARS = "\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff"
# In text for people, C0 controls too (escape sequences, carriage returns, bells), all but the
# line breaks and tabs the CLI's own layout uses: text from a server can never drive the terminal.
_UNSAFE_IN_TEXT = re.compile(f"[\x00-\x08\x0b-\x1f{_UNSAFE_CHARS}]")


@functools.cache
def _unsafe_in_json() -> re.Pattern[str]:
    """Compiled on first use: a class with these ranges costs a command that prints no JSON
    document (``runninghub history``) about 2 ms of its start."""
    return re.compile(f"[{_UNSAFE_CHARS}]")


def _escaped(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def printable(text: str) -> str:
    """``text`` with every character that could drive a terminal shown as a ``\\uXXXX`` escape."""
    return _UNSAFE_IN_TEXT.sub(_escaped, text)


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


class Renderer:
    """Writes results, notes, progress and errors according to the global options."""

    def __init__(
        self, *, json_mode: bool = False, quiet: bool = False, verbose: bool = False
    ) -> None:
        self.json_mode = json_mode
        self.quiet = quiet
        self.verbose = verbose
        self._secrets: set[str] = set()
        self._document_written = False

    # -- secrets ---------------------------------------------------------------------------

    def add_secret(self, secret: str | None) -> None:
        """Never write ``secret``: any text containing it is redacted before it is printed."""
        if secret and len(secret) >= 8:
            self._secrets.add(secret)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = re.sub(re.escape(secret), "[redacted]", text, flags=re.IGNORECASE)
        return text

    def shown(self, text: str) -> str:
        """Text for a person: the key redacted, terminal controls neutralised."""
        return printable(self.redact(text))

    # -- stdout ----------------------------------------------------------------------------

    def line(self, text: str) -> None:
        """One plain result line on stdout (suppressed in JSON mode, where the document speaks)."""
        if not self.json_mode:
            click.echo(self.shown(text))

    def raw(self, text: str) -> None:
        """Text on stdout whatever the mode (help pages)."""
        click.echo(self.shown(text))

    def lines(self, texts: Iterable[str]) -> None:
        for text in texts:
            self.line(text)

    def document(self, data: Any) -> None:
        """The one JSON document of a ``--json`` command, on stdout."""
        if self._document_written:
            raise RuntimeError("a command printed two JSON documents")
        self._document_written = True
        indent = 2 if _isatty(sys.stdout) else None
        text = json.dumps(data, ensure_ascii=False, indent=indent, default=_json_default)
        click.echo(self.redact(_unsafe_in_json().sub(_escaped, text)))

    def wire_document(self, data: Any) -> None:
        """An API answer on stdout as the seed printed it, whatever the mode:
        ``json.dumps(data, ensure_ascii=False, indent=2)``, with control and invisible
        format characters escaped (the same JSON value; nothing reaches the terminal raw)."""
        if self._document_written:
            raise RuntimeError("a command printed two JSON documents")
        self._document_written = True
        text = json.dumps(data, ensure_ascii=False, indent=2, default=_json_default)
        click.echo(self.redact(_unsafe_in_json().sub(_escaped, text)))

    def result(self, data: Any, human: Iterable[str]) -> None:
        """Print ``data`` as JSON in JSON mode, else the human lines."""
        if self.json_mode:
            self.document(data)
        else:
            self.lines(human)

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        """A table on stdout: drawn by rich on a terminal, tab-separated lines in a pipe."""
        cells = [[self.shown(_cell(value)) for value in row] for row in rows]
        if not _isatty(sys.stdout):
            click.echo("\t".join(headers))
            for row in cells:
                click.echo("\t".join(cell.replace("\t", " ") for cell in row))
            return
        from rich.table import Table

        table = Table(highlight=False)
        for header in headers:
            table.add_column(header, style=_COLUMN_STYLES.get(header))
        for row in cells:
            table.add_row(*row)
        _console(stderr=False).print(table)

    # -- stderr ----------------------------------------------------------------------------

    def note(self, text: str) -> None:
        """A message for a person on stderr (progress, where files went); hidden by --quiet."""
        if not self.quiet:
            click.echo(self.shown(text), err=True)

    def warn(self, text: str) -> None:
        """A warning on stderr; shown even with --quiet."""
        click.echo(f"warning: {self.shown(text)}", err=True)

    def error(self, report: ErrorReport, *, traceback_text: str | None = None) -> None:
        """Report a failure: a JSON error document on stdout, or ``error:``/``hint:`` on stderr."""
        report = replace(
            report,
            message=self.redact(_one_line(report.message)),
            hint=self.redact(_one_line(report.hint)) if report.hint else None,
            task_id=printable(report.task_id) if report.task_id else None,
        )
        if traceback_text and self.verbose:
            click.echo(self.shown(traceback_text.rstrip()), err=True)
        if self.json_mode and not self._document_written:
            self.document(report.to_dict())
            return
        click.echo(f"error: {printable(report.message)}", err=True)
        if report.hint and not report.message.endswith(report.hint):
            click.echo(f"hint: {printable(report.hint)}", err=True)

    def prompt_secret(self, label: str) -> str:
        """Ask for a secret on the terminal without echoing it (the prompt goes to stderr)."""
        value = click.prompt(label, hide_input=True, err=True)
        return str(value)

    def enable_debug_logging(self) -> Callable[[], None]:
        """--verbose: the library's debug log on stderr, with the key redacted.

        Returns the function that detaches the log handler again.
        """
        import logging

        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("debug: %(name)s: %(message)s"))
        handler.addFilter(_RedactingFilter(self))
        logger = logging.getLogger("runninghub")
        previous_level = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)

        def detach() -> None:
            logger.removeHandler(handler)
            logger.setLevel(previous_level)

        return detach

    def show_library_warnings(self) -> Callable[[], None]:
        """The library's warnings (such as a key sent over plain HTTP) as ``warning:`` lines
        on stderr. Returns the function that detaches the log handler again."""
        import logging  # not at import time: `runninghub --help` stays fast

        renderer = self

        class WarningLines(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                renderer.warn(record.getMessage())

        handler = WarningLines(logging.WARNING)
        logger = logging.getLogger("runninghub")
        logger.addHandler(handler)
        return lambda: logger.removeHandler(handler)

    @property
    def live(self) -> bool:
        """Whether a live display is shown: stderr is a terminal and --quiet is off."""
        return not self.quiet and _isatty(sys.stderr)

    @contextmanager
    def progress_display(
        self, task_id: str, titles: Mapping[str, str] | None = None
    ) -> Iterator[Callable[[Progress], None]]:
        """A live status line on stderr while waiting, when stderr is a terminal.

        Yields the ``on_progress`` callback for the client. ``titles`` name the nodes (by id).
        In a pipe or with --quiet it does nothing, so logs stay clean.
        """
        if not self.live:
            yield _ignore_progress
            return
        from ._live_status import TaskLine

        line = TaskLine(task_id, titles)
        status = _console(stderr=True).status(line)
        status.start()
        try:
            yield line.update
        finally:
            status.stop()


class _RedactingFilter:
    def __init__(self, renderer: Renderer) -> None:
        self._renderer = renderer

    def filter(self, record: Any) -> bool:
        record.msg = self._renderer.redact(record.getMessage())
        record.args = None
        return True


# Colour helps find the address parts (node and field) in a wide table.
_COLUMN_STYLES = {"node": "bold cyan", "field": "green"}


def _ignore_progress(progress: Progress) -> None:
    del progress


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list | tuple | bool | int | float):
        return json.dumps(value, ensure_ascii=False, default=_json_default)
    return str(value)


def _isatty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except ValueError:  # a closed stream
        return False


def _console(*, stderr: bool) -> Console:
    from rich.console import Console

    # rich reads NO_COLOR itself; passing it keeps the rule visible here.
    return Console(stderr=stderr, highlight=False, no_color=bool(os.environ.get("NO_COLOR")))
