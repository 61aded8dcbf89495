"""``runninghub history`` and ``runninghub spend`` over a real journal file, in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from runninghub import Output, Task, TaskFailure, TaskStatus, Usage
from runninghub.cli._context import CliState
from runninghub.cli.main import cli
from runninghub.journal import Intent, Journal, LocalInput

KEY = "0123456789abcdef0123456789abcdef"
WORKFLOW = "1904136902449209346"


def rh(*args: str, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(cli, list(args), env=env)
    assert KEY not in result.output
    assert "Traceback" not in result.output
    return result


def _run(journal: Journal, prompt: str, task_id: str, coins: str, status: str = "SUCCESS") -> int:
    intent = journal.record_intent(
        Intent("workflow", WORKFLOW, {"6.text": prompt, "3.seed": 7}, api_key=KEY, site="cn")
    )
    journal.attach_task(intent, task_id)
    usage = Usage(consume_coins=Decimal(coins), task_cost_time=Decimal(10))
    outputs = (Output(f"https://www.runninghub.cn/o/{task_id}.png", "png", "9"),)
    journal.record_task(Task(task_id, TaskStatus(status), outputs=outputs, usage=usage))
    return intent


def test_history_search_finds_a_run_by_a_word_of_its_prompt(journal: Journal) -> None:
    _run(journal, "a lighthouse at dawn", "101", "7")
    _run(journal, "a red fox in the snow", "102", "5")
    result = rh("history", "--search", "lighthouse", "--json")
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.stdout)["entries"]
    assert (entry["task_id"], entry["status"], entry["summary"]) == (
        "101",
        "SUCCESS",
        "a lighthouse at dawn",
    )
    table = rh("history", "--search", "fox").stdout.splitlines()
    assert table[0].split("\t") == ["when", "intent", "task", "status", "what", "coins", "summary"]
    assert [line.split("\t")[2] for line in table[1:]] == ["102"]
    assert rh("history", "--search", "zebra", "--json").stdout.count('"entries": []') == 1


def test_spend_sums_equal_the_recorded_usage(journal: Journal) -> None:
    _run(journal, "one", "201", "7")
    _run(journal, "two", "202", "5", status="FAILED")
    _run(journal, "three", "203", "3.5")
    result = rh("spend", "--by", "workflow", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    [group] = document["groups"]
    assert group["group"] == f"workflow {WORKFLOW}"
    assert (group["tasks"], group["failures"], Decimal(group["coins"])) == (3, 1, Decimal("15.5"))
    assert Decimal(document["total"]["seconds"]) == 30
    lines = rh("spend").stdout.splitlines()
    assert lines[-1].split("\t")[:5] == ["total", "3", "1", "0", "15.5"]


def test_show_gives_everything_and_the_command_that_runs_it_again(
    journal: Journal, tmp_path: Path
) -> None:
    photo = tmp_path / "my photo.png"
    photo.write_bytes(b"pixels")
    intent = journal.record_intent(
        Intent(
            "app",
            "1877265245566922753",
            {"39.image": "openapi/p.png", "52.text": "a calm sea"},
            inputs=[LocalInput.of("39.image", photo)],
            site="ai",
            api_key=KEY,
        )
    )
    journal.attach_task(intent, "301")
    result = rh("history", "show", "301", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["command"] == (
        "runninghub --site ai app run 1877265245566922753 --set '52.text=a calm sea'"
        f" --file '39.image={photo}'"
    )
    assert document["inputs"][0]["sha256"] == LocalInput.of("x", photo).sha256
    assert document["created_at"].endswith("Z")
    human = rh("history", "show", f"i{intent}").stdout
    assert "again: runninghub --site ai app run 1877265245566922753" in human
    assert "input: 39.image = " in human


def test_text_from_the_server_reaches_no_terminal_as_control_characters(
    journal: Journal,
) -> None:
    intent = journal.record_intent(Intent("workflow", WORKFLOW, {"6.text": "red\x1b[2J\u202efox"}))
    journal.attach_task(intent, "401")
    failure = TaskFailure("9\x1b]0;owned\x07", None, "Error\x9b31m", "line one\nline two")
    journal.record_task(
        Task(
            "401",
            TaskStatus.FAILED,
            failure=failure,
            outputs=(Output("http://h/\x1b[31m.png", "png", "9", text="\x00text"),),
        )
    )
    for args in (
        ("history",),
        ("history", "--json"),
        ("history", "show", "401"),
        ("history", "show", "401", "--json"),
        ("spend", "--by", "workflow"),
    ):
        output = rh(*args).output
        for char in ("\x1b", "\x07", "\x9b", "\u202e", "\x00"):
            assert char not in output, (args, char)
    shown = rh("history", "show", "401").stdout
    assert "red\\x1b[2J\\u202efox" in shown
    assert "line one\\nline two" in shown


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("history", "--since", "3x"), "'3x' is not an age"),
        (("history", "--workflow", "1", "--app", "2"), "at most one of"),
        (("history", "--limit", "0"), "--limit"),
        (("history", "--status", "happy"), "--status"),
        (("history", "show", "999"), "no task or intent '999'"),
        (("history", "resolve", "12x", "--task", "1"), "is not an intent id"),
        (("history", "resolve", "i1"), "--task"),
        (("history", "resolve", "i999", "--task", "1"), "no intent i999"),
        (("history", "prune"), "--older-than"),
        (("history", "prune", "--older-than", "soon"), "is not an age"),
        (("spend", "--by", "month"), "--by"),
    ],
)
def test_bad_input_gets_one_line_and_exit_code_2(
    journal: Journal, args: tuple[str, ...], message: str
) -> None:
    journal.record_intent(Intent("workflow", WORKFLOW, {}))
    result = rh(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stderr.startswith("error: ")


def test_prune_from_the_command_line(journal: Journal) -> None:
    old = journal.record_intent(Intent("workflow", WORKFLOW, {"6.text": "old"}, at=1000.0))
    journal.attach_task(old, "501")
    lost = journal.record_intent(Intent("workflow", WORKFLOW, {"6.text": "lost"}, at=1000.0))
    journal.mark_unknown(lost)
    result = rh("history", "prune", "--older-than", "90d", "--json")
    assert json.loads(result.stdout) == {"removed": 1, "kept_unknown": 1, "uploads_removed": 0}
    assert "kept 1 older submit(s) with an unknown outcome" in result.stderr


def test_reading_an_absent_journal_creates_nothing(data_dir: Path) -> None:
    reads = [("history", "--json"), ("spend", "--json"), ("history", "prune", "--older-than", "1d")]
    for args in reads:
        assert rh(*args).exit_code == 0
    assert json.loads(rh("history", "--json").stdout) == {"unknown": [], "entries": []}
    assert not (data_dir / "journal.sqlite").exists()


def test_a_file_that_is_no_journal_is_a_configuration_error(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "journal.sqlite").write_bytes(b"this is not a database, just some bytes" * 100)
    result = rh("history")
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith("error: the journal")


def test_no_journal_turns_recording_off_by_flag_or_environment(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    assert CliState(no_journal=True).journal() is None
    monkeypatch.setenv("RUNNINGHUB_NO_JOURNAL", "1")
    assert CliState().journal() is None
    monkeypatch.delenv("RUNNINGHUB_NO_JOURNAL")
    journal = CliState().journal()
    assert journal is not None and journal.path == data_dir / "journal.sqlite"
    journal.close()
    assert rh("--no-journal", "history", "--json").exit_code == 0
    assert os.environ["RUNNINGHUB_DATA_DIR"] == str(data_dir)


def test_history_loads_no_client_and_only_the_records_it_lists(journal: Journal) -> None:
    """The journal's commands start fast: no HTTP client and no rich in a pipe, none of the
    library's domain types, and none of the records only `show`, `spend` and `prune` build."""
    _run(journal, "a lighthouse", "601", "1")
    script = (
        "import sys\n"
        "from runninghub.cli.main import cli\n"
        "code = cli.main(['history', '--search', 'lighthouse'], standalone_mode=False)\n"
        "heavy = sorted(m for m in ('httpx', 'rich', 'anyio', 'runninghub._models',\n"
        "    'runninghub.journal._records', 'runninghub.journal._reports') if m in sys.modules)\n"
        "print(code, heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.splitlines()[-1] == "0 []"
    assert "601" in done.stdout


def test_the_status_choices_of_the_command_are_the_journals() -> None:
    from runninghub.cli import history as history_module
    from runninghub.cli import spend as spend_module
    from runninghub.journal import GROUPINGS, STATUSES

    assert set(history_module._STATUSES) == set(STATUSES)
    assert spend_module._GROUPINGS == GROUPINGS
