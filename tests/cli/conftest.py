"""Fixtures for the command-line tests: an isolated config dir and current directory, and
runners with or without a key, pointed at the function's emulator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runninghub.emulator import EmulatorServer
from tests.cli.cli_harness import ISOLATED, Invoker


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    return tmp_path / "config"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh current directory (default output folders land here)."""
    path = tmp_path / "work"
    path.mkdir()
    monkeypatch.chdir(path)
    return path


@pytest.fixture
def rh(config_dir: Path, workdir: Path, api_key: str) -> Invoker:
    """``runninghub`` with no key configured anywhere (the key is still checked for leaks)."""
    env: dict[str, str | None] = dict.fromkeys(ISOLATED)
    env["RUNNINGHUB_CONFIG_DIR"] = str(config_dir)
    return Invoker(env=env, secrets=(api_key,))


@pytest.fixture
def live(rh: Invoker, emulator: Any, api_key: str) -> Invoker:
    """``runninghub`` pointed at the function's emulator, with the key in the environment."""
    env = {**rh.env, "RUNNINGHUB_API_KEY": api_key, "RUNNINGHUB_BASE_URL": emulator.base_url}
    return Invoker(env=env, secrets=(api_key,))


@pytest.fixture
def shared(make_emulator: Callable[..., EmulatorServer]) -> EmulatorServer:
    """An emulator whose key is an enterprise (``SHARED``) one: it may run standard models."""
    return make_emulator(key_type="SHARED", queue_seconds=0, task_seconds=0.1)


@pytest.fixture
def enterprise(live: Invoker, shared: EmulatorServer) -> Invoker:
    """``runninghub`` pointed at the ``shared`` emulator."""
    return Invoker(env={**live.env, "RUNNINGHUB_BASE_URL": shared.base_url}, secrets=live.secrets)
