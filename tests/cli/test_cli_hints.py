"""The command line prints each exception's own message and hint, in the words a shell user
types: the SDK raises the same exception for the same mistake, and its CLI wording is what
stderr shows (flags such as --no-validate, never Python keywords such as validate=False)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from runninghub import Client, RetryPolicy, RunningHubError
from tests.cli.cli_harness import Invoker

TEXT_TO_IMAGE = "1904136902449209346"
INVERT = "1987728214757978114"
UNKNOWN_WORKFLOW = "1999999999999999999"
# Python spellings that must never reach a shell user.
_PYTHON_WORDS = ("api_key=", "validate=False", "pathlib", "allowed_hosts=", "base_url=", "site=")


def _lines(result: Result) -> tuple[str, str | None]:
    """The one ``error:`` line and the ``hint:`` line (if any) of stderr, without prefixes."""
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    hints = [line for line in result.stderr.splitlines() if line.startswith("hint: ")]
    assert len(errors) == 1 and len(hints) <= 1, result.stderr
    return errors[0].removeprefix("error: "), hints[0].removeprefix("hint: ") if hints else None


def _raised(action: Callable[[], Any]) -> RunningHubError:
    with pytest.raises(RunningHubError) as caught:
        action()
    return caught.value


def _closed_port_url() -> str:
    """A loopback address nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _assert_cli_wording(result: Result, exc: RunningHubError, exit_code: int) -> str | None:
    message, hint = _lines(result)
    assert result.exit_code == exit_code, result.output
    assert message.endswith(exc.cli_message)
    assert hint == exc.cli_hint or (hint is None and message.endswith(str(exc.cli_hint)))
    for word in _PYTHON_WORDS:
        assert word not in result.stderr, result.stderr
    return hint


def test_a_missing_key_names_the_flag_not_the_keyword(
    rh: Invoker, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNNINGHUB_API_KEY", raising=False)
    result = rh("account")
    exc = _raised(lambda: Client(config_dir=config_dir, base_url="http://127.0.0.1:9"))

    _assert_cli_wording(result, exc, exit_code=3)
    assert "--api-key-file" in result.stderr
    assert "api_key=..." in exc.message


def test_a_decimal_for_a_whole_number_suggests_no_validate(live: Invoker, emulator: Any) -> None:
    result = live("run", TEXT_TO_IMAGE, "--set", "3.seed=1.5")
    with Client(api_key=live.secrets[0], base_url=emulator.base_url) as client:
        exc = _raised(lambda: client.submit(TEXT_TO_IMAGE, {"3.seed": "1.5"}))

    hint = _assert_cli_wording(result, exc, exit_code=2)
    assert hint is not None and "--no-validate" in hint
    assert exc.hint is not None and "validate=False" in exc.hint
    assert emulator.stats()["tasks_created"] == 0


def test_an_empty_file_value_asks_for_a_path(live: Invoker, emulator: Any) -> None:
    with Client(api_key=live.secrets[0], base_url=emulator.base_url) as client:
        graph = client.workflow_graph(INVERT)
        [media] = [f.address for f in graph.fields() if f.kind.value == "media"][:1]
        exc = _raised(lambda: client.submit(INVERT, {media: ""}))
    result = live("run", INVERT, "--set", f"{media}=")

    _assert_cli_wording(result, exc, exit_code=2)
    assert "the path of a local file" in result.stderr
    assert "pathlib.Path" in exc.message


def test_an_unreachable_service_names_the_base_url_flag(live: Invoker) -> None:
    nowhere = _closed_port_url()
    result = live("--base-url", nowhere, "--retries", "0", "account")
    with Client(api_key=live.secrets[0], base_url=nowhere, retry=RetryPolicy.never()) as client:
        exc = _raised(client.account)

    hint = _assert_cli_wording(result, exc, exit_code=4)
    assert hint is not None and "--base-url" in hint
    assert exc.hint is not None and "base_url=" in exc.hint


def test_a_refusal_of_the_service_prints_the_code_tables_hint(live: Invoker, emulator: Any) -> None:
    result = live("nodes", UNKNOWN_WORKFLOW)
    with Client(api_key=live.secrets[0], base_url=emulator.base_url) as client:
        exc = _raised(lambda: client.workflow_graph(UNKNOWN_WORKFLOW))

    hint = _assert_cli_wording(result, exc, exit_code=4)
    assert hint is not None and hint == exc.hint


def test_a_lost_submit_answer_prints_the_exceptions_own_hint(
    live: Invoker, make_emulator: Any
) -> None:
    lossy = make_emulator(fault_rate=1.0, fault_kinds=["truncated"], task_seconds=30)
    result = live("--base-url", lossy.base_url, "run", TEXT_TO_IMAGE, "--no-validate")
    with Client(api_key=live.secrets[0], base_url=lossy.base_url) as client:
        exc = _raised(lambda: client.submit(TEXT_TO_IMAGE, {}, validate=False))

    hint = _assert_cli_wording(result, exc, exit_code=4)
    assert hint is not None and "`runninghub account`" in hint
    assert exc.hint is not None and "client.account()" in exc.hint
    assert lossy.stats()["tasks_created"] == 2  # one per submit, neither resubmitted
