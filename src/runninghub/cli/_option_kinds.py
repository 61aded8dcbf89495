"""The kinds of option many commands declare: a file, a folder, a value given once per use.

Each kind fixes its click type and its usual metavar in one place, so a command names only
what is its own (the flag, where the value goes, the help).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

__all__ = [
    "EXISTING_FILE",
    "dir_option",
    "file_option",
    "repeated_option",
    "seconds_option",
]

F = TypeVar("F", bound=Callable[..., Any])

# A file that must be there already (an argument such as `upload PATH`).
EXISTING_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def file_option(*decls: str, exists: bool = False, **attrs: Any) -> Callable[[F], F]:
    """An option naming one file (a folder is refused), read as a ``Path``, shown as FILE."""
    attrs.setdefault("metavar", "FILE")
    kind = click.Path(exists=exists, dir_okay=False, path_type=Path)
    return click.option(*decls, type=kind, **attrs)


def dir_option(*decls: str, exists: bool = False, **attrs: Any) -> Callable[[F], F]:
    """An option naming one folder (a file is refused), read as a ``Path``, shown as DIR."""
    attrs.setdefault("metavar", "DIR")
    kind = click.Path(exists=exists, file_okay=False, path_type=Path)
    return click.option(*decls, type=kind, **attrs)


def repeated_option(*decls: str, metavar: str, **attrs: Any) -> Callable[[F], F]:
    """An option given once per value (``--set A --set B``), read as a tuple of them."""
    return click.option(*decls, multiple=True, metavar=metavar, **attrs)


def seconds_option(name: str, default: float, help_text: str) -> Callable[[F], F]:
    """A duration in seconds, 0 or more, its default shown (the emulator's timings)."""
    return click.option(
        name,
        type=click.FloatRange(min=0),
        default=default,
        show_default=True,
        metavar="S",
        help=help_text,
    )
