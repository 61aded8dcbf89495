"""Typed records of the account's directory: keys, resources, apps, prices, LoRA uploads.

Leaves, like ``_models``: the ``_list_answers`` module reads the wire into them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Generic, TypeVar

from ._models import _View

__all__ = ["AiAppInfo", "ApiKeyInfo", "LoraUpload", "Page", "PricePreview", "ResourceInfo"]

T = TypeVar("T")


@dataclass(frozen=True)
class ApiKeyInfo(_View):
    """One key of the account, as the service lists it: ``key`` is masked there, always."""

    key: str
    name: str | None = None
    type: str | None = None
    enabled: bool = True
    quota_limit: Decimal | None = None
    quota_used: Decimal | None = None
    expire_at: str | None = None
    created_at: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class ResourceInfo(_View):
    """A model file one may load in a workflow (``UNET CHECKPOINT LORA GGUF``).
    ``node_model_name`` is the value a loader node takes."""

    id: str
    name: str
    type: str | None = None
    node_model_name: str | None = None
    base_model: str | None = None
    owner: str | None = None
    tags: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class AiAppInfo(_View):
    """An AI app of the public list; ``app_id`` is read from its invoke example."""

    title: str
    app_id: str | None = None
    description: str | None = None
    cover: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class Page(_View, Generic[T]):
    """One page of a paged list: ``current`` counts from 1."""

    records: tuple[T, ...]
    current: int
    size: int
    total: int
    pages: int
    has_next: bool


@dataclass(frozen=True)
class PricePreview(_View):
    """What one model call would cost: the catalogue's list price, and the service's own
    estimate when the key may ask (``estimated`` None otherwise, with ``note`` saying why)."""

    endpoint: str
    list_price: Decimal | None
    currency: str
    unit: str = ""
    estimated: Decimal | None = None
    price_text: str | None = None
    free_this_call: bool | None = None
    note: str | None = None


@dataclass(frozen=True)
class LoraUpload(_View):
    """An uploaded LoRA: ``file_name`` goes into an ``RHLoraLoader`` field; ``uploaded`` is
    False when the service already held a file of that md5 (nothing was sent)."""

    file_name: str
    md5: str
    uploaded: bool
    size: int
