"""Hostile batch inputs and damaged batch state: each gets one error line and exit 2, and
nothing is uploaded or submitted (bad input is refused before anything is paid for).

Run through the real command line (in-process) against an emulator. The read-only disk is a
real tmpfs remounted read-only: the tests run as root, which ignores file modes.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from runninghub.batch import BatchSpec, Ledger
from runninghub.cli.main import cli
from runninghub.emulator import EmulatorServer
from tests.batch.batch_helpers import API_KEY, INVERT, TEXT, make_images
from tests.tmpfs import CannotMount, mounted_tmpfs

ISOLATED = ("RUNNINGHUB_API_KEY", "RUNNINGHUB_BASE_URL", "RUNNINGHUB_CONFIG_DIR", "NO_COLOR")
PNG_HEAD = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def rh(tmp_path: Path, emulator: EmulatorServer) -> Callable[..., Result]:
    """``runninghub --base-url EMULATOR ARGS`` with the key in the environment."""
    env: dict[str, str | None] = dict.fromkeys(ISOLATED)
    env.update(RUNNINGHUB_API_KEY=API_KEY, RUNNINGHUB_CONFIG_DIR=str(tmp_path / "config"))

    def invoke(*args: str) -> Result:
        result = CliRunner().invoke(cli, ["--base-url", emulator.base_url, *args], env=env)
        assert API_KEY not in result.output
        return result

    return invoke


def one_error_line(result: Result) -> str:
    """The error line: the only one, followed at most by a hint, never a traceback."""
    lines = result.stderr.splitlines()
    assert "Traceback" not in result.stderr, result.stderr
    errors = [i for i, line in enumerate(lines) if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    after = lines[errors[0] + 1 :]
    assert after == [] or (len(after) == 1 and after[0].startswith("hint: ")), result.stderr
    return "\n".join(lines[errors[0] :])


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    message: str


def case(case_id: str, *args: str, message: str) -> object:
    return pytest.param(Case(args, message), id=case_id)


def batch_run(workflow: str, inputs: str, *extra: str) -> tuple[str, ...]:
    return ("batch", "run", workflow, "--inputs", f"{{d}}/{inputs}", "--out", "{d}/out", *extra)


CASES = [
    case(
        "a stray quote, never closed",
        *batch_run(TEXT, "stray.csv"),
        message="stray.csv line 3: a quote opened here never closes",
    ),
    case(
        "a stray quote, closed 49 lines later",
        *batch_run(TEXT, "stray-closed.csv"),
        message="stray-closed.csv line 3: a cell spans lines 3-52",
    ),
    case(
        "a quoted cell with a line break",
        *batch_run(TEXT, "multiline.csv"),
        message="pass --allow-multiline",
    ),
    case(
        "text after a closing quote",
        *batch_run(TEXT, "after-quote.csv"),
        message="after-quote.csv line 2: malformed CSV",
    ),
    case(
        "a CSV that is not UTF-8",
        *batch_run(TEXT, "latin1.csv"),
        message="latin1.csv line 3: not UTF-8 text (byte 0xe9)",
    ),
    case(
        "a CSV cell over 128 KB",
        *batch_run(TEXT, "huge-cell.csv"),
        message="huge-cell.csv line 2: a cell is longer than 131072 characters",
    ),
    case(
        "a JSONL that is not UTF-8",
        *batch_run(TEXT, "latin1.jsonl"),
        message="latin1.jsonl line 1: not UTF-8 text (byte 0xe9)",
    ),
    case(
        "a lone surrogate in JSONL",
        *batch_run(TEXT, "surrogate.jsonl"),
        message="surrogate.jsonl line 2: a string holds a lone surrogate",
    ),
    case(
        "deeply nested JSONL",
        *batch_run(TEXT, "nested.jsonl"),
        message="nested.jsonl line 1: nested too deeply",
    ),
    case(
        "a name template with a huge width",
        *batch_run(TEXT, "prompts.csv", "--name", "{row:999999999d}_{index}.{ext}"),
        message="the width in {row:999999999d} is over 64",
    ),
    case(
        "a name template making over-long names",
        *batch_run(TEXT, "prompts.csv", "--name", "{row}_{index}_" + "x" * 240 + ".{ext}"),
        message="makes names of up to 256 bytes; file systems allow 255",
    ),
    case(
        "a 0-byte image in a folder",
        *batch_run(INVERT, "empty-image"),
        message="empty.png is empty (0 bytes)",
    ),
    case(
        "text named .png",
        *batch_run(INVERT, "text-image"),
        message="notes.png is not an image by its content",
    ),
    case(
        "random bytes named .jpg in a CSV",
        *batch_run(INVERT, "random.csv"),
        message="row 1: {d}/random.jpg is not an image by its content",
    ),
    case(
        "an audio file named .png",
        *batch_run(INVERT, "audio-image"),
        message="song.png is named .png but holds audio, not an image",
    ),
    case(
        "a garbled ledger (status)",
        *("batch", "status", "--ledger", "{d}/garbled.sqlite"),
        message="the ledger {d}/garbled.sqlite is damaged",
    ),
    case(
        "a garbled ledger (resume)",
        *("batch", "resume", "--ledger", "{d}/garbled.sqlite"),
        message="the ledger {d}/garbled.sqlite is damaged",
    ),
    case(
        "a ledger with a garbled description",
        *("batch", "status", "--ledger", "{d}/bad-spec.sqlite"),
        message="the batch description in {d}/bad-spec.sqlite is garbled",
    ),
    case(
        "a ledger with a garbled row (status)",
        *("batch", "status", "--ledger", "{d}/bad-row.sqlite"),
        message="{d}/bad-row.sqlite is garbled: rows in state 'exploded'",
    ),
    case(
        "a ledger with a garbled row (resume)",
        *("batch", "resume", "--ledger", "{d}/bad-row.sqlite"),
        message="is garbled",
    ),
    case(
        "a ledger with garbled outputs",
        *("batch", "resume", "--ledger", "{d}/bad-outputs.sqlite"),
        message="row 3 of the ledger is garbled",
    ),
]


def prepare(d: Path) -> None:
    """Every input the table refers to."""
    d.mkdir()
    prompts = [f"a lighthouse number {i}" for i in range(100)]
    (d / "prompts.csv").write_text("6.text\n" + "\n".join(prompts[:2]) + "\n")
    (d / "stray.csv").write_text("6.text\n" + "\n".join([prompts[0], '"a cat', *prompts[2:]]))
    closing = [prompts[0], '"a cat', *prompts[2:50], 'b"', *prompts[51:]]
    (d / "stray-closed.csv").write_text("6.text\n" + "\n".join(closing) + "\n")
    (d / "multiline.csv").write_text('6.text\n"line one\nline two"\n')
    (d / "after-quote.csv").write_text('6.text\n"a cat" on a mat\n')
    (d / "latin1.csv").write_bytes(b"6.text\na cat\ncaf\xe9 au lait\n")
    (d / "huge-cell.csv").write_text("6.text\n" + "a" * (140 * 1024) + "\n")
    (d / "latin1.jsonl").write_bytes(b'{"6.text": "caf\xe9"}\n')
    (d / "surrogate.jsonl").write_text('{"6.text": "ok"}\n{"6.text": "\\ud800"}\n')
    (d / "nested.jsonl").write_text('{"6.text": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    for folder, name, data in (
        ("empty-image", "empty.png", b""),
        ("text-image", "notes.png", b"hello, this is text\n"),
        ("audio-image", "song.png", b"ID3\x04\x00" + bytes(27)),
    ):
        (d / folder).mkdir()
        (d / folder / name).write_bytes(data)
    (d / "random.jpg").write_bytes(bytes(range(7, 200, 3)))
    (d / "random.csv").write_text("107.image\nrandom.jpg\n")
    _ledgers(d)


def _ledgers(d: Path) -> None:
    spec = BatchSpec(workflow_id=TEXT, out_dir=str(d / "ledger-out"))
    rows = [(n, f"fp{n}", "[]") for n in range(1, 400)]
    for name in ("garbled", "bad-spec", "bad-row", "bad-outputs"):
        Ledger.create(d / f"{name}.sqlite", spec, rows).close()
    with (d / "garbled.sqlite").open("r+b") as handle:  # pages past the header: the rows
        handle.seek(4096 * 3)
        handle.write(bytes(range(256)) * 32)
    _tamper(d / "bad-spec.sqlite", "UPDATE batch_meta SET value = '{\"a\": ' WHERE key = 'spec'")
    _tamper(d / "bad-row.sqlite", "UPDATE rows SET state = 'exploded' WHERE row = 2")
    _tamper(d / "bad-outputs.sqlite", "UPDATE rows SET outputs = '[\"a\", ' WHERE row = 3")


def _tamper(ledger: Path, sql: str) -> None:
    """Change a ledger behind runninghub's back, as a stray tool or a bad edit would."""
    conn = sqlite3.connect(ledger)
    try:
        with conn:
            conn.execute(sql)
    finally:
        conn.close()


@pytest.mark.parametrize("bad", CASES)
def test_bad_batch_input_gets_one_line_exit_2_and_nothing_is_paid_for(
    bad: Case, rh: Callable[..., Result], emulator: EmulatorServer, tmp_path: Path
) -> None:
    d = tmp_path / "inputs"
    prepare(d)
    result = rh(*(arg.replace("{d}", str(d)) for arg in bad.args))
    assert result.exit_code == 2, result.output
    assert bad.message.replace("{d}", str(d)) in one_error_line(result)
    stats = emulator.stats()
    assert (stats["tasks_created"], stats["uploads"]) == (0, 0)


def test_cells_with_line_breaks_run_when_asked_for(
    rh: Callable[..., Result], emulator: EmulatorServer, tmp_path: Path
) -> None:
    inputs = tmp_path / "multiline.csv"
    inputs.write_text('6.text\n"line one\nline two"\nsecond row\n')
    args = ("batch", "run", TEXT, "--inputs", str(inputs), "--out", str(tmp_path / "out"))
    result = rh(*args, "--allow-multiline", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"]["succeeded"] == 2
    with Ledger.open(tmp_path / "out" / "batch.sqlite") as ledger:
        [prompt] = ledger.row(1).overrides
    assert prompt.value == "line one\nline two"


def test_real_images_pass_the_content_check_whatever_their_image_extension(
    rh: Callable[..., Result], emulator: EmulatorServer, tmp_path: Path
) -> None:
    [png] = make_images(tmp_path / "photos", 1)
    png.rename(tmp_path / "photos" / "really-a-png.jpg")
    args = ("batch", "run", INVERT, "--inputs", str(tmp_path / "photos"))
    result = rh(*args, "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert emulator.stats()["tasks_created"] == 1


# ------------------------------------------------------------------ a read-only disk


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 8 MB tmpfs, unmounted afterwards; the test remounts it read-only."""
    try:
        with mounted_tmpfs(tmp_path / "disk", "8m") as mount_point:
            yield mount_point
    except CannotMount as exc:
        pytest.skip(f"this machine cannot mount a tmpfs ({exc}): untested")


def test_a_ledger_on_a_read_only_disk_is_read_by_status_and_refused_for_running(
    rh: Callable[..., Result], emulator: EmulatorServer, tmp_path: Path, small_disk: Path
) -> None:
    (tmp_path / "prompts.csv").write_text("6.text\na cat\na dog\n")
    out = small_disk / "out"
    args = ("batch", "run", TEXT, "--inputs", str(tmp_path / "prompts.csv"), "--out", str(out))
    assert rh(*args, "--max-tasks", "1").exit_code == 4  # a row is left pending by the limit
    remount = ["mount", "-o", "remount,ro", str(small_disk)]
    subprocess.run(remount, check=True, capture_output=True)
    ledger = str(out / "batch.sqlite")

    status = rh("batch", "status", "--ledger", ledger, "--json")
    assert status.exit_code == 0, status.output
    counts = json.loads(status.stdout)
    assert (counts["total"], counts["succeeded"], counts["pending"]) == (2, 1, 1)

    resumed = rh("batch", "resume", "--ledger", ledger)
    assert resumed.exit_code == 2, resumed.output
    line = one_error_line(resumed)
    assert f"cannot write the ledger {ledger}" in line
    assert "not a batch ledger" not in line
    assert emulator.stats()["tasks_created"] == 1
