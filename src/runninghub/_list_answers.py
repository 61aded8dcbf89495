"""Answers of the directory calls: key, resource and app lists, price previews, LoRA targets.

Part of the ``_answers`` family (see ``_answers.py`` for the rule): ``_protocol`` has checked
the HTTP layer and unwraps the envelope; this reads what is inside, tolerating string numbers
and missing fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ._directory import AiAppInfo, ApiKeyInfo, Page, PricePreview, ResourceInfo
from ._errors import APIResponseError, error_for_code
from ._models import to_decimal
from ._protocol import message_of, unwrap
from ._redaction import mask_key
from ._wire_values import as_int, text_field

__all__ = [
    "parse_ai_apps",
    "parse_api_keys",
    "parse_lora_target",
    "parse_price_preview",
    "parse_resources",
]

T = TypeVar("T")
_APP_ID = re.compile(r"/run/ai-app/(\d{1,30})")
_MASKED = re.compile(r"[^*]*\*+[^*]*")


def parse_api_keys(body: Any) -> list[ApiKeyInfo]:
    data = unwrap(body)
    if not isinstance(data, list):
        raise APIResponseError("the key list answer carries no list", raw=body)
    return [_key(item) for item in data if isinstance(item, dict)]


def _key(item: Mapping[str, Any]) -> ApiKeyInfo:
    shown = text_field(item, "key", "apiKey") or ""
    if not _MASKED.fullmatch(shown):
        shown = mask_key(shown)  # a full key never leaves this function, whatever was sent
    return ApiKeyInfo(
        key=shown,
        name=text_field(item, "apiKeyName", "name"),
        type=text_field(item, "apiKeyType", "apiType"),
        enabled=text_field(item, "status") in (None, "1"),
        quota_limit=to_decimal(item.get("quotaLimit")),
        quota_used=to_decimal(item.get("quotaUsed")),
        expire_at=text_field(item, "expireAt"),
        created_at=text_field(item, "createdAt"),
        raw={k: v for k, v in item.items() if k not in ("key", "apiKey")},
    )


def parse_resources(body: Any) -> Page[ResourceInfo]:
    return _page(body, "resource list", _resource)


def _resource(item: Mapping[str, Any]) -> ResourceInfo:
    tags = item.get("tags")
    return ResourceInfo(
        id=text_field(item, "id") or "",
        name=text_field(item, "resourceName", "name") or "",
        type=text_field(item, "resourceType"),
        node_model_name=text_field(item, "nodeModelName"),
        base_model=text_field(item, "baseModel"),
        owner=text_field(item, "owner"),
        tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
        raw=item,
    )


def parse_ai_apps(body: Any) -> Page[AiAppInfo]:
    return _page(body, "app list", _app)


def _app(item: Mapping[str, Any]) -> AiAppInfo:
    example = text_field(item, "invokeExample") or ""
    found = _APP_ID.search(example)
    return AiAppInfo(
        title=text_field(item, "title", "name") or "",
        app_id=text_field(item, "webappId", "id") or (found.group(1) if found else None),
        description=text_field(item, "description"),
        cover=text_field(item, "cover"),
        raw=item,
    )


def _page(body: Any, what: str, read: Callable[[Mapping[str, Any]], T]) -> Page[T]:
    data = unwrap(body)
    if not isinstance(data, dict) or not isinstance(data.get("records"), list):
        raise APIResponseError(f"the {what} answer carries no records", raw=body)
    records = tuple(read(item) for item in data["records"] if isinstance(item, dict))
    total = as_int(data.get("total")) or len(records)
    size = as_int(data.get("size")) or len(records)
    current = as_int(data.get("current")) or 1
    pages = as_int(data.get("pages")) or (-(-total // size) if size else 1)
    has_next = data.get("hasNext")
    more = bool(has_next) if isinstance(has_next, bool) else current < pages
    return Page(records, current, size, total, pages, more)


def parse_lora_target(body: Any) -> tuple[str, str | None]:
    """``getLoraUploadUrl``'s ``(fileName, url)``; no url when the md5 is already stored."""
    data = unwrap(body)
    name = text_field(data, "fileName") if isinstance(data, dict) else None
    if not name:
        raise APIResponseError("the LoRA upload answer carries no fileName", raw=body)
    url = text_field(data, "url") if isinstance(data, dict) else None
    return name, url or None


def parse_price_preview(body: Any, *, endpoint: str) -> PricePreview:
    """The service's flat estimate; a refusal (its ``errorCode``) is the code's error."""
    if not isinstance(body, dict):
        raise APIResponseError("expected a price preview object", raw=body)
    code = text_field(body, "errorCode") or ""
    if code not in ("", "0"):
        raise error_for_code(code, message_of(body), raw=body)
    free = body.get("isFreeThisCall")
    return PricePreview(
        endpoint=endpoint,
        list_price=None,
        currency=text_field(body, "currency") or "CNY",
        estimated=to_decimal(body.get("estimatedPrice")),
        price_text=text_field(body, "priceTextEn", "priceText"),
        free_this_call=free if isinstance(free, bool) else None,
    )
