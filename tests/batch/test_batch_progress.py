"""What a real ``runninghub batch run`` shows while it runs: on a terminal a line redrawn at
least every second, with a live ETA and never more running than the concurrency; in a pipe one
line per finished row; and a summary that names the failed rows and why."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from runninghub.emulator.catalog import SAMPLE_IMAGE
from tests.batch.batch_helpers import API_KEY, INVERT, make_images
from tests.cli.cli_harness import runninghub_command, subprocess_env
from tests.cli.test_cli_output import _run_on_a_terminal

FAILING = "1900000000000000805"  # node 276 SONIC_PreData fails on every input
_REDRAW = re.compile(
    r"(\d+)/(\d+) done  (\d+) running(?:  \d+ saving)?  (\d+) queued  (\d+) failed"
    r"  \S+  eta (\S+)  (\d+)s"
)


def _env(server: Any, tmp_path: Path) -> dict[str, str]:
    return {
        "RUNNINGHUB_API_KEY": API_KEY,
        "RUNNINGHUB_BASE_URL": server.base_url,
        "RUNNINGHUB_CONFIG_DIR": str(tmp_path / "config"),
        "NO_COLOR": "1",
    }


def test_the_live_line_ticks_keeps_within_the_limit_and_estimates(
    make_emulator: Any, tmp_path: Path
) -> None:
    server = make_emulator(task_seconds=1.5, concurrency=4)
    make_images(tmp_path / "photos", 6)
    args = runninghub_command(
        "batch", "run", INVERT, "--inputs", "photos", "--concurrency", "2", "--out", "out"
    )
    screen = _run_on_a_terminal(args, _env(server, tmp_path), tmp_path)
    redraws = [match.groups() for match in _REDRAW.finditer(screen)]
    assert redraws, screen[-2000:]
    assert max(int(running) for _, _, running, *_ in redraws) == 2  # the limit, never more
    seconds = sorted({int(redraw[-1]) for redraw in redraws})
    assert seconds[-1] >= 3, seconds  # 6 rows of 1.5 s, 2 at a time
    assert seconds == list(range(seconds[0], seconds[-1] + 1))  # every second was shown
    estimates = [redraw[5] for redraw in redraws if redraw[0] != redraw[1]]
    assert "-" in estimates[:1]  # no estimate before a row has finished
    assert len({eta for eta in estimates if eta != "-"}) >= 2  # then one that moves
    assert server.stats()["max_running"] <= 2


def _batch_in_a_pipe(server: Any, workflow: str, tmp_path: Path) -> Any:
    """``batch run WORKFLOW --inputs photos`` to its end, stdout and stderr captured."""
    return subprocess.run(
        runninghub_command("batch", "run", workflow, "--inputs", "photos", "--out", "out"),
        env=subprocess_env(_env(server, tmp_path)), cwd=tmp_path,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_in_a_pipe_each_finished_row_prints_a_line(make_emulator: Any, tmp_path: Path) -> None:
    server = make_emulator(task_seconds=0.2)
    make_images(tmp_path / "photos", 3)
    done = _batch_in_a_pipe(server, INVERT, tmp_path)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("row ")]
    assert sorted(line.split(":")[0] for line in lines) == ["row 1", "row 2", "row 3"]
    assert all(re.fullmatch(r"row \d: succeeded, task \d{15,}, 1 file\(s\)", ln) for ln in lines)
    assert "\r" not in done.stderr and "\x1b" not in done.stderr  # no live line in a log


def test_the_summary_names_the_failed_rows_and_why(make_emulator: Any, tmp_path: Path) -> None:
    server = make_emulator(task_seconds=0.2)
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a.png", "b.png"):
        shutil.copy(SAMPLE_IMAGE, photos / name)
    done = _batch_in_a_pipe(server, FAILING, tmp_path)
    assert done.returncode == 1, done.stderr
    named = [line for line in done.stdout.splitlines() if line.startswith("row ")]
    assert [line.split(":")[0] for line in named] == ["row 1 failed", "row 2 failed"]
    assert all("failed at node 276 (SONIC_PreData)" in line for line in named)
    per_row = [line for line in done.stderr.splitlines() if line.startswith("row ")]
    assert len(per_row) == 2 and all(line.count("task ") == 1 for line in per_row)
