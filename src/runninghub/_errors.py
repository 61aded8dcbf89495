"""The exception tree, and the one table that maps every RunningHub code to a class.

Callers act on meaning, not on numbers: ``CapacityError`` means "nothing was created, try
again later", ``TaskFailedError`` means "the task ran and failed", and so on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._models import Task, TaskFailure

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseError",
    "APITimeoutError",
    "AuthenticationError",
    "CapacityError",
    "ConfigError",
    "ContentPolicyError",
    "InsufficientFundsError",
    "InvalidRequestError",
    "NotFoundError",
    "OutputError",
    "RunningHubError",
    "ServerError",
    "SubmitOutcomeUnknownError",
    "TaskFailedError",
    "WaitTimeoutError",
    "Wording",
    "error_for_code",
    "error_for_status",
]


@dataclass(frozen=True)
class Wording:
    """One meaning in two wordings: the SDK's (Python names) and the CLI's (flags, commands).

    A message or a hint that names no option of either face is the same text twice; one
    that does ("pass api_key=...", "--api-key-file") says it once per face, so the command
    line never tells a shell user to pass a Python keyword.
    """

    sdk: str
    cli: str

    @classmethod
    def of(cls, text: str | Wording) -> Wording:
        return text if isinstance(text, Wording) else cls(text, text)


class RunningHubError(Exception):
    """Base of every error this package raises."""

    def __init__(self, message: str | Wording, *, hint: str | Wording | None = None) -> None:
        self.wording = Wording.of(message)
        self.hint_wording = None if hint is None else Wording.of(hint)
        # The SDK's words: what str() shows, and what to do (None when the library knows not).
        self.message = self.wording.sdk
        self.hint = self.hint_wording.sdk if self.hint_wording else None
        super().__init__(self.message)

    @property
    def cli_message(self) -> str:
        """The message in the command line's words."""
        return self.wording.cli

    @property
    def cli_hint(self) -> str | None:
        """The hint in the command line's words (flags and commands, not keywords)."""
        return self.hint_wording.cli if self.hint_wording else None

    def __str__(self) -> str:
        return self.message


class ConfigError(RunningHubError):
    """The client cannot be configured: no key, a malformed key, a bad site or base URL."""


class OutputError(RunningHubError):
    """An output cannot be saved safely (hostile name, foreign host, oversized body...).

    ``task_id`` names the finished task whose outputs these were, when known: it is paid for,
    and its outputs can be fetched again later.
    """

    def __init__(
        self,
        message: str | Wording,
        *,
        hint: str | Wording | None = None,
        task_id: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.task_id = task_id


class APIError(RunningHubError):
    """The API refused a request or could not be reached.

    ``code`` is the RunningHub code as a string (``"421"``, ``"1004"``), or ``None`` when the
    failure happened below the API (connection, HTTP status, unreadable body).
    """

    def __init__(  # noqa: PLR0913 - the public exception: each field is a keyword
        self,
        message: str | Wording,
        *,
        code: str | None = None,
        hint: str | Wording | None = None,
        task_id: str | None = None,
        http_status: int | None = None,
        raw: Any = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.code = code
        self.task_id = task_id
        self.http_status = http_status
        self.raw = raw

    def __str__(self) -> str:
        prefix = f"[{self.code}] " if self.code else ""
        return f"{prefix}{self.message}"


class AuthenticationError(APIError):
    """The key was refused (bad, disabled, expired, or from the other site)."""


class InvalidRequestError(APIError):
    """The request itself is wrong (bad parameters, nodeInfoList mismatch, bad prompt)."""


class NotFoundError(APIError):
    """The workflow, app, task or webhook does not exist (on this site)."""


class CapacityError(APIError):
    """The account or the service is at capacity; nothing was created, retry later."""


class InsufficientFundsError(APIError):
    """The balance is too low to run the task."""


class ContentPolicyError(APIError):
    """The input or output was rejected by content moderation."""


class ServerError(APIError):
    """The service failed on its side (5xx or an internal error code); transient."""


class APIConnectionError(APIError):
    """The service could not be reached, or the connection broke."""


class APITimeoutError(APIConnectionError):
    """The service did not answer in time."""


class APIResponseError(APIError):
    """The service answered something the contract does not allow (not JSON, wrong shape)."""


class SubmitOutcomeUnknownError(APIError):
    """A submit was sent but its answer was lost: a task may or may not exist.

    The client never resubmits in this case (that could bill twice). ``fingerprint`` is the
    submit's input hash (``_protocol.submit_input_hash``): a SHA-256 over the endpoint and
    the body without the key, equal for two submits of the same inputs, so that a caller can
    match the lost submit against the tasks that later appear.
    """

    def __init__(
        self, message: str | Wording, *, fingerprint: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.fingerprint = fingerprint


class TaskFailedError(RunningHubError):
    """The task ran and failed (or was cancelled). ``task`` holds the final state."""

    def __init__(self, task: Task, *, hint: str | Wording | None = None) -> None:
        self.task = task
        self.task_id = task.task_id
        self.failure: TaskFailure | None = task.failure
        super().__init__(_describe_failure(task), hint=hint)


class WaitTimeoutError(RunningHubError):
    """Waiting for a task ran past its deadline. The task may still be running (and billing)."""

    def __init__(
        self, task_id: str, *, timeout: float, last_status: str | None, cancelled: bool = False
    ) -> None:
        self.task_id = task_id
        self.timeout = timeout
        self.last_status = last_status
        self.cancelled = cancelled
        state = " and was cancelled" if cancelled else f" (still {last_status or 'pending'})"
        super().__init__(
            f"task {task_id} did not finish within {timeout:g} s{state}",
            hint=None if cancelled else _resume_hint(task_id),
        )


def _resume_hint(task_id: str) -> Wording:
    return Wording(
        f"resume with: client.task({task_id!r}).wait()", f"resume with: runninghub wait {task_id}"
    )


def _describe_failure(task: Task) -> str:
    failure = task.failure
    if task.status.value == "CANCEL":
        return f"task {task.task_id} was cancelled"
    if failure is None:
        detail = task.error_message or "no reason given"
        return f"task {task.task_id} failed: {detail}"
    where = failure.node_name or failure.node_id or "unknown node"
    if failure.node_id and failure.node_name:
        where = f"node {failure.node_id} ({failure.node_name})"
    what = ": ".join(p for p in (failure.exception_type, failure.exception_message) if p)
    return f"task {task.task_id} failed at {where}: {what or 'no reason given'}"


@dataclass(frozen=True)
class _Mapping:
    cls: type[APIError]
    hint: str | Wording | None = None


_KEY_HINT = "check the API key and the site (www.runninghub.cn and .ai keys do not cross)"
_RETRY_HINT = "the account is at its concurrency limit; retry when a running task ends"
_NODE_HINT = Wording(
    "check node ids and field names with client.workflow_graph(WORKFLOW_ID) (values go in"
    " fieldValue)",
    "check node ids and field names with `runninghub nodes WORKFLOW_ID` (values go in fieldValue)",
)
_FUNDS_HINT = "top up the account balance"

# One table for every documented code, v1 (`code`) and v2 (`errorCode`) alike.
CODE_TABLE: dict[str, _Mapping] = {
    # authentication and permission
    "-1": _Mapping(AuthenticationError, _KEY_HINT),
    "401": _Mapping(AuthenticationError, _KEY_HINT),
    "412": _Mapping(AuthenticationError, _KEY_HINT + "; also check the base URL and path"),
    "436": _Mapping(AuthenticationError, "the exclusive membership has expired"),
    "801": _Mapping(AuthenticationError, "free accounts cannot use the API"),
    "802": _Mapping(AuthenticationError, _KEY_HINT),
    "806": _Mapping(AuthenticationError, _KEY_HINT),
    "811": _Mapping(AuthenticationError, _KEY_HINT),
    "1002": _Mapping(AuthenticationError, _KEY_HINT),
    "1014": _Mapping(
        AuthenticationError, "standard models need an enterprise key (SHARED or EXCLUSIVE)"
    ),
    # the request is wrong
    "301": _Mapping(InvalidRequestError, "a parameter is missing or invalid"),
    "433": _Mapping(InvalidRequestError, "ComfyUI rejected the prompt; see the node errors"),
    "435": _Mapping(InvalidRequestError, "48 GB machines need instance 'plus'"),
    "803": _Mapping(InvalidRequestError, _NODE_HINT),
    "809": _Mapping(InvalidRequestError, "files over 30 MB must be passed as a URL"),
    "810": _Mapping(InvalidRequestError, "save the workflow and run it once on the website first"),
    "1001": _Mapping(InvalidRequestError, "check the base URL"),
    "1007": _Mapping(InvalidRequestError, "the request body was rejected"),
    "1008": _Mapping(InvalidRequestError, "files over 30 MB must be passed as a URL"),
    "1009": _Mapping(InvalidRequestError, "wrong HTTP method for this endpoint"),
    "1101": _Mapping(InvalidRequestError, "the workflow's node data could not be parsed"),
    "40310": _Mapping(
        InvalidRequestError,
        Wording(
            "this model is not offered on .cn; use site='ai'",
            "this model is not offered on .cn; use --site ai",
        ),
    ),
    # not found
    "1": _Mapping(NotFoundError),
    "380": _Mapping(NotFoundError, "check the workflow id and the site"),
    "423": _Mapping(NotFoundError, "check the task id"),
    "807": _Mapping(NotFoundError, "check the task id and the site"),
    "901": _Mapping(NotFoundError, "check the app id and the site"),
    "1004": _Mapping(NotFoundError, "the task id is unknown or has expired"),
    # capacity: nothing was created, safe to retry later
    "415": _Mapping(CapacityError, "no free exclusive instance; retry in 30-120 s"),
    "421": _Mapping(CapacityError, _RETRY_HINT),
    "814": _Mapping(CapacityError, "the personal queue is full (1000 tasks)"),
    "1003": _Mapping(CapacityError, "request rate exceeded; slow down"),
    "1011": _Mapping(CapacityError, "the service is busy; retry later"),
    "1520": _Mapping(CapacityError, _RETRY_HINT),
    # funds
    "416": _Mapping(InsufficientFundsError, _FUNDS_HINT),
    "812": _Mapping(InsufficientFundsError, _FUNDS_HINT),
    # content policy
    "1501": _Mapping(ContentPolicyError, "the content was rejected by moderation"),
    "1505": _Mapping(ContentPolicyError, "photorealistic real people are not allowed"),
    # transient server-side failures
    "500": _Mapping(ServerError),
    "808": _Mapping(ServerError, "upload failed on the server side; retry"),
    "1000": _Mapping(ServerError),
    "1005": _Mapping(ServerError),
    "1006": _Mapping(ServerError, "the task timed out on the server"),
    "1010": _Mapping(ServerError, "the service is unavailable; retry later"),
    "1012": _Mapping(ServerError, "an upstream provider failed; retry later"),
    "1013": _Mapping(ServerError, "file processing failed; re-upload"),
    "1015": _Mapping(ServerError, "generation failed; retry"),
    "1504": _Mapping(ServerError, "the model did not answer in time; retry"),
}


def error_for_code(
    code: str | int,
    message: str,
    *,
    task_id: str | None = None,
    http_status: int | None = None,
    raw: Any = None,
) -> APIError:
    """Build the exception for a RunningHub code; unknown codes give a plain ``APIError``."""
    key = str(code).strip()
    mapping = CODE_TABLE.get(key, _Mapping(APIError))
    return mapping.cls(
        message or f"RunningHub error {key}",
        code=key,
        hint=mapping.hint,
        task_id=task_id,
        http_status=http_status,
        raw=raw,
    )


_STATUS_HINT = "check the base URL"


def error_for_status(status: int, message: str, *, raw: Any = None) -> APIError:
    """Build the exception for an HTTP status that carries no RunningHub code."""
    text = message or f"the service answered HTTP {status}"
    if status == 429:
        return CapacityError(text, hint="too many requests; slow down", http_status=status, raw=raw)
    if status >= 500:
        return ServerError(text, http_status=status, raw=raw)
    if status in (401, 403):
        return AuthenticationError(text, http_status=status, raw=raw)
    if status == 404:
        text = f"the service answered HTTP 404 ({message or 'not found'}): no API at this address"
        return NotFoundError(text, hint=_STATUS_HINT, http_status=status, raw=raw)
    return APIError(text, http_status=status, raw=raw)
