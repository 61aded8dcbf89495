"""LoRA upload (contract §2.9): ``POST /api/openapi/getLoraUploadUrl`` and the presigned PUT.

1. ``getLoraUploadUrl {apiKey, loraName, md5Hex}`` answers ``data{fileName, url}``:
   ``fileName`` is ``api-lora-<site>/<md5>.safetensors`` (the RHLoraLoader input) and ``url``
   a signed ``PUT /lora-upload/<md5>.safetensors?...`` of this emulator, valid one emulated
   hour. When that md5 is already stored, ``url`` is left out: nothing needs uploading.
2. ``PUT url`` with the raw bytes, streamed to disk; their md5 must be the declared one
   (else 400 ``BadDigest``, COS-style XML, and nothing is kept).
"""

from __future__ import annotations

import hashlib
import os
import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .routes_v1 import _body_and_key, base_url, emulator_state, legacy, ok
from .wire import ApiProblem, Problem, str_field

_MD5 = re.compile(r"[0-9a-f]{32}")
_COS_ERROR = (
    "<?xml version='1.0' encoding='utf-8' ?><Error><Code>{}</Code><Message>{}</Message></Error>"
)


@legacy
async def lora_upload_url(request: Request) -> Response:
    body, key = await _body_and_key(request)
    state = emulator_state(request)
    name = str_field(body, "loraName", required=True) or ""
    md5 = (str_field(body, "md5Hex", required=True) or "").strip().lower()
    if not _MD5.fullmatch(md5):
        raise ApiProblem(Problem.BAD_REQUEST, "md5Hex must be 32 hexadecimal digits")
    if len(name) > 200 or any(ord(c) < 32 for c in name):
        raise ApiProblem(Problem.BAD_REQUEST, "loraName must be at most 200 printable characters")
    record = state.loras.request(key, name, md5)
    data = {"fileName": f"api-lora-{state.options.site or 'cn'}/{md5}.safetensors"}
    if not record.complete:
        data["url"] = f"{base_url(request)}{state.loras.signed_path(md5)}"
    return ok(data)


async def lora_put(request: Request) -> Response:
    """The presigned PUT target: the body streamed to disk, its md5 checked."""
    state = emulator_state(request)
    try:
        md5 = state.loras.check_signature(request.path_params["name"], request.url.query)
    except ValueError as error:
        async for _ in request.stream():  # drained, so the client reads the refusal
            pass
        status = 404 if str(error) == "NoSuchUpload" else 403
        return _cos_error(status, str(error))
    descriptor, temporary = state.files.new_temp_file()
    digest, size = hashlib.md5(usedforsecurity=False), 0
    with os.fdopen(descriptor, "wb") as out:
        async for chunk in request.stream():
            size += len(chunk)
            if size <= state.options.lora_limit:
                digest.update(chunk)
                out.write(chunk)
    if size > state.options.lora_limit or digest.hexdigest() != md5:
        temporary.unlink(missing_ok=True)
        code = "EntityTooLarge" if size > state.options.lora_limit else "BadDigest"
        return _cos_error(400, code)
    state.loras.finish(md5, str(temporary), size)
    return Response(status_code=200, headers={"ETag": f'"{md5}"'})


def _cos_error(status: int, code: str) -> Response:
    return Response(_COS_ERROR.format(code, code), status, media_type="application/xml")


ROUTES = [
    Route("/api/openapi/getLoraUploadUrl", lora_upload_url, methods=["POST"]),
    Route("/lora-upload/{name}", lora_put, methods=["PUT"]),
]
