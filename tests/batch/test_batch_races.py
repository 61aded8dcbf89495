"""Real ``runninghub batch`` processes racing each other, and signals sent to a running batch.

The processes talk to the emulator through a forwarding proxy (``gated_proxy``) that can hold
a request until the test lets it go: that is how two processes are made to pass a step at the
same moment, and how a submit is known to be in flight when a signal arrives.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from runninghub.batch import Ledger, RowState
from runninghub.emulator import EmulatorServer
from tests.batch.batch_helpers import API_KEY, OTHER_KEY, TEXT, row_states
from tests.batch.gated_proxy import GatedProxy

MakeEmulator = Callable[..., EmulatorServer]
ISOLATED = ("RUNNINGHUB_API_KEY", "RUNNINGHUB_BASE_URL", "RUNNINGHUB_CONFIG_DIR")
GRAPH = "/api/openapi/getJsonApiFormat"
SUBMIT = "/openapi/v2/run/workflow/"
THIRD_KEY = "00112233445566778899aabbccddeeff"


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ISOLATED}
    env.update(RUNNINGHUB_API_KEY=API_KEY, RUNNINGHUB_CONFIG_DIR=str(tmp_path / "config"))
    return env


def _start(base_url: str, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "runninghub", "--base-url", base_url, "batch", *args]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def _prompts(path: Path, count: int) -> Path:
    lines = ["6.text"] + [f"a lighthouse at dusk number {i}" for i in range(count)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_two_runs_started_at_once_on_a_new_out_run_each_input_once(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    """Both processes pass planning at the same moment (held at the graph request until both
    asked); one must run the batch and record it, the other refuse, and a resume must find
    every task the winner paid for in the ledger on disk."""
    server = make_emulator(queue_seconds=0, task_seconds=0.2, concurrency=4)
    inputs = _prompts(tmp_path / "prompts.csv", 300)
    out = tmp_path / "out"
    env = _env(tmp_path)
    args = ("run", TEXT, "--inputs", str(inputs), "--out", str(out), "--max-tasks", "3")
    with GatedProxy(server.base_url) as proxy:
        graph = proxy.gate(GRAPH)
        procs = [_start(proxy.base_url, env, *args, "--concurrency", "3") for _ in range(2)]
        both_arrived = graph.wait_for(2, timeout=30)
        assert both_arrived, [_finish(proc) for proc in procs]
        graph.open()
        results = sorted(_finish(proc) for proc in procs)
    (lost, _, lost_err), (won, _, won_err) = results  # 2 sorts before 4
    assert (won, lost) == (4, 2), (won_err, lost_err)  # 4: rows left pending by --max-tasks
    assert "another batch is running" in lost_err
    assert "Traceback" not in won_err + lost_err
    states = row_states(out / "batch.sqlite")
    assert list(states.values()).count("succeeded") == 3
    assert server.stats()["tasks_created"] == 3

    resumed = _finish(_start(server.base_url, env, "resume", "--ledger", str(out / "batch.sqlite")))
    assert resumed[0] == 4, resumed  # still pending by the inherited limit
    assert server.stats()["tasks_created"] == 3  # --max-tasks holds across both runs


def _wait_for_states(ledger: Path, state: str, count: int, proc: subprocess.Popen[str]) -> None:
    """Poll the ledger (as a monitoring tool would) until ``count`` rows are in ``state``."""
    while not ledger.exists() or list(row_states(ledger).values()).count(state) < count:
        assert proc.poll() is None, _finish(proc)
        time.sleep(0.01)  # a polling interval, not a wait for something to happen


def test_keys_reordered_or_replaced_between_run_and_resume_never_lose_a_task(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    """Two tasks are left running on two keys; a resume with the keys swapped must follow each
    task with its own key, and one with a key replaced must refuse before touching anything."""
    server = make_emulator(queue_seconds=0, task_seconds=1.5, concurrency=4)
    inputs = _prompts(tmp_path / "prompts.csv", 4)
    out, keys = tmp_path / "out", tmp_path / "keys.txt"
    ledger = out / "batch.sqlite"
    keys.write_text(f"{API_KEY}\n{OTHER_KEY}\n")
    env = _env(tmp_path)
    args = ("run", TEXT, "--inputs", str(inputs), "--out", str(out), "--keys", str(keys))
    proc = _start(server.base_url, env, *args, "--concurrency", "1")
    _wait_for_states(ledger, "submitted", 2, proc)  # one task per key, two rows pending
    proc.kill()
    _finish(proc)

    keys.write_text(f"{OTHER_KEY}\n{THIRD_KEY}\n")
    replaced = _finish(_start(server.base_url, env, "resume", "--ledger", str(ledger)))
    assert replaced[0] == 3, replaced
    assert "was submitted with a key that is not among the 2 given" in replaced[2]
    assert list(row_states(ledger).values()).count("submitted") == 2
    wrong = tmp_path / "wrong-keys.txt"
    wrong.write_text(f"{THIRD_KEY}\n{OTHER_KEY}\n")
    rerun = _finish(_start(server.base_url, env, *args[:-1], str(wrong)))  # `batch run` again
    assert rerun[0] == 3, rerun
    assert "was submitted with a key that is not among the 2 given" in rerun[2]

    keys.write_text(f"{OTHER_KEY}\n{API_KEY}\n")  # the stored --keys file, swapped
    swapped = _finish(_start(server.base_url, env, "resume", "--ledger", str(ledger)))
    assert swapped[0] == 0, swapped
    assert set(row_states(ledger).values()) == {"succeeded"}
    assert server.stats()["tasks_created"] == 4  # nothing was paid for twice


def test_two_batches_started_at_once_on_one_out_never_replace_each_others_files(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    server = make_emulator(queue_seconds=0, task_seconds=0.2, concurrency=4)
    inputs = _prompts(tmp_path / "prompts.csv", 3)
    out = tmp_path / "shared"
    env = _env(tmp_path)
    with GatedProxy(server.base_url) as proxy:
        graph = proxy.gate(GRAPH)
        args = ("run", TEXT, "--inputs", str(inputs), "--out", str(out))
        procs = [
            _start(proxy.base_url, env, *args, "--ledger", str(tmp_path / f"{name}.sqlite"))
            for name in ("a", "b")
        ]
        both_arrived = graph.wait_for(2, timeout=30)
        assert both_arrived, [_finish(proc) for proc in procs]
        graph.open()
        results = [_finish(proc) for proc in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    winner = "ab"[[code for code, _, _ in results].index(0)]
    loser_err = next(err for code, _, err in results if code == 2)
    assert f"{out} holds the outputs of another batch" in loser_err
    assert server.stats()["tasks_created"] == 3
    with Ledger.open(tmp_path / f"{winner}.sqlite") as ledger:
        rows = ledger.rows()
    assert {row.state for row in rows} == {RowState.SUCCEEDED}
    manifest = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert [entry["task_id"] for entry in manifest] == [row.task_id for row in rows]
    for row in rows:
        [saved] = row.outputs
        assert Path(saved).is_file()


def test_sigterm_during_a_submit_finishes_and_records_it_like_ctrl_c(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    """The submit is held at the proxy while the process gets SIGTERM: the process must wait
    for its answer, record the task id, say how to go on, and exit 143; a resume then finishes
    the task without submitting it again."""
    server = make_emulator(queue_seconds=0, task_seconds=0.2, concurrency=4)
    inputs = _prompts(tmp_path / "prompts.csv", 2)
    ledger = tmp_path / "out" / "batch.sqlite"
    env = _env(tmp_path)
    args = ("run", TEXT, "--inputs", str(inputs), "--out", str(tmp_path / "out"))
    with GatedProxy(server.base_url) as proxy:
        submit = proxy.gate(SUBMIT)
        proc = _start(proxy.base_url, env, *args, "--concurrency", "1")
        arrived = submit.wait_for(1, timeout=30)
        assert arrived, _finish(proc)
        proc.send_signal(signal.SIGTERM)
        submit.open()
        code, _, err = _finish(proc)
    assert code == 128 + signal.SIGTERM, err
    assert "terminated: submitted tasks keep running; `batch resume` picks up" in err
    assert "Traceback" not in err
    with Ledger.open(ledger) as opened:
        first = opened.row(1)
    assert first.state is RowState.SUBMITTED and first.task_id is not None
    assert server.stats()["tasks_created"] == 1

    resumed = _finish(_start(server.base_url, env, "resume", "--ledger", str(ledger)))
    assert resumed[0] == 0, resumed
    assert set(row_states(ledger).values()) == {"succeeded"}
    assert server.stats()["tasks_created"] == 2  # row 1 was followed, not submitted again
