"""The ledger's fsync before each paid step: made in a thread, always before the submit.

A claim (``pending -> submitting``) must be on disk before its submit leaves, or a power cut
could let a resume submit the row again. The fsync runs in a worker thread, so that the other
rows' notices and submits go on meanwhile. The submits are watched where they arrive: at a
forwarding proxy in front of the emulator, over real loopback HTTP.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from runninghub.batch import BatchReport
from runninghub.batch import ledger as ledger_module
from runninghub.emulator import EmulatorServer
from tests.batch.batch_helpers import TEXT, start_batch, write_prompts
from tests.batch.gated_proxy import Gate, GatedProxy

MakeEmulator = Callable[..., EmulatorServer]
SUBMIT = f"/openapi/v2/run/workflow/{TEXT}"
ROWS = 6


class _CountingGate(Gate):
    """An open gate that notes, for each submit arriving, how many claims were on disk."""

    def __init__(self, prefix: str) -> None:
        super().__init__(prefix)
        self.lock = threading.Lock()
        self.claims_on_disk = 0  # the most claims an fsync had covered so far
        self.seen_at_arrival: list[int] = []
        self.open()

    def pass_through(self) -> None:
        with self.lock:
            self.seen_at_arrival.append(self.claims_on_disk)
        super().pass_through()

    def synced(self, claims: int) -> None:
        with self.lock:
            self.claims_on_disk = max(self.claims_on_disk, claims)


def _claims(ledger_path: Path) -> int:
    """Rows past ``pending`` as another connection sees them: committed claims."""
    conn = sqlite3.connect(ledger_path)
    try:
        return int(conn.execute("SELECT count(*) FROM rows WHERE state != 'pending'").fetchone()[0])
    finally:
        conn.close()


async def _run(proxy: GatedProxy, tmp_path: Path, rows: int) -> BatchReport:
    """``rows`` text-to-image rows at concurrency 2, through the proxy."""
    prompts = write_prompts(tmp_path / "prompts.csv", rows)
    out = tmp_path / "out"
    maps = {"prompt": "6.text"}
    return await start_batch(proxy.base_url, prompts, out, workflow=TEXT, concurrency=2, maps=maps)


async def test_every_submit_leaves_after_an_fsync_that_covered_its_claim(
    make_emulator: MakeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = make_emulator(task_seconds=0.05, concurrency=2)
    real_sync = ledger_module.sync_write_ahead_log
    with GatedProxy(server.base_url) as proxy:
        gate = _CountingGate(SUBMIT)
        proxy.gates.append(gate)

        def sync(path: Path) -> None:
            claims = _claims(path)  # committed before the fsync starts: covered by it
            real_sync(path)
            gate.synced(claims)

        monkeypatch.setattr(ledger_module, "sync_write_ahead_log", sync)
        report = await _run(proxy, tmp_path, ROWS)
    assert report.counts["succeeded"] == ROWS and report.tasks_submitted == ROWS
    arrivals = gate.seen_at_arrival
    assert len(arrivals) == ROWS
    # The k-th submit to arrive found at least k claims on disk: its own among them.
    assert all(on_disk >= k for k, on_disk in enumerate(arrivals, start=1)), arrivals


async def test_another_rows_submit_goes_out_while_a_claim_is_being_synced(
    make_emulator: MakeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = make_emulator(task_seconds=0.05, concurrency=2)
    real_sync = ledger_module.sync_write_ahead_log
    calls: list[int] = []
    first_held_until_other_submit: list[bool] = []
    with GatedProxy(server.base_url) as proxy:
        gate = proxy.gate(SUBMIT)
        gate.open()

        def sync(path: Path) -> None:
            calls.append(1)
            if len(calls) == 1:  # the first row's claim: finish only once another row's
                # submit has arrived, which the event loop could not send if it were held here
                first_held_until_other_submit.append(gate.wait_for(1, timeout=30.0))
            real_sync(path)

        monkeypatch.setattr(ledger_module, "sync_write_ahead_log", sync)
        report = await _run(proxy, tmp_path, 2)
    assert first_held_until_other_submit == [True]
    assert report.counts["succeeded"] == 2 and gate.count == 2
