"""Both emulator command lines: every option explains itself, and the switches reach the server."""

from __future__ import annotations

import subprocess
import sys

import click
import httpx
import pytest

from runninghub.cli.emulator_cmd import emulator
from runninghub.emulator.options import SWITCH_FLAGS
from runninghub.emulator.server import build_parser
from tests.cli.cli_harness import runninghub_command

MODULE_COMMAND = [sys.executable, "-m", "runninghub.emulator"]


def test_every_option_of_runninghub_emulator_has_help_text() -> None:
    options = [param for param in emulator.params if isinstance(param, click.Option)]
    missing = [param.opts[0] for param in options if not (param.help or "").strip()]
    assert missing == []
    assert {flag for param in options for flag in param.opts} >= set(SWITCH_FLAGS)


def test_every_option_of_the_module_command_line_has_help_text() -> None:
    actions = [action for action in build_parser()._actions if action.option_strings]
    missing = [action.option_strings[0] for action in actions if not (action.help or "").strip()]
    assert missing == []
    assert {flag for action in actions for flag in action.option_strings} >= set(SWITCH_FLAGS)


def _settings_of_a_started(command: list[str]) -> dict[str, object]:
    """Start an emulator process, read its settings over HTTP, stop it."""
    process = subprocess.Popen(
        [*command, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line.split()[-1]
        assert url.startswith("http://127.0.0.1:"), line
        return dict(httpx.get(f"{url}/__emulator__/config", timeout=30).json())
    finally:
        process.terminate()
        process.communicate(timeout=30)


@pytest.mark.parametrize(
    "head", [runninghub_command("emulator"), MODULE_COMMAND], ids=["runninghub", "module"]
)
def test_the_switches_are_off_unless_given_and_on_when_given(head: list[str]) -> None:
    plain = _settings_of_a_started(head)
    assert (plain["prompt_errors"], plain["workflow_as_sent"]) == (False, False)
    switched = _settings_of_a_started([*head, "--prompt-errors", "--workflow-as-sent"])
    assert (switched["prompt_errors"], switched["workflow_as_sent"]) == (True, True)
