"""The flows of standard models, LoRA uploads and the account's lists, written once.

Like ``_flows.py``: each public flow becomes a method of both faces, its docstring the
documentation of both. A model call is checked against the catalogue before anything is
sent; its local media files are uploaded first and replaced by their ``download_url``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, TypeVar, Unpack

from ._catalogue import ModelInfo
from ._core import ClientCore
from ._directory import AiAppInfo, ApiKeyInfo, Page, PricePreview, ResourceInfo
from ._errors import APIResponseError, AuthenticationError, NotFoundError
from ._fields import error
from ._flows import _recorded_submit, call, finish, upload, upload_lora
from ._model_checks import (
    ModelPlan,
    check_endpoint,
    list_price,
    missing_params,
    plan_model_params,
)
from ._models import Task
from ._options import ModelKeywords, RunModelKeywords, SubmitOptions, run_options, submit_options
from ._steps import Flow
from ._uploads import check_media_files

__all__ = [
    "ai_apps",
    "api_keys",
    "model",
    "model_price",
    "models",
    "resources",
    "run_model",
    "submit_model",
    "upload_lora",  # written in _flows: workflow submits use it for RHLoraLoader files
]

T = TypeVar("T")
ModelParams = Mapping[str, Any] | None
logger = logging.getLogger("runninghub")


def _local(value: T) -> Flow[T]:
    """A flow that needs no I/O (the catalogue is local), so that both faces drive it alike."""
    return value
    yield  # a generator, never reached


# ---------------------------------------------------------------------- the catalogue


def models(
    client: ClientCore,
    *,
    type: str | None = None,
    category: str | None = None,
    search: str | None = None,
) -> Flow[list[ModelInfo]]:
    """The catalogue's models, by output type (``image video audio 3d string``), category
    and a text found in the endpoint, name or category (all any case)."""
    return (
        yield from _local(client._catalogue().search(type=type, category=category, text=search))
    )


def model(client: ClientCore, endpoint: str) -> Flow[ModelInfo]:
    """One model of the catalogue, with its parameters and price rules.

    Raises InvalidRequestError for an endpoint the catalogue does not know (with the
    closest ones it does).
    """
    return (yield from _local(client._catalogue().require(check_endpoint(endpoint))))


def _known(client: ClientCore, endpoint: str) -> ModelInfo | None:
    return client._catalogue().get(endpoint)


# ---------------------------------------------------------------------- submit and run


def submit_model(
    client: ClientCore, endpoint: str, params: ModelParams = None, **options: Unpack[ModelKeywords]
) -> Flow[Task]:
    """Start a standard model (``"rhart-image-n-pro/text-to-image"``) with its parameters.

    The parameters are checked against the catalogue first (unknown keys, required ones,
    options, ranges, steps, booleans, file types and sizes); a local path for an image,
    video or audio parameter is uploaded and replaced by its URL (a list of paths for
    ``...Urls`` keys). An endpoint the catalogue does not know is sent unchecked, with a
    warning. Needs an enterprise key (``AuthenticationError``, code 1014, otherwise).
    """
    submitting = submit_options("submit_model", ModelKeywords, options)
    return (yield from submit_standard_model(client, endpoint, params, submitting))


def submit_standard_model(
    client: ClientCore, endpoint: str, params: ModelParams, options: SubmitOptions
) -> Flow[Task]:
    name = check_endpoint(endpoint)
    plan = _plan(client, name, params or {}, options.validate)
    urls = {}
    check_media_files(plan.uploads.values())
    for place, path in plan.uploads.items():
        sent = yield from upload(client, path)
        if not sent.download_url:
            raise APIResponseError(f"the upload of {path.name} gave no download_url", raw=sent.raw)
        urls[place] = sent.download_url
    body = plan.with_urls(urls)
    op = client._op_submit_model(name, body, options)
    return (yield from _recorded_submit(client, ("model", name), body, [], op))


def _plan(
    client: ClientCore, endpoint: str, params: Mapping[str, Any], validate: bool | None
) -> ModelPlan:
    checking = client.validate if validate is None else validate
    known = _known(client, endpoint) if checking else None
    if checking and known is None:
        logger.warning(
            "%s is not in the model catalogue (%s): sent unchecked",
            endpoint,
            client._catalogue().version,
        )
    return plan_model_params(known, params)


def run_model(
    client: ClientCore,
    endpoint: str,
    params: ModelParams = None,
    **options: Unpack[RunModelKeywords],
) -> Flow[Task]:
    """``submit_model``, wait and (with ``out_dir``) download, as ``run`` does for workflows.

    A model that answers SUCCESS with its results on submit is done without polling.
    """
    submitting, waiting, saving = run_options("run_model", RunModelKeywords, options)
    again = functools.partial(submit_standard_model, client, endpoint, params, submitting)
    return (yield from finish(client, again, waiting, saving))


def model_price(
    client: ClientCore, endpoint: str, params: ModelParams = None, *, preview: bool = True
) -> Flow[PricePreview]:
    """What one call would cost: the catalogue's list price for these parameters (defaults
    for the rest), and (with ``preview``) the service's own estimate when the key may ask
    and every required parameter is given. Nothing is run."""
    name = check_endpoint(endpoint)
    known = client._catalogue().require(name)
    plan = plan_model_params(known, params or {}, complete=False)
    listed = list_price(known, plan.params)
    price = known.price
    base = PricePreview(
        endpoint=name,
        list_price=listed,
        currency=price.currency if price else "CNY",
        unit=price.unit if price else "",
    )
    if not preview:
        return base
    if plan.uploads:
        return _with_note(base, "no service estimate: media given as local files (give URLs)")
    missing = missing_params(known, plan.params)
    if missing:
        return _with_note(base, f"no service estimate: set the required {', '.join(missing)}")
    try:
        asked = yield from call(client, client._op_price_preview(name, plan.params))
    except (AuthenticationError, NotFoundError) as exc:
        return _with_note(base, f"no service estimate: {exc.hint or exc.message}")
    return _merged(base, asked)


def _with_note(base: PricePreview, note: str) -> PricePreview:
    return replace(base, note=note)


def _merged(base: PricePreview, asked: PricePreview) -> PricePreview:
    return replace(
        base,
        currency=asked.currency or base.currency,
        estimated=asked.estimated,
        price_text=asked.price_text,
        free_this_call=asked.free_this_call,
    )


# ---------------------------------------------------------------------- LoRA and lists


def api_keys(client: ClientCore) -> Flow[list[ApiKeyInfo]]:
    """The account's API keys (masked, as the service lists them), with quota and expiry."""
    return (yield from call(client, client._op_api_keys()))


def resources(
    client: ClientCore,
    *,
    type: str | None = None,
    name: str | None = None,
    page: int = 1,
    size: int = 20,
) -> Flow[Page[ResourceInfo]]:
    """One page of the model files one may load (``type``: UNET, CHECKPOINT, LORA, GGUF),
    filtered by a name; ``page`` counts from 1, ``size`` at most 50."""
    _check_page(page, size)
    return (yield from call(client, client._op_resources(type, name, page, size)))


def ai_apps(
    client: ClientCore, *, page: int = 1, size: int = 20, sort: str = "RECOMMEND"
) -> Flow[Page[AiAppInfo]]:
    """One page of the public AI apps (``sort``: RECOMMEND, HOTTEST, ...)."""
    _check_page(page, size)
    return (yield from call(client, client._op_ai_apps(page, size, sort.upper())))


def _check_page(page: int, size: int) -> None:
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise error(f"page must be a whole number from 1, not {page!r}")
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 50:
        raise error(f"page size must be 1-50, not {size!r}")
