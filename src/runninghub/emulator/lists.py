"""The v2 list helpers (contract §3.6), wrapped in ``{code, msg, message, data}``.

- ``GET /openapi/v2/api-key/list``: the keys of the caller's account, masked (the keys
  file groups keys with ``account=``; otherwise a key is its own account);
- ``POST /openapi/v2/resource/list``: models one may load (``UNET``, ``CHECKPOINT``, ``LORA``,
  ``GGUF``), filtered by type and name, paged; the caller's uploaded LoRAs are among them.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .auth import bearer_token, mask
from .keys import money_text
from .routes_v1 import checked_key, emulator_state
from .routes_v2 import ALL_METHODS, page, page_number, wrapped
from .state import EmulatorState
from .wire import ApiProblem, Problem, json_body, v2_wrapped

RESOURCE_TYPES = ("UNET", "CHECKPOINT", "LORA", "GGUF")
_CREATED = "2026-01-05 10:00:00"
# (type, name, base model, tags): a plausible public library.
_LIBRARY = (
    ("CHECKPOINT", "sd_xl_base_1.0.safetensors", "SDXL 1.0", ("base",)),
    ("CHECKPOINT", "v1-5-pruned-emaonly.safetensors", "SD 1.5", ("base",)),
    ("CHECKPOINT", "juggernautXL_v9.safetensors", "SDXL 1.0", ("photo", "realistic")),
    ("CHECKPOINT", "dreamshaper_8.safetensors", "SD 1.5", ("art",)),
    ("UNET", "flux1-dev.safetensors", "Flux.1 D", ("base",)),
    ("UNET", "flux1-schnell.safetensors", "Flux.1 S", ("base", "fast")),
    ("UNET", "wan2.1_t2v_14B_fp8.safetensors", "Wan Video", ("video",)),
    ("UNET", "qwen_image_fp8.safetensors", "Qwen-Image", ("base",)),
    ("GGUF", "flux1-dev-Q8_0.gguf", "Flux.1 D", ("quantized",)),
    ("GGUF", "flux1-dev-Q4_K_S.gguf", "Flux.1 D", ("quantized", "small")),
    ("GGUF", "wan2.1-i2v-14b-Q5_K_M.gguf", "Wan Video", ("video", "quantized")),
    ("LORA", "flux_realism_lora.safetensors", "Flux.1 D", ("photo", "realistic")),
    ("LORA", "anime_lineart_xl.safetensors", "SDXL 1.0", ("anime",)),
    ("LORA", "watercolor_style_v2.safetensors", "SDXL 1.0", ("art", "watercolor")),
    ("LORA", "pixel_art_flux.safetensors", "Flux.1 D", ("art", "pixel")),
    ("LORA", "add_detail.safetensors", "SD 1.5", ("detail",)),
    ("LORA", "ghibli_style_flux.safetensors", "Flux.1 D", ("anime", "art")),
    ("LORA", "product_photo_xl.safetensors", "SDXL 1.0", ("photo", "product")),
)


@wrapped("GET")
async def api_key_list(request: Request) -> Response:
    state = emulator_state(request)
    key = checked_key(state, bearer_token(request.headers))
    return JSONResponse(
        v2_wrapped([_key_record(state, k) for k in state.key_book.account_keys(key)])
    )


def _key_record(state: EmulatorState, key: str) -> dict[str, Any]:
    profile = state.key_book.profile(key)
    _, money = state.balance(key)
    spent = None if money is None or profile.money is None else profile.money - money
    return {
        "key": mask(key),
        "apiKeyName": profile.name,
        "apiKeyType": profile.key_type,
        "status": 1,
        "quotaLimit": None if profile.money is None else money_text(profile.money),
        "quotaUsed": None if spent is None else money_text(spent),
        "visible": False,
        "expireAt": None,
        "expireInMinute": None,
        "createdAt": _CREATED,
    }


@wrapped("POST")
async def resource_list(request: Request) -> Response:
    state = emulator_state(request)
    key = checked_key(state, bearer_token(request.headers))
    body = await json_body(request, allow_empty=True)
    kind = body.get("resourceType")
    if kind is not None and kind not in RESOURCE_TYPES:
        raise ApiProblem(
            Problem.BAD_REQUEST, f"resourceType must be one of {', '.join(RESOURCE_TYPES)}"
        )
    name = body.get("resourceName") or ""
    if not isinstance(name, str):
        raise ApiProblem(Problem.BAD_REQUEST, "resourceName must be a string")
    current = page_number(body, "current", 1, 10**6)
    size = page_number(body, "size", 10, 50)
    records = [r for r in _records(state, key) if _matches(r, kind, name, body)]
    return JSONResponse(v2_wrapped(page(records, current, size)))


def _records(state: EmulatorState, key: str) -> list[dict[str, Any]]:
    folder = f"api-lora-{state.options.site or 'cn'}"
    own = [
        _resource(
            f"9{index:05d}",
            "LORA",
            lora.name,
            "",
            ("uploaded",),
            owner="me",
            node_name=f"{folder}/{lora.md5}.safetensors",
        )
        for index, lora in enumerate(state.loras.of_key(key), start=1)
    ]
    library = [
        _resource(f"1{index:05d}", kind, name, base, tags, owner="RunningHub")
        for index, (kind, name, base, tags) in enumerate(_LIBRARY, start=1)
    ]
    return own + library


def _resource(  # noqa: PLR0913 - one record's fields, owner and node name by keyword
    resource_id: str,
    kind: str,
    name: str,
    base: str,
    tags: tuple[str, ...],
    *,
    owner: str,
    node_name: str | None = None,
) -> dict[str, Any]:
    node_name = node_name or name
    return {
        "id": resource_id,
        "resourceName": name,
        "resourceType": kind,
        "nodeModelName": node_name,
        "baseModel": base,
        "posterUrl": None,
        "owner": owner,
        "tags": list(tags),
        "versions": [{"versionId": resource_id, "versionName": "v1", "nodeModelName": node_name}],
    }


def _matches(record: dict[str, Any], kind: Any, name: str, body: dict[str, Any]) -> bool:
    if kind is not None and record["resourceType"] != kind:
        return False
    if name and name.lower() not in record["resourceName"].lower():
        return False
    bases, tags = body.get("baseModels") or [], body.get("tags") or []
    if not isinstance(bases, list) or not isinstance(tags, list):
        raise ApiProblem(Problem.BAD_REQUEST, "baseModels and tags must be lists")
    if bases and record["baseModel"] not in bases:
        return False
    return not tags or bool(set(tags) & set(record["tags"]))


ROUTES = [
    Route("/openapi/v2/api-key/list", api_key_list, methods=ALL_METHODS),
    Route("/openapi/v2/resource/list", resource_list, methods=ALL_METHODS),
]
