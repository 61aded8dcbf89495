"""What a batch tells its user: live progress, the final report, the manifest, output names.

The manifest (``OUT/manifest.jsonl``) has one JSON line per input row: ``row``, ``input`` (the
row's cells as read), ``input_file`` (the local file it names), ``status``, ``task_id``,
``outputs`` (local paths), ``error``, ``coins``, ``attempts``. While a batch runs
it is append-only (one line each time a row finishes; the last line of a row wins), which costs
nothing per completion however large the batch; at the end of every run it is rewritten from
the ledger, atomically, with exactly one line per row in row order. The ledger stays the source
of truth: a manifest lost or damaged by a crash is rebuilt by the next run.
"""

from __future__ import annotations

import json
import os
import re
import string
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from .._numbers import json_number
from ._naming import INPUT_NAME_MAX, render_name, template_fields
from ._queue_pauses import QueuePause
from .inputs import BatchInputError
from .ledger import Ledger, LedgerRow, RowState

__all__ = [
    "DEFAULT_NAME_TEMPLATE",
    "BatchProgress",
    "BatchReport",
    "Manifest",
    "check_name_template",
    "failures_of",
    "manifest_entry",
    "render_name",
    "state_counts",
]

DEFAULT_NAME_TEMPLATE = "{row:05d}_{node}_{index}.{ext}"
NAME_FIELDS = ("row", "stem", "input", "node", "index", "n", "ext", "task_id")


@dataclass(frozen=True)
class BatchProgress:
    """A snapshot for a live display. ``running`` holds submitted tasks not yet finished,
    ``queued`` rows not yet submitted; ``rate`` is rows finished per second in this run."""

    total: int
    succeeded: int
    failed: int
    canceled: int
    unknown: int
    running: int
    queued: int
    elapsed: float
    finished_this_run: int
    # Rows whose task ended and whose outputs are being saved: their slot is free already.
    downloading: int = 0
    finished: LedgerRow | None = None  # the row whose end this snapshot reports, if any
    # Keys whose queue is full right now: rows wait for a free slot, nothing is submitted.
    queue_full: tuple[QueuePause, ...] = ()

    @classmethod
    def of(
        cls,
        counts: Mapping[RowState, int],
        downloading: int,
        elapsed: float,
        finished_this_run: int,
        finished: LedgerRow | None = None,
    ) -> BatchProgress:
        """The snapshot of the runner's row counts (a row downloading is no longer running)."""
        return cls(
            total=sum(counts.values()),
            succeeded=counts.get(RowState.SUCCEEDED, 0),
            failed=counts.get(RowState.FAILED, 0),
            canceled=counts.get(RowState.CANCELED, 0),
            unknown=counts.get(RowState.UNKNOWN, 0),
            running=counts.get(RowState.SUBMITTING, 0)
            + counts.get(RowState.SUBMITTED, 0)
            - downloading,
            queued=counts.get(RowState.PENDING, 0),
            elapsed=elapsed,
            finished_this_run=finished_this_run,
            downloading=downloading,
            finished=finished,
        )

    @property
    def done(self) -> int:
        return self.succeeded + self.failed + self.canceled + self.unknown

    @property
    def rate(self) -> float | None:
        if self.finished_this_run == 0 or self.elapsed <= 0:
            return None
        return self.finished_this_run / self.elapsed

    @property
    def eta(self) -> float | None:
        """Seconds left at the current rate (None until a row has finished)."""
        rate = self.rate
        if rate is None:
            return None
        return (self.running + self.queued) / rate


@dataclass(frozen=True)
class BatchReport:
    """How a run ended. ``stopped`` says why submitting stopped early (a spend guard)."""

    counts: dict[str, int]
    tasks_submitted: int
    elapsed: float
    coins: Decimal
    coins_total: Decimal
    manifest: Path
    stopped: str | None = None
    errors: list[str] = field(default_factory=list)
    # (row, state, why) of each row that did not succeed: failed, canceled or unknown.
    failures: list[tuple[int, str, str]] = field(default_factory=list)
    ledger: Path | None = None
    limits: dict[str, Any] = field(default_factory=dict)  # the spend guards this run applied

    @property
    def complete(self) -> bool:
        """Every row succeeded."""
        return self.counts.get("succeeded", 0) == self.counts.get("total", 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": dict(self.counts),
            "tasks_submitted": self.tasks_submitted,
            "elapsed": round(self.elapsed, 3),
            "coins": json_number(self.coins),
            "coins_total": json_number(self.coins_total),
            "manifest": str(self.manifest),
            "stopped": self.stopped,
            "limits": dict(self.limits),
            "errors": list(self.errors),
            "complete": self.complete,
        }


def failures_of(ledger: Ledger) -> list[tuple[int, str, str]]:
    """(row, state, why) of the rows that ended without success, in row order."""
    rows = ledger.rows((RowState.FAILED, RowState.CANCELED, RowState.UNKNOWN))
    return [(row.row, row.state.value, row.error or "") for row in rows]


def state_counts(counts: Mapping[RowState, int]) -> dict[str, int]:
    """Counts as ``batch status`` shows them: every state, plus ``total`` and ``running``."""
    result = {state.value: counts.get(state, 0) for state in RowState}
    result["running"] = result["submitting"] + result["submitted"]
    result["total"] = sum(counts.values())
    return result


def manifest_entry(row: LedgerRow) -> dict[str, Any]:
    recorded = row.input
    return {
        "row": row.row,
        "input": recorded.get("cells"),  # the row as read (None: an older ledger)
        "input_file": recorded.get("file"),
        "status": row.state.value,
        "task_id": row.task_id,
        "outputs": list(row.outputs),
        "error": row.error,
        "coins": None if row.coins is None else json_number(row.coins),
        "attempts": row.attempt,
    }


class Manifest:
    """``OUT/manifest.jsonl``: appended as rows finish, compacted at the end of a run."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, row: LedgerRow) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(manifest_entry(row), ensure_ascii=False) + "\n")

    def compact(self, rows: Iterable[LedgerRow]) -> None:
        """Rewrite atomically: one line per row, in row order."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".manifest.", suffix=".part", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                for row in rows:
                    handle.write(json.dumps(manifest_entry(row), ensure_ascii=False) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read(self) -> dict[int, dict[str, Any]]:
        """The latest entry of every row (tolerates a torn last line after a crash)."""
        entries: dict[int, dict[str, Any]] = {}
        if not self.path.exists():
            return entries
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            entries[int(entry["row"])] = entry
        return entries


def check_name_template(template: str) -> str:
    """Refuse a ``--name`` template that could make two outputs share a name, or a path, or a
    name too long for a file system (every save would fail after its task was paid for)."""
    try:
        parsed = [
            (f, spec) for _, f, spec, _ in string.Formatter().parse(template) if f is not None
        ]
        _check_widths(template, parsed)
        longest = render_name(template, **_LONGEST_VALUES)
    except (ValueError, KeyError, IndexError, AttributeError, TypeError) as exc:
        raise BatchInputError(
            f"bad --name template {template!r}: {exc}",
            hint=f"fields: {', '.join('{' + f + '}' for f in NAME_FIELDS)}",
        ) from None
    bare = template_fields(template)
    if not ({"row", "stem", "input"} & bare) or not ({"index", "n"} & bare):
        raise BatchInputError(
            f"--name template {template!r} must contain {{row}} (or {{stem}} or {{input}})"
            " and {index} or {n}",
            hint="otherwise two outputs would get the same file name",
        )
    if "/" in template or "\\" in template:
        raise BatchInputError("--name is a file name; choose the directory with --out")
    size = len(longest.encode("utf-8", "surrogatepass"))
    if size > NAME_MAX:
        raise BatchInputError(
            f"--name template {template!r} makes names of up to {size} bytes;"
            f" file systems allow {NAME_MAX}",
            hint="shorten the fixed text of the template",
        )
    return template


NAME_MAX = 255  # bytes in one file name, on every common file system
_MAX_WIDTH = 64
# The longest value each field takes in practice: a million rows, 19-digit task ids...
_LONGEST_VALUES: dict[str, Any] = {
    "row": 999_999, "node": "9" * 16, "index": 999, "n": 999, "ext": "jpeg", "task_id": "9" * 19,
    "stem": "9" * INPUT_NAME_MAX, "input": "9" * INPUT_NAME_MAX + "." + "9" * 10,
}  # fmt: skip


def _check_widths(template: str, parsed: list[tuple[str, str | None]]) -> None:
    """A width such as ``{row:999999999d}`` would build a gigabyte-long name."""
    for name, spec in parsed:
        widths = [int(number) for number in re.findall(r"\d+", spec or "")]
        if widths and max(widths) > _MAX_WIDTH:
            raise BatchInputError(
                f"--name template {template!r}: the width in {{{name}:{spec}}} is over {_MAX_WIDTH}"
            )
