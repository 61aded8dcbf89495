"""runninghub: run ComfyUI workflows on the RunningHub cloud from Python.

The public surface is listed in ``__all__``. Every name loads on first use (even the
exceptions and models), so that ``import runninghub`` costs nearly nothing and the command
line starts fast.
"""

from __future__ import annotations

from ._lazy import lazy_attributes
from ._lean_httpx import defer_httpx_cli
from ._version import __version__

defer_httpx_cli()  # before any module of the package imports httpx

# typing.TYPE_CHECKING without importing typing, which would double the start-up time of
# `runninghub --help` (type checkers read this spelling too).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._async_client import AsyncClient, AsyncTaskHandle
    from ._catalogue import Catalogue, ModelInfo, ModelParam, ModelPrice
    from ._client import Client, Progress, TaskHandle
    from ._directory import AiAppInfo, ApiKeyInfo, LoraUpload, Page, PricePreview, ResourceInfo
    from ._errors import (
        APIConnectionError,
        APIError,
        APIResponseError,
        APITimeoutError,
        AuthenticationError,
        CapacityError,
        ConfigError,
        ContentPolicyError,
        InsufficientFundsError,
        InvalidRequestError,
        NotFoundError,
        OutputError,
        RunningHubError,
        ServerError,
        SubmitOutcomeUnknownError,
        TaskFailedError,
        WaitTimeoutError,
    )
    from ._models import (
        Account,
        AppInput,
        NodeOverride,
        Output,
        QueueFull,
        QueueStatus,
        Task,
        TaskFailure,
        TaskStatus,
        Upload,
        Usage,
        WebhookDetail,
    )
    from ._outputs import SavedFile
    from ._policy import PollPolicy, RetryPolicy
    from ._seed_client import RunningHubClient
    from .workflow import WorkflowGraph

# name -> module that defines it, imported on first attribute access.
_LAZY = {
    "APIConnectionError": "._errors",
    "APIError": "._errors",
    "APIResponseError": "._errors",
    "APITimeoutError": "._errors",
    "AuthenticationError": "._errors",
    "CapacityError": "._errors",
    "ConfigError": "._errors",
    "ContentPolicyError": "._errors",
    "InsufficientFundsError": "._errors",
    "InvalidRequestError": "._errors",
    "NotFoundError": "._errors",
    "OutputError": "._errors",
    "RunningHubError": "._errors",
    "ServerError": "._errors",
    "SubmitOutcomeUnknownError": "._errors",
    "TaskFailedError": "._errors",
    "WaitTimeoutError": "._errors",
    "Account": "._models",
    "AppInput": "._models",
    "NodeOverride": "._models",
    "Output": "._models",
    "QueueFull": "._models",
    "QueueStatus": "._models",
    "Task": "._models",
    "TaskFailure": "._models",
    "TaskStatus": "._models",
    "Upload": "._models",
    "Usage": "._models",
    "WebhookDetail": "._models",
    "Client": "._client",
    "AsyncClient": "._async_client",
    "TaskHandle": "._client",
    "AsyncTaskHandle": "._async_client",
    "Progress": "._client",
    "SavedFile": "._outputs",
    "PollPolicy": "._policy",
    "RetryPolicy": "._policy",
    "RunningHubClient": "._seed_client",
    "WorkflowGraph": ".workflow",
    "ModelInfo": "._catalogue",
    "ModelParam": "._catalogue",
    "ModelPrice": "._catalogue",
    "Catalogue": "._catalogue",
    "ApiKeyInfo": "._directory",
    "ResourceInfo": "._directory",
    "AiAppInfo": "._directory",
    "Page": "._directory",
    "PricePreview": "._directory",
    "LoraUpload": "._directory",
    "Preset": "._presets",
    "PresetParam": "._presets",
}

# A name read once is kept in the module's globals: the next access is a plain attribute.
__getattr__ = lazy_attributes("runninghub", __name__, _LAZY, globals())


__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseError",
    "APITimeoutError",
    "Account",
    "AiAppInfo",
    "ApiKeyInfo",
    "AppInput",
    "AsyncClient",
    "AsyncTaskHandle",
    "AuthenticationError",
    "CapacityError",
    "Catalogue",
    "Client",
    "ConfigError",
    "ContentPolicyError",
    "InsufficientFundsError",
    "InvalidRequestError",
    "LoraUpload",
    "ModelInfo",
    "ModelParam",
    "ModelPrice",
    "NodeOverride",
    "NotFoundError",
    "Output",
    "OutputError",
    "Page",
    "PollPolicy",
    "Preset",
    "PresetParam",
    "PricePreview",
    "Progress",
    "QueueFull",
    "QueueStatus",
    "ResourceInfo",
    "RetryPolicy",
    "RunningHubClient",
    "RunningHubError",
    "SavedFile",
    "ServerError",
    "SubmitOutcomeUnknownError",
    "Task",
    "TaskFailedError",
    "TaskFailure",
    "TaskHandle",
    "TaskStatus",
    "Upload",
    "Usage",
    "WaitTimeoutError",
    "WebhookDetail",
    "WorkflowGraph",
    "__version__",
]
