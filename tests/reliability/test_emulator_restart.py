"""The service goes away in the middle of a batch and comes back on the same address.

The emulator runs as a real process with ``--state FILE`` on a port picked beforehand; a
real ``runninghub batch run`` process works through a batch; the emulator is stopped
(SIGTERM, as a deploy would, or SIGKILL, as a crash would) and started again on the same
port and state file. The runner's retries and poll tolerance must cover the gap: it
reconnects, re-attaches to its tasks (which the emulator picked up again from its state
file) and finishes, with no input run twice and every output right.

A submit in flight when the service goes away loses its answer: its row is reported
``unknown`` (the same honest outcome as any lost answer) and never resubmitted. A SIGKILL can
do that to a submit the service had acted on. A graceful stop answers every request it read;
it can still cut off a submit that arrived on a kept-alive connection at the moment it was
closing that connection as idle: nothing was created then, but the client cannot know it.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runninghub.batch import Ledger, RowState
from tests.reliability.campaign_support import (
    INVERT,
    EmulatorProcess,
    check_fingerprints,
    cli_command,
    cli_env,
    expected_output_sha,
    free_port,
    input_fingerprint,
    make_images,
    row_states,
    sha256,
    wait_until,
)


@pytest.fixture
def emulator_process(tmp_path: Path) -> Iterator[EmulatorProcess]:
    options = ("--task-seconds", "0.3", "--concurrency", "4")
    state = tmp_path / "emulator.sqlite"
    process = EmulatorProcess(tmp_path, free_port(), "--state", str(state), *options)
    yield process
    if process.proc is not None and process.proc.poll() is None:
        process.stop(signal.SIGKILL)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
def test_a_batch_survives_a_restart_of_the_service_on_the_same_state(
    emulator_process: EmulatorProcess,
    tmp_path: Path,
    sig: signal.Signals,
    record_property: Callable[[str, object], None],
) -> None:
    emulator = emulator_process
    emulator.start()
    images = make_images(tmp_path / "photos", 32)
    out = tmp_path / "out"
    ledger = out / "batch.sqlite"
    args = ("batch", "run", INVERT, "--inputs", str(tmp_path / "photos"), "--out", str(out))
    batch = subprocess.Popen(
        cli_command("--base-url", emulator.base_url, *args, "--json"),
        env=cli_env(tmp_path / "config"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def some_rows_done() -> bool:
            return ledger.exists() and list(row_states(ledger).values()).count("succeeded") >= 10

        wait_until(some_rows_done, 60, "ten rows to succeed")
        stopped_at = time.monotonic()
        emulator.stop(sig)
        emulator.start()
        record_property("seconds_away", round(time.monotonic() - stopped_at, 2))
        done_before = list(row_states(ledger).values()).count("succeeded")
        assert done_before < 32, "the batch ended before the restart"
        stdout, stderr = batch.communicate(timeout=120)
    finally:
        if batch.poll() is None:
            batch.kill()
            batch.communicate()
    counts = json.loads(stdout)["counts"]
    with Ledger.open(ledger) as book:
        rows = book.rows()
    unknown = [r for r in rows if r.state is RowState.UNKNOWN]
    succeeded = [r for r in rows if r.state is RowState.SUCCEEDED]
    assert len(succeeded) + len(unknown) == 32, (counts, stderr)
    for row in unknown:  # only a submit in flight when the service went away
        assert (row.error or "").startswith("submit outcome unknown"), row.error
    assert len(unknown) <= 4
    assert batch.returncode == (1 if unknown else 0), stderr
    record_property("unknown", len(unknown))
    for row in succeeded:
        [output] = row.outputs
        assert sha256(Path(output).read_bytes()) == expected_output_sha(images[row.row - 1])
    stats = emulator.stats()
    unknown_prints = {input_fingerprint(images[r.row - 1]) for r in unknown}
    check_fingerprints(
        stats, [input_fingerprint(images[r.row - 1]) for r in succeeded], unknown_prints
    )
    if sig is signal.SIGTERM:
        # A graceful stop answers every request it read. A submit it cut off had not been
        # read (sent on a kept-alive connection the stop was closing as idle): nothing was
        # created, though the client cannot know that and reports it unknown.
        assert not unknown_prints & set(stats["tasks_by_fingerprint"]), unknown
