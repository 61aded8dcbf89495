"""``runninghub preset``: add (checked against the graph), list, show, run, remove, export and
import, against the emulator, with the presets file in an isolated config directory."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from PIL import Image

from runninghub.emulator.catalog import SAMPLE_IMAGE
from tests.cli.cli_harness import Invoker

TEXT_TO_IMAGE = "1904136902449209346"
APP = "1877265245566922753"


def _fox(live: Invoker, *extra: str) -> Any:
    return live(
        "preset", "add", "fox", "--workflow", TEXT_TO_IMAGE,
        "--set", "KSampler.steps=3", "--expose", "6.text=prompt", "--expose", "KSampler.seed=seed",
        "--description", "A picture of a fox", *extra,
    )  # fmt: skip


def test_add_stores_toml_in_the_config_dir_and_show_lists_typed_parameters(
    live: Invoker, config_dir: Path, workdir: Path
) -> None:
    added = _fox(live, "--json")

    assert added.exit_code == 0, added.output
    stored = tomllib.loads((config_dir / "presets.toml").read_text(encoding="utf-8"))
    fox = stored["presets"]["fox"]
    assert fox["kind"] == "workflow" and fox["target"] == TEXT_TO_IMAGE
    assert fox["settings"] == {"3.steps": 3}
    assert fox["params"]["seed"]["address"] == "3.seed"
    assert fox["params"]["seed"]["type"] == "int"
    assert fox["params"]["prompt"]["type"] == "string"
    assert not list(workdir.iterdir())  # nothing written in the current directory

    shown = live("preset", "show", "fox", "--json")
    assert json.loads(shown.stdout)["params"] == fox["params"]
    listed = live("preset", "list")
    assert "fox" in listed.stdout and "--prompt --seed" in listed.stdout


def test_run_fills_the_parameters_and_keeps_the_settings(live: Invoker, tmp_path: Path) -> None:
    assert _fox(live).exit_code == 0
    out = tmp_path / "out"

    ran = live("preset", "run", "fox", "--prompt", "a red fox", "--seed=7", "--out", str(out))

    assert ran.exit_code == 0, ran.output
    [line] = ran.stdout.splitlines()
    prompt = json.loads(Image.open(line).text["prompt"])
    assert prompt["6"]["inputs"]["text"] == "a red fox"
    assert prompt["3"]["inputs"]["seed"] == 7
    assert prompt["3"]["inputs"]["steps"] == 3


def test_run_with_set_and_json_and_no_wait(live: Invoker) -> None:
    assert _fox(live).exit_code == 0

    ran = live("preset", "run", "fox", "--set", "prompt=a cat", "--no-wait", "--json")

    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.stdout)["task_id"]


def test_a_typo_in_an_address_or_a_bad_name_is_refused_with_suggestions(
    live: Invoker, config_dir: Path
) -> None:
    typo = live("preset", "add", "fox", "--workflow", TEXT_TO_IMAGE, "--expose", "KSampler.sed=s")
    reserved = live(
        "preset", "add", "fox", "--workflow", TEXT_TO_IMAGE, "--expose", "6.text=timeout"
    )
    bad_name = live("preset", "add", "Fox!", "--workflow", TEXT_TO_IMAGE)

    assert typo.exit_code == 2 and "seed" in typo.stderr
    assert reserved.exit_code == 2 and "run_preset" in reserved.stderr
    assert bad_name.exit_code == 2 and "preset name" in bad_name.stderr
    assert not (config_dir / "presets.toml").exists()


def test_a_bad_parameter_or_value_is_refused_before_any_submit(
    live: Invoker, emulator: Any
) -> None:
    assert _fox(live).exit_code == 0

    unknown = live("preset", "run", "fox", "--promt", "x")
    bad_value = live("preset", "run", "fox", "--seed", "many")

    assert unknown.exit_code == 2 and "did you mean prompt" in unknown.stderr
    assert bad_value.exit_code == 2 and "--seed" in bad_value.stderr
    assert emulator.stats()["tasks_created"] == 0


def test_a_required_parameter_must_be_given(live: Invoker, emulator: Any) -> None:
    fields = json.loads(live("app", "inputs", APP, "--json").stdout)["fields"]
    image = next(f["address"] for f in fields if f["type"] == "media")
    assert live("preset", "add", "neon", "--app", APP, "--expose", f"{image}=image").exit_code == 0

    ran = live("preset", "run", "neon", "--image", str(SAMPLE_IMAGE), "--json")

    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.stdout)["status"] == "SUCCESS"


def test_export_and_import_round_trip_through_another_presets_file(
    live: Invoker, tmp_path: Path
) -> None:
    assert _fox(live).exit_code == 0
    exported = live("preset", "export", "fox")
    shared = tmp_path / "fox.toml"
    shared.write_text(exported.stdout, encoding="utf-8")
    team = tmp_path / "team-presets.toml"

    imported = live("preset", "--presets", str(team), "import", str(shared))
    again = live("preset", "--presets", str(team), "import", str(shared))

    assert imported.exit_code == 0, imported.output
    assert again.exit_code == 2 and "--force" in again.stderr
    theirs = live("preset", "--presets", str(team), "show", "fox", "--json")
    mine = live("preset", "show", "fox", "--json")
    assert json.loads(theirs.stdout) == json.loads(mine.stdout)


def test_remove_and_one_target_only(live: Invoker) -> None:
    assert _fox(live).exit_code == 0

    removed = live("preset", "remove", "fox")
    missing = live("preset", "show", "fox")
    both = live("preset", "add", "m", "--model", "kling-lip-sync/tts", "--app", "1")

    assert removed.exit_code == 0
    assert missing.exit_code == 2 and "no preset named 'fox'" in missing.stderr
    assert both.exit_code == 2 and "exactly one of --workflow ID" in both.stderr


def test_a_hand_edited_broken_file_gives_one_clear_line(live: Invoker, config_dir: Path) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "presets.toml").write_text('[presets.fox]\nkind = "workflow\n', encoding="utf-8")

    broken = live("preset", "list")

    assert broken.exit_code == 3
    assert "not valid TOML" in broken.stderr
    assert "Traceback" not in broken.output
    (config_dir / "presets.toml").write_text('[presets.fox]\nkind = "model"\n', encoding="utf-8")
    wrong = live("preset", "run", "fox")
    assert wrong.exit_code == 3 and "preset 'fox'" in wrong.stderr


def test_run_sends_the_personal_queue_option(rh: Invoker, make_emulator: Any, api_key: str) -> None:
    # One slot, held by the first run: only a submit that asks for the personal queue is
    # accepted (queued) rather than refused as queue-full.
    server = make_emulator(
        key_type="EXCLUSIVE", concurrency=1, personal_queue_limit=1, task_seconds=30
    )
    env = {"RUNNINGHUB_API_KEY": api_key, "RUNNINGHUB_BASE_URL": server.base_url}
    live = Invoker(env={**rh.env, **env}, secrets=rh.secrets)
    assert _fox(live).exit_code == 0
    first = live("preset", "run", "fox", "--prompt", "a fox", "--no-wait")
    queued = live(
        "preset", "run", "fox", "--prompt", "a fox", "--no-wait", "--json",
        "--personal-queue",
    )  # fmt: skip

    assert first.exit_code == 0 and queued.exit_code == 0, queued.output
    task = json.loads(queued.stdout)
    assert task["status"] == "QUEUED"
    assert server.stats()["tasks_created"] == 2
