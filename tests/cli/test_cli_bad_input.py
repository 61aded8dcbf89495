"""Bad input gets one line on stderr (plus a hint) and the documented exit code, never a
traceback; with --json the error is a JSON document on stdout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result

from tests.cli.cli_harness import Invoker


def _one_error_line(result: Result) -> str:
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert all(line.startswith(("error: ", "hint: ", "warning: ")) for line in lines), lines
    return errors[0]


@pytest.mark.parametrize(
    "setting",
    ["6.text", "text=a cat", "=a cat", ".text=a cat", "6.=a cat"],
)
def test_a_malformed_set_is_a_usage_error(rh: Invoker, api_key: str, setting: str) -> None:
    result = rh("run", "1904136902449209346", "--set", setting, env={"RUNNINGHUB_API_KEY": api_key})

    assert result.exit_code == 2
    assert "NODE.FIELD=VALUE" in _one_error_line(result)
    assert result.stdout == ""


def test_a_missing_file_is_a_usage_error(rh: Invoker, api_key: str) -> None:
    result = rh(
        "run",
        "1987728214757978114",
        "--file",
        "107.image=no-such-picture.png",
        env={"RUNNINGHUB_API_KEY": api_key},
    )

    assert result.exit_code == 2
    assert "no such file: no-such-picture.png" in _one_error_line(result)


def test_no_key_configured_is_a_config_error(rh: Invoker, config_dir: Path) -> None:
    result = rh("status", "1910246754753896450")

    assert result.exit_code == 3
    line = _one_error_line(result)
    assert "no API key" in line
    assert "RUNNINGHUB_API_KEY" in line
    assert str(config_dir) in line


def test_a_malformed_key_is_a_config_error(rh: Invoker) -> None:
    result = rh("status", "1", env={"RUNNINGHUB_API_KEY": "sk-not-a-runninghub-key"})

    assert result.exit_code == 3
    assert "32 hexadecimal characters" in _one_error_line(result)
    assert "sk-not-a-runninghub-key" not in result.output


def test_errors_are_json_on_stdout_with_json(rh: Invoker) -> None:
    result = rh("status", "1", "--json")

    assert result.exit_code == 3
    document = json.loads(result.stdout)
    assert set(document) == {"error"}
    assert document["error"]["type"] == "ConfigError"
    assert document["error"]["code"] is None
    assert "no API key" in document["error"]["message"]
    assert set(document["error"]) >= {"type", "code", "message", "hint"}


def test_usage_errors_are_json_too(rh: Invoker) -> None:
    result = rh("run", "--json")

    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "UsageError"
    assert "WORKFLOW_ID" in error["message"]
    assert error["hint"] == "see 'runninghub run --help'"


def test_an_unknown_command_is_a_usage_error(rh: Invoker) -> None:
    result = rh("frobnicate")

    assert result.exit_code == 2
    assert "No such command 'frobnicate'" in _one_error_line(result)


def test_a_seed_action_without_its_flags_is_a_usage_error(rh: Invoker, api_key: str) -> None:
    result = rh("--action", "run-with-image", "--workflow-id", "1987728214757978114")

    assert result.exit_code == 2
    assert "--action run-with-image needs --image" in _one_error_line(result)


def test_help_is_on_every_command_with_an_example(rh: Invoker) -> None:
    commands = [
        [],
        ["auth"],
        ["auth", "set"],
        ["auth", "show"],
        ["auth", "clear"],
        ["auth", "import"],
        ["run"],
        ["status"],
        ["wait"],
        ["outputs"],
        ["cancel"],
        ["nodes"],
        ["app"],
        ["app", "inputs"],
        ["app", "run"],
        ["account"],
        ["upload"],
        ["emulator"],
        ["demo"],
    ]
    for words in commands:
        result = rh(*words, "--help")
        assert result.exit_code == 0, (words, result.output)
        assert "Example" in result.stdout, words
        assert "runninghub " in result.stdout, words


def test_no_arguments_prints_the_help(rh: Invoker) -> None:
    result = rh()

    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: runninghub")
