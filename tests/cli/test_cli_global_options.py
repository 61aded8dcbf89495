"""Global options anywhere on the line, and help texts that match the bundled workflows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest

from runninghub.cli.main import cli
from tests.cli.cli_harness import Invoker

TEXT_TO_IMAGE = "1904136902449209346"
APP = "1877265245566922753"
APP_DATA = Path(__file__).parents[2] / "src/runninghub/emulator/data/apps" / f"{APP}.json"
GLOBAL_FLAGS = (
    "--api-key-file",
    "--base-url",
    "--site",
    "--retries",
    "--quiet",
    "--verbose",
    "--json",
)
# Commands whose own option of that name means something else (it wins).
OWN_MEANING = {("auth set", "--site"), ("auth import", "--site"), ("emulator", "--site")}
OWN_MEANING |= {("mcp", "--base-url"), ("mcp", "--site")}


def _every_command() -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    ctx = click.Context(cli)

    def walk(prefix: str, group: click.Group, context: click.Context) -> None:
        for name in group.list_commands(context):
            command = group.get_command(context, name)
            assert command is not None, name
            path = f"{prefix} {name}".strip()
            found.append((path, command))
            if isinstance(command, click.Group):
                walk(path, command, click.Context(command, parent=context))

    walk("", cli, ctx)
    return found


def test_every_command_accepts_every_global_option() -> None:
    commands = _every_command()

    assert len(commands) > 20  # groups and their subcommands, not only the top level
    for path, command in commands:
        opts = {opt for param in command.params for opt in param.opts}
        missing = [flag for flag in GLOBAL_FLAGS if flag not in opts]
        assert not [f for f in missing if (path, f) not in OWN_MEANING], path


def test_quiet_after_the_command(live: Invoker) -> None:
    result = live("run", TEXT_TO_IMAGE, "--quiet")
    short = live("run", TEXT_TO_IMAGE, "-q", "--set", "KSampler.seed=7")

    for done in (result, short):
        assert done.exit_code == 0, done.output
        assert done.stderr == ""
        assert Path(done.stdout.strip()).is_file()


def test_upload_with_short_quiet_prints_only_the_name(live: Invoker, workdir: Path) -> None:
    picture = Path(__file__).parents[2] / "src/runninghub/emulator/data/images/sample.png"
    (workdir / "photo.png").write_bytes(picture.read_bytes())

    result = live("upload", "photo.png", "-q")

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.strip().endswith(".png")


def test_base_url_after_the_command(rh: Invoker, emulator: Any, api_key: str) -> None:
    result = rh(
        "nodes", TEXT_TO_IMAGE, "--base-url", emulator.base_url, env={"RUNNINGHUB_API_KEY": api_key}
    )

    assert result.exit_code == 0, result.output
    assert "3\tKSampler\tKSampler\tseed\tint" in result.stdout


def test_api_key_file_after_a_command_and_after_a_subcommand(
    rh: Invoker, emulator: Any, api_key: str, tmp_path: Path
) -> None:
    key_file = tmp_path / "key.txt"
    key_file.write_text(api_key + "\n")
    env = {"RUNNINGHUB_BASE_URL": emulator.base_url}

    account = rh("account", "--api-key-file", str(key_file), "--json", env=env)
    inputs = rh("app", "inputs", APP, "--api-key-file", str(key_file), env=env)
    without = rh("account", env=env)

    assert account.exit_code == 0, account.output
    assert "remain_coins" in json.loads(account.stdout)
    assert inputs.exit_code == 0, inputs.output
    assert "39" in inputs.stdout and "image" in inputs.stdout
    assert without.exit_code == 3  # the key really came from the file


def test_verbose_after_the_command_shows_debug_lines_once(live: Invoker, rh: Invoker) -> None:
    logged = live("app", "inputs", APP, "-v")
    failed = rh("status", "1", "--verbose")

    assert logged.exit_code == 0, logged.output
    assert "debug: runninghub" in logged.stderr
    assert failed.exit_code == 3
    assert "Traceback" in failed.stderr
    assert failed.stderr.count("error: ") == 1


def test_a_global_option_with_a_bad_value_after_the_command_is_a_usage_error(
    rh: Invoker,
) -> None:
    result = rh("account", "--site", "eu")

    assert result.exit_code == 2
    assert "'eu' is not one of 'cn', 'ai'" in result.stderr
    assert "Traceback" not in result.stderr


def test_root_help_puts_the_seed_flags_in_their_own_section(rh: Invoker) -> None:
    text = rh("--help").stdout

    seed_header = text.index("Seed-compatible flags")
    assert text.index("--base-url") < seed_header < text.index("--workflow-id")
    assert text.index("Options:") < seed_header < text.index("Commands:")
    assert "(seed)" not in text


def test_every_emulator_option_has_help() -> None:
    command = dict(_every_command())["emulator"]

    shown = [p for p in command.params if isinstance(p, click.Option) and not p.hidden]
    assert len(shown) >= 12
    assert [p.name for p in shown if not (p.help or "").strip()] == []


def _app_addresses() -> set[str]:
    data = json.loads(APP_DATA.read_text())
    return {f"{row['nodeId']}.{row['fieldName']}" for row in data["node_info_list"]}


@pytest.mark.parametrize("args", [("app", "--help"), ("app", "run", "--help")])
def test_app_help_examples_use_addresses_of_the_bundled_app(rh: Invoker, args: Any) -> None:
    text = rh(*args).stdout
    used = {
        word.split("=", 1)[0]
        for line in text.splitlines()
        if f"app run {APP}" in line
        for word in line.split()
        if "=" in word and "." in word.split("=", 1)[0]
    }

    assert used, text
    assert used <= _app_addresses()


def test_skill_app_example_uses_addresses_of_the_bundled_app() -> None:
    skill = (Path(__file__).parents[2] / "SKILL.md").read_text()
    line = next(row for row in skill.splitlines() if "runninghub app run APP_ID" in row)
    used = {word.split("=", 1)[0] for word in line.split() if "=" in word}

    assert used and used <= _app_addresses()


def test_outputs_help_does_not_describe_wait() -> None:
    commands = dict(_every_command())

    def out_help(name: str) -> str:
        return next(p.help or "" for p in commands[name].params if p.name == "out")

    assert "wait" not in out_help("outputs")
    assert "runninghub-outputs/TASK_ID" in out_help("wait")
