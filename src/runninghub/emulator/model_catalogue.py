"""The emulator's own reading of the standard-model catalogue (``runninghub/data/rh-models.json``).

The data file is shared with the SDK; this reading is independent of the client's code, so
a misreading on one side is caught by tests of the other. A replacement registry file of
the same shape may be given (``--catalogue FILE`` or ``RUNNINGHUB_CATALOGUE``): it is checked
when the emulator starts, and a bad one is a ValueError naming the file and the fault.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import Any

CATALOGUE_ENV = "RUNNINGHUB_CATALOGUE"
BUNDLED_CATALOGUE = Path(__file__).resolve().parent.parent / "data" / "rh-models.json"
OUTPUT_TYPES = ("image", "video", "audio", "3d", "string")
PARAM_TYPES = ("STRING", "LIST", "BOOLEAN", "INT", "FLOAT", "IMAGE", "VIDEO", "AUDIO")
MEDIA_TYPES = ("IMAGE", "VIDEO", "AUDIO")


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a model, as the registry declares it."""

    key: str
    type: str
    required: bool
    default: Any = None
    options: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    accept: tuple[str, ...] | None = None
    max_mb: float | None = None

    @property
    def is_list(self) -> bool:
        """Media keys named in the plural (``imageUrls``, ``elementReferList``) take a list."""
        return self.type in MEDIA_TYPES and self.key.endswith(("s", "List"))


@dataclass(frozen=True)
class PriceRule:
    when: dict[str, str]
    price: Decimal


@dataclass(frozen=True)
class ModelPrice:
    """A list price: ``fixed`` (``amount``), ``parameter_based`` (``rules``) or unknown."""

    kind: str
    currency: str
    unit: str
    amount: Decimal | None = None
    rules: tuple[PriceRule, ...] = ()


@dataclass(frozen=True)
class ModelSpec:
    endpoint: str
    name: str
    output_type: str
    category: str
    params: tuple[ParamSpec, ...]
    price: ModelPrice | None

    def param(self, key: str) -> ParamSpec | None:
        return next((spec for spec in self.params if spec.key == key), None)


@dataclass(frozen=True)
class ModelCatalogue:
    version: str
    models: Mapping[str, ModelSpec]  # read-only: one parsed catalogue serves every emulator


def catalogue_path(explicit: Path | None) -> Path:
    """The file to read: the option, else the environment variable, else the bundled one."""
    if explicit is not None:
        return explicit
    from_env = os.environ.get(CATALOGUE_ENV, "").strip()
    return Path(from_env) if from_env else BUNDLED_CATALOGUE


def load_catalogue(explicit: Path | None = None) -> ModelCatalogue:
    """Read and check a registry file; ValueError names the file and what is wrong.

    A file read before and unchanged since (same size and modification time) is not parsed
    again: tests start hundreds of emulators, and parsing the registry takes ~50 ms.
    """
    path = catalogue_path(explicit)
    try:
        status = path.stat()
        return _parsed(path.resolve(), status.st_mtime_ns, status.st_size)
    except OSError as error:
        raise ValueError(f"model catalogue {path}: cannot read it ({error.strerror})") from None
    except (ValueError, TypeError, KeyError, InvalidOperation) as error:
        raise ValueError(f"model catalogue {path}: {error or type(error).__name__}") from None


@functools.lru_cache(maxsize=8)
def _parsed(path: Path, mtime_ns: int, size: int) -> ModelCatalogue:
    """The catalogue of ``path`` as it is at ``mtime_ns``/``size`` (the cache key)."""
    return _catalogue(json.loads(path.read_text(encoding="utf-8")))


def _catalogue(document: Any) -> ModelCatalogue:
    if not isinstance(document, dict) or not isinstance(document.get("models"), list):
        raise ValueError("expected an object with a 'models' list")
    models: dict[str, ModelSpec] = {}
    for index, entry in enumerate(document["models"]):
        try:
            spec = _model(entry)
        except (ValueError, TypeError, KeyError) as error:
            raise ValueError(f"models[{index}]: {error}") from None
        models[spec.endpoint] = spec
    return ModelCatalogue(str(document.get("version") or "unknown"), MappingProxyType(models))


def _model(entry: dict[str, Any]) -> ModelSpec:
    endpoint = entry["endpoint"]
    if not isinstance(endpoint, str) or not endpoint.strip("/") or ".." in endpoint:
        raise ValueError(f"bad endpoint {endpoint!r}")
    if entry["output_type"] not in OUTPUT_TYPES:
        raise ValueError(f"{endpoint}: output_type must be one of {', '.join(OUTPUT_TYPES)}")
    return ModelSpec(
        endpoint=endpoint.strip("/"),
        name=str(entry.get("name") or endpoint),
        output_type=entry["output_type"],
        category=str(entry.get("category") or ""),
        params=tuple(_param(endpoint, item) for item in entry.get("params") or []),
        price=_price(entry.get("price")),
    )


def _param(endpoint: str, item: dict[str, Any]) -> ParamSpec:
    if item["type"] not in PARAM_TYPES:
        raise ValueError(f"{endpoint}: parameter {item['key']!r} has unknown type {item['type']!r}")
    options = item.get("options")
    accept = item.get("accept")
    return ParamSpec(
        key=str(item["key"]),
        type=item["type"],
        required=bool(item.get("required")),
        default=item.get("default"),
        options=None if options is None else tuple(str(option) for option in options),
        minimum=_optional_number(item.get("min")),
        maximum=_optional_number(item.get("max")),
        step=_optional_number(item.get("step")),
        accept=None if accept is None else tuple(str(ext).lower() for ext in accept),
        max_mb=_optional_number(item.get("max_mb")),
    )


def _optional_number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")
    return float(value)


def _price(raw: Any) -> ModelPrice | None:
    if not isinstance(raw, dict):
        return None
    kind = str(raw.get("kind") or "unparsed")
    amount = None if raw.get("price") is None else Decimal(str(raw["price"]))
    rules = tuple(
        PriceRule({str(k): str(v) for k, v in rule["when"].items()}, Decimal(str(rule["price"])))
        for rule in raw.get("rules") or []
    )
    return ModelPrice(
        kind, str(raw.get("currency") or "CNY"), str(raw.get("unit") or ""), amount, rules
    )
