"""A plain ``pip install runninghub``: the SDK and the command line, without the emulator's
server and imaging stack, and commands that need an extra say which one.

The project is copied (sources, pyproject, README) into a temporary directory and installed
into a fresh venv from there, so that the build leaves nothing in the working tree; pip uses
the configured index. The venv is built once per test module.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli.cli_harness import subprocess_env

PROJECT = Path(__file__).parents[2]
TEXT_TO_IMAGE = "1904136902449209346"
# Building a venv and installing the project into it takes over the suite's 120 s per test
# on a busy machine (the module's first test pays for its fixture): its own budget, the same
# as the install's subprocess timeout.
pytestmark = pytest.mark.timeout(320)


def _copy_project(target: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    shutil.copytree(PROJECT / "src", target / "src", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(PROJECT / name, target / name)
    return target


@pytest.fixture(scope="module")
def plain_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("plain-install")
    source = _copy_project(root / "project")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = subprocess_env({"PIP_CACHE_DIR": str(root / "pip-cache"), "HOME": str(root)})
    subprocess.run(
        [str(venv / "bin/python"), "-m", "pip", "install", "-q", str(source)],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return venv


def _run(venv: Path, tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin/runninghub"), *args],
        env=subprocess_env({"RUNNINGHUB_CONFIG_DIR": str(tmp_path / "config"), **env}),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_plain_install_has_no_server_or_imaging_stack(plain_venv: Path) -> None:
    probe = (
        "import importlib.util as u\n"
        "names = ('starlette', 'uvicorn', 'python_multipart', 'PIL', 'mcp', 'httpx', 'click')\n"
        "print(' '.join(n for n in names if u.find_spec(n)))\n"
    )
    found = subprocess.run(
        [str(plain_venv / "bin/python"), "-c", probe], capture_output=True, text=True, check=True
    )

    assert found.stdout.split() == ["httpx", "click"]


def test_help_works_without_the_extras(plain_venv: Path, tmp_path: Path) -> None:
    result = _run(plain_venv, tmp_path, "--help")
    short = subprocess.run(
        [str(plain_venv / "bin/rhub"), "--help"], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert "Commands:" in result.stdout
    assert "emulator" in result.stdout
    assert short.returncode == 0, short.stderr
    assert "Commands:" in short.stdout


@pytest.mark.parametrize(
    ("args", "extra"),
    [(("emulator",), "emulator"), (("demo",), "emulator"), (("mcp",), "mcp")],
)
def test_a_command_that_needs_a_missing_extra_names_it(
    plain_venv: Path, tmp_path: Path, args: tuple[str, ...], extra: str
) -> None:
    result = _run(plain_venv, tmp_path, *args)

    assert result.returncode == 3
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"pip install 'runninghub[{extra}]'" in lines[0]
    assert "Traceback" not in result.stderr


def test_the_plain_install_runs_a_workflow(
    plain_venv: Path, tmp_path: Path, emulator: Any, api_key: str
) -> None:
    result = _run(
        plain_venv,
        tmp_path,
        "run",
        TEXT_TO_IMAGE,
        "--set",
        "KSampler.seed=3",
        "--json",
        RUNNINGHUB_API_KEY=api_key,
        RUNNINGHUB_BASE_URL=emulator.base_url,
    )

    assert result.returncode == 0, result.stderr
    assert '"status": "SUCCESS"' in result.stdout
    assert api_key not in result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(("setuptools", "builds"), [("77.0.3", True), ("76.1.0", False)])
def test_the_declared_setuptools_is_the_oldest_that_builds_the_project(
    tmp_path: Path, setuptools: str, builds: bool
) -> None:
    source = _copy_project(tmp_path / "project")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = subprocess_env({"PIP_CACHE_DIR": str(tmp_path / "pip-cache"), "HOME": str(tmp_path)})
    pip = [str(venv / "bin/python"), "-m", "pip"]
    subprocess.run([*pip, "install", "-q", f"setuptools=={setuptools}"], env=env, check=True)
    build = [*pip, "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path)]

    result = subprocess.run(
        [*build, str(source)], env=env, capture_output=True, text=True, check=False, timeout=300
    )

    assert (result.returncode == 0) is builds, result.stderr[-2000:]
    assert builds or "`project.license`" in result.stderr  # the SPDX string needs 77
    assert bool(list(tmp_path.glob("runninghub-0.1.0-*.whl"))) is builds
    declared = (PROJECT / "pyproject.toml").read_text()
    assert 'requires = ["setuptools>=77"]' in declared
