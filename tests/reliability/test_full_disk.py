"""A full disk after a paid task: the answer still names the task and how to fetch its
outputs later. The disk is a real, small tmpfs (the tests run as root)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from runninghub.emulator import EmulatorServer
from tests.cli.cli_harness import ISOLATED, Invoker
from tests.tmpfs import CannotMount, mounted_tmpfs

KEY = "0123456789abcdef0123456789abcdef"
INVERT = "1987728214757978114"  # LoadImage 107 -> ImageInvert -> SaveImage


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KB tmpfs: far smaller than the inverted noise picture the task outputs."""
    try:
        with mounted_tmpfs(tmp_path / "small-disk", "64k") as mount:
            yield mount
    except CannotMount as exc:
        pytest.fail(f"cannot mount a tmpfs here ({exc}): the test needs root")


def noise_png(path: Path) -> Path:
    Image.frombytes("RGB", (256, 256), os.urandom(256 * 256 * 3)).save(path)
    return path


@pytest.mark.parametrize("json_mode", [True, False])
def test_a_full_disk_after_a_paid_task_still_names_the_task(
    emulator: EmulatorServer, full_disk: Path, tmp_path: Path, json_mode: bool
) -> None:
    env: dict[str, str | None] = dict.fromkeys(ISOLATED)
    env.update(RUNNINGHUB_BASE_URL=emulator.base_url, RUNNINGHUB_API_KEY=KEY)
    env["RUNNINGHUB_CONFIG_DIR"] = str(tmp_path / "config")
    picture = noise_png(tmp_path / "noise.png")
    args = ["--json"] if json_mode else []
    result = Invoker(env=env, secrets=(KEY,))(
        *args, "run", INVERT, "--file", f"107.image={picture}", "--out", str(full_disk)
    )
    assert result.exit_code == 4, result.output
    assert "Traceback" not in result.output
    assert emulator.stats()["tasks_created"] == 1
    if json_mode:
        error = json.loads(result.stdout)["error"]
        assert error["task_id"] and error["task_id"].isdigit()
        assert "No space left" in error["message"]
        assert f"runninghub outputs {error['task_id']}" in error["hint"]
    else:
        assert "No space left" in result.stderr
        assert "hint: fetch them later with: runninghub outputs " in result.stderr
    assert not [p for p in full_disk.iterdir() if p.name.endswith(".part")]
