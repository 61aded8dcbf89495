"""Checking a standard model's parameters against the catalogue, before anything is sent.

The value rules are the contract's (runninghub-api.md §13): LIST exactly one declared
option, BOOLEAN a JSON boolean, INT a JSON integer, FLOAT a JSON number within range and
step, media a URL (a list of them for plural keys such as ``imageUrls``), required keys
present, empty optional values left out. A local path given for a media key is planned for
upload (its type and size checked against ``accept`` and ``max_mb`` first) and replaced by
its ``download_url`` afterwards. Every breach is an InvalidRequestError naming the key.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ._catalogue import ModelInfo, ModelParam, wire_text
from ._errors import InvalidRequestError
from ._fields import error

Place = tuple[str, int | None]  # a media key, and its index in a list (None: a single value)

__all__ = ["ModelPlan", "check_endpoint", "list_price", "missing_params", "plan_model_params"]

# The path after /openapi/v2/: segments of letters, digits, '.', '_' and '-'.
_ENDPOINT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}(/[A-Za-z0-9][A-Za-z0-9._-]{0,99}){0,5}")
# Keys of the other v2 routes: a model endpoint must not reach them.
_RESERVED = ("run", "query", "media", "queue", "price-preview", "api-key", "resource", "aiapp")
_URL_PREFIXES = ("http://", "https://", "data:")
_BYTES_PER_MB = 1024 * 1024


def _bad(message: str, hint: str | None = None) -> InvalidRequestError:
    return error(message, hint)


def check_endpoint(value: str) -> str:
    """A model endpoint as it goes into the URL path (``vendor/model/task``)."""
    text = str(value).strip().strip("/")
    if not _ENDPOINT.fullmatch(text) or ".." in text or text.split("/")[0] in _RESERVED:
        raise _bad(f"{str(value)[:100]!r} is not a model endpoint", "see `runninghub model list`")
    return text


@dataclass(frozen=True)
class ModelPlan:
    """The body to send, and the local files to upload first: ``(key, index)`` -> path
    (``index`` None for a single value, else its place in the list)."""

    params: dict[str, Any]
    uploads: dict[Place, Path]

    def with_urls(self, urls: Mapping[Place, str]) -> dict[str, Any]:
        body = {k: list(v) if isinstance(v, list) else v for k, v in self.params.items()}
        for (key, index), url in urls.items():
            if index is None:
                body[key] = url
            else:
                body[key][index] = url
        return body


def plan_model_params(
    model: ModelInfo | None, params: Mapping[str, Any], *, complete: bool = True
) -> ModelPlan:
    """Check ``params`` against ``model`` (None: an unknown endpoint, sent unchecked except
    that ``pathlib.Path`` values are uploaded); ``complete``: every required key present."""
    if not isinstance(params, Mapping):
        raise _bad("model parameters must be a mapping of key to value")
    if model is None:
        return _unchecked({str(k): v for k, v in params.items()})
    body: dict[str, Any] = {}
    uploads: dict[Place, Path] = {}
    for key, value in params.items():
        declared = model.param(str(key))
        if declared is None:
            raise _unknown(model, str(key))
        if value is None or value in ("", []):
            continue
        uploads.update(_check_value(declared, value))
        body[declared.key] = list(value) if isinstance(value, tuple) else value
    missing = missing_params(model, body)
    if missing and complete:
        raise _bad(f"{model.endpoint}: required parameter {missing[0]!r} is missing",
                   f"set it with --set {missing[0]}=... (see `runninghub model show`)")  # fmt: skip
    return ModelPlan(body, uploads)


def missing_params(model: ModelInfo, body: Mapping[str, Any]) -> list[str]:
    """The required keys ``body`` lacks."""
    return [p.key for p in model.params if p.required and p.key not in body]


def _unchecked(body: dict[str, Any]) -> ModelPlan:
    uploads: dict[Place, Path] = {(k, None): v for k, v in body.items() if isinstance(v, Path)}
    return ModelPlan(body, uploads)


def _unknown(model: ModelInfo, key: str) -> InvalidRequestError:
    keys = [p.key for p in model.params]
    close = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
    guess = f"; did you mean {close[0]!r}?" if close else ""
    return _bad(
        f"{model.endpoint} has no parameter {key[:60]!r}{guess}",
        f"its parameters: {', '.join(keys)[:300]}",
    )


def _check_value(param: ModelParam, value: Any) -> dict[Place, Path]:
    kind = param.type
    if kind == "STRING" and not isinstance(value, str):
        raise _bad(f"{param.key} must be a string")
    if kind == "BOOLEAN" and not isinstance(value, bool):
        raise _bad(f"{param.key} must be a boolean (true or false), not {value!r}"[:120])
    if kind == "LIST":
        _check_option(param, value)
    elif kind in ("INT", "FLOAT"):
        _check_number(param, value)
    elif param.is_media:
        return _check_media(param, value)
    return {}


def _check_option(param: ModelParam, value: Any) -> None:
    if isinstance(value, str) and (not param.options or value in param.options):
        return
    shown = ", ".join(param.options[:12]) + (", ..." if len(param.options) > 12 else "")
    close = difflib.get_close_matches(str(value), param.options, n=1, cutoff=0.6)
    guess = f" (did you mean {close[0]!r}?)" if close else ""
    raise _bad(f"{param.key} must be one of: {shown}; not {str(value)[:40]!r}{guess}")


def _check_number(param: ModelParam, value: Any) -> None:
    name = "an integer" if param.type == "INT" else "a number"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(f"{param.key} must be {name}, not {str(value)[:40]!r}")
    if param.type == "INT" and not isinstance(value, int):
        raise _bad(f"{param.key} must be an integer, not {value!r}")
    if not math.isfinite(value):
        raise _bad(f"{param.key} must be a finite number")
    if param.min is not None and value < param.min:
        raise _bad(f"{param.key} must be at least {_plain(param.min)}, not {value}")
    if param.max is not None and value > param.max:
        raise _bad(f"{param.key} must be at most {_plain(param.max)}, not {value}")
    if param.step:
        steps = (value - (param.min or 0.0)) / param.step
        if abs(steps - round(steps)) > 1e-6:
            base = f" from {_plain(param.min)}" if param.min else ""
            raise _bad(f"{param.key} must go in steps of {_plain(param.step)}{base}, not {value}")


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _check_media(param: ModelParam, value: Any) -> dict[Place, Path]:
    if not param.is_list:
        return {(param.key, None): path} if (path := _media_item(param, value, param.key)) else {}
    if not isinstance(value, list | tuple):
        raise _bad(f"{param.key} takes a list of URLs or paths")
    uploads: dict[Place, Path] = {}
    for index, item in enumerate(value):
        path = _media_item(param, item, f"{param.key}[{index}]")
        if path is not None:
            uploads[(param.key, index)] = path
    return uploads


def _media_item(param: ModelParam, value: Any, name: str) -> Path | None:
    """None for a URL (sent as is), else the local file to upload, checked."""
    if isinstance(value, str) and value.startswith(_URL_PREFIXES):
        return None
    if not isinstance(value, str | os.PathLike):
        raise _bad(f"{name} must be a URL or a local file path")
    path = Path(value).expanduser()
    if not path.is_file():
        raise _bad(f"{name}: no such file {str(value)[:120]!r}", "give a URL or a local file")
    ext = path.suffix.lower().lstrip(".")
    if param.accept and ext not in param.accept:
        raise _bad(f"{name}: a .{ext or '(none)'} file is not accepted"
                   f" (accepted: {', '.join(param.accept)})")  # fmt: skip
    if param.max_mb is not None and path.stat().st_size > param.max_mb * _BYTES_PER_MB:
        raise _bad(f"{name}: {path.name} is over {_plain(param.max_mb)} MB")
    return path


def list_price(model: ModelInfo, params: Mapping[str, Any]) -> Decimal | None:
    """The catalogue's list price of one call with ``params`` (defaults filled in), or None
    when the registry cannot tell. An estimate for budgets, never billing truth."""
    price = model.price
    if price is None:
        return None
    amount = price.amount
    if price.kind == "parameter_based":
        values = {p.key: p.default for p in model.params} | dict(params)
        wanted = {key: wire_text(value) for key, value in values.items()}
        amount = next(
            (
                cost
                for when, cost in price.rules
                if all(wanted.get(k) == v for k, v in when.items())
            ),
            None,
        )
    if amount is None:
        return None
    priced_by = {k for when, _ in price.rules for k in when}
    return amount * _units(price.unit, model, dict(params), priced_by)


def _units(unit: str, model: ModelInfo, params: dict[str, Any], priced_by: set[str]) -> Decimal:
    """Seconds of video for a per-second price (unless the rules price the duration)."""
    if not unit.startswith("per second") or "duration" in priced_by:
        return Decimal(1)
    declared = model.param("duration")
    duration = params.get("duration", declared.default if declared else None)
    try:
        return max(Decimal(1), Decimal(str(duration)))
    except ArithmeticError:
        return Decimal(1)
