"""``presets()`` and ``run_preset`` on both faces, against the emulator, with the presets file
in a temporary config directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from runninghub import ConfigError, InvalidRequestError
from runninghub._support import build_model_preset, build_preset, save_presets

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


@pytest.fixture
def voice_file(
    tmp_path: Path, make_client: Any, make_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Any, Any]:
    """A model preset, saved where ``RUNNINGHUB_PRESETS`` points, and a client whose key
    may run models."""
    shared = make_emulator(key_type="SHARED", queue_seconds=0, task_seconds=0.1)
    enterprise = make_client(shared)
    path = tmp_path / "models.toml"
    tts = enterprise.model("kling-lip-sync/tts")
    made = build_model_preset(
        "voice", tts, settings={"voiceId": "genshin_vindi2"},
        exposed={"text": "line", "voiceLanguage": "language"},
    )  # fmt: skip
    save_presets({"voice": made}, path)
    monkeypatch.setenv("RUNNINGHUB_PRESETS", str(path))
    return path, enterprise, shared


def test_run_preset_runs_a_model_preset(voice_file: tuple[Path, Any, Any], tmp_path: Path) -> None:
    _, enterprise, shared = voice_file

    task = enterprise.run_preset("voice", line="hello otter", language="en", out_dir=tmp_path / "o")

    assert task.status.value == "SUCCESS"
    [said] = (tmp_path / "o").iterdir()
    assert said.read_text(encoding="utf-8") == "[kling-lip-sync/tts, emulated] hello otter"
    assert shared.stats()["tasks_created"] == 1


def test_a_bad_model_preset_value_is_refused_before_any_submit(
    voice_file: tuple[Path, Any, Any],
) -> None:
    _, enterprise, shared = voice_file

    with pytest.raises(InvalidRequestError, match="voiceLanguage must be one of"):
        enterprise.run_preset("voice", line="hi", language="fr")
    with pytest.raises(InvalidRequestError, match="needs --language"):
        enterprise.run_preset("voice", line="hi")

    assert shared.stats()["tasks_created"] == 0
