"""Crash safety: ``kill -9`` of a real ``runninghub batch run`` process at random moments.

After the kills, ``batch resume`` finishes the batch. No input may ever run twice (the
emulator's per-fingerprint counter stays at 1). A kill that lands between the commit of
``submitting`` and the commit of the task id leaves a row ``unknown``: the API offers no way
to learn whether that submit reached the service, so such a row is never resubmitted by a
resume; ``batch retry --unknown`` does it on request, accepting that it may run twice.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from runninghub.batch import Ledger, RowState
from runninghub.emulator import EmulatorServer
from tests.batch.batch_helpers import API_KEY, INVERT, is_inverted, make_images, row_states

MakeEmulator = Callable[..., EmulatorServer]
ISOLATED = ("RUNNINGHUB_API_KEY", "RUNNINGHUB_BASE_URL", "RUNNINGHUB_CONFIG_DIR")


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ISOLATED}
    env.update(
        RUNNINGHUB_API_KEY=API_KEY,
        RUNNINGHUB_CONFIG_DIR=str(tmp_path / "config"),
        PYTHONUNBUFFERED="1",
    )
    return env


def _command(base_url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "runninghub", "--base-url", base_url, "batch", *args]


@dataclass
class Campaign:
    """One batch under repeated SIGKILLs, run by real ``runninghub`` processes."""

    server: EmulatorServer
    photos: Path
    out: Path
    env: dict[str, str]
    faults: bool = False
    seed: int = field(default_factory=lambda: random.randrange(2**32))

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.ledger = self.out / "batch.sqlite"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = _command(self.server.base_url, *args)
        return subprocess.run(
            command, check=False, env=self.env, capture_output=True, text=True, timeout=120
        )

    def kill_at_random_moments(self, kills: int) -> int:
        """Start the batch ``kills`` times, each SIGKILLed after a random time; returns how
        many kills landed before the process finished on its own."""
        landed = 0
        args = ("run", INVERT, "--inputs", str(self.photos), "--out", str(self.out))
        for _ in range(kills):
            proc = subprocess.Popen(
                _command(self.server.base_url, *args),
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            # Uniform over start-up, planning, submits, waits and downloads.
            kill_at = time.monotonic() + self.rng.uniform(0.3, 2.0)
            while proc.poll() is None and time.monotonic() < kill_at:
                time.sleep(0.005)
            if proc.poll() is None:
                proc.kill()
                landed += 1
            proc.wait(timeout=30)
        return landed

    def finish_and_check(self) -> dict[str, Any]:
        """Resume until nothing is left to do; check outcomes, outputs and fingerprints."""
        if not self.ledger.exists():  # every kill landed before planning finished
            args = ("run", INVERT, "--inputs", str(self.photos), "--out", str(self.out))
            self.run(*args, "--json")
        for _ in range(6):  # under faults, a resume may leave rows for the next one
            done = self.run("resume", "--ledger", str(self.ledger), "--json")
            document = json.loads(done.stdout or "{}")
            assert "counts" in document, f"seed {self.seed}: {done.stdout} {done.stderr}"
            counts = document["counts"]
            if counts["pending"] + counts["running"] == 0:
                break
        context = f"seed {self.seed}: {counts}"
        assert counts["succeeded"] + counts["unknown"] == counts["total"], context
        assert done.returncode == (1 if counts["unknown"] else 0), context
        with Ledger.open(self.ledger) as ledger:
            rows = ledger.rows()
        lost_answers = 0
        for row in rows:
            if row.state is RowState.UNKNOWN:
                lost_answers += "submit outcome unknown" in (row.error or "")
                assert self.faults or "interrupted while submitting" in (row.error or ""), context
        fingerprints = self.server.stats()["tasks_by_fingerprint"]
        assert set(fingerprints.values()) == {1}, f"an input ran twice ({context})"
        # A row whose answer was lost did create its task; one cut short by a kill may have.
        assert counts["succeeded"] + lost_answers <= len(fingerprints) <= counts["total"], context
        sources = sorted(self.photos.iterdir())
        for row in rows:
            if row.state is RowState.SUCCEEDED:
                [output] = row.outputs
                assert is_inverted(Path(output), sources[row.row - 1]), f"row {row.row}, {context}"
        return counts

    def retry_unknown(self, unknown: int) -> None:
        self.server.configure(fault_rate=0.0)
        done = self.run("retry", "--unknown", "--ledger", str(self.ledger))
        assert done.returncode == 0, done.stderr
        assert set(row_states(self.ledger).values()) == {"succeeded"}
        counts = list(self.server.stats()["tasks_by_fingerprint"].values())
        # The documented trade-off: an unknown row whose first submit did reach the service
        # ran twice; no other input did.
        assert counts.count(2) <= unknown and max(counts) <= 2


def _campaign(
    make_emulator: MakeEmulator, tmp_path: Path, rows: int, kills: int, fault_rate: float = 0.0
) -> None:
    server = make_emulator(task_seconds=0.3, concurrency=4, fault_rate=fault_rate)
    make_images(tmp_path / "photos", rows)
    campaign = Campaign(
        server, tmp_path / "photos", tmp_path / "out", _env(tmp_path), faults=fault_rate > 0
    )
    landed = campaign.kill_at_random_moments(kills)
    assert landed >= 1, f"seed {campaign.seed}: every run finished before its kill"
    counts = campaign.finish_and_check()
    if counts["unknown"]:
        campaign.retry_unknown(counts["unknown"])


def test_kill_9_at_random_moments_then_resume_loses_and_duplicates_nothing(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    _campaign(make_emulator, tmp_path, rows=16, kills=3)


@pytest.mark.slow
def test_many_kills_then_resume_loses_and_duplicates_nothing(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    _campaign(make_emulator, tmp_path, rows=40, kills=10)


@pytest.mark.slow
def test_kills_under_random_faults_then_resume_loses_and_duplicates_nothing(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    _campaign(make_emulator, tmp_path, rows=30, kills=6, fault_rate=0.1)
