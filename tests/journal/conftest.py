"""Fixtures for the journal tests: a journal in the test's own data directory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from runninghub.journal import Journal, journal_path


@pytest.fixture
def data_dir() -> Path:
    """The test's RUNNINGHUB_DATA_DIR (set for every test by the root conftest)."""
    return Path(os.environ["RUNNINGHUB_DATA_DIR"])


@pytest.fixture
def journal(data_dir: Path) -> Iterator[Journal]:
    opened = Journal.open()
    assert opened.path == journal_path() == data_dir / "journal.sqlite"
    yield opened
    opened.close()
