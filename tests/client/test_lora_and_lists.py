"""LoRA uploads and the account's lists through the SDK, on both faces, over loopback."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from runninghub import InvalidRequestError
from runninghub.emulator import EmulatorServer
from runninghub.emulator.options import read_keys_file

from .conftest import TEXT_WORKFLOW, api_requests

KEY_A = "a" * 32
KEY_B = "b" * 32


@pytest.fixture
def lora(tmp_path: Path) -> Path:
    path = tmp_path / "my_style.safetensors"
    path.write_bytes(b"safetensors-header" + bytes(range(256)) * 4000)
    return path


def test_a_lora_is_uploaded_once_by_its_md5(
    client: Any, emulator: EmulatorServer, lora: Path
) -> None:
    md5 = hashlib.md5(lora.read_bytes()).hexdigest()
    first = client.upload_lora(lora)
    assert (first.file_name, first.md5, first.uploaded) == (f"api-lora-cn/{md5}.safetensors",
                                                            md5, True)  # fmt: skip
    assert first.size == lora.stat().st_size and emulator.stats()["lora_uploads"] == 1
    again = client.upload_lora(lora)
    assert again.file_name == first.file_name and not again.uploaded
    assert emulator.stats()["lora_uploads"] == 1
    page = client.resources(type="LORA", name="my_style")
    assert [r.node_model_name for r in page.records] == [first.file_name]


def test_only_a_safetensors_file_is_taken_for_a_lora(
    client: Any, emulator: EmulatorServer, tmp_path: Path
) -> None:
    other = tmp_path / "style.bin"
    other.write_bytes(b"x")
    with pytest.raises(InvalidRequestError, match=r"not a \.safetensors file"):
        client.upload_lora(other)
    assert api_requests(emulator, "getLoraUploadUrl") == 0


def test_resources_come_in_pages(client: Any) -> None:
    first = client.resources(type="LORA", page=1, size=2)
    second = client.resources(type="LORA", page=2, size=2)
    assert len(first.records) == 2 and first.has_next and second.current == 2
    assert {r.type for r in first.records + second.records} == {"LORA"}
    assert not {r.id for r in first.records} & {r.id for r in second.records}
    with pytest.raises(InvalidRequestError, match="page size must be 1-50"):
        client.resources(size=51)


def test_the_app_list_reads_each_app_id(client: Any) -> None:
    page = client.ai_apps(size=3)
    assert page.records and all(app.app_id and app.app_id.isdigit() for app in page.records)
    assert all(app.title for app in page.records)


def test_the_key_list_is_masked(
    tmp_path: Path, make_emulator: Callable[..., EmulatorServer], make_client: Callable[..., Any]
) -> None:
    path = tmp_path / "keys.txt"
    path.write_text(f"{KEY_A} SHARED name=prod account=team\n{KEY_B} NORMAL name=ci account=team\n")
    server = make_emulator(keys=sorted(read_keys_file(path)))
    keys = make_client(server, api_key=KEY_A).api_keys()
    assert [(k.name, k.type, k.enabled) for k in keys] == [("prod", "SHARED", True),
                                                           ("ci", "NORMAL", True)]  # fmt: skip
    assert not any(secret in repr(keys) for secret in (KEY_A, KEY_B))
    assert all("*" in k.key or "…" in k.key for k in keys)


def test_a_local_lora_in_a_workflow_override_goes_through_the_lora_upload(
    client: Any, emulator: EmulatorServer, lora: Path, tmp_path: Path
) -> None:
    md5 = hashlib.md5(lora.read_bytes()).hexdigest()
    # The demo graph has no RHLoraLoader; its prompt field stands in for the loader's lora_name.
    # The emulator writes the prompt it ran into the picture's metadata.
    client.run(TEXT_WORKFLOW, {"6.text": lora}, validate=False, out_dir=tmp_path / "out")
    assert emulator.stats()["lora_uploads"] == 1 and emulator.stats()["uploads"] == 0
    [picture] = (tmp_path / "out").iterdir()
    with Image.open(picture) as image:
        assert f"api-lora-cn/{md5}.safetensors" in image.text["prompt"]
