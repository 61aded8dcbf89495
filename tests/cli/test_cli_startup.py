"""``runninghub --help`` starts without click: the root help is rendered by click once, kept,
and printed from the kept copy afterwards; the copy is exactly what click prints."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from runninghub.cli import _launch
from tests.cli.cli_harness import subprocess_env

SCRIPTS = Path(sys.executable).parent


def _help(tmp_path: Path, script: str = "runninghub", columns: int = 80) -> str:
    env = subprocess_env({"RUNNINGHUB_CONFIG_DIR": str(tmp_path / "config")})
    env["COLUMNS"] = str(columns)
    result = subprocess.run(
        [str(SCRIPTS / script), "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stderr == ""
    return result.stdout


def _help_from_click(tmp_path: Path, prog: str = "runninghub", columns: int = 80) -> str:
    """What click itself prints for ``PROG --help``."""
    code = f"import sys; sys.argv[0] = {prog!r}; from runninghub.cli.main import main; main()"
    env = subprocess_env({"RUNNINGHUB_CONFIG_DIR": str(tmp_path / "click-config")})
    env["COLUMNS"] = str(columns)
    result = subprocess.run(
        [sys.executable, "-c", code, "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def _kept(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "config/cache/help").iterdir())


def test_the_first_and_later_helps_are_exactly_what_click_prints(tmp_path: Path) -> None:
    first = _help(tmp_path)
    kept = _kept(tmp_path)
    second = _help(tmp_path)

    assert first == _help_from_click(tmp_path)
    assert second == first
    assert len(kept) == 1 and kept[0].startswith("runninghub-80-")
    assert _kept(tmp_path) == kept


def test_each_width_and_program_name_has_its_own_copy(tmp_path: Path) -> None:
    narrow = _help(tmp_path, columns=80)
    wide = _help(tmp_path, columns=120)
    short = _help(tmp_path, script="rhub")

    assert wide == _help_from_click(tmp_path, columns=120)
    assert wide != narrow
    assert short == _help_from_click(tmp_path, prog="rhub")
    assert short.startswith("Usage: rhub ")
    assert len(_kept(tmp_path)) == 3


def test_a_kept_help_is_printed_without_importing_click(tmp_path: Path) -> None:
    _help(tmp_path)
    probe = (
        "import sys\n"
        "sys.argv = ['runninghub', '--help']\n"
        "from runninghub.cli._launch import main\n"
        "main()\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('click', 'typing', 're'))\n"
        "print(loaded, file=sys.stderr)\n"
    )
    env = subprocess_env({"RUNNINGHUB_CONFIG_DIR": str(tmp_path / "config"), "COLUMNS": "80"})
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )

    assert result.stdout.startswith("Usage: runninghub ")
    assert result.stderr.strip() == "[]"


def test_copies_of_other_code_versions_are_ignored_and_dropped(tmp_path: Path) -> None:
    folder = tmp_path / "config/cache/help"
    folder.mkdir(parents=True)
    stale = folder / "runninghub-80-00000000.txt"
    stale.write_text("Usage: an old version\n")

    text = _help(tmp_path)

    assert text == _help_from_click(tmp_path)
    assert not stale.exists()
    assert len(_kept(tmp_path)) == 1


def test_an_unwritable_config_dir_still_gives_the_help(tmp_path: Path) -> None:
    (tmp_path / "config").write_text("a file where the directory should be")

    assert _help(tmp_path) == _help_from_click(tmp_path)


def test_the_fingerprint_follows_every_cli_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli_dir = tmp_path / "cli"
    shutil.copytree(Path(_launch.__file__).parent, cli_dir)
    monkeypatch.setattr(_launch, "_CLI_DIR", str(cli_dir))
    before = _launch._fingerprint()
    module = cli_dir / "run.py"
    stat = module.stat()
    os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))

    assert _launch._fingerprint() != before


@pytest.mark.parametrize("columns", [None, "120", "0", "wide"])
def test_the_width_is_the_one_click_formats_for(
    monkeypatch: pytest.MonkeyPatch, columns: str | None
) -> None:
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)

    assert _launch.terminal_columns() == shutil.get_terminal_size().columns


def test_the_client_imports_httpx_without_its_command_line_tool(tmp_path: Path) -> None:
    """httpx imports rich for its own CLI; the package defers that until someone uses it."""
    code = (
        "import sys\n"
        "import runninghub.batch, runninghub.cli.batch, httpx\n"
        "from runninghub import AsyncClient\n"
        "print('rich' in sys.modules)\n"
        "from httpx._main import print_response\n"  # the real module, loaded when used
        "print(callable(print_response), httpx.main.__module__, 'rich' in sys.modules)\n"
    )
    env = subprocess_env({"RUNNINGHUB_CONFIG_DIR": str(tmp_path / "config")})
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
        check=True,
    )  # fmt: skip
    assert result.stdout.split() == ["False", "True", "httpx", "True"]
