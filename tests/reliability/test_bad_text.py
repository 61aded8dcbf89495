"""Text a program cannot send or read: bytes that are not UTF-8 on the command line, lone
surrogates, JSON nested 100,000 deep from a server. Each gives one line and its exit code (2
for bad input, 4 for a bad answer), never "unexpected error ... report it".
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from runninghub import APIResponseError, Client, InvalidRequestError, RetryPolicy
from runninghub._socket_listener import parse_message
from runninghub._wire_values import MAX_JSON_DEPTH, TooDeep, load_json
from runninghub.emulator import EmulatorServer
from tests.cli.cli_harness import ISOLATED, Invoker, runninghub_command, subprocess_env
from tests.reliability.hostile_server import HostileServer, Reply

KEY = "0123456789abcdef0123456789abcdef"
TEXT = "1904136902449209346"  # txt2img: 6 Positive Prompt
DEEP = 100_000


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def process_env(emulator: EmulatorServer, tmp_path: Path) -> dict[str, str]:
    return subprocess_env(
        {
            "RUNNINGHUB_API_KEY": KEY,
            "RUNNINGHUB_BASE_URL": emulator.base_url,
            "RUNNINGHUB_CONFIG_DIR": str(tmp_path / "config"),
            "RUNNINGHUB_DATA_DIR": str(tmp_path / "data"),
        }
    )


def test_argv_bytes_that_are_not_utf8_are_refused_before_the_submit(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    env = process_env(emulator, tmp_path)
    command = [*map(str.encode, runninghub_command("run", TEXT, "--set")), b"6.text=caf\xe9"]

    done = subprocess.run(command, env=env, capture_output=True, timeout=120, check=False)

    stderr = done.stderr.decode("utf-8")  # what the command prints is UTF-8 itself
    assert done.returncode == 2, stderr
    assert stderr.splitlines()[0] == (
        "error: the value of 6.text cannot be sent: the byte 0xe9 at character 4 is not UTF-8"
    )
    assert "Traceback" not in stderr and "report it" not in stderr
    assert emulator.stats()["tasks_created"] == 0


def test_argv_bytes_that_are_not_utf8_in_a_journal_search_are_bad_input(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    env = process_env(emulator, tmp_path)
    submitted = subprocess.run(
        runninghub_command("run", TEXT, "--no-wait", "--set", "6.text=a café"),
        env=env, capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr
    command = [*map(str.encode, runninghub_command("history", "--search")), b"caf\xe9"]

    done = subprocess.run(command, env=env, capture_output=True, timeout=120, check=False)

    assert done.returncode == 2, done.stderr
    assert (
        done.stderr.decode().splitlines()[0] == "error: a value is not UTF-8 text (the byte 0xe9)"
    )


def test_the_sdk_refuses_a_lone_surrogate_before_sending(emulator: EmulatorServer) -> None:
    with Client(KEY, base_url=emulator.base_url, validate=False) as client:
        with pytest.raises(InvalidRequestError, match=r"6\.text cannot be sent: a lone surrogate"):
            client.submit(TEXT, {"6.text": "broken \ud800 text"})

    assert emulator.stats()["tasks_created"] == 0


def test_json_nested_beyond_the_limit_is_refused_by_its_reader() -> None:
    assert load_json(nested(MAX_JSON_DEPTH)) is not None
    for depth in (MAX_JSON_DEPTH + 1, DEEP):
        with pytest.raises(TooDeep, match=f"nested deeper than {MAX_JSON_DEPTH} levels"):
            load_json(nested(depth))
    deep_event = b'{"type": "progress", "data": ' + nested(DEEP) + b"}"
    assert parse_message(deep_event.decode()) is None  # an event too deep is no event


@pytest.fixture
def deep_server() -> Iterator[HostileServer]:
    with HostileServer() as server:
        body = b'{"code": 0, "msg": "success", "data": ' + nested(DEEP) + b"}"
        server.default(Reply(body=body))
        yield server


def test_the_sdk_reports_a_deeply_nested_answer_as_a_bad_answer(
    deep_server: HostileServer,
) -> None:
    with Client(KEY, base_url=deep_server.base_url, retry=RetryPolicy.never()) as client:
        with pytest.raises(APIResponseError, match="JSON nested deeper than 200 levels"):
            client.account()
        with pytest.raises(APIResponseError, match="JSON nested deeper than 200 levels"):
            client.query("7")


@pytest.mark.parametrize("args", [("account",), ("status", "7"), ("--json", "account")])
def test_the_cli_reports_a_deeply_nested_answer_in_one_line_with_exit_4(
    deep_server: HostileServer, tmp_path: Path, args: tuple[str, ...]
) -> None:
    env: dict[str, str | None] = dict.fromkeys(ISOLATED)
    env.update(
        RUNNINGHUB_API_KEY=KEY,
        RUNNINGHUB_BASE_URL=deep_server.base_url,
        RUNNINGHUB_CONFIG_DIR=str(tmp_path / "config"),
    )

    result = Invoker(env=env, secrets=(KEY,))("--retries", "0", *args)

    assert result.exit_code == 4, result.output
    assert "JSON nested deeper than 200 levels" in result.output
    assert "report it" not in result.output and "Traceback" not in result.output
    if "--json" not in args:
        assert result.stderr.splitlines() == [
            "error: the service answered with JSON nested deeper than 200 levels"
        ]
