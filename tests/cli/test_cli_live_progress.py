"""The live status line of ``run``, ``app run`` and ``wait`` on a real pseudo-terminal: the
elapsed time ticks between polls, nodes go by their titles, and no word is said twice."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

import runninghub.emulator
from tests.cli.cli_harness import runninghub_command, subprocess_env
from tests.cli.test_cli_output import _run_on_a_terminal

TEXT_TO_IMAGE = "1904136902449209346"
APP = "1877265245566922753"
# One redraw of the line: "task ID · state[ · node][ · step][ · message] · N s".
_LINE = re.compile(r"task (\d{15,}) · ([^\r\n]*?) · (\d+) s")
_NAMED = re.compile(r"(.+) \(node (\d+)\)")
WORKFLOWS = Path(runninghub.emulator.__file__).parent / "data" / "workflows"


def _env(server: Any, api_key: str, tmp_path: Path) -> dict[str, str]:
    return {
        "RUNNINGHUB_API_KEY": api_key,
        "RUNNINGHUB_BASE_URL": server.base_url,
        "RUNNINGHUB_CONFIG_DIR": str(tmp_path / "config"),
        "NO_COLOR": "1",
    }


@pytest.fixture
def slow_env(make_emulator: Any, api_key: str, tmp_path: Path) -> dict[str, str]:
    """Tasks that run four real seconds, far longer than one redraw of the line."""
    return _env(make_emulator(task_seconds=4), api_key, tmp_path)


def _redraws(screen: str) -> list[tuple[str, str, int]]:
    return [(m.group(1), m.group(2), int(m.group(3))) for m in _LINE.finditer(screen)]


def _assert_ticks_without_repeats(screen: str) -> list[str]:
    redraws = _redraws(screen)
    assert redraws, screen
    waiting = [seconds for _, state, seconds in redraws if not state.startswith("success")]
    assert len(set(waiting)) >= 2, f"the elapsed time never ticked: {sorted(set(waiting))}"
    for _, state, _ in redraws:
        words = [part.strip().lower() for part in state.split("·")]
        assert len(words) == len(set(words)), state
        assert "running · running" not in state.lower()
    return [state for _, state, _ in redraws]


def test_run_ticks_and_names_nodes_by_title(slow_env: dict[str, str], tmp_path: Path) -> None:
    screen = _run_on_a_terminal(runninghub_command("run", TEXT_TO_IMAGE), slow_env, tmp_path)
    states = _assert_ticks_without_repeats(screen)
    saved = json.loads((WORKFLOWS / f"{TEXT_TO_IMAGE}.json").read_text(encoding="utf-8"))
    titles = {node_id: node["_meta"]["title"] for node_id, node in saved.items()}
    parts = [part for state in states for part in state.split(" · ")]
    named = [m for m in map(_NAMED.fullmatch, parts) if m]
    assert named, states
    for match in named:
        assert match.group(1) == titles[match.group(2)]
    assert not any(re.fullmatch(r"node \d+", part) for part in parts)  # never a bare id


def test_wait_ticks_and_names_nodes_from_the_journal(
    make_emulator: Any, api_key: str, tmp_path: Path
) -> None:
    server = make_emulator(task_seconds=10)  # still running once `wait` has started up
    env = _env(server, api_key, tmp_path)
    submitted = subprocess.run(
        runninghub_command("run", TEXT_TO_IMAGE, "--no-wait", "--json"),
        env=subprocess_env(env), capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    task_id = json.loads(submitted.stdout)["task_id"]
    screen = _run_on_a_terminal(runninghub_command("wait", task_id), env, tmp_path)
    states = _assert_ticks_without_repeats(screen)
    assert {redraw[0] for redraw in _redraws(screen)} == {task_id}
    assert any(" (node " in state for state in states), states  # titles: the journal knew


def test_app_run_ticks(slow_env: dict[str, str], tmp_path: Path) -> None:
    args = runninghub_command("app", "run", APP)
    _assert_ticks_without_repeats(_run_on_a_terminal(args, slow_env, tmp_path))
