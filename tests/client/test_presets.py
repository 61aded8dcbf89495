"""``presets()`` and ``run_preset`` on both faces, against the emulator, with the presets file
in a temporary config directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from runninghub import ConfigError, InvalidRequestError
from runninghub._support import build_preset, save_presets

TEXT_TO_IMAGE = "1904136902449209346"


@pytest.fixture
def presets_file(tmp_path: Path, client: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "team-presets.toml"
    graph = client.workflow_graph(TEXT_TO_IMAGE)
    made = build_preset(
        "fox", "workflow", TEXT_TO_IMAGE, graph,
        settings={"KSampler.steps": "2"}, exposed={"6.text": "prompt", "KSampler.seed": "seed"},
    )  # fmt: skip
    save_presets({"fox": made}, path)
    monkeypatch.setenv("RUNNINGHUB_PRESETS", str(path))
    return path


def test_presets_lists_what_was_saved(client: Any, presets_file: Path) -> None:
    [fox] = client.presets()

    assert fox.name == "fox" and fox.target == TEXT_TO_IMAGE
    assert [(p.name, p.kind) for p in fox.params] == [("prompt", "string"), ("seed", "int")]


def test_run_preset_fills_the_parameters(client: Any, presets_file: Path, tmp_path: Path) -> None:
    task = client.run_preset("fox", prompt="an otter", seed="11", out_dir=tmp_path / "out")

    assert task.status.value == "SUCCESS"
    [picture] = (tmp_path / "out").iterdir()
    prompt = json.loads(Image.open(picture).text["prompt"])
    assert prompt["6"]["inputs"]["text"] == "an otter"
    assert prompt["3"]["inputs"]["seed"] == 11 and prompt["3"]["inputs"]["steps"] == 2


def test_bad_parameters_are_refused_before_any_submit(
    client: Any, presets_file: Path, emulator: Any
) -> None:
    with pytest.raises(InvalidRequestError, match="no parameter 'promt'") as typo:
        client.run_preset("fox", promt="x")
    with pytest.raises(InvalidRequestError, match=r"3\.seed expects"):
        client.run_preset("fox", seed="many")
    with pytest.raises(InvalidRequestError, match="no preset named 'fax'") as unknown:
        client.run_preset("fax")

    assert typo.value.hint == "did you mean prompt?"
    assert unknown.value.hint == "did you mean fox?"
    assert emulator.stats()["tasks_created"] == 0


def test_a_broken_presets_file_is_one_config_error(client: Any, presets_file: Path) -> None:
    presets_file.write_text("[presets.fox\n", encoding="utf-8")

    with pytest.raises(ConfigError, match="not valid TOML") as broken:
        client.presets()

    assert "\n" not in str(broken.value)
