"""The methods both faces offer, listed once: which flow each public method runs.

``Client`` and ``AsyncClient`` (and their task handles) inherit these tables. Each entry is a
descriptor that asks the face it is read from for that face's method, built once per face
class: a blocking one on ``Client``, a coroutine function on ``AsyncClient``. The overloads
of ``__get__`` give type checkers and editors each face's own signature, so a new operation
is one line here and nothing in the faces.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from . import _download_flow, _flows, _handle, _model_flows, _preset_flow, _webhook_flow
from ._core import ClientCore
from ._handle import HandleCore
from ._models import Task
from ._steps import Flow

if TYPE_CHECKING:
    from ._async_client import AsyncClient, AsyncTaskHandle
    from ._client import Client, TaskHandle

__all__ = ["ClientSurface", "HandleSurface", "MethodOf"]

P = ParamSpec("P")
T = TypeVar("T")

# How a face turns a flow into its method: (flow, hands back a task handle) -> function.
MethodOf = Callable[[Callable[..., Flow[Any]], bool], Callable[..., Any]]


class _Offered:
    """A flow offered by every face; each face class builds its own method for it once."""

    hands_back_a_handle = False

    def __init__(self, flow: Callable[..., Flow[Any]]) -> None:
        self.flow = flow
        self._methods: dict[type[Any], Callable[..., Any]] = {}

    def method_for(self, face_class: type[Any]) -> Callable[..., Any]:
        method = self._methods.get(face_class)
        if method is None:
            method_of: MethodOf = face_class._method_of
            method = self._methods[face_class] = method_of(self.flow, self.hands_back_a_handle)
        return method

    def bound(self, face: Any, face_class: type[Any]) -> Any:
        method = self.method_for(face_class)
        return method if face is None else types.MethodType(method, face)


class Offered(_Offered, Generic[P, T]):
    """A flow answering ``T``: a blocking method on ``Client``, a coroutine on ``AsyncClient``."""

    def __init__(self, flow: Callable[Concatenate[Any, P], Flow[T]]) -> None:
        super().__init__(flow)

    @overload
    def __get__(self, face: None, face_class: type[Any]) -> Callable[..., Any]: ...
    @overload
    def __get__(self, face: Client | TaskHandle, face_class: type[Any]) -> Callable[P, T]: ...
    @overload
    def __get__(
        self, face: AsyncClient | AsyncTaskHandle, face_class: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def __get__(self, face: Any, face_class: type[Any]) -> Any:
        return self.bound(face, face_class)


class Submitting(_Offered, Generic[P]):
    """A submitting flow: the method hands back the face's own task handle."""

    hands_back_a_handle = True

    def __init__(self, flow: Callable[Concatenate[Any, P], Flow[Task]]) -> None:
        super().__init__(flow)

    @overload
    def __get__(self, face: None, face_class: type[Any]) -> Callable[..., Any]: ...
    @overload
    def __get__(self, face: Client, face_class: type[Any]) -> Callable[P, TaskHandle]: ...
    @overload
    def __get__(
        self, face: AsyncClient, face_class: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, AsyncTaskHandle]]: ...
    def __get__(self, face: Any, face_class: type[Any]) -> Any:
        return self.bound(face, face_class)


class ClientSurface(ClientCore):
    """What a client offers; ``Client`` and ``AsyncClient`` say only how to run a flow."""

    # Submitting and running.
    upload = Offered(_flows.upload)
    submit = Submitting(_flows.submit)
    submit_app = Submitting(_flows.submit_app)
    run = Offered(_flows.run)
    run_app = Offered(_flows.run_app)
    run_preset = Offered(_preset_flow.run_preset)
    presets = Offered(_preset_flow.presets)
    # One task.
    query = Offered(_flows.query)
    outputs = Offered(_flows.outputs)
    cancel = Offered(_flows.cancel)
    webhook_detail = Offered(_webhook_flow.webhook_detail)
    retry_webhook = Offered(_webhook_flow.retry_webhook)
    retry_task_webhook = Offered(_webhook_flow.retry_task_webhook)
    download = Offered(_download_flow.download)
    # The account and the graphs.
    account = Offered(_flows.account)
    queue_status = Offered(_flows.queue_status)
    workflow_graph = Offered(_flows.workflow_graph)
    app_inputs = Offered(_flows.app_inputs)
    # Standard models and the lists.
    models = Offered(_model_flows.models)
    model = Offered(_model_flows.model)
    submit_model = Submitting(_model_flows.submit_model)
    run_model = Offered(_model_flows.run_model)
    model_price = Offered(_model_flows.model_price)
    upload_lora = Offered(_model_flows.upload_lora)
    api_keys = Offered(_model_flows.api_keys)
    resources = Offered(_model_flows.resources)
    ai_apps = Offered(_model_flows.ai_apps)


class HandleSurface(HandleCore):
    """What a task handle offers, on both faces."""

    refresh = Offered(_handle.refresh)
    wait = Offered(_handle.wait)
    cancel = Offered(_handle.cancel)
    download = Offered(_handle.download)
