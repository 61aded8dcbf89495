"""A length of time on the command line: a finite number of seconds, more than zero."""

from __future__ import annotations

import math
from typing import Any

import click

__all__ = ["SECONDS"]


class _Seconds(click.FloatRange):
    """``FloatRange(min=0, min_open=True)`` that also refuses nan and inf, which every
    comparison lets through (a nan deadline never arrives)."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        seconds = super().convert(value, param, ctx)
        if not math.isfinite(seconds):
            self.fail(f"{value!r} is not a finite number of seconds", param, ctx)
        return seconds


SECONDS = _Seconds(min=0, min_open=True)  # a zero timeout is refused: --no-wait is that
