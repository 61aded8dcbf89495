"""Key types over loopback: NORMAL (coins), SHARED and EXCLUSIVE (wallet), the keys file,
the personal queue and the submit options of workflows and apps."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from runninghub.emulator import EmulatorServer
from runninghub.emulator.options import build_options, read_keys_file

INVERT = "1987728214757978114"
APP = "1877265245566922753"
KEY_A = "a" * 32
KEY_B = "b" * 32
KEY_C = "c" * 32


def account(api) -> dict[str, Any]:
    return api.v1("/uc/openapi/accountStatus", {"apikey": api.key})["data"]


def queue(api) -> dict[str, Any]:
    answer = api.http.get(
        "/openapi/v2/queue/status", headers={"Authorization": f"Bearer {api.key}"}
    )
    return answer.json()["data"]


def keys_file(tmp_path: Path, *lines: str) -> list[str]:
    path = tmp_path / "keys.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sorted(read_keys_file(path))


def test_each_key_reports_its_declared_type(make_emulator, make_raw_api, tmp_path) -> None:
    keys = keys_file(
        tmp_path,
        "# team keys",
        f"{KEY_A} SHARED money=50 currency=USD",
        f"ai:{KEY_B} EXCLUSIVE",
        KEY_C,  # the original one-key-per-line form: the default type
    )
    server = make_emulator(keys=keys, key_type="NORMAL")
    shared, exclusive, normal = (make_raw_api(server, key=k) for k in (KEY_A, KEY_B, KEY_C))
    assert account(shared) | {"remainCoins": None} == {
        "remainCoins": None,
        "currentTaskCounts": "0",
        "remainMoney": "50.000",
        "currency": "USD",
        "apiType": "SHARED",
    }
    assert (account(exclusive)["apiType"], account(exclusive)["remainMoney"]) == (
        "EXCLUSIVE",
        "100.000",
    )
    assert (account(normal)["apiType"], account(normal)["remainMoney"]) == ("NORMAL", None)
    assert account(normal)["remainCoins"] == "1100" and account(normal)["currency"] is None
    assert [queue(api)["apiKeyType"] for api in (shared, exclusive, normal)] == [
        "SHARED",
        "EXCLUSIVE",
        "NORMAL",
    ]
    assert queue(exclusive)["instanceCount"] == 2 and queue(normal)["instanceCount"] == 0


def test_key_type_applies_to_every_undeclared_key(make_emulator, make_raw_api) -> None:
    api = make_raw_api(make_emulator(key_type="EXCLUSIVE", site="ai"))
    assert (account(api)["apiType"], account(api)["currency"]) == ("EXCLUSIVE", "USD")


def test_coins_go_down_by_the_configured_price(make_emulator, make_raw_api) -> None:
    api = make_raw_api(make_emulator(coin_price=7, task_seconds=0.05))
    done = api.wait(api.run_workflow(INVERT)["taskId"])
    assert done["usage"]["consumeCoins"] == "7" and done["usage"]["consumeMoney"] is None
    assert account(api)["remainCoins"] == "1093"


def test_a_wallet_pays_for_workflow_tasks(make_emulator, make_raw_api) -> None:
    api = make_raw_api(make_emulator(key_type="SHARED", money_price="0.25", task_seconds=0.05))
    done = api.wait(api.run_workflow(INVERT)["taskId"])
    assert done["usage"]["consumeMoney"] == "0.25" and done["usage"]["consumeCoins"] == "0"
    assert Decimal(account(api)["remainMoney"]) == Decimal("99.75")
    assert account(api)["remainCoins"] == "1100"


@pytest.mark.parametrize(
    "line",
    [
        f"{KEY_A} GOLD",
        f"{KEY_A} SHARED money=lots",
        f"{KEY_A} coins=-1",
        f"{KEY_A} currency=EUR",
        f"{KEY_B} {KEY_A}",  # two keys on one line: neither is shown
        f"{KEY_B} colour={KEY_A}",
    ],
)
def test_a_bad_keys_file_line_is_refused_before_serving(tmp_path, line) -> None:
    with pytest.raises(ValueError, match="keys file") as caught:
        build_options(keys=keys_file(tmp_path, line))
    assert KEY_A not in str(caught.value) and KEY_B not in str(caught.value)


def test_the_command_line_refuses_a_bad_keys_file_in_one_line(tmp_path) -> None:
    path = tmp_path / "keys.txt"
    path.write_text(f"{KEY_A} SHARED money=lots\n")
    done = subprocess.run(
        [sys.executable, "-m", "runninghub.emulator", "--keys", str(path), "--port", "0"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "keys file" in done.stderr
    assert KEY_A not in done.stderr and "Traceback" not in done.stderr


@pytest.fixture
def exclusive(make_emulator: Callable[..., EmulatorServer]) -> EmulatorServer:
    return make_emulator(
        key_type="EXCLUSIVE", concurrency=1, personal_queue_limit=1, task_seconds=2
    )


def test_the_personal_queue_holds_tasks_up_to_its_limit(exclusive, make_raw_api) -> None:
    api = make_raw_api(exclusive)
    first = api.run_workflow(INVERT)
    assert first["errorCode"] == ""
    assert api.run_workflow(INVERT)["errorCode"] == "415"  # no free instance, no queue asked
    queued = api.run_workflow(INVERT, usePersonalQueue="true")
    assert queued["errorCode"] == "" and queued["status"] == "QUEUED"
    over = api.run_workflow(INVERT, usePersonalQueue=True)
    assert over["errorCode"] == "814" and over["taskId"] == ""
    legacy = api.v1("/task/openapi/create", {"workflowId": INVERT, "usePersonalQueue": True})
    assert (legacy["code"], legacy["msg"]) == (814, "PERSONAL_QUEUE_COUNT_LIMIT")
    assert exclusive.stats()["tasks_created"] == 2
    assert api.wait(queued["taskId"])["status"] == "SUCCESS"
    assert api.query(first["taskId"])["status"] == "SUCCESS"


def test_other_keys_get_421_even_when_asking_for_a_personal_queue(
    make_emulator, make_raw_api
) -> None:
    server = make_emulator(key_type="SHARED", concurrency=1, task_seconds=5)
    api = make_raw_api(server)
    assert api.run_workflow(INVERT)["errorCode"] == ""
    assert api.run_workflow(INVERT, usePersonalQueue=True)["errorCode"] == "421"
    assert server.stats()["tasks_created"] == 1


@pytest.mark.parametrize(
    "extra",
    [
        {"retainSeconds": 5},
        {"retainSeconds": 181},
        {"retainSeconds": "soon"},
        {"accessPassword": 7},
    ],
)
def test_bad_submit_options_are_refused(raw_api, emulator, extra) -> None:
    assert raw_api.run_workflow(INVERT, **extra)["errorCode"] == "1007"
    body = {"webappId": APP, "nodeInfoList": [], **extra}
    assert raw_api.v1("/task/openapi/ai-app/run", body)["code"] == 301
    assert emulator.stats()["tasks_created"] == 0


def test_submit_options_are_accepted_and_the_password_is_never_shown(raw_api, emulator) -> None:
    secret = "hunter2-password"
    options = {"retainSeconds": "60", "instanceType": "plus", "accessPassword": secret}
    task = raw_api.run_workflow(INVERT, **options)
    assert task["errorCode"] == ""
    done = raw_api.wait(task["taskId"])
    seen = [
        str(done),
        str(emulator.stats()),
        str(emulator.configure()),
        str(raw_api.v1("/task/openapi/outputs", {"taskId": task["taskId"]})),
    ]
    assert not any(secret in text for text in seen)
