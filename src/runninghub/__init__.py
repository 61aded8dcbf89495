"""runninghub: run ComfyUI workflows on the RunningHub cloud from Python.

The public surface is listed in ``__all__``. Heavy modules (the HTTP client, the emulator)
load on first use so that ``import runninghub`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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
    QueueStatus,
    Task,
    TaskFailure,
    TaskStatus,
    Upload,
    Usage,
    WebhookDetail,
)
from ._version import __version__

if TYPE_CHECKING:
    from ._async_client import AsyncClient, AsyncTaskHandle
    from ._client import Client, Progress, TaskHandle
    from ._outputs import SavedFile
    from ._policy import PollPolicy, RetryPolicy
    from ._seed_client import RunningHubClient
    from .workflow import WorkflowGraph


# name -> module that defines it, imported on first attribute access.
_LAZY = {
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
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'runninghub' has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)


__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseError",
    "APITimeoutError",
    "Account",
    "AppInput",
    "AsyncClient",
    "AsyncTaskHandle",
    "AuthenticationError",
    "CapacityError",
    "Client",
    "ConfigError",
    "ContentPolicyError",
    "InsufficientFundsError",
    "InvalidRequestError",
    "NodeOverride",
    "NotFoundError",
    "Output",
    "OutputError",
    "PollPolicy",
    "Progress",
    "QueueStatus",
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
