"""``runninghub history`` given ids pasted as the website's page addresses: the same parser and
local check as ``run``, and a one-line error with exit 2 for an address that names nothing."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from runninghub import Task, TaskStatus
from runninghub.cli.main import cli
from runninghub.journal import Intent, Journal

KEY = "0123456789abcdef0123456789abcdef"
WORKFLOW = "1904136902449209346"
APP = "1877265245566922753"


def rh(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output and KEY not in result.output
    return result


def _record(journal: Journal, kind: str, target: str, task_id: str | None) -> int:
    intent = journal.record_intent(Intent(kind, target, {"6.text": "x"}, api_key=KEY, site="cn"))
    if task_id is not None:
        journal.attach_task(intent, task_id)
        journal.record_task(Task(task_id, TaskStatus.SUCCESS))
    return intent


def _tasks(result: Result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [entry["task_id"] for entry in json.loads(result.stdout)["entries"]]


def test_workflow_and_app_filters_take_page_addresses(journal: Journal) -> None:
    _record(journal, "workflow", WORKFLOW, "1001")
    _record(journal, "app", APP, "1002")
    for address in (
        f"https://www.runninghub.cn/workflow/{WORKFLOW}",
        f"runninghub.ai/workflow/{WORKFLOW}/",
    ):
        assert _tasks(rh("history", "--workflow", address, "--json")) == ["1001"]
    address = f"https://www.runninghub.ai/ai-detail/{APP}?source=share"
    assert _tasks(rh("history", "--app", address, "--json")) == ["1002"]


def test_show_and_resolve_take_a_task_page_address(journal: Journal) -> None:
    _record(journal, "workflow", WORKFLOW, "1910246754753896450")
    shown = rh("history", "show", "https://www.runninghub.cn/task/1910246754753896450", "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["task_id"] == "1910246754753896450"
    intent = _record(journal, "workflow", WORKFLOW, None)
    address = "https://www.runninghub.ai/history?taskId=1910246754753896451"
    resolved = rh("history", "resolve", f"i{intent}", "--task", address, "--json")
    assert resolved.exit_code == 0, resolved.output
    assert json.loads(resolved.stdout)["task_id"] == "1910246754753896451"


@pytest.mark.parametrize(
    ("args", "error", "hint"),
    [
        (
            ("--workflow", f"https://example.com/workflow/{WORKFLOW}"),
            "is not a RunningHub address (runninghub.cn or runninghub.ai)",
            "",
        ),
        (
            ("--app", f"https://www.runninghub.cn/workflow/{WORKFLOW}"),
            "is the address of a workflow, not of an app",
            f"hint: find it with: runninghub history --workflow {WORKFLOW}",
        ),
        (
            ("--workflow", "https://www.runninghub.cn/post/123"),
            "names no workflow",
            "hint: paste the address of the workflow's page",
        ),
        (("--workflow", "19 04"), "workflow id '19 04' is not a valid id", ""),
        (
            ("show", f"https://www.runninghub.cn/ai-detail/{APP}"),
            "is the address of an app, not of a task",
            f"hint: find it with: runninghub history --app {APP}",
        ),
    ],
)
def test_a_bad_address_is_one_line_and_exit_2(
    journal: Journal, args: tuple[str, ...], error: str, hint: str
) -> None:
    _record(journal, "workflow", WORKFLOW, "1001")
    result = rh("history", *args)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and error in errors[0], result.stderr
    assert result.stdout == ""
    hints = [line for line in result.stderr.splitlines() if line.startswith("hint: ")]
    assert (hints[0] if hints else "").startswith(hint), result.stderr
