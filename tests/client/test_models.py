"""Standard models through the SDK, on both faces, against the emulator over loopback.

The catalogue, the checks before sending, uploads of local media, runs and downloads,
prices (the catalogue's list price and the service's preview), and the enterprise-key rule.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import av
import pytest
from PIL import Image

from runninghub import AuthenticationError, ConfigError, InvalidRequestError, TaskStatus
from runninghub.emulator import EmulatorServer

from .conftest import api_requests

TEXT_TO_IMAGE = "rhart-image-n-pro/text-to-image"
EDIT = "rhart-image-n-pro/edit"
IMAGE_TO_VIDEO = "rhart-video-s/image-to-video"
TTS = "kling-lip-sync/tts"
TO_3D = "hitem3d-portrait-v15/image-to-3d"
T2I = {"prompt": "a purple cat", "resolution": "1k", "aspectRatio": "1:1"}


@pytest.fixture
def shared(make_emulator: Callable[..., EmulatorServer]) -> EmulatorServer:
    return make_emulator(key_type="SHARED", queue_seconds=0, task_seconds=0.1)


@pytest.fixture
def enterprise(make_client: Callable[..., Any], shared: EmulatorServer) -> Any:
    return make_client(shared)


def created(server: EmulatorServer) -> int:
    return int(server.stats()["tasks_created"])


def test_the_catalogue_is_searched_by_type_category_and_text(client: Any) -> None:
    videos = client.models(type="video")
    assert len(videos) > 100 and {m.output_type for m in videos} == {"video"}
    kling = client.models(category="kling", search="image-to-video")
    assert kling and all(m.category == "Kling" and "image-to-video" in m.endpoint for m in kling)
    model = client.model(TEXT_TO_IMAGE)
    assert model.output_type == "image" and model.param("prompt").required
    assert [p.key for p in model.params][:1] == ["prompt"]


def test_an_unknown_endpoint_is_named_with_the_closest_ones(client: Any) -> None:
    with pytest.raises(InvalidRequestError, match="did you mean 'rhart-image-n-pro/text-to-image'"):
        client.model("rhart-image-n-pro/text-to-imag")


def test_a_replacement_catalogue_comes_from_the_argument_or_the_environment(
    make_client: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = tmp_path / "registry.json"
    model = {"endpoint": "acme/draw", "output_type": "image", "category": "Acme",
             "params": [{"key": "prompt", "type": "STRING", "required": True}]}  # fmt: skip
    mine.write_text(json.dumps({"version": "mine-1", "models": [model]}))
    assert [m.endpoint for m in make_client(catalogue=mine).models()] == ["acme/draw"]
    monkeypatch.setenv("RUNNINGHUB_CATALOGUE", str(mine))
    assert [m.endpoint for m in make_client().models()] == ["acme/draw"]
    monkeypatch.setenv("RUNNINGHUB_CATALOGUE", str(tmp_path / "missing.json"))
    with pytest.raises(ConfigError, match=r"missing\.json"):
        make_client().models()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({**T2I, "promt": "x"}, "did you mean 'prompt'"),
        ({"resolution": "1k"}, "required parameter 'prompt'"),
        ({**T2I, "resolution": "8k"}, "resolution must be one of"),
        ({**T2I, "aspectRatio": 1}, "aspectRatio must be one of"),
    ],
)
def test_bad_parameters_are_refused_before_anything_is_sent(
    enterprise: Any, shared: EmulatorServer, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        enterprise.submit_model(TEXT_TO_IMAGE, params)
    assert created(shared) == 0 and api_requests(shared, "/openapi/v2/") == 0


def test_numbers_booleans_and_files_are_checked_by_the_catalogue(
    enterprise: Any, shared: EmulatorServer, tmp_path: Path
) -> None:
    mesh = {"requestType": "mesh", "imageUrl": "https://example.com/a.png", "resolution": "1536"}
    # face: INT from 100000 to 2000000 in steps of 10000
    with pytest.raises(InvalidRequestError, match="face must be at most 2000000"):
        enterprise.submit_model(TO_3D, {**mesh, "face": 2_010_000})
    with pytest.raises(InvalidRequestError, match="face must go in steps of 10000"):
        enterprise.submit_model(TO_3D, {**mesh, "face": 100_001})
    with pytest.raises(InvalidRequestError, match="face must be an integer"):
        enterprise.submit_model(TO_3D, {**mesh, "face": "200000"})
    flagged = next(m for m in enterprise.models() if any(p.type == "BOOLEAN" for p in m.params))
    flag = next(p for p in flagged.params if p.type == "BOOLEAN")
    with pytest.raises(InvalidRequestError, match=f"{flag.key} must be a boolean"):
        enterprise.submit_model(flagged.endpoint, {flag.key: "true"})
    text_file = tmp_path / "cat.txt"
    text_file.write_text("not a picture")
    with pytest.raises(InvalidRequestError, match=r"a \.txt file is not accepted"):
        enterprise.submit_model(EDIT, {"prompt": "x", "resolution": "1k", "imageUrls": [text_file]})
    assert created(shared) == 0 and api_requests(shared, "/openapi/v2/") == 0


def test_a_model_runs_and_its_picture_is_saved(enterprise: Any, tmp_path: Path) -> None:
    task = enterprise.run_model(TEXT_TO_IMAGE, T2I, out_dir=tmp_path / "out")
    assert task.status is TaskStatus.SUCCESS and task.outputs[0].type == "png"
    [saved] = list((tmp_path / "out").iterdir())
    with Image.open(saved) as picture:
        assert picture.size == (512, 512)


def test_local_images_are_uploaded_and_sent_as_their_urls(
    enterprise: Any, shared: EmulatorServer, sample_png: Path
) -> None:
    handle = enterprise.submit_model(
        EDIT, {"prompt": "a cat", "resolution": "1k", "imageUrls": [sample_png, str(sample_png)]}
    )
    assert shared.stats()["uploads"] == 2 and created(shared) == 1
    assert handle.wait().status is TaskStatus.SUCCESS


def test_a_video_model_saves_an_mp4_a_decoder_plays(
    enterprise: Any, sample_png: Path, tmp_path: Path
) -> None:
    body = {"imageUrl": sample_png, "duration": "10", "aspectRatio": "16:9", "prompt": "runs"}
    enterprise.run_model(IMAGE_TO_VIDEO, body, out_dir=tmp_path)
    [video] = [p for p in tmp_path.iterdir() if p.suffix == ".mp4"]
    with av.open(str(video)) as container:
        assert len(list(container.decode(video=0))) >= 8


def test_a_model_done_on_submit_is_not_polled(
    make_emulator: Callable[..., EmulatorServer], make_client: Callable[..., Any]
) -> None:
    server = make_emulator(key_type="SHARED", instant_model_share=1.0)
    task = make_client(server).run_model(TTS, {"text": "hi", "voiceId": "genshin_klee2",
                                                "voiceLanguage": "en"})  # fmt: skip
    assert task.status is TaskStatus.SUCCESS and task.outputs[0].text
    assert api_requests(server, "/openapi/v2/query") == 0


def test_a_normal_key_is_told_it_needs_an_enterprise_key(
    client: Any, emulator: EmulatorServer
) -> None:
    with pytest.raises(AuthenticationError, match="enterprise") as caught:
        client.submit_model(TEXT_TO_IMAGE, T2I)
    assert caught.value.code == "1014" and created(emulator) == 0


def test_an_endpoint_outside_the_catalogue_is_sent_unchecked_with_a_warning(
    make_emulator: Callable[..., EmulatorServer],
    make_client: Callable[..., Any],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = make_emulator(key_type="SHARED", queue_seconds=0, task_seconds=0.1)
    mine = tmp_path / "registry.json"
    mine.write_text(json.dumps({"version": "tiny", "models": []}))
    with caplog.at_level(logging.WARNING, logger="runninghub"):
        handle = make_client(server, catalogue=mine).submit_model(TEXT_TO_IMAGE, T2I)
    assert "not in the model catalogue (tiny): sent unchecked" in caplog.text
    assert handle.wait().status is TaskStatus.SUCCESS


def test_the_price_is_the_list_price_and_the_service_preview(enterprise: Any) -> None:
    price = enterprise.model_price(TEXT_TO_IMAGE, T2I)
    assert price.list_price is not None and price.list_price > 0
    assert price.estimated == price.list_price and price.note is None
    listed = enterprise.model_price(TEXT_TO_IMAGE, T2I, preview=False)
    assert listed.estimated is None and listed.list_price == price.list_price


def test_a_normal_key_gets_the_list_price_and_a_note(client: Any) -> None:
    price = client.model_price(TEXT_TO_IMAGE, T2I)
    assert price.list_price == rule_price(TEXT_TO_IMAGE, T2I)
    assert price.estimated is None and "enterprise" in (price.note or "")


def rule_price(endpoint: str, params: dict[str, Any]) -> Decimal:
    """The price the shipped file's rules give, read here independently of the SDK."""
    from importlib import resources

    text = resources.files("runninghub").joinpath("data/rh-models.json").read_text("utf-8")
    [model] = [m for m in json.loads(text)["models"] if m["endpoint"] == endpoint]
    values = {p["key"]: p.get("default") for p in model["params"]} | params
    rule = next(r for r in model["price"]["rules"]
                if all(str(values.get(k)) == str(v) for k, v in r["when"].items()))  # fmt: skip
    return Decimal(str(rule["price"]))
