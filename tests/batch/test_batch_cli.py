"""``runninghub batch run|status|resume|retry`` in-process, against the emulator."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from runninghub.cli.main import cli
from runninghub.emulator import EmulatorServer
from tests.batch.batch_helpers import (
    API_KEY,
    INVERT,
    OTHER_KEY,
    TEXT,
    make_images,
    start_batch,
    write_prompts,
)

MakeEmulator = Callable[..., EmulatorServer]
ISOLATED = ("RUNNINGHUB_API_KEY", "RUNNINGHUB_BASE_URL", "RUNNINGHUB_CONFIG_DIR", "NO_COLOR")


@pytest.fixture
def rh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """``runninghub ARGS`` with the key in the environment; checks the key never shows."""
    monkeypatch.chdir(tmp_path)
    env: dict[str, str | None] = dict.fromkeys(ISOLATED)
    env.update(RUNNINGHUB_API_KEY=API_KEY, RUNNINGHUB_CONFIG_DIR=str(tmp_path / "config"))

    def invoke(*args: str) -> Result:
        result = CliRunner().invoke(cli, list(args), env=env)
        for key in (API_KEY, OTHER_KEY):
            assert key not in result.output, f"a key leaked in the output of {args}"
        return result

    return invoke


def _document(result: Result) -> Any:
    return json.loads(result.stdout)


def test_run_prints_the_report_and_status_counts_the_rows(
    rh: Callable[..., Result], emulator: EmulatorServer, tmp_path: Path
) -> None:
    make_images(tmp_path / "photos", 4)
    url = emulator.base_url
    result = rh("--base-url", url, "batch", "run", INVERT, "--inputs", "photos", "--json")
    assert result.exit_code == 0, result.output
    report = _document(result)
    assert report["complete"] and report["tasks_submitted"] == 4
    assert report["counts"]["succeeded"] == 4
    out = tmp_path / "batch-out"
    assert sorted(p.name for p in out.glob("*.png")) == [f"0000{i}_109_1.png" for i in range(1, 5)]
    status = rh("batch", "status", "--json")  # the default ledger: ./batch-out/batch.sqlite
    assert status.exit_code == 0, status.output
    counts = _document(status)
    assert (counts["total"], counts["succeeded"], counts["pending"]) == (4, 4, 0)
    assert (counts["running"], counts["unknown"], counts["failed"]) == (0, 0, 0)
    human = rh("batch", "status")
    assert "total 4  succeeded 4" in human.stdout


def test_bad_inputs_exit_2_before_anything_is_submitted(
    rh: Callable[..., Result], emulator: EmulatorServer, tmp_path: Path
) -> None:
    write_prompts(tmp_path / "prompts.csv", 2)
    url = emulator.base_url
    unmapped = rh("--base-url", url, "batch", "run", TEXT, "--inputs", "prompts.csv")
    assert unmapped.exit_code == 2
    assert "'prompt' is not mapped" in unmapped.stderr
    assert "--map prompt=NODE.FIELD" in unmapped.stderr
    typo = rh(
        "--base-url", url, "batch", "run", TEXT, "--inputs", "prompts.csv", "--map", "prompt=6.txt"
    )
    assert typo.exit_code == 2 and "6.text" in typo.stderr
    name = rh(
        "--base-url",
        url,
        "batch",
        "run",
        TEXT,
        "--inputs",
        "prompts.csv",
        "--map",
        "prompt=6.text",
        "--name",
        "{node}.{ext}",
    )
    assert name.exit_code == 2
    assert emulator.stats()["tasks_created"] == 0


def test_a_file_that_is_not_a_ledger_is_a_usage_error(
    rh: Callable[..., Result], tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("hello\n" * 50)
    result = rh("batch", "status", "--ledger", "notes.txt", "--json")
    assert result.exit_code == 2
    assert "not a batch ledger" in _document(result)["error"]["message"]
    missing = rh("batch", "resume", "--ledger", "nope.sqlite")
    assert missing.exit_code == 2 and "no batch ledger" in missing.stderr


def test_unknown_rows_exit_1_and_only_retry_unknown_resubmits_them(
    rh: Callable[..., Result], make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    server = make_emulator(task_seconds=0.05)
    write_prompts(tmp_path / "prompts.csv", 2)

    def lose_every_answer(progress: Any) -> None:  # from the first submit on
        server.configure(fault_rate=1.0, fault_kinds=["http_500"])

    batch = start_batch(
        server.base_url,
        tmp_path / "prompts.csv",
        tmp_path / "out",
        workflow=TEXT,
        maps={"prompt": "6.text"},
        on_progress=lose_every_answer,
    )
    asyncio.run(batch)  # the command line runs its own event loop: none may be running
    server.configure(fault_rate=0.0)
    ledger = str(tmp_path / "out" / "batch.sqlite")
    status = rh("batch", "status", "--ledger", ledger, "--json")
    assert _document(status)["unknown"] == 2
    resumed = rh("--base-url", server.base_url, "batch", "resume", "--ledger", ledger)
    assert resumed.exit_code == 1
    assert "batch retry --unknown" in resumed.stderr
    plain = rh("--base-url", server.base_url, "batch", "retry", "--ledger", ledger, "--json")
    assert plain.exit_code == 1 and _document(plain)["tasks_submitted"] == 0
    assert server.stats()["tasks_created"] == 2
    retried = rh("--base-url", server.base_url, "batch", "retry", "--unknown", "--ledger", ledger)
    assert retried.exit_code == 0, retried.output
    assert "2/2 succeeded" in retried.stdout
    assert server.stats()["tasks_created"] == 4  # the lost tasks existed: each input ran twice


def test_a_service_that_loses_every_answer_exits_4_with_nothing_submitted(
    rh: Callable[..., Result], make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    server = make_emulator(task_seconds=0.05, fault_rate=1.0, fault_kinds=["http_500"])
    write_prompts(tmp_path / "prompts.csv", 2)
    result = rh(
        "--base-url",
        server.base_url,
        "--retries",
        "0",
        "batch",
        "run",
        TEXT,
        "--inputs",
        "prompts.csv",
        "--map",
        "prompt=6.text",
    )
    assert result.exit_code == 4
    assert server.stats()["tasks_created"] == 0


def test_a_keys_file_spreads_rows_over_both_keys(
    rh: Callable[..., Result], make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    server = make_emulator(task_seconds=0.1, concurrency=2)
    write_prompts(tmp_path / "prompts.csv", 6)
    (tmp_path / "keys.txt").write_text(f"{API_KEY}\n# a comment\n{OTHER_KEY}\n")
    result = rh(
        "--base-url",
        server.base_url,
        "batch",
        "run",
        TEXT,
        "--inputs",
        "prompts.csv",
        "--map",
        "prompt=6.text",
        "--keys",
        "keys.txt",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert len(server.stats()["tasks_by_key"]) == 2
    ledger_bytes = (tmp_path / "batch-out" / "batch.sqlite").read_bytes()
    assert API_KEY.encode() not in ledger_bytes and OTHER_KEY.encode() not in ledger_bytes


def test_max_tasks_stops_and_resume_with_a_new_limit_finishes(
    rh: Callable[..., Result], emulator: EmulatorServer, tmp_path: Path
) -> None:
    write_prompts(tmp_path / "prompts.csv", 5)
    url = emulator.base_url
    first = rh(
        "--base-url",
        url,
        "batch",
        "run",
        TEXT,
        "--inputs",
        "prompts.csv",
        "--map",
        "prompt=6.text",
        "--max-tasks",
        "2",
        "--json",
    )
    assert first.exit_code == 4, first.output  # rows left pending by the limit
    report = _document(first)
    assert report["stopped"] == "--max-tasks 2 reached"
    assert (report["counts"]["succeeded"], report["counts"]["pending"]) == (2, 3)
    more = rh("--base-url", url, "batch", "resume", "--max-tasks", "5", "--json")
    assert more.exit_code == 0 and _document(more)["complete"]
    assert emulator.stats()["tasks_created"] == 5


def test_a_ledger_is_only_reused_for_the_same_inputs(
    rh: Callable[..., Result], emulator: EmulatorServer, tmp_path: Path
) -> None:
    write_prompts(tmp_path / "prompts.csv", 2)
    url = emulator.base_url
    args = (
        "--base-url",
        url,
        "batch",
        "run",
        TEXT,
        "--inputs",
        "prompts.csv",
        "--map",
        "prompt=6.text",
    )
    assert rh(*args).exit_code == 0
    write_prompts(tmp_path / "prompts.csv", 3)
    other = rh(*args)
    assert other.exit_code == 2
    assert "made from other inputs (row 3 differs)" in other.stderr
    assert emulator.stats()["tasks_created"] == 2


def test_a_second_batch_is_refused_an_out_that_another_batch_writes_to(
    rh: Callable[..., Result], emulator: EmulatorServer, tmp_path: Path
) -> None:
    make_images(tmp_path / "photos", 2)
    write_prompts(tmp_path / "prompts.csv", 2)
    url = emulator.base_url
    first = rh("--base-url", url, "batch", "run", INVERT, "--inputs", "photos", "--out", "shared",
               "--ledger", "a.sqlite")  # fmt: skip
    assert first.exit_code == 0, first.output
    shared = tmp_path / "shared"
    before = {p.name: p.read_bytes() for p in shared.iterdir() if p.is_file()}

    second = rh("--base-url", url, "batch", "run", TEXT, "--inputs", "prompts.csv", "--map",
                "prompt=6.text", "--out", "shared", "--ledger", "b.sqlite")  # fmt: skip
    assert second.exit_code == 2, second.output
    assert f"{shared} holds the outputs of another batch" in second.stderr
    assert "choose another --out" in second.stderr
    assert emulator.stats()["tasks_created"] == 2  # nothing submitted for the second batch
    assert not (tmp_path / "b.sqlite").exists()
    assert {p.name: p.read_bytes() for p in shared.iterdir() if p.is_file()} == before

    again = rh("--base-url", url, "batch", "resume", "--ledger", "a.sqlite")
    assert again.exit_code == 0, again.output  # the folder's own batch still uses it
    moved = rh("--base-url", url, "batch", "run", TEXT, "--inputs", "prompts.csv", "--map",
               "prompt=6.text", "--out", "elsewhere", "--ledger", "b.sqlite")  # fmt: skip
    assert moved.exit_code == 0, moved.output
