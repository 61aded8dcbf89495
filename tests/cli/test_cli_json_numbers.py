"""Coins and money are JSON numbers in every ``--json`` document, exact to the service's
figures, and no figure is printed twice under two names."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from runninghub._numbers import json_number
from runninghub.emulator import EmulatorServer
from tests.cli.cli_harness import Invoker

TEXT_TO_IMAGE = "1904136902449209346"
MODEL = "rhart-image-n-pro/text-to-image"
MODEL_SETS = ("--set", "prompt=a fox", "--set", "resolution=1k", "--set", "aspectRatio=1:1")


def _exact(stdout: str) -> dict[str, Any]:
    """The document with every non-integer number read as the exact Decimal it spells."""
    document = json.loads(stdout, parse_float=Decimal)
    assert isinstance(document, dict)
    return document


def _is_number(value: object) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


@pytest.fixture
def wallet(make_emulator: Any) -> EmulatorServer:
    """An enterprise key with a wallet: money is charged in cents, e.g. 0.10 a task."""
    server: EmulatorServer = make_emulator(key_type="SHARED", queue_seconds=0, task_seconds=0.1)
    return server


@pytest.fixture
def paid(live: Invoker, wallet: EmulatorServer) -> Invoker:
    return Invoker(env={**live.env, "RUNNINGHUB_BASE_URL": wallet.base_url}, secrets=live.secrets)


def test_json_number_is_exact_for_the_service_figures() -> None:
    for text in ("0.10", "99.900", "0.1", "12.345", "1234567.891", "0.000001", "7"):
        number = json_number(Decimal(text))
        assert Decimal(json.dumps(number)) == Decimal(text), text
    assert json_number(Decimal("2.00")) == 2 and isinstance(json_number(Decimal("2.00")), int)
    assert json_number(Decimal(10**30)) == 10**30  # whole numbers stay exact at any size
    assert json_number(Decimal("NaN")) is None


def test_a_run_and_the_account_print_numbers(paid: Invoker) -> None:
    before = _exact(paid("account", "--json").stdout)
    run = _exact(paid("run", TEXT_TO_IMAGE, "--no-download", "--json").stdout)
    after = _exact(paid("account", "--json").stdout)

    usage = run["usage"]
    assert _is_number(usage["consume_coins"]) and _is_number(usage["consume_money"])
    assert _is_number(usage["task_cost_time"])
    assert _is_number(before["remain_coins"]) and _is_number(before["remain_money"])
    assert before["remain_money"] - after["remain_money"] == usage["consume_money"] > 0


def test_the_account_names_each_figure_once(paid: Invoker) -> None:
    document = _exact(paid("account", "--json").stdout)

    assert {"api_type", "current_task_counts", "concurrent_limit"} <= set(document)
    assert not {"api_key_type", "total_current_tasks"} & set(document)


def test_spend_history_and_history_show_print_numbers(paid: Invoker) -> None:
    run = _exact(paid("run", TEXT_TO_IMAGE, "--no-download", "--json").stdout)
    money = run["usage"]["consume_money"]

    spend = _exact(paid("spend", "--json").stdout)
    history = _exact(paid("history", "--json").stdout)
    shown = _exact(paid("history", "show", run["task_id"], "--json").stdout)

    assert spend["total"]["money"] == money and _is_number(spend["total"]["coins"])
    assert _is_number(spend["groups"][0]["seconds"])
    [entry] = history["entries"]
    assert entry["money"] == money and _is_number(entry["coins"])
    assert shown["usage"]["money"] == money and _is_number(shown["usage"]["seconds"])
    assert "money" not in shown and "coins" not in shown  # once, under usage


def test_model_price_prints_numbers(paid: Invoker) -> None:
    document = _exact(paid("model", "price", MODEL, *MODEL_SETS, "--json").stdout)

    assert document["list_price"] == Decimal("0.4")
    assert _is_number(document["estimated"])


def test_a_batch_summary_and_its_manifest_print_numbers(paid: Invoker, tmp_path: Path) -> None:
    inputs = tmp_path / "in.csv"
    inputs.write_text("prompt\na fox\na cat\n", encoding="utf-8")
    out = tmp_path / "out"

    result = paid(
        "batch", "run", TEXT_TO_IMAGE, "--inputs", str(inputs), "--map", "prompt=6.text",
        "--out", str(out), "--json",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    summary = _exact(result.stdout)
    assert _is_number(summary["coins"]) and _is_number(summary["coins_total"])
    lines = Path(summary["manifest"]).read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line, parse_float=Decimal) for line in lines]
    assert len(rows) == 2 and all(_is_number(row["coins"]) for row in rows)
