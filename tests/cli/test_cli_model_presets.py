"""Model presets in the CLI: ``preset add --model`` checked against the catalogue, ``show`` and
``run`` with a typed option per parameter, against an emulator that serves models."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import av
import pytest
from PIL import Image

from runninghub.emulator import EmulatorServer
from tests.cli.cli_harness import Invoker

TTS = "kling-lip-sync/tts"
IMAGE_TO_VIDEO = "rhart-video-s/image-to-video"


def _voice(rh: Invoker, *extra: str) -> object:
    return rh(
        "preset", "add", "voice", "--model", TTS, "--set", "voiceId=genshin_vindi2",
        "--expose", "text=line", "--expose", "voiceLanguage=language",
        "--description", "A line read aloud", *extra,
    )  # fmt: skip


def test_add_stores_a_model_preset_typed_from_the_catalogue(
    enterprise: Invoker, config_dir: Path, shared: EmulatorServer
) -> None:
    added = _voice(enterprise, "--json")

    assert added.exit_code == 0, added.output  # type: ignore[attr-defined]
    stored = tomllib.loads((config_dir / "presets.toml").read_text(encoding="utf-8"))["presets"]
    voice = stored["voice"]
    assert voice["kind"] == "model" and voice["target"] == TTS
    assert voice["settings"] == {"voiceId": "genshin_vindi2"}
    assert voice["params"]["line"] == {
        "address": "text", "type": "string", "description": f"text (string) of {TTS}",
    }  # fmt: skip
    assert voice["params"]["language"]["choices"] == ["zh", "en"]
    shown = enterprise("preset", "show", "voice")
    assert "--language (list, required, one of zh, en) -> voiceLanguage" in shown.stdout
    assert shared.stats()["tasks_created"] == 0


def test_run_sends_the_settings_and_the_typed_parameters(
    enterprise: Invoker, workdir: Path, shared: EmulatorServer
) -> None:
    assert _voice(enterprise).exit_code == 0  # type: ignore[attr-defined]

    ran = enterprise(
        "preset", "run", "voice", "--line", "hello fox", "--language", "en", "--out", "said",
        "--json",
    )  # fmt: skip

    assert ran.exit_code == 0, ran.output
    document = json.loads(ran.stdout)
    assert document["status"] == "SUCCESS" and document["task_id"]
    text = Path(document["outputs"][0]["path"]).read_text(encoding="utf-8")
    assert text == f"[{TTS}, emulated] hello fox"
    assert shared.stats()["tasks_created"] == 1


def test_a_media_parameter_takes_a_local_path_that_is_uploaded(
    enterprise: Invoker, workdir: Path, shared: EmulatorServer
) -> None:
    Image.new("RGB", (64, 48), (0, 160, 0)).save(workdir / "cat.png")
    added = enterprise(
        "preset", "add", "clip", "--model", IMAGE_TO_VIDEO, "--set", "duration=10",
        "--set", "aspectRatio=16:9", "--set", "prompt=the cat runs", "--expose", "imageUrl=photo",
    )  # fmt: skip
    assert added.exit_code == 0, added.output

    ran = enterprise("preset", "run", "clip", "--photo", "cat.png", "--out", "video", "--json")

    assert ran.exit_code == 0, ran.output
    with av.open(json.loads(ran.stdout)["outputs"][0]["path"]) as container:
        assert len(list(container.decode(video=0))) >= 8
    assert shared.stats()["uploads"] == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--expose", "txt=line"), "did you mean text?"),
        (("--set", "voiceLanguage=fr", "--expose", "text=line"), "voiceLanguage must be one of"),
        (("--expose", "text=line"), "needs voiceLanguage: neither set nor exposed"),
        (("--set", "voiceSpeed=fast", "--expose", "text=line"), "must be a number"),
    ],
)
def test_a_bad_model_preset_is_refused_and_nothing_is_stored(
    enterprise: Invoker, config_dir: Path, extra: tuple[str, ...], message: str
) -> None:
    added = enterprise(
        "preset", "add", "voice", "--model", TTS, "--set", "voiceId=genshin_vindi2", *extra
    )

    assert added.exit_code == 2, added.output
    assert message in added.stderr and "Traceback" not in added.output
    assert not (config_dir / "presets.toml").exists()


def test_a_bad_value_or_unknown_endpoint_is_refused_before_any_submit(
    enterprise: Invoker, shared: EmulatorServer
) -> None:
    assert _voice(enterprise).exit_code == 0  # type: ignore[attr-defined]

    wrong = enterprise("preset", "run", "voice", "--line", "hi", "--language", "fr")
    missing = enterprise("preset", "run", "voice", "--line", "hi")
    unknown = enterprise("preset", "add", "x", "--model", "kling-lip-sync/tss")

    assert wrong.exit_code == 2 and "'fr' is not one of 'zh', 'en'" in wrong.stderr
    assert missing.exit_code == 2 and "needs --language" in missing.stderr
    assert unknown.exit_code == 2 and TTS in unknown.stderr
    assert shared.stats()["tasks_created"] == 0
