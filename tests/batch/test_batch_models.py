"""``batch run --model`` and ``batch run --preset``: rows of model parameters or of a preset's
open parameters, with the ledger's guarantees, against emulators over loopback."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from runninghub.emulator import EmulatorServer
from tests.batch.batch_helpers import TEXT, make_images, row_states
from tests.cli.cli_harness import ISOLATED, Invoker
from tests.conftest import API_KEY

TTS = "kling-lip-sync/tts"  # a text answer echoing `text`; 0.035 CNY a call, fixed
EDIT = "rhart-image-n-pro/edit"  # imageUrls (a list), prompt, resolution
APP = "1877265245566922753"  # an AI app of the emulator with one image input


@pytest.fixture
def shared(make_emulator: Callable[..., EmulatorServer]) -> EmulatorServer:
    return make_emulator(key_type="SHARED", queue_seconds=0, task_seconds=0.1)


@pytest.fixture
def rh(tmp_path: Path, shared: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Invoker:
    monkeypatch.chdir(tmp_path)
    env: dict[str, str | None] = dict.fromkeys(ISOLATED)
    env.update(
        RUNNINGHUB_API_KEY=API_KEY,
        RUNNINGHUB_BASE_URL=shared.base_url,
        RUNNINGHUB_CONFIG_DIR=str(tmp_path / "config"),
        RUNNINGHUB_DATA_DIR=str(tmp_path / "data"),
    )
    return Invoker(env=env, secrets=(API_KEY,))


def _lines(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text(
        "".join(json.dumps({"text": t, "voiceLanguage": lang}) + "\n" for t, lang in rows),
        encoding="utf-8",
    )
    return path


def _said(out: Path) -> dict[int, str]:
    """What each row's saved answer says, by row (from the manifest)."""
    said = {}
    for line in (out / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        [path] = entry["outputs"]
        said[entry["row"]] = Path(path).read_text(encoding="utf-8")
    return said


def test_a_model_batch_runs_every_row_and_saves_its_outputs(
    rh: Invoker, tmp_path: Path, shared: EmulatorServer
) -> None:
    inputs = _lines(tmp_path / "lines.jsonl", [("one", "en"), ("two", "zh"), ("three", "en")])

    ran = rh(
        "batch", "run", "--model", TTS, "--inputs", str(inputs), "--set", "voiceId=genshin_vindi2",
        "--out", "said", "--json",
    )  # fmt: skip

    assert ran.exit_code == 0, ran.output
    report = json.loads(ran.stdout)
    assert report["complete"] and report["counts"]["succeeded"] == 3
    said = _said(tmp_path / "said")
    assert said == {n: f"[{TTS}, emulated] {t}" for n, t in [(1, "one"), (2, "two"), (3, "three")]}
    status = rh("batch", "status", "--ledger", "said/batch.sqlite", "--json")
    assert json.loads(status.stdout)["kind"] == "model"
    again = rh("batch", "resume", "--ledger", "said/batch.sqlite", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["tasks_submitted"] == 0
    assert shared.stats()["tasks_created"] == 3  # the resume paid for nothing


def test_the_journal_labels_each_model_task_with_its_batch(rh: Invoker, tmp_path: Path) -> None:
    inputs = _lines(tmp_path / "lines.jsonl", [("one", "en")])
    ran = rh(
        "batch", "run", "--model", TTS, "--inputs", str(inputs), "--set", "voiceId=genshin_vindi2",
        "--out", "said",
    )  # fmt: skip
    assert ran.exit_code == 0, ran.output
    manifest = (tmp_path / "said/manifest.jsonl").read_text(encoding="utf-8")
    [entry] = [json.loads(line) for line in manifest.splitlines()]

    shown = rh("history", "show", entry["task_id"])

    assert shown.exit_code == 0, shown.output
    assert f"batch: {tmp_path / 'said' / 'batch.sqlite'} row 1" in shown.stdout
    assert TTS in shown.stdout


Case = tuple[list[tuple[str, str]], tuple[str, ...], str]  # rows, more options, the message


@pytest.mark.parametrize(
    "case",
    [
        ([("one", "en"), ("two", "fr")], (), "row 2: voiceLanguage must be one of: zh, en"),
        ([("one", "en")], ("--set", "voiceSpeed=fast"), "voiceSpeed must be a number"),
        ([("one", "en")], ("--set", "voiceIdd=x"), "did you mean voiceId"),
    ],
)
def test_a_bad_row_is_refused_before_the_first_submit(
    rh: Invoker, tmp_path: Path, shared: EmulatorServer, case: Case
) -> None:
    rows, extra, message = case
    inputs = _lines(tmp_path / "lines.jsonl", rows)

    ran = rh(
        "batch", "run", "--model", TTS, "--inputs", str(inputs), "--set", "voiceId=genshin_vindi2",
        *extra, "--out", "said",
    )  # fmt: skip

    assert ran.exit_code == 2, ran.output
    assert message in ran.stderr and "Traceback" not in ran.output
    assert shared.stats()["tasks_created"] == 0
    assert not (tmp_path / "said").exists()


def test_max_coins_counts_the_list_price_of_the_rows_in_flight(
    rh: Invoker, tmp_path: Path, shared: EmulatorServer
) -> None:
    inputs = _lines(tmp_path / "lines.jsonl", [(f"line {n}", "en") for n in range(5)])

    ran = rh(
        "batch", "run", "--model", TTS, "--inputs", str(inputs), "--set", "voiceId=genshin_vindi2",
        "--concurrency", "5", "--max-coins", "0.1", "--out", "said", "--json",
    )  # fmt: skip

    # 0.035 a call: a third task would pass 0.1, even while the first two still run. Rows
    # left pending by a limit exit 4 (how to go on is on stderr).
    assert ran.exit_code == 4, ran.output
    report = json.loads(ran.stdout)
    assert report["counts"]["succeeded"] == 2 and "--max-coins 0.1" in report["stopped"]
    assert shared.stats()["tasks_created"] == 2
    assert sorted(row_states(tmp_path / "said/batch.sqlite").values()).count("pending") == 3


def test_a_folder_of_images_goes_to_the_models_one_media_parameter(
    rh: Invoker, tmp_path: Path, shared: EmulatorServer
) -> None:
    make_images(tmp_path / "photos", 2)

    ran = rh(
        "batch", "run", "--model", EDIT, "--inputs", "photos", "--set", "prompt=as a painting",
        "--set", "resolution=1k", "--out", "painted", "--json",
    )  # fmt: skip

    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.stdout)["counts"]["succeeded"] == 2
    assert shared.stats()["uploads"] == 2
    pictures = sorted((tmp_path / "painted").glob("*.png"))
    assert len(pictures) == 2
    for picture in pictures:
        with Image.open(picture) as opened:
            assert opened.width > 0


def test_a_batch_over_a_model_preset_maps_columns_by_parameter_name(
    rh: Invoker, tmp_path: Path, shared: EmulatorServer
) -> None:
    added = rh(
        "preset", "add", "voice", "--model", TTS, "--set", "voiceId=genshin_vindi2",
        "--set", "voiceLanguage=en", "--expose", "text=line",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    (tmp_path / "lines.csv").write_text("line\nfirst\nsecond\n", encoding="utf-8")

    ran = rh("batch", "run", "--preset", "voice", "--inputs", "lines.csv", "--out", "said")

    assert ran.exit_code == 0, ran.output
    said = _said(tmp_path / "said")
    assert said == {1: f"[{TTS}, emulated] first", 2: f"[{TTS}, emulated] second"}


def test_a_batch_over_a_workflow_preset_overrides_its_settings_per_row(
    rh: Invoker, tmp_path: Path, emulator: EmulatorServer
) -> None:
    env = {"RUNNINGHUB_BASE_URL": emulator.base_url}
    added = rh(
        "preset", "add", "fox", "--workflow", TEXT, "--set", "KSampler.steps=3",
        "--expose", "6.text=prompt", env=env,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    (tmp_path / "rows.csv").write_text("prompt,3.steps\na fox,\nan owl,5\n", encoding="utf-8")

    ran = rh("batch", "run", "--preset", "fox", "--inputs", "rows.csv", "--out", "o", env=env)
    missing = rh("batch", "run", "--preset", "fox", "--inputs", "photos", env=env)

    assert ran.exit_code == 0, ran.output
    graphs = {}
    for picture in sorted((tmp_path / "o").glob("*.png")):
        with Image.open(picture) as opened:
            graph = json.loads(opened.text["prompt"])
        graphs[graph["6"]["inputs"]["text"]] = graph["3"]["inputs"]["steps"]
    # A cell replaces the preset's setting for its row; an empty one keeps the setting.
    assert graphs == {"a fox": 3, "an owl": 5}
    assert missing.exit_code == 2


def test_a_folder_batch_over_an_app_preset_fills_its_media_parameter(
    rh: Invoker, tmp_path: Path, emulator: EmulatorServer
) -> None:
    env = {"RUNNINGHUB_BASE_URL": emulator.base_url}
    fields = json.loads(rh("app", "inputs", APP, "--json", env=env).stdout)["fields"]
    image = next(f["address"] for f in fields if f["type"] == "media")
    added = rh("preset", "add", "neon", "--app", APP, "--expose", f"{image}=image", env=env)
    assert added.exit_code == 0, added.output
    (tmp_path / "photos").mkdir()
    for n, shade in enumerate((40, 200)):  # big enough for the app's encoder
        Image.new("RGB", (64, 64), (shade, 80, 120)).save(tmp_path / "photos" / f"{n}.png")

    ran = rh("batch", "run", "--preset", "neon", "--inputs", "photos", "--out", "o", "--json",
             env=env)  # fmt: skip

    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.stdout)["counts"]["succeeded"] == 2
    assert emulator.stats()["uploads"] == 2
    status = json.loads(rh("batch", "status", "--ledger", "o/batch.sqlite", "--json").stdout)
    assert status["kind"] == "app" and status["workflow_id"] == APP
