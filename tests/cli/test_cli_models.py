"""``runninghub model``, ``lora``, ``resources``, ``account keys`` and ``app list`` against
the emulator over loopback: what a user sees, the files they get, and the exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import av
import pytest
from PIL import Image

from runninghub.emulator import EmulatorServer
from tests.cli.cli_harness import Invoker

TEXT_TO_IMAGE = "rhart-image-n-pro/text-to-image"
IMAGE_TO_VIDEO = "rhart-video-s/image-to-video"
T2I_SETS = ("--set", "prompt=a red fox", "--set", "resolution=1k", "--set", "aspectRatio=1:1")


def test_model_list_filters_and_names_the_catalogue_version(rh: Invoker) -> None:
    result = rh("model", "list", "--type", "video", "--search", "kling", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["catalogue"] == "public-2026-04-29" and document["count"] > 5
    assert all(m["output_type"] == "video" and "kling" in m["endpoint"].lower()
               for m in document["models"])  # fmt: skip
    human = rh("model", "list", "--search", "rhart-image-n-pro")
    assert TEXT_TO_IMAGE in human.stdout and "CNY" in human.stdout


def test_the_version_names_the_catalogue(rh: Invoker) -> None:
    result = rh("--version")
    assert result.exit_code == 0 and "model catalogue public-2026-04-29" in result.stdout


def test_model_show_lists_parameters_with_their_limits(rh: Invoker) -> None:
    result = rh("model", "show", IMAGE_TO_VIDEO)
    assert result.exit_code == 0, result.output
    lines = {line.split("\t")[0]: line.split("\t") for line in result.stdout.splitlines()}
    assert lines["imageUrl"][1:3] == ["IMAGE", "yes"] and "50 MB" in lines["imageUrl"][4]
    assert lines["duration"][4] == "10 | 15"
    unknown = rh("model", "show", "rhart-video-s/image-to-vide")
    assert (
        unknown.exit_code == 2 and "did you mean 'rhart-video-s/image-to-video'" in unknown.stderr
    )


def test_a_replacement_catalogue_is_given_with_catalogue(rh: Invoker, tmp_path: Path) -> None:
    mine = tmp_path / "registry.json"
    acme = {"endpoint": "acme/draw", "output_type": "image", "category": "Acme", "params": []}
    mine.write_text(json.dumps({"version": "next", "models": [acme]}))
    result = rh("model", "--catalogue", str(mine), "list", "--json")
    assert json.loads(result.stdout)["catalogue"] == "next"
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    failed = rh("model", "--catalogue", str(broken), "list")
    assert failed.exit_code == 3 and "broken.json" in failed.stderr
    assert "Traceback" not in failed.output


def test_model_run_saves_a_picture_pillow_opens(enterprise: Invoker, workdir: Path) -> None:
    result = enterprise("model", "run", TEXT_TO_IMAGE, *T2I_SETS, "--out", "fox", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["status"] == "SUCCESS" and document["task_id"]
    with Image.open(document["outputs"][0]["path"]) as picture:
        assert picture.size == (512, 512)


def test_model_run_uploads_a_local_image_and_saves_a_video_a_decoder_plays(
    enterprise: Invoker, workdir: Path, shared: EmulatorServer
) -> None:
    Image.new("RGB", (64, 48), (0, 160, 0)).save(workdir / "cat.png")
    result = enterprise(
        "model", "run", IMAGE_TO_VIDEO, "--file", "imageUrl=cat.png", "--set", "prompt=runs",
        "--set", "duration=10", "--set", "aspectRatio=16:9", "--out", "video", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    path = json.loads(result.stdout)["outputs"][0]["path"]
    with av.open(path) as container:
        assert len(list(container.decode(video=0))) >= 8
    assert shared.stats()["uploads"] == 1


def test_a_normal_key_exits_3_with_the_enterprise_hint(live: Invoker, emulator: Any) -> None:
    result = live("model", "run", TEXT_TO_IMAGE, *T2I_SETS)
    assert result.exit_code == 3, result.output
    assert "enterprise" in result.stderr and "Traceback" not in result.output
    assert emulator.stats()["tasks_created"] == 0


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (("--set", "promt=x"), "did you mean 'prompt'"),
        (("--set", "prompt=x", "--set", "resolution=9k"), "resolution must be one of"),
        (("--set", "prompt"), "expected KEY=VALUE"),
    ],
)
def test_a_bad_parameter_exits_2_and_nothing_is_created(
    enterprise: Invoker, shared: EmulatorServer, sets: tuple[str, ...], message: str
) -> None:
    result = enterprise("model", "run", TEXT_TO_IMAGE, *sets)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) <= 2
    assert shared.stats()["tasks_created"] == 0


def test_a_number_that_is_not_one_exits_2(enterprise: Invoker, shared: EmulatorServer) -> None:
    result = enterprise("model", "run", "hitem3d-portrait-v15/image-to-3d", "--set", "face=many")
    assert result.exit_code == 2 and "face must be an integer" in result.stderr
    assert shared.stats()["tasks_created"] == 0


def test_model_run_no_wait_prints_the_task_id(enterprise: Invoker) -> None:
    result = enterprise("model", "run", TEXT_TO_IMAGE, *T2I_SETS, "--no-wait", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["task_id"].isdigit() and document["status"] in ("QUEUED", "RUNNING")


def test_model_price_shows_the_list_price_and_the_estimate(enterprise: Invoker) -> None:
    full = ("--set", "imageUrl=https://example.com/cat.png", "--set", "prompt=runs",
            "--set", "aspectRatio=16:9")  # fmt: skip
    result = enterprise("model", "price", IMAGE_TO_VIDEO, *full, "--set", "duration=15", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["list_price"] == document["estimated"] and document["currency"] == "CNY"
    partial = enterprise("model", "price", IMAGE_TO_VIDEO, "--json")
    assert json.loads(partial.stdout)["list_price"] == document["list_price"]
    assert json.loads(partial.stdout)["estimated"] is None
    assert "set the required imageUrl" in partial.stderr


def test_the_list_price_follows_the_priced_parameters(enterprise: Invoker) -> None:
    kling = "kling-v3.0-std/image-to-video"  # per second, dearer with sound
    prices = {
        sound: json.loads(enterprise("model", "price", kling, "--set", f"sound={sound}",
                                     "--list-only", "--json").stdout)["list_price"]
        for sound in ("true", "false")
    }  # fmt: skip
    assert float(prices["true"]) > float(prices["false"]) > 0


def test_lora_upload_prints_the_loader_value_once_uploaded(
    live: Invoker, emulator: Any, workdir: Path
) -> None:
    (workdir / "style.safetensors").write_bytes(b"safetensors" * 500)
    first = live("lora", "upload", "style.safetensors")
    assert first.exit_code == 0, first.output
    assert first.stdout.strip().startswith("api-lora-cn/") and "uploaded" in first.stderr
    again = live("lora", "upload", "style.safetensors", "--json")
    assert json.loads(again.stdout)["uploaded"] is False
    assert emulator.stats()["lora_uploads"] == 1


def test_resources_search_pages_through_loras(live: Invoker) -> None:
    result = live("resources", "search", "--type", "lora", "--size", "2", "--page", "2", "--json")
    assert result.exit_code == 0, result.output
    page = json.loads(result.stdout)
    assert page["current"] == 2 and len(page["records"]) == 2
    assert {r["type"] for r in page["records"]} == {"LORA"}


def test_account_keys_and_app_list(live: Invoker, api_key: str) -> None:
    keys = live("account", "keys", "--json")
    assert keys.exit_code == 0, keys.output
    [mine] = json.loads(keys.stdout)["keys"]
    assert mine["key"] != api_key and mine["key"][:4] == api_key[:4]
    balance = live("account", "--json")
    assert balance.exit_code == 0 and "remain_money" in json.loads(balance.stdout)
    apps = live("app", "list", "--size", "2")
    assert apps.exit_code == 0 and apps.stdout.splitlines()[0].startswith("app id")
