"""``runninghub webhook show | retry TASK_ID`` against the emulator, with real receivers on
127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cli.cli_harness import Invoker
from tests.emulator.emulator_helpers import Receiver, wait_for_deliveries

INVERT = "1987728214757978114"


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver]]:
    first, second = Receiver(), Receiver()
    yield first, second
    first.close()
    second.close()


def test_show_then_retry_to_the_same_url_and_to_another(
    live: Invoker, emulator: Any, receivers: tuple[Receiver, Receiver]
) -> None:
    hook, other = receivers
    run = live("run", INVERT, "--webhook", hook.url, "--no-download", "--json")
    task_id = json.loads(run.stdout)["task_id"]
    wait_for_deliveries(emulator, 1)

    shown = live("webhook", "show", task_id, "--json")
    again = live("webhook", "retry", task_id)
    wait_for_deliveries(emulator, 2)
    elsewhere = live("webhook", "retry", task_id, "--url", other.url, "--json")
    wait_for_deliveries(emulator, 3)

    assert shown.exit_code == 0, shown.output
    detail = json.loads(shown.stdout)
    assert (detail["task_id"], detail["webhook_url"]) == (task_id, hook.url)
    assert detail["callback_status"] == "SUCCESS" and detail["id"]
    assert again.exit_code == 0, again.output
    assert f"task {task_id}: webhook sent again to {hook.url}" in again.stderr
    assert [call["taskId"] for call in hook.calls] == [task_id, task_id]
    assert elsewhere.exit_code == 0, elsewhere.output
    assert json.loads(elsewhere.stdout) == {
        "task_id": task_id, "webhook_id": detail["id"], "webhook_url": other.url, "retried": True,
    }  # fmt: skip
    assert [call["event"] for call in other.calls] == ["TASK_END"]


def test_a_task_without_a_webhook_and_a_bad_url_are_one_line_errors(live: Invoker) -> None:
    task_id = live("run", INVERT, "--no-wait").stdout.strip()

    missing = live("webhook", "show", task_id)
    bad_url = live("webhook", "retry", task_id, "--url", "ftp://example.com/hook")

    assert missing.exit_code == 4, missing.output
    assert missing.stderr.startswith("error: ") and "Traceback" not in missing.output
    assert f"task {task_id} has no webhook delivery" in missing.stderr
    assert "--webhook URL" in missing.stderr
    assert bad_url.exit_code == 2, bad_url.output
    assert "the webhook URL must be http(s)" in bad_url.stderr
