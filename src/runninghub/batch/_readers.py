"""Reading batch inputs: a CSV or TSV file, a JSONL file, or a directory of media files.

Parsing is strict: a file that is not UTF-8, a CSV with a quote that never closes (which would
silently merge every following row into one cell), a cell over the size limit, a cell that
spans lines (unless asked for), JSON nested too deeply or holding text that is not text (a
lone surrogate) are each refused with the line they are on, before anything is submitted.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._errors import InvalidRequestError

__all__ = ["MEDIA_SUFFIXES", "BatchInputError", "InputTable", "read_inputs"]

MEDIA_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".mp4", ".mov", ".webm",
     ".avi", ".mkv", ".mp3", ".wav", ".flac", ".ogg", ".m4a", ".zip"}
)  # fmt: skip


class BatchInputError(InvalidRequestError):
    """The batch inputs are unusable (unmapped column, bad row, missing file...)."""


@dataclass(frozen=True)
class InputTable:
    """The raw inputs: column names in order and one dict per row (``None``: not set)."""

    source: Path
    base_dir: Path
    columns: tuple[str, ...]
    records: list[dict[str, Any]]


def read_inputs(path: str | Path, *, multiline: bool = False) -> InputTable:
    """Read a ``.csv``/``.tsv``, a ``.jsonl``/``.ndjson`` file, or a directory of media files.

    ``multiline`` accepts quoted CSV cells that span lines; without it such a cell is refused,
    since it is far more often a quote that was never closed.
    """
    source = Path(path).expanduser()
    if source.is_dir():
        return _read_directory(source)
    if not source.is_file():
        raise BatchInputError(f"inputs not found: {source}")
    suffix = source.suffix.lower()
    if suffix in (".csv", ".tsv"):
        delimiter = "\t" if suffix == ".tsv" else ","
        return _read_csv(source, delimiter=delimiter, multiline=multiline)
    if suffix in (".jsonl", ".ndjson"):
        return _read_jsonl(source)
    raise BatchInputError(
        f"cannot read inputs from {source.name}",
        hint="use a .csv, .tsv or .jsonl file, or a directory",
    )


def _read_directory(source: Path) -> InputTable:
    files = sorted(
        p
        for p in source.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in MEDIA_SUFFIXES
    )
    records: list[dict[str, Any]] = [{"file": str(p.resolve())} for p in files]
    return InputTable(source, source.resolve(), ("file",), records)


def _read_text(source: Path) -> str:
    data = source.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BatchInputError(
            f"{source.name} line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x})",
            hint="save the file as UTF-8",
        ) from None


def _read_csv(source: Path, *, delimiter: str, multiline: bool) -> InputTable:
    reader = csv.reader(io.StringIO(_read_text(source), newline=""), delimiter=delimiter,
                        strict=True)  # fmt: skip
    rows = _csv_rows(reader, source, multiline)
    first = next(rows, None)
    if first is None:
        return InputTable(source, source.parent.resolve(), (), [])
    columns = tuple(name.strip() for name in first[1])
    _check_header(columns, source)
    records = [_csv_record(columns, cells, line) for line, cells in rows if any(cells)]
    return InputTable(source, source.parent.resolve(), columns, records)


def _csv_rows(reader: Any, source: Path, multiline: bool) -> Iterator[tuple[int, list[str]]]:
    """``(line the row starts on, cells)``; malformed CSV raises BatchInputError."""
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _csv_error(source, start, reader.line_num, str(exc)) from None
        if not multiline and any("\n" in cell or "\r" in cell for cell in cells):
            raise BatchInputError(
                f"{source.name} line {start}: a cell spans lines {start}-{reader.line_num}",
                hint="look for a quote that is never closed; if cells really hold line breaks,"
                " pass --allow-multiline",
            )
        yield start, cells


def _csv_error(source: Path, start: int, end: int, reason: str) -> BatchInputError:
    hint = 'a quote inside a cell is written twice (""), and only whole cells are quoted'
    if "field larger than field limit" in reason:
        limit = csv.field_size_limit()
        return BatchInputError(
            f"{source.name} line {start}: a cell is longer than {limit} characters",
            hint="put long texts in a JSONL file, or shorten them",
        )
    if "unexpected end of data" in reason:
        return BatchInputError(f"{source.name} line {start}: a quote opened here never closes",
                               hint=hint)  # fmt: skip
    return BatchInputError(f"{source.name} line {end}: malformed CSV ({reason})", hint=hint)


def _check_header(columns: tuple[str, ...], source: Path) -> None:
    if any(not name for name in columns):
        raise BatchInputError(f"{source.name}: the header has an empty column name")
    seen: set[str] = set()
    for name in columns:
        if name in seen:
            raise BatchInputError(f"{source.name}: column {name!r} appears twice in the header")
        seen.add(name)


def _csv_record(columns: tuple[str, ...], cells: list[str], line: int) -> dict[str, Any]:
    if len(cells) > len(columns):
        raise BatchInputError(f"line {line}: {len(cells)} cells for {len(columns)} columns")
    cells = cells + [""] * (len(columns) - len(cells))  # short rows: the rest is unset
    return {name: (cell if cell != "" else None) for name, cell in zip(columns, cells, strict=True)}


def _read_jsonl(source: Path) -> InputTable:
    columns: dict[str, None] = {}  # insertion-ordered set
    records: list[dict[str, Any]] = []
    # Split on newlines only: JSON strings may hold other line separators (U+2028...).
    for line_no, line in enumerate(_read_text(source).split("\n"), start=1):
        if line.strip():
            record = _json_record(line, f"{source.name} line {line_no}")
            columns.update(dict.fromkeys(record))
            records.append(record)
    return InputTable(source, source.parent.resolve(), tuple(columns), records)


def _json_record(line: str, where: str) -> dict[str, Any]:
    try:
        record = json.loads(line)
        # Re-encoding finds text that is no text: an escaped lone surrogate such as \ud800.
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except json.JSONDecodeError as exc:
        raise BatchInputError(f"{where}: not JSON ({exc.msg})") from None
    except RecursionError:
        raise BatchInputError(f"{where}: nested too deeply") from None
    except UnicodeEncodeError:
        raise BatchInputError(
            f"{where}: a string holds a lone surrogate (an escape such as \\ud800 that is"
            " not a character)"
        ) from None
    if not isinstance(record, dict):
        raise BatchInputError(f"{where}: expected a JSON object")
    return record
