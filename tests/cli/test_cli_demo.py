"""``runninghub demo`` (``make demo``): both bundled workflows, offline, no key of the user's."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image, ImageChops, ImageOps

from runninghub.emulator.catalog import SAMPLE_IMAGE
from tests.cli.cli_harness import Invoker


def test_demo_runs_both_workflows_without_a_configured_key(
    rh: Invoker, config_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "demo"

    result = rh("demo", "--out", str(out), "--task-seconds", "0.1", "--prompt", "a red fox")

    assert result.exit_code == 0, result.output
    inverted, generated = (Path(line) for line in result.stdout.splitlines())
    assert inverted.parent == out / "inverted"
    assert generated.parent == out / "text-to-image"
    expected = ImageOps.invert(Image.open(SAMPLE_IMAGE).convert("RGB"))
    assert ImageChops.difference(Image.open(inverted).convert("RGB"), expected).getbbox() is None
    prompt = json.loads(Image.open(generated).text["prompt"])
    assert prompt["6"]["inputs"]["text"] == "a red fox"
    assert f"outputs saved under {out}" in result.stderr
    assert not config_dir.exists()  # the user's config is neither read nor written


def test_demo_json_lists_both_runs(rh: Invoker, tmp_path: Path) -> None:
    result = rh("demo", "--out", str(tmp_path / "d"), "--task-seconds", "0", "--json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [run["workflow_id"] for run in document["runs"]] == [
        "1987728214757978114",
        "1904136902449209346",
    ]
    for run in document["runs"]:
        assert run["status"] == "SUCCESS"
        assert all(Path(output["path"]).is_file() for output in run["outputs"])
