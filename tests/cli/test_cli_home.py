"""The suite never writes to the developer's real home: every test has its own home, config
and cache dirs (``isolated_home`` in tests/conftest.py), and so do the processes it starts."""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path
from typing import Any

import runninghub
from tests.cli.cli_harness import runninghub_command, subprocess_env

TEXT_TO_IMAGE = "1904136902449209346"
REAL_HOME = Path(pwd.getpwuid(os.getuid()).pw_dir)
GRAPHS = Path(".config/runninghub/cache/graphs")


def _real_home_graphs() -> dict[str, tuple[int, int]]:
    """Each graph-cache file in the real home, by name, with its mtime and size: files left
    there by old runs (or by anything else) are allowed, a new or rewritten one is not."""
    directory = REAL_HOME / GRAPHS
    try:
        names = os.listdir(directory)
    except OSError:
        return {}
    found = {}
    for name in names:
        try:
            status = (directory / name).stat()
        except OSError:
            continue
        found[name] = (status.st_mtime_ns, status.st_size)
    return found


def _assert_not_written_in_the_real_home(cached: Path, before: dict[str, tuple[int, int]]) -> None:
    after = _real_home_graphs()
    assert after.get(cached.name) == before.get(cached.name), "a graph landed in the real home"


def test_a_real_process_caches_graphs_in_the_test_home(
    isolated_home: Path, emulator: Any, api_key: str, tmp_path: Path
) -> None:
    # subprocess_env drops RUNNINGHUB_CONFIG_DIR: the process falls back to the platform's
    # directory, which the test's HOME and XDG_CONFIG_HOME put in the test's home.
    env = subprocess_env({"RUNNINGHUB_API_KEY": api_key, "RUNNINGHUB_BASE_URL": emulator.base_url})
    assert "RUNNINGHUB_CONFIG_DIR" not in env
    before = _real_home_graphs()

    result = subprocess.run(
        runninghub_command("nodes", TEXT_TO_IMAGE),
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    cached = sorted((isolated_home / GRAPHS).glob("*.json"))
    assert len(cached) == 1
    _assert_not_written_in_the_real_home(cached[0], before)


def test_an_in_process_client_caches_graphs_in_the_test_home(
    isolated_home: Path, emulator: Any, api_key: str
) -> None:
    assert not isolated_home.is_relative_to(REAL_HOME)
    before = _real_home_graphs()

    with runninghub.Client(api_key, base_url=emulator.base_url) as client:
        client.workflow_graph(TEXT_TO_IMAGE)

    cached = sorted((isolated_home / GRAPHS).glob("*.json"))
    assert len(cached) == 1
    _assert_not_written_in_the_real_home(cached[0], before)
