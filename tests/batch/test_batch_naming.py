"""``--ignore``, the ``{stem}``/``{input}`` name fields, the manifest's input, and output
indexes counted from 1 as ``run`` counts them: real ``batch run`` commands on the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runninghub.emulator import EmulatorServer
from tests.batch.batch_helpers import API_KEY, INVERT, TEXT, is_inverted, make_images
from tests.cli.cli_harness import ISOLATED, Invoker


@pytest.fixture
def rh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator: EmulatorServer) -> Invoker:
    monkeypatch.chdir(tmp_path)
    env: dict[str, str | None] = dict.fromkeys(ISOLATED)
    env.update(
        RUNNINGHUB_API_KEY=API_KEY,
        RUNNINGHUB_CONFIG_DIR=str(tmp_path / "config"),
        RUNNINGHUB_BASE_URL=emulator.base_url,
    )
    return Invoker(env, secrets=(API_KEY,))


def _manifest(out: Path) -> list[dict[str, Any]]:
    lines = (out / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_ignored_columns_are_not_sent_and_stay_in_the_manifest(
    rh: Invoker, emulator: EmulatorServer, tmp_path: Path
) -> None:
    (tmp_path / "prompts.csv").write_text("id,note,6.text\nfox-1,keep,a fox\nowl-2,,an owl\n")
    result = rh("batch", "run", TEXT, "--inputs", "prompts.csv", "--ignore", "id",
                "--ignore", "note", "--out", "out", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert emulator.stats()["tasks_created"] == 2
    entries = _manifest(tmp_path / "out")
    assert [e["input"] for e in entries] == [
        {"id": "fox-1", "note": "keep", "6.text": "a fox"},
        {"id": "owl-2", "note": None, "6.text": "an owl"},
    ]
    assert [e["input_file"] for e in entries] == [None, None]


def test_an_unmapped_column_names_ignore_in_its_hint_and_a_wrong_ignore_is_refused(
    rh: Invoker, emulator: EmulatorServer, tmp_path: Path
) -> None:
    (tmp_path / "prompts.csv").write_text("id,6.text\n1,a fox\n")
    unmapped = rh("batch", "run", TEXT, "--inputs", "prompts.csv")
    assert unmapped.exit_code == 2
    assert "--ignore id" in unmapped.stderr
    typo = rh("batch", "run", TEXT, "--inputs", "prompts.csv", "--ignore", "idd")
    assert typo.exit_code == 2
    assert "--ignore names column(s) idd that the inputs do not have" in typo.stderr
    both = rh("batch", "run", TEXT, "--inputs", "prompts.csv", "--ignore", "id",
              "--map", "id=KSampler.seed")  # fmt: skip
    assert both.exit_code == 2 and "both --map and --ignore" in both.stderr
    assert "Traceback" not in unmapped.output + typo.output + both.output
    assert emulator.stats()["tasks_created"] == 0


def test_stem_and_input_name_the_outputs_after_the_files_of_a_directory(
    rh: Invoker, tmp_path: Path
) -> None:
    sources = make_images(tmp_path / "photos", 3)
    result = rh("batch", "run", INVERT, "--inputs", "photos", "--out", "out",
                "--name", "{stem}-inverted-{index}.{ext}")  # fmt: skip
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    assert sorted(p.name for p in out.glob("*.png")) == [
        "img000-inverted-1.png", "img001-inverted-1.png", "img002-inverted-1.png"
    ]  # fmt: skip
    for source in sources:
        assert is_inverted(out / f"{source.stem}-inverted-1.png", source)
    entries = _manifest(out)
    assert [e["input_file"] for e in entries] == ["img000.png", "img001.png", "img002.png"]
    assert entries[0]["input"] == {"file": str(sources[0].resolve())}

    named = rh("batch", "run", INVERT, "--inputs", "photos", "--out", "out2",
               "--name", "{input}.out{n}.{ext}")  # fmt: skip
    assert named.exit_code == 0, named.output
    assert (tmp_path / "out2" / "img001.png.out1.png").is_file()


def test_stem_names_the_outputs_after_the_file_a_csv_row_names(rh: Invoker, tmp_path: Path) -> None:
    make_images(tmp_path / "pics", 2)
    (tmp_path / "rows.csv").write_text("image,label\npics/img001.png,b\npics/img000.png,a\n")
    result = rh("batch", "run", INVERT, "--inputs", "rows.csv", "--map", "image=107.image",
                "--ignore", "label", "--out", "out",
                "--name", "{row}_{stem}_{index}.{ext}")  # fmt: skip
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "out").glob("*.png"))
    assert names == ["1_img001_1.png", "2_img000_1.png"]
    assert [e["input"]["label"] for e in _manifest(tmp_path / "out")] == ["b", "a"]


def test_a_stem_shared_by_two_files_is_refused_before_any_submit(
    rh: Invoker, emulator: EmulatorServer, tmp_path: Path
) -> None:
    photos = tmp_path / "photos"
    make_images(photos, 1)
    (photos / "img000.png").rename(photos / "same.png")
    make_images(tmp_path / "more", 2)
    (tmp_path / "more" / "img001.png").replace(photos / "same.jpg")
    result = rh("batch", "run", INVERT, "--inputs", "photos", "--name", "{stem}_{index}.{ext}")
    assert result.exit_code == 2, result.output
    assert "rows 1 and 2 would share the {stem} 'same'" in result.stderr
    assert "add {row}" in result.stderr
    assert emulator.stats()["tasks_created"] == 0
    # {input} keeps the extension, so the same files are told apart by it.
    apart = rh("batch", "run", INVERT, "--inputs", "photos", "--name", "{input}_{index}.{ext}")
    assert apart.exit_code == 0, apart.output


def test_output_indexes_count_from_1_as_run_does(rh: Invoker, tmp_path: Path) -> None:
    sources = make_images(tmp_path / "photos", 1)
    single = rh("run", INVERT, "--file", f"107.image={sources[0]}", "--out", "single", "--json")
    assert single.exit_code == 0, single.output
    [run_name] = [p.name for p in (tmp_path / "single").glob("*.png")]
    assert run_name.endswith("-109-1.png")  # `run` counts the outputs of a node from 1
    batch = rh("batch", "run", INVERT, "--inputs", "photos", "--out", "out")
    assert batch.exit_code == 0, batch.output
    assert [p.name for p in (tmp_path / "out").glob("*.png")] == ["00001_109_1.png"]
