"""The spend guards: ``--max-coins`` counts tasks in flight, and a batch stopped by a guard
exits 4 and says how to go on; ``batch resume`` (a real process) shows and replaces them."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from runninghub.batch import Ledger
from runninghub.emulator import EmulatorServer
from tests.batch.batch_helpers import API_KEY, TEXT, write_prompts
from tests.cli.cli_harness import ISOLATED, Invoker, runninghub_command, subprocess_env

MakeEmulator = Callable[..., EmulatorServer]


@pytest.fixture
def rh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoker:
    monkeypatch.chdir(tmp_path)
    env: dict[str, str | None] = dict.fromkeys(ISOLATED)
    env.update(RUNNINGHUB_API_KEY=API_KEY, RUNNINGHUB_CONFIG_DIR=str(tmp_path / "config"))
    return Invoker(env, secrets=(API_KEY,))


def _resume_process(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``runninghub batch resume`` as a real process, in the batch's folder."""
    env = subprocess_env(
        {"RUNNINGHUB_API_KEY": API_KEY, "RUNNINGHUB_CONFIG_DIR": str(tmp_path / "config")}
    )
    command = runninghub_command("--base-url", url, "batch", "resume", *args)
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert API_KEY not in done.stdout + done.stderr
    return done


def _run(rh: Invoker, url: str, *args: str) -> Result:
    return rh("--base-url", url, "batch", "run", TEXT, "--inputs", "prompts.csv",
              "--map", "prompt=6.text", "--concurrency", "4", *args)  # fmt: skip


def _document(text: str) -> Any:
    return json.loads(text)


def test_max_coins_counts_the_tasks_in_flight(
    rh: Invoker, make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    server = make_emulator(task_seconds=0.2, concurrency=4, coin_price=1)
    write_prompts(tmp_path / "prompts.csv", 8)
    result = _run(rh, server.base_url, "--max-coins", "3", "--json")
    report = _document(result.stdout)
    # Four slots were free, but only three coins: never a fourth task on the way.
    assert server.stats()["tasks_created"] == 3
    assert Decimal(str(report["coins_total"])) == 3 and report["counts"]["pending"] == 5
    assert report["stopped"].startswith("--max-coins 3 reached")
    assert result.exit_code == 4, result.output
    assert "5 rows are still pending" in result.stderr
    assert "runninghub batch resume --ledger" in result.stderr and "--max-coins N" in result.stderr


def test_max_coins_keeps_the_expected_price_of_running_tasks_within_the_limit(
    rh: Invoker, make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    server = make_emulator(task_seconds=0.2, concurrency=4, coin_price=2)
    write_prompts(tmp_path / "prompts.csv", 8)
    result = _run(rh, server.base_url, "--max-coins", "5", "--json")
    assert result.exit_code == 4, result.output
    # 2 + 2 = 4 coins; a third task would have made 6, over the limit of 5.
    assert server.stats()["tasks_created"] == 2
    assert Decimal(str(_document(result.stdout)["coins_total"])) == 4


def test_a_batch_whose_rows_all_ran_within_the_limit_exits_0(
    rh: Invoker, make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    server = make_emulator(task_seconds=0.1, concurrency=4, coin_price=1)
    write_prompts(tmp_path / "prompts.csv", 3)
    result = _run(rh, server.base_url, "--max-coins", "3", "--max-tasks", "3", "--json")
    assert result.exit_code == 0, result.output
    assert _document(result.stdout)["complete"]
    assert "still pending" not in result.stderr


def test_resume_shows_the_limits_it_inherited_and_takes_new_ones(
    rh: Invoker, make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    server = make_emulator(task_seconds=0.1, concurrency=4, coin_price=1)
    url = server.base_url
    write_prompts(tmp_path / "prompts.csv", 6)
    first = _run(rh, url, "--max-tasks", "2")
    assert first.exit_code == 4, first.output
    assert "go on with `runninghub batch resume --ledger" in first.stderr
    assert "--max-tasks N` and a higher N" in first.stderr

    same = _resume_process(tmp_path, url, "--json")
    assert same.returncode == 4, same.stderr
    assert "limits: concurrency 4 (from the ledger)" in same.stderr
    assert "--max-tasks 2 (from the ledger; 2 created)" in same.stderr
    assert "no --max-coins (2 coins spent so far)" in same.stderr
    assert server.stats()["tasks_created"] == 2  # the inherited limit still holds

    more = _resume_process(tmp_path, url, "--max-tasks", "4", "--max-coins", "10", "--json")
    assert more.returncode == 4, more.stderr
    assert "--max-tasks 4 (given now; 2 created)" in more.stderr
    assert "--max-coins 10 (given now; 2 spent)" in more.stderr
    assert server.stats()["tasks_created"] == 4
    assert _document(more.stdout)["limits"]["max_tasks"] == 4

    rest = _resume_process(tmp_path, url, "--max-tasks", "6")
    assert rest.returncode == 0, rest.stderr
    assert "--max-coins 10 (from the ledger; 4 spent)" in rest.stderr  # kept from the last one
    assert server.stats()["tasks_created"] == 6
    with Ledger.open(tmp_path / "batch-out" / "batch.sqlite", read_only=True) as ledger:
        assert ledger.spec.max_tasks == 6 and ledger.spec.max_coins == "10"
