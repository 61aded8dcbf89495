"""Model presets: a standard model's endpoint, fixed parameters and open ones, from the catalogue.

A model preset is checked like a model run: its settings against the catalogue's rules, each
exposed key against the model's parameters (a typo gets suggestions), and every required
parameter must be either set or exposed, so that a preset that can never run is refused when
it is added. An open parameter takes its type, default, options and a description of its
limits from the catalogue. One item of a list parameter (``imageUrls``) is addressed as
``imageUrls[0]``; :func:`model_body` folds such addresses back into lists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._catalogue import ModelInfo, ModelParam
from ._fields import FieldKind, closest, did_you_mean, error
from ._model_checks import plan_model_params
from ._presets import Preset, PresetParam, check_name, exposed_params

__all__ = ["build_model_preset", "model_body"]

_INDEXED = re.compile(r"(?P<key>[A-Za-z0-9_]+)\[(?P<index>\d{1,2})\]\Z")
_KINDS = {
    "STRING": FieldKind.STRING,
    "LIST": FieldKind.LIST,
    "BOOLEAN": FieldKind.BOOL,
    "INT": FieldKind.INT,
    "FLOAT": FieldKind.FLOAT,
}
_URL_PREFIXES = ("http://", "https://", "data:")


def build_model_preset(
    name: str,
    model: ModelInfo,
    *,
    settings: Mapping[str, Any],
    exposed: Mapping[str, str],
    description: str = "",
) -> Preset:
    """A preset of ``model``; ``settings`` are parameter values, ``exposed`` maps keys
    (``imageUrls[0]`` for one item of a list) to the names of the open parameters."""
    check_name(name)
    fixed = {key: _stored(model, key, value) for key, value in settings.items()}
    plan_model_params(model, model_body(fixed), complete=False)  # the catalogue's rules
    params = exposed_params(exposed, lambda at, key: _exposed_param(model, at, key, fixed))
    covered = set(model_body(fixed)) | {_split(p.address)[0] for p in params}
    missing = [p.key for p in model.params if p.required and p.key not in covered]
    if missing:
        raise error(
            f"{model.endpoint} needs {', '.join(missing)}: neither set nor exposed",
            f"add --set {missing[0]}=VALUE or --expose {missing[0]}=NAME",
        )
    return Preset(name, "model", model.endpoint, fixed, params, description)


def model_body(values: Mapping[str, Any]) -> dict[str, Any]:
    """A preset's values as a model's parameters: ``key[i]`` entries become list items."""
    body: dict[str, Any] = {}
    items: list[tuple[str, int, Any]] = []
    for address, value in values.items():
        key, index = _split(address)
        if index is None:
            body[key] = value
        else:
            items.append((key, index, value))
    for key, index, value in sorted(items, key=lambda item: item[:2]):
        held = body.get(key)
        listed = list(held) if isinstance(held, list | tuple) else [] if held is None else [held]
        if index < len(listed):
            listed[index] = value
        else:
            listed.append(value)
        body[key] = listed
    return body


def _split(address: str) -> tuple[str, int | None]:
    found = _INDEXED.match(address)
    return (found["key"], int(found["index"])) if found else (address, None)


def _declared(model: ModelInfo, key: str) -> ModelParam:
    declared = model.param(key)
    if declared is None:
        keys = [p.key for p in model.params]
        raise error(
            f"{model.endpoint} has no parameter {key!r}",
            did_you_mean(closest(key, keys)) or f"its parameters: {', '.join(keys)}",
        )
    return declared


def _stored(model: ModelInfo, key: str, value: Any) -> Any:
    """A setting as the file keeps it: a local media path made absolute (the preset may be
    run from anywhere); a ``pathlib.Path`` as its text."""
    declared = _declared(model, _split(key)[0])
    if not declared.is_media:
        return value
    if isinstance(value, list | tuple):
        return [_stored(model, key, item) for item in value]
    if isinstance(value, str) and value.startswith(_URL_PREFIXES):
        return value
    return str(Path(value).expanduser().absolute()) if isinstance(value, str | Path) else value


def _exposed_param(model: ModelInfo, address: str, name: str, fixed: dict[str, Any]) -> PresetParam:
    key, index = _split(address.strip())
    declared = _declared(model, key)
    if declared.is_list and index is None:
        index = 0  # one item of the list: the common case of "the input image"
    elif index is not None and not declared.is_list:
        raise error(f"{key} takes one value, not a list: expose it as {key}")
    address = key if index is None else f"{key}[{index}]"
    # A required key's catalogue "default" is the registry's example, not a value to send.
    example = declared.required or index is not None
    default = fixed.pop(address, None if example else declared.default)
    if not isinstance(default, str | int | float | bool):
        default = None
    kind = FieldKind.MEDIA if declared.is_media else _KINDS.get(declared.type, FieldKind.STRING)
    choices = declared.options if kind is FieldKind.LIST else ()
    return PresetParam(name, address, kind.value, default, choices, _describe(model, declared))


def _describe(model: ModelInfo, declared: ModelParam) -> str:
    """What the catalogue says of a parameter (it has no prose: its limits are the text)."""
    limits = []
    if declared.min is not None or declared.max is not None:
        limits.append(f"{_plain(declared.min)}..{_plain(declared.max)}")
    if declared.step is not None:
        limits.append(f"step {_plain(declared.step)}")
    if declared.accept:
        limits.append(f"{', '.join(declared.accept)} files")
    if declared.max_mb is not None:
        limits.append(f"up to {_plain(declared.max_mb)} MB")
    detail = f" ({'; '.join(limits)})" if limits else ""
    return f"{declared.key} ({declared.type.lower()}) of {model.endpoint}{detail}"


def _plain(number: float | None) -> str:
    if number is None:
        return ""
    return str(int(number)) if float(number).is_integer() else str(number)
