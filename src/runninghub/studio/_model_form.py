"""A standard model's run form, built from its catalogue entry, and its checks.

The fields come from the model's parameter schema (types, options, defaults, ranges, file
types); the checks are the SDK's own (``plan_model_params``), run one parameter at a time so
that each error lands beside its field. The page sends typed JSON values (numbers, booleans),
as the checks expect; a media field holds the URL of a file dropped on it and uploaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runninghub import InvalidRequestError, ModelInfo, ModelParam
from runninghub._support import missing_params, plan_model_params

from ._views import FormField, as_text, one_line

__all__ = ["check_model", "model_fields", "model_values"]

_KINDS = {"STRING": "string", "LIST": "list", "BOOLEAN": "bool", "INT": "int", "FLOAT": "float"}
_URLS = ("http://", "https://")


def model_fields(model: ModelInfo, filled: Mapping[str, Any] | None = None) -> list[FormField]:
    """One field per parameter, required ones first; ``filled`` wins over the defaults."""
    filled = filled or {}
    ordered = sorted(model.params, key=lambda p: not p.required)
    return [_field(param, filled.get(param.key, param.default)) for param in ordered]


def _field(param: ModelParam, value: Any) -> FormField:
    kind = "media" if param.is_media else _KINDS.get(param.type, "string")
    if isinstance(value, list):  # a plural media key: the form holds its first URL
        value = value[0] if value else None
    return FormField(
        address=param.key,
        label=param.key,
        kind=kind,
        value=as_text(value),
        default=as_text(param.default),
        options=param.options,
        description=_describe(param),
        input_type="number" if kind in ("int", "float") else "text",
        step=_number(param.step) if param.step else ("1" if kind == "int" else "any"),
        minimum=_number(param.min),
        maximum=_number(param.max),
        required=param.required,
        upload_as="download_url",
    )


def _describe(param: ModelParam) -> str | None:
    """The schema's limits in words: the catalogue carries no descriptions of its own."""
    parts = []
    if param.min is not None or param.max is not None:
        parts.append(f"from {_number(param.min) or '…'} to {_number(param.max) or '…'}")
    if param.step and param.type == "FLOAT":
        parts.append(f"in steps of {_number(param.step)}")
    if param.is_media:
        parts.append(f"a {param.type.lower()} file dropped here")
    if param.accept:
        parts.append(f"accepts {', '.join(param.accept)}")
    if param.max_mb is not None:
        parts.append(f"up to {_number(param.max_mb)} MB")
    return "; ".join(parts) or None


def model_values(model: ModelInfo, sent: Mapping[str, Any]) -> dict[str, Any]:
    """The page's values as the model's parameters: a plural media key takes a list."""
    values: dict[str, Any] = {}
    for key, value in sent.items():
        param = model.param(key)
        plural = param is not None and param.is_list and isinstance(value, str)
        values[key] = ([value] if value else []) if plural else value
    return values


def check_model(model: ModelInfo, values: Mapping[str, Any]) -> dict[str, str]:
    """Each parameter checked alone by the SDK, then the required ones: key -> one line."""
    errors: dict[str, str] = {}
    for key, value in values.items():
        try:
            plan = plan_model_params(model, {key: value}, complete=False)
        except InvalidRequestError as exc:
            errors[key] = one_line(exc)
            continue
        if plan.uploads or _names_a_path(model.param(key), value):
            errors[key] = "a local path: drop the file on the field instead"
    given = {k: v for k, v in values.items() if k not in errors and v not in (None, "", [])}
    for key in missing_params(model, given):
        errors.setdefault(key, f"{key} is required")
    return errors


def _names_a_path(param: ModelParam | None, value: Any) -> bool:
    """A media value that is not a URL would be read from this machine: the page may not."""
    if param is None or not param.is_media:
        return False
    items = value if isinstance(value, list) else [value]
    return any(isinstance(item, str) and item and not item.startswith(_URLS) for item in items)


def _number(value: float | None) -> str | None:
    if value is None:
        return None
    return str(int(value)) if float(value).is_integer() else str(value)
