"""Standard models: ``POST /openapi/v2/{endpoint}`` and ``.../price-preview/{endpoint}``.

A submit is checked in the service's order: a path the catalogue does not know is an
unknown path (unless ``unknown_models`` is ``accept``: then it runs unchecked), the method
must be POST (1009), the key valid (1002) and an enterprise key (``NORMAL``: 1014), the
parameters valid for the catalogue (1007), the wallet able to pay the list price (416).
Only then is a task created. Models whose endpoint hashes into ``instant_model_share``
answer ``SUCCESS`` with results on submit.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .auth import bearer_token
from .model_catalogue import ModelSpec
from .model_params import SUBMIT_OPTIONS, check_params, list_price
from .routes_v1 import checked_key, emulator_state
from .routes_v2 import ALL_METHODS, flat, task_view
from .state import EmulatorState
from .submit import PreparedGraph, Submission, submit_options
from .wire import V2_CODES, ApiProblem, Problem, json_body

_GUESSED_TYPES = (
    ("video", "video"),
    ("audio", "audio"),
    ("music", "audio"),
    ("tts", "audio"),
    ("3d", "3d"),
    ("text-to-text", "string"),
    ("chat", "string"),
)


def _model_of(request: Request) -> tuple[EmulatorState, str, ModelSpec | None]:
    """The endpoint and its catalogue entry; an unknown one is an unknown path (404)."""
    state = emulator_state(request)
    endpoint = request.path_params["endpoint"].strip("/")
    spec = state.models.models.get(endpoint)
    if spec is None and state.options.unknown_models != "accept":
        raise HTTPException(404)  # rendered by the app like every unknown path
    if request.method != "POST":
        raise ApiProblem(Problem.WRONG_METHOD, "use POST")
    return state, endpoint, spec


def _enterprise_key(request: Request, state: EmulatorState) -> str:
    key = checked_key(state, bearer_token(request.headers))
    if not state.key_book.profile(key).has_wallet:
        raise ApiProblem(Problem.NOT_ENTERPRISE_KEY)
    return key


def _params(state: EmulatorState, spec: ModelSpec | None, body: dict[str, Any]) -> dict[str, Any]:
    if spec is None:  # accepted unchecked (unknown_models = accept)
        return {k: v for k, v in body.items() if k not in SUBMIT_OPTIONS and k != "accessPassword"}
    return check_params(spec, body, lambda url: _known_size(state, url))


def _known_size(state: EmulatorState, url: str) -> int | None:
    """The size of a data URI, or of this emulator's upload or output that ``url`` names
    (another host's file: unknown, as it is never fetched)."""
    if url.startswith("data:"):
        return len(url.partition(",")[2]) * 3 // 4
    path = urlsplit(url).path
    if path.startswith("/files/"):
        upload = state.uploads.lookup(path.rsplit("/", 1)[-1])
        return None if upload is None else upload.size
    if path.startswith("/outputs/") and path.count("/") == 3:
        _, _, task_id, name = path.split("/")
        output = state.output_path(task_id, name)
        return output.stat().st_size if output is not None and output.is_file() else None
    return None


def output_type_of(endpoint: str, spec: ModelSpec | None) -> str:
    if spec is not None:
        return spec.output_type
    lowered = endpoint.lower()
    return next((kind for word, kind in _GUESSED_TYPES if word in lowered), "image")


def _fingerprint(endpoint: str, params: dict[str, Any]) -> str:
    canonical = json.dumps(
        ["model", endpoint, params],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def _answers_at_once(endpoint: str, share: float) -> bool:
    """Whether this model is one of the share that answers SUCCESS on submit (stable)."""
    digest = hashlib.sha256(endpoint.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


@flat("POST")
async def submit_model(request: Request) -> Response:
    state, endpoint, spec = _model_of(request)
    key = _enterprise_key(request, state)
    body = await json_body(request, allow_empty=True)
    options = submit_options(body)
    params = _params(state, spec, body)
    price = None if spec is None else list_price(spec, params)
    submission = Submission("model", endpoint, (), None, False, **options)
    prepared = PreparedGraph(params, [], _fingerprint(endpoint, params))
    instant = _answers_at_once(endpoint, state.options.instant_model_share)
    task = state.create_task(
        key,
        submission,
        prepared,
        price=price,
        output_type=output_type_of(endpoint, spec),
        instant=instant,
    )
    if instant:
        await state.finish_now(task)
    return JSONResponse(task_view(request, task))


async def price_preview(request: Request) -> Response:
    """The estimated price of a call, in its own flat shape (errors included)."""
    try:
        state, _, spec = _model_of(request)
        _enterprise_key(request, state)  # previews cost nothing, but need the right key
        params = _params(state, spec, await json_body(request, allow_empty=True))
    except ApiProblem as problem:
        code, message = V2_CODES[problem.problem]
        detail = f"{message}: {problem.detail}" if problem.detail else message
        return JSONResponse(_preview(None, "", code, detail))
    price = None if spec is None else list_price(spec, params)
    currency = spec.price.currency if spec is not None and spec.price is not None else "CNY"
    return JSONResponse(_preview(price, currency))


def _preview(
    price: Decimal | None, currency: str, code: str = "", message: str = ""
) -> dict[str, Any]:
    text = "see RunningHub pricing" if price is None else f"{price.normalize():f} {currency}"
    return {
        "errorCode": code,
        "errorMessage": message,
        "estimatedPrice": None if price is None else float(price),
        "currency": currency or None,
        "priceText": None if code else text,
        "priceTextEn": None if code else text,
        "freeLimit": False,
        "freeLimitCount": 0,
        "remainingFreeLimitCount": 0,
        "isFreeThisCall": False,
    }


# The catch-all model route goes last: every fixed v2 path is matched before it.
ROUTES = [
    Route("/openapi/v2/price-preview/{endpoint:path}", price_preview, methods=ALL_METHODS),
]
CATCH_ALL = Route("/openapi/v2/{endpoint:path}", submit_model, methods=ALL_METHODS)
