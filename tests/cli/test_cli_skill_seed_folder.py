"""The seed's documented commands, run as real processes from an installed seed-compatible
folder (``python3 scripts/runninghub_client.py ...``) against the emulator.

What they print is the seed's: ``--action submit`` and ``query`` the API's JSON answer,
``--action wait`` progress lines then the final task object as JSON, ``run-with-image`` the
output URLs (human lines on stderr); ``--node-id`` defaults to 107, ``--field-name`` to image.
"""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageChops, ImageOps

from runninghub.emulator.catalog import SAMPLE_IMAGE
from tests.cli.cli_harness import Invoker, subprocess_env

INVERT = "1987728214757978114"
TEXT_TO_IMAGE = "1904136902449209346"
VENV_BIN = str(Path(sys.executable).parent)
NO_RUNNINGHUB = "/nonexistent-bin"  # a PATH on which no runninghub can be found


class SeedFolder:
    """An installed folder and a way to run the seed's script in it."""

    def __init__(self, path: Path, env: dict[str, str], key: str) -> None:
        self.path = path
        self.env = env
        self.key = key

    def run(self, *args: str, path: str = NO_RUNNINGHUB) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "scripts/runninghub_client.py", *args]
        env = subprocess_env({**self.env, "PATH": path})
        done = subprocess.run(
            command, check=False, cwd=self.path, env=env, capture_output=True, text=True, timeout=60
        )
        for text in (done.stdout, done.stderr):
            assert self.key.lower() not in text.lower(), f"the key leaked from {args}"
        return done


@pytest.fixture
def seed(rh: Invoker, tmp_path: Path, config_dir: Path, emulator: Any, api_key: str) -> SeedFolder:
    """The seed's folder (with its config.json) replaced by ``runninghub skill install``."""
    home = tmp_path / "home"
    folder = home / ".openclaw" / "skills" / "runninghub-comfyui"
    (folder / "scripts").mkdir(parents=True)
    (folder / "scripts" / "runninghub_client.py").write_text("print('the seed')\n")
    (folder / "config.json").write_text(json.dumps({"api_key": api_key}))
    installed = rh("skill", "install", env={"HOME": str(home), "OPENCLAW_STATE_DIR": None})
    assert installed.exit_code == 0, installed.output
    env = {
        "HOME": str(home),
        "RUNNINGHUB_CONFIG_DIR": str(config_dir),
        "RUNNINGHUB_BASE_URL": emulator.base_url,
    }
    return SeedFolder(folder, env, api_key)


def _trailing_json(stdout: str) -> Any:
    """The JSON document that ends ``stdout``, after any plain progress lines."""
    assert stdout.startswith("{") or "\n{" in stdout, f"no JSON document in {stdout!r}"
    start = 0 if stdout.startswith("{") else stdout.index("\n{") + 1
    document, end = json.JSONDecoder().raw_decode(stdout, start)
    assert stdout[end:].strip() == "", stdout
    return document


def _inverted(url: str, where: Path) -> bool:
    picture = where / "out.png"
    picture.write_bytes(httpx.get(url, trust_env=False).content)
    expected = ImageOps.invert(Image.open(SAMPLE_IMAGE).convert("RGB"))
    return ImageChops.difference(Image.open(picture).convert("RGB"), expected).getbbox() is None


@pytest.mark.parametrize(
    ("path", "usage"),
    [
        (f"{VENV_BIN}:/usr/bin:/bin", "Usage: runninghub "),
        (NO_RUNNINGHUB, "Usage: python -m runninghub "),
    ],
)
def test_the_script_reaches_runninghub_on_path_or_through_its_python(
    seed: SeedFolder, path: str, usage: str
) -> None:
    done = seed.run("--help", path=path)

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(usage)
    assert "--workflow-id ID" in done.stdout


def test_save_key_stores_the_key_privately_for_the_next_commands(
    seed: SeedFolder, config_dir: Path, emulator: Any
) -> None:
    other = "fedcba9876543210fedcba9876543210"
    seed.key = other  # the one that must not show now

    saved = seed.run("--save-key", other)
    submitted = seed.run("--workflow-id", INVERT, "--action", "submit")

    assert saved.returncode == 0, saved.stderr
    assert json.loads((config_dir / "config.json").read_text())["api_key"] == other
    assert stat.S_IMODE((config_dir / "config.json").stat().st_mode) == 0o600
    assert submitted.returncode == 0, submitted.stderr
    assert emulator.stats()["tasks_created"] == 1


def test_submit_prints_the_api_answer_as_json(seed: SeedFolder, emulator: Any) -> None:
    done = seed.run("--workflow-id", TEXT_TO_IMAGE, "--action", "submit")

    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["taskId"].isdigit()
    assert not answer["errorCode"]
    assert emulator.stats()["tasks_created"] == 1


def test_query_prints_the_api_answer_as_json(seed: SeedFolder, raw_api: Any) -> None:
    task_id = raw_api.run_workflow(TEXT_TO_IMAGE)["taskId"]
    finished = raw_api.wait(task_id)

    done = seed.run("--action", "query", "--task-id", task_id)

    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["taskId"] == task_id
    assert answer["status"] == "SUCCESS"
    assert answer["results"][0]["url"] == finished["results"][0]["url"]


def test_wait_prints_progress_then_the_final_task_as_json(seed: SeedFolder, raw_api: Any) -> None:
    task_id = raw_api.run_workflow(TEXT_TO_IMAGE)["taskId"]

    done = seed.run(
        "--action", "wait", "--task-id", task_id, "--poll-interval", "0.2", "--max-attempts", "50"
    )

    assert done.returncode == 0, done.stderr
    final = _trailing_json(done.stdout)
    assert final["taskId"] == task_id
    assert final["status"] == "SUCCESS"
    assert final["results"][0]["url"].endswith(".png")


def test_run_with_image_prints_the_output_urls(
    seed: SeedFolder, emulator: Any, tmp_path: Path
) -> None:
    shutil.copy(SAMPLE_IMAGE, seed.path / "photo.png")

    done = seed.run(
        "--workflow-id", INVERT, "--action", "run-with-image", "--image", "photo.png",
        "--node-id", "107", "--field-name", "image",
        path=f"{VENV_BIN}:/usr/bin:/bin",
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    [url] = done.stdout.splitlines()
    assert url.startswith(emulator.base_url)
    assert _inverted(url, tmp_path)
    assert done.stderr.strip()  # the human lines go to stderr
    assert emulator.stats()["uploads"] == 1


def test_run_with_image_defaults_to_node_107_and_field_image(
    seed: SeedFolder, emulator: Any, tmp_path: Path
) -> None:
    shutil.copy(SAMPLE_IMAGE, seed.path / "photo.png")

    done = seed.run("--workflow-id", INVERT, "--action", "run-with-image", "--image", "photo.png")

    assert done.returncode == 0, done.stderr
    [url] = done.stdout.splitlines()
    assert _inverted(url, tmp_path)


def test_errors_and_exit_codes_pass_through(seed: SeedFolder) -> None:
    unknown = seed.run("--action", "query", "--task-id", "1999999999999999999")
    missing = seed.run(
        "--workflow-id", INVERT, "--action", "run-with-image", "--image", "nope.png",
        "--node-id", "107",
    )  # fmt: skip

    assert unknown.returncode == 4
    assert unknown.stderr.startswith("error: ")
    assert "Traceback" not in unknown.stderr
    assert missing.returncode == 2
    assert "no such file: nope.png" in missing.stderr


def test_without_runninghub_the_script_says_how_to_install_it(
    rh: Invoker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    python = sys.executable
    monkeypatch.setattr(sys, "executable", str(tmp_path / "gone" / "python3"))
    installed = rh("skill", "install", "--dir", str(tmp_path / "skills"), "--seed-compatible")
    assert installed.exit_code == 0, installed.output
    folder = tmp_path / "skills" / "runninghub"

    done = subprocess.run(
        [python, "scripts/runninghub_client.py", "--version"],
        check=False,
        cwd=folder,
        env=subprocess_env({"PATH": NO_RUNNINGHUB}),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 3
    assert done.stderr == (
        "error: the runninghub command is not installed "
        "(uv tool install runninghub, or pip install runninghub)\n"
    )
