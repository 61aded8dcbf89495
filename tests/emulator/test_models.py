"""Standard models over loopback: submit, query, validation, outputs, prices and wallets.

Every call is a raw httpx request, as published clients make them. Expected prices are
read from the shipped data file here, not computed by the emulator's code.
"""

from __future__ import annotations

import base64
import io
import json
import struct
import wave
from collections.abc import Callable
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import av
import pytest
from PIL import Image, ImageStat

from runninghub.emulator import EmulatorServer

TEXT_TO_IMAGE = "rhart-image-n-pro/text-to-image"
EDIT = "rhart-image-n-pro/edit"
IMAGE_TO_VIDEO = "rhart-video-s/image-to-video"
TO_3D = "hitem3d-portrait-v15/image-to-3d"
VOICE = "minimax/voice-design"
TTS = "kling-lip-sync/tts"
TTS_BODY = {"text": "hello there", "voiceId": "genshin_klee2", "voiceLanguage": "en"}
T2I_BODY = {"prompt": "a purple cat", "resolution": "1k", "aspectRatio": "1:1"}


def registry() -> dict[str, Any]:
    text = resources.files("runninghub").joinpath("data/rh-models.json").read_text("utf-8")
    return {model["endpoint"]: model for model in json.loads(text)["models"]}


def png(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def shared(make_emulator: Callable[..., EmulatorServer]) -> EmulatorServer:
    return make_emulator(key_type="SHARED", queue_seconds=0, task_seconds=0.1)


@pytest.fixture
def api(shared, make_raw_api):
    return make_raw_api(shared)


def submit(api, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    return api.v2(f"/openapi/v2/{endpoint}", body)


def run(api, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    task = submit(api, endpoint, body)
    assert task["errorCode"] == "", task
    done = api.wait(task["taskId"])
    assert done["status"] == "SUCCESS", done
    return done


def fetch(api, result: dict[str, Any]) -> bytes:
    answer = api.http.get(result["url"])
    assert answer.status_code == 200
    return answer.content


def test_a_normal_key_gets_1014_and_nothing_is_created(raw_api, emulator) -> None:
    task = submit(raw_api, TEXT_TO_IMAGE, T2I_BODY)
    assert task["errorCode"] == "1014" and task["status"] == "" and task["taskId"] == ""
    assert "enterprise" in task["errorMessage"]
    assert emulator.stats()["tasks_created"] == 0


def test_submit_answers_the_task_object_and_query_follows_it(api) -> None:
    task = submit(api, TEXT_TO_IMAGE, T2I_BODY)
    assert task["taskId"].isdigit() and task["status"] in ("QUEUED", "RUNNING")
    assert task["results"] is None and task["clientId"] == "" and task["promptTips"] == ""
    done = api.wait(task["taskId"])
    [result] = done["results"]
    assert result["outputType"] == "png" and "nodeId" not in result
    assert Image.open(io.BytesIO(fetch(api, result))).size == (512, 512)


def test_the_picture_follows_the_input_image(api) -> None:
    pictures = {}
    for name, colour in (("red", (255, 0, 0)), ("blue", (0, 0, 255))):
        url = api.upload_v2(png(colour), f"{name}.png")["data"]["download_url"]
        done = run(api, EDIT, {"imageUrls": [url], "prompt": "a cat", "resolution": "1k"})
        pictures[name] = Image.open(io.BytesIO(fetch(api, done["results"][0]))).convert("RGB")
    red, blue = (ImageStat.Stat(pictures[n]).mean for n in ("red", "blue"))
    assert red[0] > blue[0] + 40 and blue[2] > red[2] + 40


def test_a_video_model_makes_an_mp4_a_decoder_plays(api) -> None:
    url = api.upload_v2(png((0, 200, 0)))["data"]["download_url"]
    body = {"imageUrl": url, "duration": "10", "aspectRatio": "16:9", "prompt": "a cat runs"}
    [result] = run(api, IMAGE_TO_VIDEO, body)["results"]
    assert result["outputType"] == "mp4"
    answer = api.http.get(result["url"])
    assert answer.headers["content-type"] == "video/mp4"
    with av.open(io.BytesIO(answer.content)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
    assert stream.codec_context.name == "h264" and len(frames) >= 8
    assert frames[0].width > frames[0].height  # 16:9


def test_an_audio_model_makes_a_wav(api) -> None:
    [result] = run(api, VOICE, {"prompt": "a calm voice", "previewText": "hello"})["results"]
    assert result["outputType"] == "wav"
    with wave.open(io.BytesIO(fetch(api, result))) as sound:
        assert sound.getnframes() > sound.getframerate() // 2


def test_a_3d_model_makes_a_glb_mesh(api) -> None:
    url = api.upload_v2(png((90, 90, 90)))["data"]["download_url"]
    body = {"requestType": "mesh", "imageUrl": url, "resolution": "1536"}
    [result] = run(api, TO_3D, body)["results"]
    data = fetch(api, result)
    magic, version, total = struct.unpack("<4sII", data[:12])
    assert (magic, version, total) == (b"glTF", 2, len(data))
    length, kind = struct.unpack("<I4s", data[12:20])
    document = json.loads(data[20 : 20 + length])
    assert kind == b"JSON" and document["asset"]["version"] == "2.0"
    positions = document["accessors"][
        document["meshes"][0]["primitives"][0]["attributes"]["POSITION"]
    ]
    assert positions["count"] >= 4 and positions["type"] == "VEC3"


def test_a_text_model_answers_text(api) -> None:
    [result] = run(api, TTS, TTS_BODY)["results"]
    assert result["outputType"] == "txt" and "hello there" in result["text"]
    assert fetch(api, result).decode("utf-8") == result["text"]


def test_result_keys_can_be_the_alternative_ones(shared, api) -> None:
    shared.configure(model_result_style="outputUrl")
    [result] = run(api, TTS, TTS_BODY)["results"]
    assert "url" not in result and "hello there" in result["content"]
    assert api.http.get(result["outputUrl"]).status_code == 200
    shared.configure(model_result_style="output")
    [result] = run(api, TTS, TTS_BODY)["results"]
    assert "hello there" in result["output"] and "outputUrl" in result


BAD_BODIES = [
    ({**T2I_BODY, "promt": "typo"}, "promt"),
    ({"prompt": "a cat", "aspectRatio": "1:1"}, "resolution"),
    ({**T2I_BODY, "resolution": "8k"}, "resolution"),
    ({**T2I_BODY, "aspectRatio": 1}, "aspectRatio"),
    ({**T2I_BODY, "prompt": 42}, "prompt"),
]


@pytest.mark.parametrize(("body", "named"), BAD_BODIES)
def test_a_bad_parameter_is_1007_and_nothing_is_created(api, shared, body, named) -> None:
    task = submit(api, TEXT_TO_IMAGE, body)
    assert task["errorCode"] == "1007" and task["taskId"] == ""
    assert named in task["errorMessage"]
    assert shared.stats()["tasks_created"] == 0


MEDIA = "http://127.0.0.1:1/files/openapi/x.png"
MESH = {"requestType": "mesh", "imageUrl": MEDIA, "resolution": "1536"}
BAD_VALUES = [
    (TO_3D, {**MESH, "face": 99}, "face"),  # under the minimum
    (TO_3D, {**MESH, "face": 100001}, "face"),  # off the step
    (TO_3D, {**MESH, "face": 1e5}, "face"),  # a float for an INT
    (TO_3D, {**MESH, "imageUrl": "/tmp/x.png"}, "imageUrl"),  # a path, not a URL
    (TO_3D, {**MESH, "imageUrl": "https://a.b/x.gif"}, "gif"),  # not an accepted type
    (EDIT, {"imageUrls": MEDIA, "prompt": "a", "resolution": "1k"}, "imageUrls"),  # not a list
    (
        IMAGE_TO_VIDEO,
        {
            "imageUrl": MEDIA,
            "duration": "10",
            "aspectRatio": "9:16",
            "prompt": "a",
            "storyboard": "false",
        },
        "storyboard",
    ),  # a string for a BOOLEAN
]


@pytest.mark.parametrize(("endpoint", "body", "named"), BAD_VALUES)
def test_values_outside_the_rules_are_refused(api, shared, endpoint, body, named) -> None:
    task = submit(api, endpoint, body)
    assert task["errorCode"] == "1007" and named in task["errorMessage"]
    assert shared.stats()["tasks_created"] == 0


def test_a_file_over_max_mb_is_refused(make_emulator, make_raw_api, tmp_path: Path) -> None:
    document = json.loads(resources.files("runninghub").joinpath("data/rh-models.json").read_text())
    [model] = [m for m in document["models"] if m["endpoint"] == EDIT]
    model["params"][0]["max_mb"] = 0.001  # about a kilobyte
    (tmp_path / "registry.json").write_text(json.dumps({"version": "t", "models": [model]}))
    server = make_emulator(key_type="SHARED", catalogue=tmp_path / "registry.json")
    api = make_raw_api(server)
    url = api.upload_v2(Image.new("RGB", (300, 300)).tobytes(), "big.png")["data"]["download_url"]
    task = submit(api, EDIT, {"imageUrls": [url], "prompt": "a", "resolution": "1k"})
    assert task["errorCode"] == "1007" and "MB" in task["errorMessage"]


def price_rule(endpoint: str, **when: str) -> Decimal:
    rules = registry()[endpoint]["price"]["rules"]
    [rule] = [r for r in rules if r["when"] == when]
    return Decimal(str(rule["price"]))


def account(api) -> dict[str, Any]:
    return api.v1("/uc/openapi/accountStatus", {"apikey": api.key})["data"]


def test_the_wallet_is_charged_the_list_price(make_emulator, make_raw_api) -> None:
    server = make_emulator(key_type="SHARED", initial_money="10", task_seconds=0.05)
    api = make_raw_api(server)
    before = account(api)
    assert (before["apiType"], before["remainMoney"], before["currency"]) == (
        "SHARED",
        "10.000",
        "CNY",
    )
    done = run(api, TEXT_TO_IMAGE, {**T2I_BODY, "resolution": "2k"})
    price = price_rule(TEXT_TO_IMAGE, resolution="2k")
    assert Decimal(done["usage"]["consumeMoney"]) == price
    fixed = Decimal(str(registry()[TTS]["price"]["price"]))
    run(api, TTS, TTS_BODY)
    assert Decimal(account(api)["remainMoney"]) == Decimal(10) - price - fixed


def test_a_wallet_that_cannot_pay_is_416_and_nothing_is_created(
    make_emulator, make_raw_api
) -> None:
    server = make_emulator(key_type="EXCLUSIVE", initial_money="0.01")
    task = submit(make_raw_api(server), VOICE, {"prompt": "a", "previewText": "b"})
    assert task["errorCode"] == "416" and task["taskId"] == ""
    assert server.stats()["tasks_created"] == 0


def test_a_share_of_models_answers_success_on_submit(make_emulator, make_raw_api) -> None:
    server = make_emulator(key_type="SHARED", instant_model_share=1.0, task_seconds=30)
    api = make_raw_api(server)
    task = submit(api, TTS, TTS_BODY)
    assert task["status"] == "SUCCESS" and "hello there" in task["results"][0]["text"]
    assert api.query(task["taskId"])["status"] == "SUCCESS"
    assert fetch(api, task["results"][0])


def test_a_cancelled_model_task_reports_cancel(make_emulator, make_raw_api) -> None:
    api = make_raw_api(make_emulator(key_type="SHARED", task_seconds=30))
    task_id = submit(api, TTS, TTS_BODY)["taskId"]
    assert api.v1("/task/openapi/cancel", {"taskId": task_id})["code"] == 0
    assert api.query(task_id)["status"] == "CANCEL"
    assert account(api)["remainMoney"] == "100.000"  # a cancelled call is not charged


def test_price_preview_gives_the_list_price(api, raw_api) -> None:
    preview = api.v2(f"/openapi/v2/price-preview/{TEXT_TO_IMAGE}", {**T2I_BODY, "resolution": "4k"})
    assert preview["errorCode"] == "" and preview["currency"] == "CNY"
    assert Decimal(str(preview["estimatedPrice"])) == price_rule(TEXT_TO_IMAGE, resolution="4k")
    assert preview["priceText"].endswith("CNY") and preview["isFreeThisCall"] is False
    bad = api.v2(f"/openapi/v2/price-preview/{TEXT_TO_IMAGE}", {"resolution": "9k"})
    assert bad["errorCode"] == "1007" and bad["estimatedPrice"] is None
    normal = raw_api.v2(f"/openapi/v2/price-preview/{TEXT_TO_IMAGE}", T2I_BODY)
    assert normal["errorCode"] == "1014"


def test_a_per_second_price_is_multiplied_by_the_duration(api) -> None:
    endpoint = "alibaba/happyhorse-1.0/image-to-video"
    model = registry()[endpoint]
    assert model["price"]["unit"] == "per second"
    per_second = price_rule(endpoint, resolution="720p")
    body = {"imageUrl": MEDIA, "prompt": "a", "resolution": "720p", "duration": "7"}
    body = {
        key: value for key, value in body.items() if any(p["key"] == key for p in model["params"])
    }
    preview = api.v2(f"/openapi/v2/price-preview/{endpoint}", body)
    assert preview["errorCode"] == "", preview
    assert Decimal(str(preview["estimatedPrice"])) == per_second * 7


def test_an_unknown_endpoint_is_an_unknown_path_unless_accepted(shared, api) -> None:
    answer = api.http.post("/openapi/v2/acme/no-such-model", json={"prompt": "x"},
                           headers={"Authorization": f"Bearer {api.key}"})  # fmt: skip
    assert answer.json()["errorCode"] == "1001"
    assert shared.stats()["tasks_created"] == 0
    shared.configure(unknown_models="accept")
    done = run(api, "acme/new-video-model", {"prompt": "x", "anything": 3})
    assert done["results"][0]["outputType"] == "mp4"


def test_a_model_path_answers_1009_to_get(api) -> None:
    answer = api.http.get(
        f"/openapi/v2/{TEXT_TO_IMAGE}", headers={"Authorization": f"Bearer {api.key}"}
    )
    assert answer.status_code == 200 and answer.json()["errorCode"] == "1009"


def test_a_bad_key_is_1002(shared, make_raw_api) -> None:
    task = make_raw_api(shared, key="nope").v2(f"/openapi/v2/{TEXT_TO_IMAGE}", T2I_BODY)
    assert task["errorCode"] == "1002"


def test_submit_options_ride_along_and_are_checked(api, shared) -> None:
    options = {
        "instanceType": "plus",
        "retainSeconds": 60,
        "usePersonalQueue": "false",
        "webhookUrl": "http://127.0.0.1:9/h",
    }
    ok = submit(api, TTS, {**TTS_BODY, **options})
    assert ok["errorCode"] == ""
    for extra in ({"instanceType": "huge"}, {"retainSeconds": 5}, {"webhookUrl": "ftp://x"}):
        assert submit(api, TTS, {**TTS_BODY, **extra})["errorCode"] == "1007"
    assert shared.stats()["tasks_created"] == 1


def test_a_queued_task_can_report_create_first(make_emulator, make_raw_api) -> None:
    server = make_emulator(key_type="SHARED", queue_seconds=30, create_seconds=30)
    api = make_raw_api(server)
    task = submit(api, TTS, TTS_BODY)
    assert task["status"] == "CREATE" and api.query(task["taskId"])["status"] == "CREATE"
    workflow = api.run_workflow("1987728214757978114")
    assert workflow["status"] == "CREATE"
    server.configure(create_seconds=0)
    assert api.query(task["taskId"])["status"] == "QUEUED"


def test_a_data_uri_and_an_output_url_are_media_inputs(api) -> None:
    encoded = base64.b64encode(png((250, 10, 10))).decode()
    body = {"imageUrls": [f"data:image/png;base64,{encoded}"], "prompt": "a", "resolution": "1k"}
    first = run(api, EDIT, body)["results"][0]
    red = ImageStat.Stat(Image.open(io.BytesIO(fetch(api, first))).convert("RGB")).mean
    chained = run(api, EDIT, {"imageUrls": [first["url"]], "prompt": "a", "resolution": "1k"})
    again = Image.open(io.BytesIO(fetch(api, chained["results"][0]))).convert("RGB")
    assert red[0] > red[2] and ImageStat.Stat(again).mean[0] > ImageStat.Stat(again).mean[2]
    huge = "data:image/png;base64," + "A" * (52 * 1024 * 1024 * 4 // 30)  # 5.2 MB, over 5
    body = {"imageUrl": huge, "videoUrl": "https://example.invalid/v.mp4"}
    refused = submit(api, "bytedance/dreamactor-v2", body)
    assert refused["errorCode"] == "1007" and "MB" in refused["errorMessage"]
