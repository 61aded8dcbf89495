"""Fixtures for the MCP server tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def server_env(api_key: str, tmp_path: Path) -> dict[str, str]:
    """The environment an agent host would give the server: a key and its own config dir."""
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    return {"RUNNINGHUB_API_KEY": api_key, "RUNNINGHUB_CONFIG_DIR": str(config_dir)}
