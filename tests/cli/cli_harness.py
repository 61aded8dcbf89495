"""Helpers for the command-line tests: a runner that checks the key never shows up in any
output, and the command line of a real ``runninghub`` process."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner, Result

from runninghub.cli.main import cli

# Environment variables a test must never inherit from the developer's shell.
ISOLATED = (
    "RUNNINGHUB_API_KEY",
    "RUNNINGHUB_BASE_URL",
    "RUNNINGHUB_BASE_URL_CN",
    "RUNNINGHUB_BASE_URL_AI",
    "RUNNINGHUB_SITE",
    "RUNNINGHUB_CONFIG_DIR",
    "NO_COLOR",
)


@dataclass
class Invoker:
    """Runs ``runninghub ARGS`` in-process with a clean environment."""

    env: dict[str, str | None]
    secrets: tuple[str, ...] = ()

    def __call__(
        self, *args: str, input: str | None = None, env: dict[str, str | None] | None = None
    ) -> Result:
        runner = CliRunner()
        result = runner.invoke(cli, list(args), input=input, env={**self.env, **(env or {})})
        for secret in self.secrets:
            assert secret not in result.output, f"the key leaked in the output of {args}"
            assert secret.lower() not in result.output.lower()
        return result


def subprocess_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment of a real ``runninghub`` process: isolated, unbuffered, no colour."""
    env = {k: v for k, v in os.environ.items() if k not in ISOLATED}
    env.update({"PYTHONUNBUFFERED": "1", **extra})
    return env


def runninghub_command(*args: str) -> list[str]:
    """The installed console script if present, else ``python -m runninghub``."""
    script = Path(sys.executable).with_name("runninghub")
    head: Sequence[str] = [str(script)] if script.exists() else [sys.executable, "-m", "runninghub"]
    return [*head, *args]


@contextmanager
def sigint_reaches_children() -> Iterator[None]:
    """Start children inside this block when the test will interrupt them with SIGINT.

    A shell that runs ``make test &`` without job control starts it with SIGINT ignored, and
    an ignored signal stays ignored across fork and exec: the child would never see the
    test's Ctrl-C. A signal with a handler is reset to its default by exec instead, so while
    the block runs this process handles SIGINT (as Python does by default).
    """
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
