"""Checking a standard-model body against the catalogue, and its list price.

The value rules are the contract's (runninghub-api.md §13): LIST exactly one declared
option, BOOLEAN a JSON boolean, INT a JSON integer, FLOAT a JSON number, media a URL (a
list of URLs for plural keys), required parameters present, empty optional values omitted.
Any breach is ``ApiProblem(INVALID_PARAMETER)`` naming the parameter; nothing is created.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from .model_catalogue import ModelSpec, ParamSpec
from .wire import ApiProblem, Problem

# Submit options a model body may carry besides its parameters (never model inputs).
SUBMIT_OPTIONS = ("webhookUrl", "usePersonalQueue", "retainSeconds", "instanceType")
# The size in bytes of a media URL, when the emulator knows it (its own uploads), else None.
SizeOf = Callable[[str], int | None]
_BYTES_PER_MB = 1024 * 1024


def _bad(detail: str) -> ApiProblem:
    return ApiProblem(Problem.INVALID_PARAMETER, detail)


def check_params(spec: ModelSpec, body: dict[str, Any], size_of: SizeOf) -> dict[str, Any]:
    """The model's parameters from ``body`` (options and empty values dropped), checked."""
    params: dict[str, Any] = {}
    for key, value in body.items():
        declared = spec.param(key)
        if declared is None:
            if key in SUBMIT_OPTIONS:
                continue
            raise _bad(f"unknown parameter {key!r} for {spec.endpoint}")
        if value is None or value in ("", []):
            continue
        _check_value(declared, value, size_of)
        params[key] = value
    missing = [item.key for item in spec.params if item.required and item.key not in params]
    if missing:
        raise _bad(f"required parameter {missing[0]!r} is missing")
    return params


def _check_value(spec: ParamSpec, value: Any, size_of: SizeOf) -> None:
    kind = spec.type
    if kind == "STRING" and not isinstance(value, str):
        raise _bad(f"{spec.key} must be a string")
    if kind == "BOOLEAN" and not isinstance(value, bool):
        raise _bad(f"{spec.key} must be a JSON boolean (true or false)")
    if kind == "LIST":
        _check_option(spec, value)
    elif kind in ("INT", "FLOAT"):
        _check_number(spec, value)
    elif kind in ("IMAGE", "VIDEO", "AUDIO"):
        _check_media(spec, value, size_of)


def _check_option(spec: ParamSpec, value: Any) -> None:
    options = spec.options or ()
    if not isinstance(value, str) or (options and value not in options):
        shown = ", ".join(options[:12]) + (", ..." if len(options) > 12 else "")
        raise _bad(f"{spec.key} must be one of: {shown}")


def _check_number(spec: ParamSpec, value: Any) -> None:
    if spec.type == "INT" and (isinstance(value, bool) or not isinstance(value, int)):
        raise _bad(f"{spec.key} must be a JSON integer")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _bad(f"{spec.key} must be a JSON number")
    if spec.minimum is not None and value < spec.minimum:
        raise _bad(f"{spec.key} must be at least {_plain(spec.minimum)}")
    if spec.maximum is not None and value > spec.maximum:
        raise _bad(f"{spec.key} must be at most {_plain(spec.maximum)}")
    if spec.step:
        steps = (value - (spec.minimum or 0.0)) / spec.step
        if abs(steps - round(steps)) > 1e-6:
            raise _bad(f"{spec.key} must be a multiple of {_plain(spec.step)}")


def _plain(number: float) -> str:
    return str(int(number)) if number.is_integer() else str(number)


def _check_media(spec: ParamSpec, value: Any, size_of: SizeOf) -> None:
    if spec.is_list:
        if not isinstance(value, list):
            raise _bad(f"{spec.key} must be a list of URLs")
        for index, item in enumerate(value):
            _check_url(spec, item, f"{spec.key}[{index}]", size_of)
    else:
        _check_url(spec, value, spec.key, size_of)


def _check_url(spec: ParamSpec, value: Any, name: str, size_of: SizeOf) -> None:
    if not isinstance(value, str) or not value.startswith(("http://", "https://", "data:")):
        raise _bad(f"{name} must be a URL (upload a local file first and send its download_url)")
    ext = _extension(value)
    if spec.accept and ext and ext not in spec.accept:
        raise _bad(f"{name}: file type {ext} not accepted (accepted: {', '.join(spec.accept)})")
    size = size_of(value)
    if spec.max_mb is not None and size is not None and size > spec.max_mb * _BYTES_PER_MB:
        raise _bad(f"{name}: file over {_plain(spec.max_mb)} MB")


def _extension(url: str) -> str:
    if url.startswith("data:"):
        mime = url[5:].split(";", 1)[0].split(",", 1)[0]
        return mime.rpartition("/")[2].lower()
    last = urlsplit(url).path.rsplit("/", 1)[-1]
    return last.rpartition(".")[2].lower() if "." in last else ""


def list_price(spec: ModelSpec, params: dict[str, Any]) -> Decimal | None:
    """The catalogue's list price of one call with ``params``; None when it cannot tell."""
    price = spec.price
    if price is None:
        return None
    amount = price.amount
    if price.kind == "parameter_based":
        values = {item.key: item.default for item in spec.params} | params
        wanted = {key: _rule_value(value) for key, value in values.items()}
        rule = next(
            (r for r in price.rules if all(wanted.get(k) == v for k, v in r.when.items())), None
        )
        amount = None if rule is None else rule.price
    if amount is None:
        return None
    return amount * _units(price.unit, params, spec, {k for r in price.rules for k in r.when})


def _units(unit: str, params: dict[str, Any], spec: ModelSpec, priced_by: set[str]) -> Decimal:
    """How many units a call uses: seconds of video for per-second prices, else one."""
    if not unit.startswith("per second") or "duration" in priced_by:
        return Decimal(1)
    duration = params.get("duration", getattr(spec.param("duration"), "default", None))
    try:
        return max(Decimal(1), Decimal(str(duration)))
    except ArithmeticError:
        return Decimal(1)


def _rule_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
