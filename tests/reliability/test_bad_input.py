"""Bad input: one table, one row per case, each run through the real command line against an
emulator. Every row must give its documented exit code and one readable error line (plus an
optional ``hint:`` line), no traceback, nothing on stdout, and no task or upload on the
emulator: bad input is refused before anything is paid for.

Exit codes (product.md): 2 usage or bad input, 3 configuration or authentication, 4 the API
refused or could not be reached.

The tests run as root, which reads and writes through any permission bits; the rows that need
an unreadable file or a read-only folder drop that privilege (``CAP_DAC_OVERRIDE`` and
``CAP_DAC_READ_SEARCH``) from the test thread while the command runs, so the files are as
unreadable to the command as to any user.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from PIL import Image

from runninghub.emulator import EmulatorServer
from tests.cli.cli_harness import ISOLATED, Invoker
from tests.reliability.hostile_server import HostileServer, Reply

KEY = "0123456789abcdef0123456789abcdef"
INVERT = "1987728214757978114"  # LoadImage 107 -> ImageInvert -> SaveImage
TEXT = "1904136902449209346"  # txt2img: 6 Positive Prompt, 7 Negative Prompt, 3 KSampler
APP = "1877265245566922753"  # 39.image LoadImage, 52.text
UNKNOWN_TASK = "1234567890123456789"
BIG = 30 * 1024 * 1024 + 1


@dataclass(frozen=True)
class Case:
    """One bad input: the command (``{d}`` is the folder of prepared inputs), the expected exit
    code and a fragment of the error line. ``server`` picks what the base URL points at;
    ``key`` is the key in the environment (None: no key anywhere)."""

    args: tuple[str, ...]
    code: int
    message: str
    server: str = "emulator"  # emulator | other-site | unreachable | wrong-path | html
    key: str | None = KEY
    unprivileged: bool = False  # run without root's permission override
    env: dict[str, str] = field(default_factory=dict)


def row(case_id: str, *args: str, code: int, message: str, **options: Any) -> Any:
    return pytest.param(Case(args, code, message, **options), id=case_id)


def run_with_file(path: str, *extra: str) -> tuple[str, ...]:
    return ("run", INVERT, "--file", f"107.image={path}", *extra)


CASES = [
    # --- durations: nan and inf pass every comparison, so a deadline would never arrive
    row("timeout nan", "run", INVERT, "--timeout", "nan", code=2, message="finite number"),
    row("timeout inf", "wait", UNKNOWN_TASK, "--timeout", "inf", code=2, message="finite number"),
    row("timeout negative", "wait", UNKNOWN_TASK, "--timeout", "-1", code=2, message="-1"),
    # --- files
    row("missing file", *run_with_file("/nope.png"), code=2, message="no such file: /nope.png"),
    row(
        "unreadable file",
        *run_with_file("{d}/secret.png"),
        code=2,
        message="cannot read {d}/secret.png: Permission denied",
        unprivileged=True,
    ),
    row("a FIFO", *run_with_file("{d}/fifo.png"), code=2, message="is not a regular file"),
    row("a directory", *run_with_file("{d}/folder.png"), code=2, message="is a directory"),
    row(
        "over 30 MB",
        *run_with_file("{d}/big.png"),
        code=2,
        message=f"big.png is {BIG} bytes; uploads are limited to 30 MB",
    ),
    row(
        "upload over 30 MB",
        "upload",
        "{d}/big.png",
        code=2,
        message=f"big.png is {BIG} bytes; uploads are limited to 30 MB",
    ),
    row("upload a directory", "upload", "{d}/folder.png", code=2, message="is a directory"),
    row(".exe", *run_with_file("{d}/tool.exe"), code=2, message="type 'exe' is not accepted"),
    # --- media by content: refused before any upload or submit (nothing to pay for)
    row(
        "empty .png",
        *run_with_file("{d}/empty.png"),
        code=2,
        message="empty.png is empty (0 bytes)",
    ),
    row(
        "text named .png",
        *run_with_file("{d}/text.png"),
        code=2,
        message="text.png is not an image by its content",
    ),
    row(
        "app run with text named .png",
        *("app", "run", APP, "--file", "39.image={d}/text.png"),
        code=2,
        message="text.png is not an image by its content",
    ),
    row(
        "upload random bytes named .mp4",
        *("upload", "{d}/noise.mp4"),
        code=2,
        message="noise.mp4 is not a video by its content",
    ),
    row(
        "upload text named .wav",
        *("upload", "{d}/text.wav"),
        code=2,
        message="text.wav is not an audio by its content",
    ),
    row("upload an empty .mp4", "upload", "{d}/empty.mp4", code=2, message="is empty (0 bytes)"),
    row(
        "a PNG named .mp4",
        *("upload", "{d}/picture.mp4"),
        code=2,
        message="picture.mp4 is named .mp4 but holds image, not a video",
    ),
    # --- text that is not UTF-8 (a byte Python reads from argv with surrogateescape)
    row(
        "--set with a byte that is not UTF-8",
        *("run", TEXT, "--set", os.fsdecode(b"6.text=a red \xff fox")),
        code=2,
        message="the value of 6.text cannot be sent: the byte 0xff at character 7 is not UTF-8",
    ),
    row(
        "app run --set not UTF-8",
        *("app", "run", APP, "--no-validate", "--set", os.fsdecode(b"52.text=\xfe\xff")),
        code=2,
        message="the value of 52.text cannot be sent: the byte 0xfe at character 1",
    ),
    row(
        "a lone surrogate in --workflow-json",
        *("run", TEXT, "--workflow-json", "{d}/surrogate.json"),
        code=2,
        message="cannot be sent: a lone surrogate U+D800",
    ),
    row(".txt", *run_with_file("{d}/notes.txt"), code=2, message="type 'txt' is not accepted"),
    # --- overrides
    row("--set without =", "run", TEXT, "--set", "6.text", code=2, message="NODE.FIELD=VALUE"),
    row("--set without .", "run", TEXT, "--set", "text=a", code=2, message="NODE.FIELD=VALUE"),
    row("--set empty node", "run", TEXT, "--set", ".text=a", code=2, message="NODE.FIELD=VALUE"),
    row("--set empty field", "run", TEXT, "--set", "6.=a", code=2, message="NODE.FIELD=VALUE"),
    row(
        "unknown node",
        *("run", TEXT, "--set", "99.text=a"),
        code=2,
        message="no node '99' in this workflow; did you mean 7.text or 6.text?",
    ),
    row(
        "unknown title",
        *("run", TEXT, "--set", "Negative Promt.text=a"),
        code=2,
        message="no node 'Negative Promt' in this workflow; did you mean Negative Prompt.text",
    ),
    row(
        "unknown field",
        *("run", TEXT, "--set", "6.txet=a"),
        code=2,
        message="node 6 (Positive Prompt) has no field 'txet'; did you mean 6.text?",
    ),
    row(
        "text for an int",
        *("run", TEXT, "--set", "KSampler.steps=many"),
        code=2,
        message="3.steps expects an integer, got 'many'",
    ),
    row(
        "text for a float",
        *("run", TEXT, "--set", "KSampler.cfg=high"),
        code=2,
        message="3.cfg expects a finite number, got 'high'",
    ),
    # --- batch inputs
    row(
        "empty CSV",
        *("batch", "run", TEXT, "--inputs", "{d}/empty.csv", "--out", "{d}/b"),
        code=2,
        message="no input rows in {d}/empty.csv",
    ),
    row(
        "CSV with a header only",
        *("batch", "run", TEXT, "--inputs", "{d}/header.csv", "--out", "{d}/b"),
        code=2,
        message="no input rows in {d}/header.csv",
    ),
    row(
        "unmapped column",
        *("batch", "run", TEXT, "--inputs", "{d}/unmapped.csv", "--out", "{d}/b"),
        code=2,
        message="column 'colour' is not mapped to a field",
    ),
    row(
        "duplicate rows",
        *("batch", "run", TEXT, "--inputs", "{d}/duplicates.csv", "--out", "{d}/b"),
        code=2,
        message="1 duplicate row(s): row 2 repeats row 1",
    ),
    row(
        "CSV naming a missing file",
        *("batch", "run", INVERT, "--inputs", "{d}/missing-file.csv", "--out", "{d}/b"),
        code=2,
        message="row 1: file not found: {d}/gone.png",
    ),
    row(
        "--map to an unknown field",
        *("batch", "run", TEXT, "--inputs", "{d}/unmapped.csv", "--map", "colour=6.txet"),
        code=2,
        message="column 'colour': node 6 (Positive Prompt) has no field 'txet'",
    ),
    # --- keys
    row("no key", "status", UNKNOWN_TASK, code=3, message="no API key", key=None),
    row(
        "malformed key",
        *("status", UNKNOWN_TASK),
        code=3,
        message="the API key must be 32 hexadecimal characters (got 6 characters)",
        key="sk-abc",
    ),
    row(
        "key of the other site",
        *("run", TEXT, "--no-wait"),
        code=3,
        message="Invalid API key",
        server="other-site",
    ),
    row(
        "missing --api-key-file",
        *("--api-key-file", "{d}/no-key-file", "status", UNKNOWN_TASK),
        code=2,
        message="cannot read {d}/no-key-file: No such file or directory",
        key=None,
    ),
    # --- ids
    row("unknown workflow", "run", "1234", code=4, message="workflow 1234"),
    row("unknown workflow nodes", "nodes", "1234", code=4, message="workflow 1234"),
    row("unknown task status", "status", UNKNOWN_TASK, code=4, message="Task not found"),
    row("unknown task wait", "wait", UNKNOWN_TASK, code=4, message="Task not found"),
    # --- base URLs
    row(
        "unreachable base URL",
        *("--retries", "0", "status", UNKNOWN_TASK),
        code=4,
        message="could not connect",
        server="unreachable",
    ),
    row(
        "wrong base URL path",
        *("--retries", "0", "run", TEXT),
        code=4,
        message="the service answered HTTP 404 (NOT_FOUND): no API at this address",
        server="wrong-path",
    ),
    row(
        "base URL answering HTML",
        *("--retries", "0", "run", TEXT),
        code=4,
        message="with a body that is not JSON (text/html)",
        server="html",
    ),
    # --- emulator options
    row(
        "emulator public URL without a scheme",
        *("emulator", "--public-url", "rh.example.com"),
        code=2,
        message="public_url: 'rh.example.com' is not an http:// or https:// URL",
    ),
    row(
        "emulator fetch host with a path",
        *("emulator", "--fetch-host", "example.com/images"),
        code=2,
        message="fetch_hosts: not a host or host:port: example.com/images",
    ),
    # --- local state
    row(
        "not a ledger",
        *("batch", "status", "--ledger", "{d}/notes.txt"),
        code=2,
        message="{d}/notes.txt is not a batch ledger",
    ),
    row(
        "no ledger",
        *("batch", "resume", "--ledger", "{d}/none.sqlite"),
        code=2,
        message="no batch ledger at {d}/none.sqlite",
    ),
    row(
        "--out under a file",
        *run_with_file("{d}/ok.png", "--out", "{d}/notes.txt/sub"),
        code=2,
        message="cannot create {d}/notes.txt/sub: {d}/notes.txt is not a directory",
    ),
    row(
        "--out is a file",
        *run_with_file("{d}/ok.png", "--out", "{d}/notes.txt"),
        code=2,
        message="is a file",
    ),
    row(
        "--out with a folder name over 255 bytes",
        *run_with_file("{d}/ok.png", "--out", "{d}/" + "n" * 300 + "/out"),
        code=2,
        message="too long",
    ),
    row(
        "--out too long for file names under it",
        *run_with_file("{d}/ok.png", "--out", "{d}/" + "deep/" * 800),
        code=2,
        message="too long for file names under it",
    ),
    row(
        "--out read-only",
        *run_with_file("{d}/ok.png", "--out", "{d}/locked/out"),
        code=2,
        message="cannot write in {d}/locked",
        unprivileged=True,
    ),
    row(
        "batch --out under a file",
        *("batch", "run", TEXT, "--inputs", "{d}/prompts.csv", "--out", "{d}/notes.txt/sub"),
        code=2,
        message="Not a directory",
    ),
]


def prepare_inputs(d: Path) -> None:
    """Every local file the table refers to."""
    d.mkdir()
    (d / "secret.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (d / "secret.png").chmod(0)
    os.mkfifo(d / "fifo.png")
    (d / "folder.png").mkdir()
    with (d / "big.png").open("wb") as sparse:
        sparse.truncate(BIG)  # no disk space used
    (d / "tool.exe").write_bytes(b"MZ")
    (d / "empty.png").write_bytes(b"")
    (d / "empty.mp4").write_bytes(b"")
    (d / "text.png").write_text("not a picture at all\n")
    (d / "text.wav").write_text("not a sound\n")
    (d / "noise.mp4").write_bytes(random.Random(13).randbytes(4096))
    (d / "surrogate.json").write_text(
        '{"6": {"class_type": "CLIPTextEncode", "inputs": {"text": "\\ud800"}}}'
    )
    (d / "notes.txt").write_text("not a ledger, not a folder\n")
    Image.new("RGB", (8, 6), (200, 30, 30)).save(d / "ok.png")  # a valid input
    (d / "picture.mp4").write_bytes((d / "ok.png").read_bytes())
    (d / "empty.csv").write_text("")
    (d / "header.csv").write_text("6.text\n")
    (d / "unmapped.csv").write_text("colour\nred\n")
    (d / "duplicates.csv").write_text("6.text\na cat\na cat\n")
    (d / "missing-file.csv").write_text("107.image\ngone.png\n")
    (d / "prompts.csv").write_text("6.text\na cat\n")
    (d / "locked").mkdir(mode=0o555)


# ------------------------------------------------------------------ root's override, dropped

_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2
_CAPS_V3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint32) for n in ("effective", "permitted", "inheritable")]


def _caps(call: str, data: Any) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    header = _CapHeader(_CAPS_V3, 0)  # pid 0: this thread only
    if getattr(libc, call)(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), f"{call} failed")


@contextlib.contextmanager
def without_permission_override() -> Iterator[None]:
    """Permission bits apply to this thread, even as root (the emulator's thread keeps its
    privileges: capabilities belong to each thread)."""
    if os.geteuid() != 0:
        yield  # an ordinary user: permission bits apply already
        return
    data = (_CapData * 2)()
    _caps("capget", data)
    saved = data[0].effective
    data[0].effective &= ~((1 << _CAP_DAC_OVERRIDE) | (1 << _CAP_DAC_READ_SEARCH))
    _caps("capset", data)
    try:
        yield
    finally:
        data[0].effective = saved
        _caps("capset", data)


# ------------------------------------------------------------------ the table


@pytest.fixture
def base_urls(
    emulator: EmulatorServer, make_emulator: Callable[..., EmulatorServer]
) -> Iterator[Callable[[str], tuple[str, EmulatorServer | None]]]:
    """``server name -> (base URL, the emulator behind it if any)``, started on demand."""
    started: list[HostileServer] = []

    def base_url(name: str) -> tuple[str, EmulatorServer | None]:
        if name == "other-site":  # the key is listed as a www.runninghub.ai key
            other = make_emulator(queue_seconds=0, keys=frozenset([f"ai:{KEY}"]), site="cn")
            return other.base_url, other
        if name == "html":
            html = HostileServer().start()
            started.append(html)
            html.default(
                Reply(body=b"<html><body>Welcome!</body></html>", content_type="text/html")
            )
            return html.base_url, None
        urls = {"unreachable": "http://127.0.0.1:1", "wrong-path": emulator.base_url + "/nothing"}
        return urls.get(name, emulator.base_url), emulator

    yield base_url
    for server in started:
        server.stop()


def invoke(case: Case, base_url: str, inputs: Path, config_dir: Path) -> Result:
    env: dict[str, str | None] = dict.fromkeys(ISOLATED)
    env.update(RUNNINGHUB_BASE_URL=base_url, RUNNINGHUB_CONFIG_DIR=str(config_dir), **case.env)
    if case.key is not None:
        env["RUNNINGHUB_API_KEY"] = case.key
    args = [arg.format(d=inputs) for arg in case.args]
    guard = without_permission_override() if case.unprivileged else contextlib.nullcontext()
    with guard:
        return Invoker(env=env, secrets=(KEY,))(*args)


def error_line(stderr: str) -> str:
    """The one error line: only notes before it, and at most a hint after it."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    errors = [i for i, line in enumerate(lines) if line.startswith("error: ")]
    assert len(errors) == 1, stderr
    after = lines[errors[0] + 1 :]
    assert after == [] or (len(after) == 1 and after[0].startswith("hint: ")), stderr
    return lines[errors[0]]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_gets_one_line_and_its_exit_code(
    case: Case,
    base_urls: Callable[[str], tuple[str, EmulatorServer | None]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inputs = tmp_path / "inputs"
    prepare_inputs(inputs)
    monkeypatch.chdir(tmp_path)
    base_url, server = base_urls(case.server)

    result = invoke(case, base_url, inputs, tmp_path / "config")

    assert result.exit_code == case.code, result.output
    assert case.message.format(d=inputs) in error_line(result.stderr)
    assert result.stdout == ""
    if server is not None:
        stats = server.stats()
        assert (stats["tasks_created"], stats["uploads"]) == (0, 0)
