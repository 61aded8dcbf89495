"""LoRA upload (getLoraUploadUrl and its presigned PUT) and the v2 lists, over loopback."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from runninghub.emulator.options import read_keys_file

LORA = b"safetensors-header" + bytes(range(256)) * 40
MD5 = hashlib.md5(LORA).hexdigest()
KEY_A = "a" * 32
KEY_B = "b" * 32
KEY_C = "c" * 32


def upload_url(api, md5: str = MD5, name: str = "my_style.safetensors") -> dict[str, Any]:
    return api.v1("/api/openapi/getLoraUploadUrl", {"loraName": name, "md5Hex": md5})


def resources(api, **body: Any) -> dict[str, Any]:
    return api.v2("/openapi/v2/resource/list", body)


def test_a_lora_is_uploaded_once_by_its_md5(raw_api, emulator) -> None:
    first = upload_url(raw_api)
    assert first["code"] == 0
    assert first["data"]["fileName"] == f"api-lora-cn/{MD5}.safetensors"
    put = raw_api.http.put(
        first["data"]["url"], content=LORA, headers={"Content-Type": "application/octet-stream"}
    )
    assert put.status_code == 200 and put.headers["ETag"] == f'"{MD5}"'
    again = upload_url(raw_api)
    assert again["data"] == {"fileName": f"api-lora-cn/{MD5}.safetensors"}  # no url: stored
    assert emulator.stats()["lora_uploads"] == 1
    [mine] = resources(raw_api, resourceType="LORA", resourceName="my_style")["data"]["records"]
    assert mine["nodeModelName"] == first["data"]["fileName"] and mine["owner"] == "me"


def test_bytes_of_another_md5_are_refused_and_not_kept(raw_api, emulator) -> None:
    url = upload_url(raw_api)["data"]["url"]
    put = raw_api.http.put(url, content=LORA + b"x")
    assert put.status_code == 400 and "BadDigest" in put.text
    assert "url" in upload_url(raw_api)["data"] and emulator.stats()["lora_uploads"] == 0


def test_a_tampered_or_expired_put_url_is_refused(raw_api, emulator) -> None:
    url = upload_url(raw_api)["data"]["url"]
    tampered = url[:-1] + ("0" if url[-1] != "0" else "1")
    assert raw_api.http.put(tampered, content=LORA).status_code == 403
    emulator.configure(advance_clock=3601)
    expired = raw_api.http.put(url, content=LORA)
    assert expired.status_code == 403 and "AccessDenied" in expired.text
    assert emulator.stats()["lora_uploads"] == 0


@pytest.mark.parametrize(
    "body",
    [{"loraName": "x", "md5Hex": "xyz"}, {"md5Hex": MD5}, {"loraName": "a\x1b[31m", "md5Hex": MD5}],
)
def test_a_bad_lora_request_is_301(raw_api, body) -> None:
    answer = raw_api.v1("/api/openapi/getLoraUploadUrl", body)
    assert (answer["code"], answer["msg"]) == (301, "PARAMS_INVALID")


def test_a_lora_request_needs_a_valid_key(raw_api) -> None:
    answer = raw_api.v1(
        "/api/openapi/getLoraUploadUrl", {"apiKey": "no", "loraName": "x", "md5Hex": MD5}
    )
    assert answer["code"] == 802


def test_resources_are_filtered_and_paged(raw_api) -> None:
    everything = resources(raw_api, size=50)["data"]
    assert everything["total"] == len(everything["records"]) >= 12
    assert {r["resourceType"] for r in everything["records"]} == {
        "UNET",
        "CHECKPOINT",
        "LORA",
        "GGUF",
    }
    loras = resources(raw_api, resourceType="LORA", size=2, current=2)["data"]
    assert loras["current"] == 2 and len(loras["records"]) == 2
    assert loras["hasPrevious"] and loras["pages"] == -(-loras["total"] // 2)
    assert all(r["resourceType"] == "LORA" for r in loras["records"])
    flux = resources(raw_api, resourceType="GGUF", baseModels=["Flux.1 D"])["data"]["records"]
    assert flux and all(r["baseModel"] == "Flux.1 D" for r in flux)
    named = resources(raw_api, resourceName="WATERCOLOR")["data"]["records"]
    assert [r["resourceName"] for r in named] == ["watercolor_style_v2.safetensors"]


@pytest.mark.parametrize(
    "body", [{"resourceType": "VAE"}, {"size": 51}, {"current": 0}, {"tags": "anime"}]
)
def test_a_bad_resource_query_is_refused(raw_api, body) -> None:
    answer = resources(raw_api, **body)
    assert answer["code"] == 1007 and answer["data"] is None


def test_the_key_list_shows_the_account_keys_masked(
    tmp_path: Path, make_emulator, make_raw_api
) -> None:
    path = tmp_path / "keys.txt"
    path.write_text(
        f"{KEY_A} SHARED name=prod account=team\n{KEY_B} NORMAL name=ci account=team\n{KEY_C}\n"
    )
    server = make_emulator(keys=sorted(read_keys_file(path)))
    api = make_raw_api(server, key=KEY_A)
    answer = api.http.get("/openapi/v2/api-key/list", headers={"Authorization": f"Bearer {KEY_A}"})
    assert answer.status_code == 200 and answer.json()["code"] == 0
    records = answer.json()["data"]
    assert [(r["apiKeyName"], r["apiKeyType"], r["status"]) for r in records] == [
        ("prod", "SHARED", 1),
        ("ci", "NORMAL", 1),
    ]
    assert records[0]["key"] == "aaaa****aaaa" and records[0]["quotaLimit"] == "100.000"
    assert not any(key in answer.text for key in (KEY_A, KEY_B, KEY_C))


def test_the_key_list_answers_1009_to_post(raw_api) -> None:
    assert raw_api.v2("/openapi/v2/api-key/list")["code"] == 1009


def test_the_app_list_takes_the_raw_key_and_pages(raw_api) -> None:
    answer = raw_api.http.post(
        "/openapi/v2/aiapp/list", json={"current": 1, "size": 1, "sort": "RECOMMEND"},
        headers={"Authorization": raw_api.key},
    )  # fmt: skip
    data = answer.json()["data"]
    assert answer.json()["code"] == 0 and data["size"] == 1 and len(data["records"]) == 1
    assert "/openapi/v2/run/ai-app/" in data["records"][0]["invokeExample"]
    assert data["hasNext"] == (data["total"] > 1)
