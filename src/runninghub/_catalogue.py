"""The standard-model catalogue: the registry of hosted models, read into typed records.

The package ships a snapshot of RunningHub's public registry (``data/rh-models.json``, see
its NOTICE); a newer file of the same shape replaces it: the client's ``catalogue`` argument,
else ``RUNNINGHUB_CATALOGUE``, else the snapshot. This is the SDK's own reading of the file;
the emulator reads it separately.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from ._errors import ConfigError
from ._fields import error
from ._models import _View

__all__ = [
    "CATALOGUE_ENV",
    "Catalogue",
    "ModelInfo",
    "ModelParam",
    "ModelPrice",
    "load_catalogue",
    "wire_text",
]

CATALOGUE_ENV = "RUNNINGHUB_CATALOGUE"
MEDIA_TYPES = ("IMAGE", "VIDEO", "AUDIO")


@dataclass(frozen=True)
class ModelParam(_View):
    """One parameter of a model: its wire key, type (``STRING LIST BOOLEAN INT FLOAT IMAGE
    VIDEO AUDIO``), whether it is required, and its limits where the registry gives them."""

    key: str
    type: str
    required: bool = False
    default: Any = None
    options: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    step: float | None = None
    accept: tuple[str, ...] = ()
    max_mb: float | None = None

    @property
    def is_media(self) -> bool:
        return self.type in MEDIA_TYPES

    @property
    def is_list(self) -> bool:
        """Plural media keys (``imageUrls``) take a list of URLs."""
        return self.is_media and self.key.endswith("s")


@dataclass(frozen=True)
class ModelPrice(_View):
    """The list price (an estimate, never billing truth): ``fixed``, ``parameter_based``
    (the first rule whose ``when`` matches) or ``unparsed``."""

    kind: str
    currency: str = "CNY"
    unit: str = ""
    amount: Decimal | None = None
    depends_on: tuple[str, ...] = ()
    rules: tuple[tuple[Mapping[str, str], Decimal], ...] = field(default=(), repr=False)

    _VIEW = ("kind", "currency", "unit", "amount", "depends_on")


@dataclass(frozen=True)
class ModelInfo(_View):
    """A hosted model: its endpoint (the path after ``/openapi/v2/``), output type
    (``image video audio 3d string``), category, parameters and list price."""

    endpoint: str
    name: str
    output_type: str
    category: str
    params: tuple[ModelParam, ...]
    price: ModelPrice | None = None

    def param(self, key: str) -> ModelParam | None:
        return next((p for p in self.params if p.key == key), None)


@dataclass(frozen=True)
class Catalogue:
    """The models of one registry file, by endpoint, with the file's version and source."""

    version: str
    source: str
    models: Mapping[str, ModelInfo]

    def get(self, endpoint: str) -> ModelInfo | None:
        return self.models.get(endpoint.strip().strip("/"))

    def require(self, endpoint: str) -> ModelInfo:
        """The model at ``endpoint``, or InvalidRequestError naming the closest ones."""
        found = self.get(endpoint)
        if found is not None:
            return found
        wanted = endpoint.strip().strip("/")
        close = difflib.get_close_matches(wanted, list(self.models), n=3, cutoff=0.6)
        guess = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise error(
            f"the catalogue ({self.version}) has no model {wanted[:100]!r}{guess}",
            hint="see `runninghub model list --search TEXT`",
        )

    def search(
        self, *, type: str | None = None, category: str | None = None, text: str | None = None
    ) -> list[ModelInfo]:
        """Models of an output type and a category (exact, any case), whose endpoint, name or
        category contains ``text`` (any case), in endpoint order."""
        wanted = (text or "").strip().lower()
        found = []
        for model in self.models.values():
            if type and model.output_type.lower() != type.strip().lower():
                continue
            if category and model.category.lower() != category.strip().lower():
                continue
            haystack = f"{model.endpoint} {model.name} {model.category}".lower()
            if wanted and wanted not in haystack:
                continue
            found.append(model)
        return sorted(found, key=lambda m: m.endpoint)


def load_catalogue(path: str | os.PathLike[str] | None = None) -> Catalogue:
    """The catalogue at ``path``, else at ``$RUNNINGHUB_CATALOGUE``, else the shipped one.

    Raises ConfigError (naming the file) when a given file is missing or malformed.
    """
    chosen = path if path is not None else os.environ.get(CATALOGUE_ENV) or None
    if chosen is None:
        text = resources.files("runninghub").joinpath("data/rh-models.json").read_text("utf-8")
        return parse_catalogue(json.loads(text), "the shipped catalogue")
    where = Path(chosen).expanduser()
    try:
        document = json.loads(where.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not JSON"
        raise ConfigError(
            f"cannot read the model catalogue {where}: {reason}",
            hint=f"pass a registry file of the shipped shape, or unset {CATALOGUE_ENV}",
        ) from None
    return parse_catalogue(document, str(where))


def parse_catalogue(document: Any, where: str) -> Catalogue:
    """Read a registry document; a malformed one is a ConfigError naming ``where``."""
    try:
        models = [_model(item) for item in document["models"]]
        version = str(document.get("version") or "unknown")
        source = str(document.get("source") or "")
    except (KeyError, TypeError, ValueError, AttributeError, InvalidOperation) as exc:
        raise ConfigError(
            f"the model catalogue {where} is malformed ({type(exc).__name__}: {exc})"[:300],
            hint="use a registry file of the shipped shape (models: endpoint, params, price)",
        ) from None
    return Catalogue(version, source, {m.endpoint: m for m in models})


def _model(item: Mapping[str, Any]) -> ModelInfo:
    endpoint = str(item["endpoint"]).strip().strip("/")
    if not endpoint:
        raise ValueError("a model without an endpoint")
    return ModelInfo(
        endpoint=endpoint,
        name=str(item.get("name") or endpoint),
        output_type=str(item.get("output_type") or ""),
        category=str(item.get("category") or ""),
        params=tuple(_param(p) for p in item.get("params") or ()),
        price=_price(item.get("price")),
    )


def _param(item: Mapping[str, Any]) -> ModelParam:
    return ModelParam(
        key=str(item["key"]),
        type=str(item.get("type") or "STRING").upper(),
        required=bool(item.get("required")),
        default=item.get("default"),
        options=tuple(str(o) for o in item.get("options") or ()),
        min=_number(item.get("min")),
        max=_number(item.get("max")),
        step=_number(item.get("step")),
        accept=tuple(str(a).lower().lstrip(".") for a in item.get("accept") or ()),
        max_mb=_number(item.get("max_mb")),
    )


def _number(value: Any) -> float | None:
    return None if value is None or isinstance(value, bool) else float(value)


def _price(item: Any) -> ModelPrice | None:
    if not isinstance(item, Mapping) or not item.get("kind"):
        return None
    rules: Sequence[Mapping[str, Any]] = item.get("rules") or ()
    return ModelPrice(
        kind=str(item["kind"]),
        currency=str(item.get("currency") or "CNY"),
        unit=str(item.get("unit") or ""),
        amount=None if item.get("price") is None else Decimal(str(item["price"])),
        depends_on=tuple(str(d) for d in item.get("depends_on") or ()),
        rules=tuple(
            ({str(k): wire_text(v) for k, v in r["when"].items()}, Decimal(str(r["price"])))
            for r in rules
        ),
    )


def wire_text(value: Any) -> str:
    """A value as price rules compare it: JSON booleans lower-case, whole floats as ints."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
